/* The route handlers: one for each operation of api/openapi.yaml, in the route table (routes.c);
 * each defined in the file of its resource (sandboxes.c, volumes.c, files.c, snapshots.c, ...). */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "http.h"

enum MHD_Result h_files_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_move(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_read(struct MHD_Connection *c, req *r);
enum MHD_Result h_files_write(struct MHD_Connection *c, req *r);
enum MHD_Result h_healthz(struct MHD_Connection *c, req *r);
enum MHD_Result h_readyz(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_counts(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_delete(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_exec(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_get(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_logs(struct MHD_Connection *c, req *r);
enum MHD_Result h_sandbox_lookup(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_delete(struct MHD_Connection *c, req *r);
enum MHD_Result h_snapshot_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_create(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_delete(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_get(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_list(struct MHD_Connection *c, req *r);
enum MHD_Result h_volume_lookup(struct MHD_Connection *c, req *r);

#endif
