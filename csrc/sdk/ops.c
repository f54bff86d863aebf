/* One entry per operationId of api/openapi.yaml (a missing one is caught when the module
 * opens): the low-level `raw` clients are generated from this table, and the ergonomic
 * surface calls the same entries. The wire (method, path) comes from the contract itself. */
#include "porter.h"

const op_def porter_ops[OP__COUNT] = {
  /* [op] = {id, method, path, npath (from the contract), group, query, body, body schema, response,
   * octets, never_retry, no_timeout} */
  [OP_health_check] = {OPW_health_check, "health", NULL, BODY_NONE, NULL, &S_Health, 0, 0, 0},
  [OP_readiness_check] = {OPW_readiness_check, "readiness", NULL, BODY_NONE, NULL, &S_Readiness, 0, 0, 0},
  [OP_list_sandboxes] = {OPW_list_sandboxes, "sandboxes", &Q_ListSandboxes, BODY_NONE, NULL, &S_ListResponse, 0, 0, 0},
  [OP_sandbox_counts] = {OPW_sandbox_counts, "sandboxes", &Q_Counts, BODY_NONE, NULL, &S_CountResponse, 0, 0, 0},
  [OP_create_sandbox] = {OPW_create_sandbox, "sandboxes", NULL, BODY_JSON, &S_SandboxSpec, &S_CreateResponse, 0, 0, 0},
  [OP_lookup_sandbox] = {OPW_lookup_sandbox, "sandboxes", &Q_Name, BODY_NONE, NULL, &S_LookupResult, 0, 0, 0},
  [OP_get_sandbox] = {OPW_get_sandbox, "sandboxes", NULL, BODY_NONE, NULL, &S_StatusResponse, 0, 0, 0},
  [OP_delete_sandbox] = {OPW_delete_sandbox, "sandboxes", NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  [OP_get_sandbox_logs] = {OPW_get_sandbox_logs, "sandboxes", &Q_Logs, BODY_NONE, NULL, &S_LogsResponse, 0, 0, 0},
  [OP_exec_sandbox] = {OPW_exec_sandbox, "sandboxes", NULL, BODY_JSON, &S_ExecRequest, &S_ExecResponse, 0, 1, 1},
  [OP_create_snapshot] = {OPW_create_snapshot, "snapshots", NULL, BODY_JSON, &S_SnapshotSpec, &S_Snapshot, 0, 0, 0},
  [OP_list_snapshots] = {OPW_list_snapshots, "snapshots", &Q_Snapshots, BODY_NONE, NULL, &S_SnapshotList, 0, 0, 0},
  [OP_delete_snapshot] = {OPW_delete_snapshot, "snapshots", NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  [OP_list_volumes] = {OPW_list_volumes, "volumes", NULL, BODY_NONE, NULL, &S_VolumeList, 0, 0, 0},
  [OP_create_volume] = {OPW_create_volume, "volumes", NULL, BODY_JSON, &S_VolumeSpec, &S_Volume, 0, 0, 0},
  [OP_lookup_volume] = {OPW_lookup_volume, "volumes", &Q_Name, BODY_NONE, NULL, &S_LookupResult, 0, 0, 0},
  [OP_get_volume] = {OPW_get_volume, "volumes", NULL, BODY_NONE, NULL, &S_Volume, 0, 0, 0},
  [OP_delete_volume] = {OPW_delete_volume, "volumes", NULL, BODY_NONE, NULL, NULL, 0, 0, 0},
  [OP_list_volume_files] = {OPW_list_volume_files, "volumes", &Q_Files, BODY_NONE, NULL, &S_FileList, 0, 0, 0},
  [OP_read_volume_file] = {OPW_read_volume_file, "volumes", &Q_Path, BODY_NONE, NULL, NULL, 1, 0, 0},
  [OP_write_volume_file] = {OPW_write_volume_file, "volumes", &Q_Path, BODY_OCTETS, NULL, NULL, 0, 0, 0},
  [OP_move_volume_file] = {OPW_move_volume_file, "volumes", NULL, BODY_JSON, &S_MoveRequest, NULL, 0, 0, 0},
};
