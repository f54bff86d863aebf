/* One entry per operationId of openapi.yaml: the low-level `raw` clients are generated from
 * this table, and the ergonomic surface calls the same entries. */
#include <string.h>
#include "porter.h"

const op_def porter_ops[] = {
  /* id, group, method, path, npath, query, body, body schema, response, octets, never_retry, no_timeout */
  {"health_check", "health", "GET", "/healthz", 0, NULL, BODY_NONE, NULL, &S_Health, 0, 0, 0},
  {"readiness_check", "readiness", "GET", "/readyz", 0, NULL, BODY_NONE, NULL, &S_Readiness, 0, 0, 0},
  {"list_sandboxes", "sandboxes", "GET", "/v1/sandbox", 0, &Q_ListSandboxes, BODY_NONE, NULL, &S_ListResponse, 0, 0, 0},
  {"sandbox_counts", "sandboxes", "GET", "/v1/sandbox/counts", 0, &Q_Counts, BODY_NONE, NULL, &S_CountResponse, 0, 0, 0},
  {"create_sandbox", "sandboxes", "POST", "/v1/sandbox/run", 0, NULL, BODY_JSON, &S_SandboxSpec, &S_CreateResponse, 0, 0, 0},
  {"lookup_sandbox", "sandboxes", "GET", "/v1/sandbox/lookup", 0, &Q_Name, BODY_NONE, NULL, &S_LookupResult, 0, 0, 0},
  {"get_sandbox", "sandboxes", "GET", "/v1/sandbox/{id}", 1, NULL, BODY_NONE, NULL, &S_StatusResponse, 0, 0, 0},
  {"delete_sandbox", "sandboxes", "DELETE", "/v1/sandbox/{id}", 1, NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  {"get_sandbox_logs", "sandboxes", "GET", "/v1/sandbox/{id}/logs", 1, &Q_Logs, BODY_NONE, NULL, &S_LogsResponse, 0, 0, 0},
  {"exec_sandbox", "sandboxes", "POST", "/v1/sandbox/{id}/exec", 1, NULL, BODY_JSON, &S_ExecRequest, &S_ExecResponse, 0, 1, 1},
  {"create_snapshot", "snapshots", "POST", "/v1/sandbox/{id}/snapshot", 1, NULL, BODY_JSON, &S_SnapshotSpec, &S_Snapshot, 0, 0, 0},
  {"list_snapshots", "snapshots", "GET", "/v1/snapshot", 0, &Q_Snapshots, BODY_NONE, NULL, &S_SnapshotList, 0, 0, 0},
  {"delete_snapshot", "snapshots", "DELETE", "/v1/snapshot/{id}", 1, NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  {"list_volumes", "volumes", "GET", "/v1/volume", 0, NULL, BODY_NONE, NULL, &S_VolumeList, 0, 0, 0},
  {"create_volume", "volumes", "POST", "/v1/volume", 0, NULL, BODY_JSON, &S_VolumeSpec, &S_Volume, 0, 0, 0},
  {"lookup_volume", "volumes", "GET", "/v1/volume/lookup", 0, &Q_Name, BODY_NONE, NULL, &S_LookupResult, 0, 0, 0},
  {"get_volume", "volumes", "GET", "/v1/volume/{id}", 1, NULL, BODY_NONE, NULL, &S_Volume, 0, 0, 0},
  {"delete_volume", "volumes", "DELETE", "/v1/volume/{id}", 1, NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  {"list_volume_files", "volumes", "GET", "/v1/volume/{id}/files", 1, &Q_Files, BODY_NONE, NULL, &S_FileList, 0, 0, 0},
  {"read_volume_file", "volumes", "GET", "/v1/volume/{id}/files/content", 1, &Q_Path, BODY_NONE, NULL, NULL, 1, 0, 0},
  {"write_volume_file", "volumes", "PUT", "/v1/volume/{id}/files/content", 1, &Q_Path, BODY_OCTETS, NULL, NULL, 0, 0, 0},
  {"move_volume_file", "volumes", "POST", "/v1/volume/{id}/files/move", 1, NULL, BODY_JSON, &S_MoveRequest, NULL, 0, 0, 0},
};
const size_t porter_nops = sizeof porter_ops / sizeof *porter_ops;

const op_def *op_find(const char *id) {
  for (size_t i = 0; i < porter_nops; i++)
    if (!strcmp(porter_ops[i].id, id)) return &porter_ops[i];
  return NULL;
}
