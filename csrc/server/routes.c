/* The route table of the Sandbox API: one handler an operation of api/openapi.yaml, whose
 * method and path come from the contract itself (build/gen/contract_gen.h); an operation without
 * a handler is caught at start. */
#include "server.h"
#include "files.h"
#include "handlers.h"
#include "http.h"

#define R(op, fn) [OP_##op] = {OPW_##op, OPT_##op, fn, 0, 0, 0}

const route routes[OP__COUNT] = {
  R(health_check, h_healthz),
  R(readiness_check, h_readyz),
  R(list_sandboxes, h_sandbox_list),
  R(sandbox_counts, h_sandbox_counts),
  R(create_sandbox, h_sandbox_create),
  R(lookup_sandbox, h_sandbox_lookup),
  R(get_sandbox, h_sandbox_get),
  R(delete_sandbox, h_sandbox_delete),
  R(get_sandbox_logs, h_sandbox_logs),
  R(exec_sandbox, h_sandbox_exec),
  R(create_snapshot, h_snapshot_create),
  R(list_snapshots, h_snapshot_list),
  R(delete_snapshot, h_snapshot_delete),
  R(list_volumes, h_volume_list),
  R(create_volume, h_volume_create),
  R(lookup_volume, h_volume_lookup),
  R(get_volume, h_volume_get),
  R(delete_volume, h_volume_delete),
  R(list_volume_files, h_files_list),
  R(read_volume_file, h_files_read),
  [OP_write_volume_file] = {OPW_write_volume_file, OPT_write_volume_file, h_files_write, files_write_begin, files_write_chunk, files_write_end},
  R(move_volume_file, h_files_move),
};
