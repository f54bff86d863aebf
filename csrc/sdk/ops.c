/* One entry per operationId of api/openapi.yaml (a missing one is caught when the module
 * opens): the low-level `raw` clients are generated from this table, and the ergonomic
 * surface calls the same entries. The wire (method, path, query, body and answer types) comes
 * from the contract itself; what is left here is the SDK's policy. */
#include "porter.h"

const op_def porter_ops[OP__COUNT] = {
  /* [op] = {the contract's nine fields, group, never_retry, no_timeout} */
  [OP_health_check] = {OPW_health_check, OPT_health_check, "health", 0, 0},
  [OP_readiness_check] = {OPW_readiness_check, OPT_readiness_check, "readiness", 0, 0},
  [OP_list_sandboxes] = {OPW_list_sandboxes, OPT_list_sandboxes, "sandboxes", 0, 0},
  [OP_sandbox_counts] = {OPW_sandbox_counts, OPT_sandbox_counts, "sandboxes", 0, 0},
  [OP_create_sandbox] = {OPW_create_sandbox, OPT_create_sandbox, "sandboxes", 0, 0},
  [OP_lookup_sandbox] = {OPW_lookup_sandbox, OPT_lookup_sandbox, "sandboxes", 0, 0},
  [OP_get_sandbox] = {OPW_get_sandbox, OPT_get_sandbox, "sandboxes", 0, 0},
  [OP_delete_sandbox] = {OPW_delete_sandbox, OPT_delete_sandbox, "sandboxes", 0, 0},
  [OP_get_sandbox_logs] = {OPW_get_sandbox_logs, OPT_get_sandbox_logs, "sandboxes", 0, 0},
  [OP_exec_sandbox] = {OPW_exec_sandbox, OPT_exec_sandbox, "sandboxes", 1, 1},
  [OP_create_snapshot] = {OPW_create_snapshot, OPT_create_snapshot, "snapshots", 0, 0},
  [OP_list_snapshots] = {OPW_list_snapshots, OPT_list_snapshots, "snapshots", 0, 0},
  [OP_delete_snapshot] = {OPW_delete_snapshot, OPT_delete_snapshot, "snapshots", 0, 0},
  [OP_list_volumes] = {OPW_list_volumes, OPT_list_volumes, "volumes", 0, 0},
  [OP_create_volume] = {OPW_create_volume, OPT_create_volume, "volumes", 0, 0},
  [OP_lookup_volume] = {OPW_lookup_volume, OPT_lookup_volume, "volumes", 0, 0},
  [OP_get_volume] = {OPW_get_volume, OPT_get_volume, "volumes", 0, 0},
  [OP_delete_volume] = {OPW_delete_volume, OPT_delete_volume, "volumes", 0, 0},
  [OP_list_volume_files] = {OPW_list_volume_files, OPT_list_volume_files, "volumes", 0, 0},
  [OP_read_volume_file] = {OPW_read_volume_file, OPT_read_volume_file, "volumes", 0, 0},
  [OP_write_volume_file] = {OPW_write_volume_file, OPT_write_volume_file, "volumes", 0, 0},
  [OP_move_volume_file] = {OPW_move_volume_file, OPT_move_volume_file, "volumes", 0, 0},
};
