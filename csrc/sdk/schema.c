/* The schemas of openapi.yaml as static descriptors: one source of truth for what requests
 * may carry (validated before sending) and what responses hold (integers coerced). */
#include <string.h>
#include "contract.h"
#include "porter.h"

/* ---- checks beyond the type ---- */
static const char *check_dns_label(lua_State *L, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (n == 0 || n > 63) return "a DNS label of 1 to 63 characters";
  if (!contract_dns_label(s, n))
    return "a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit";
  return NULL;
}

static const char *check_abs_path(lua_State *L, int idx) {
  const char *s = lua_tostring(L, idx);
  return s[0] == '/' ? NULL : "an absolute path (starting with '/')";
}

static const char *check_port(lua_State *L, int idx) {
  lua_Integer p = lua_tointeger(L, idx);
  return (p >= 1024 && p <= 65535) ? NULL : "a port from 1024 to 65535";
}

static const char *check_positive(lua_State *L, int idx) {
  return lua_tointeger(L, idx) >= 1 ? NULL : "an integer of at least 1";
}

static const char *check_visibility(lua_State *L, int idx) {
  const char *s = lua_tostring(L, idx);
  return (!strcmp(s, "public") || !strcmp(s, "private")) ? NULL : "\"public\" or \"private\"";
}

static const char *check_phase(lua_State *L, int idx) {
  return contract_phase(lua_tostring(L, idx)) >= 0 ? NULL : "a phase (" CONTRACT_PHASES_TEXT ")";
}

/* ---- scalars and common shapes ---- */
const schema S_ANY = {K_ANY, "any value", 0, 0, 0, 0, 0};
const schema S_STR = {K_STR, "a string", 0, 0, 0, 0, 0};
const schema S_INT = {K_INT, "an integer", 0, 0, 0, 0, 0};
const schema S_BOOL = {K_BOOL, "a boolean", 0, 0, 0, 0, 0};
const schema S_STRARR = {K_ARR, "an array of strings", &S_STR, 0, 0, 0, 0};
const schema S_STRMAP = {K_MAP, "a table of string keys to string values", &S_STR, 0, 0, 0, 0};
static const schema S_MOUNTS = {K_MAP, "a table of absolute mount paths to volume ids", &S_STR, 0,
                                check_abs_path, 0, 0};
static const schema S_CMD = {K_ARR, "a non-empty array of strings", &S_STR, 0, 0, 1, 0};
static const schema S_PHASE = {K_STR, "a phase (" CONTRACT_PHASES_TEXT ")", 0, 0, check_phase, 0, 0};
static const schema S_PHASES = {K_ARR, "an array of phases", &S_PHASE, 0, 0, 0, 0};

/* ---- request bodies ---- */
static const field domain_fields[] = {
  {"domain", &S_STR, 0, 0},
  {"visibility", &S_STR, 0, check_visibility},
  {0, 0, 0, 0},
};
static const schema S_Domain = {K_OBJ, "a domain table {domain, visibility}", 0, domain_fields, 0, 0, 0};
static const schema S_Domains = {K_ARR, "an array of at most one domain table", &S_Domain, 0, 0, 0, 1};
static const field networking_fields[] = {
  {"port", &S_INT, F_REQUIRED, check_port},
  {"domains", &S_Domains, 0, 0},
  {0, 0, 0, 0},
};
static const schema S_Networking = {K_OBJ, "a networking table {port, domains}", 0, networking_fields, 0, 0, 0};
static const schema S_NetworkingArr = {K_ARR, "an array of at most one networking table", &S_Networking, 0, 0, 0, 1};
static const field egress_fields[] = {
  {"allowed_destinations", &S_STRARR, F_REQUIRED, 0},
  {0, 0, 0, 0},
};
static const schema S_Egress = {K_OBJ, "an egress table {allowed_destinations}", 0, egress_fields, 0, 0, 0};

static const field sandbox_spec_fields[] = {
  {"image", &S_STR, F_REQUIRED, 0},
  {"name", &S_STR, 0, check_dns_label},
  {"tags", &S_STRMAP, 0, 0},
  {"command", &S_STRARR, 0, 0},
  {"args", &S_STRARR, 0, 0},
  {"env", &S_STRMAP, 0, 0},
  {"env_groups", &S_STRARR, 0, 0},
  {"volume_mounts", &S_MOUNTS, 0, 0},
  {"networking", &S_NetworkingArr, 0, 0},
  {"egress", &S_Egress, 0, 0},
  {"ttl_seconds", &S_INT, 0, check_positive},
  {0, 0, 0, 0},
};
const schema S_SandboxSpec = {K_OBJ, "a sandbox spec table", 0, sandbox_spec_fields, 0, 0, 0};

static const field exec_fields[] = {{"command", &S_CMD, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_ExecRequest = {K_OBJ, "an exec request table {command}", 0, exec_fields, 0, 0, 0};

static const field volume_spec_fields[] = {{"name", &S_STR, 0, check_dns_label}, {0, 0, 0, 0}};
const schema S_VolumeSpec = {K_OBJ, "a volume spec table {name}", 0, volume_spec_fields, 0, 0, 0};

static const field move_fields[] = {{"from", &S_STR, F_REQUIRED, 0}, {"to", &S_STR, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_MoveRequest = {K_OBJ, "a move table {from, to}", 0, move_fields, 0, 0, 0};

static const field snapshot_spec_fields[] = {{"name", &S_STR, 0, 0}, {0, 0, 0, 0}};
const schema S_SnapshotSpec = {K_OBJ, "a snapshot spec table {name}", 0, snapshot_spec_fields, 0, 0, 0};

/* ---- query parameters ---- */
#define LIST_FILTERS                                   \
  {"start_time", &S_STR, 0, 0}, {"end_time", &S_STR, 0, 0}, \
  {"search", &S_STR, 0, 0}, {"tag", &S_STRARR, 0, 0},       \
  {"phase", &S_PHASES, 0, 0}, {"image", &S_STR, 0, 0}
static const field list_q[] = {
  LIST_FILTERS,
  {"include_filter_values", &S_BOOL, 0, 0},
  {"page", &S_INT, 0, check_positive},
  {0, 0, 0, 0},
};
const schema Q_ListSandboxes = {K_OBJ, "a table of list filters", 0, list_q, 0, 0, 0};
static const field counts_q[] = {LIST_FILTERS, {0, 0, 0, 0}};
const schema Q_Counts = {K_OBJ, "a table of count filters", 0, counts_q, 0, 0, 0};
static const field name_q[] = {{"name", &S_STR, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema Q_Name = {K_OBJ, "a table {name}", 0, name_q, 0, 0, 0};
static const field logs_q[] = {{"limit", &S_INT, 0, check_positive}, {"since", &S_STR, 0, 0}, {0, 0, 0, 0}};
const schema Q_Logs = {K_OBJ, "a table {since, limit}", 0, logs_q, 0, 0, 0};
static const field snapshots_q[] = {{"sandbox_id", &S_STR, 0, 0}, {0, 0, 0, 0}};
const schema Q_Snapshots = {K_OBJ, "a table {sandbox_id}", 0, snapshots_q, 0, 0, 0};
static const field files_q[] = {{"path", &S_STR, 0, 0}, {"search", &S_STR, 0, 0}, {0, 0, 0, 0}};
const schema Q_Files = {K_OBJ, "a table {path, search}", 0, files_q, 0, 0, 0};
static const field path_q[] = {{"path", &S_STR, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema Q_Path = {K_OBJ, "a table {path}", 0, path_q, 0, 0, 0};

/* ---- responses: required fields are checked, integers coerced, unknown fields kept ---- */
static const field exec_target_fields[] = {
  {"namespace", &S_STR, 0, 0}, {"pod_name", &S_STR, 0, 0}, {"container_name", &S_STR, 0, 0}, {0, 0, 0, 0},
};
static const schema S_ExecTarget = {K_OBJ, "an object", 0, exec_target_fields, 0, 0, 0};
static const field status_fields[] = {
  {"id", &S_STR, F_REQUIRED, 0},
  {"name", &S_STR, 0, 0},
  {"image", &S_STR, 0, 0},
  {"tags", &S_STRMAP, 0, 0},
  {"phase", &S_STR, F_REQUIRED, 0},
  {"exit_code", &S_INT, 0, 0},
  {"created_at", &S_STR, 0, 0},
  {"started_at", &S_STR, 0, 0},
  {"host", &S_STR, 0, 0},
  {"volume_mounts", &S_STRMAP, 0, 0},
  {"exec_target", &S_ExecTarget, 0, 0},
  {0, 0, 0, 0},
};
const schema S_StatusResponse = {K_OBJ, "a sandbox status object", 0, status_fields, 0, 0, 0};
static const schema S_StatusArr = {K_ARR, "an array", &S_StatusResponse, 0, 0, 0, 0};
static const field pagination_fields[] = {
  {"current_page", &S_INT, 0, 0}, {"total_pages", &S_INT, 0, 0}, {"has_next_page", &S_BOOL, 0, 0}, {0, 0, 0, 0},
};
static const schema S_Pagination = {K_OBJ, "an object", 0, pagination_fields, 0, 0, 0};
static const field list_fields[] = {
  {"sandboxes", &S_StatusArr, F_REQUIRED, 0},
  {"pagination", &S_Pagination, 0, 0},
  {"filter_values", &S_ANY, 0, 0},
  {0, 0, 0, 0},
};
const schema S_ListResponse = {K_OBJ, "a sandbox list object", 0, list_fields, 0, 0, 0};
static const field point_fields[] = {{"timestamp", &S_STR, 0, 0}, {"count", &S_INT, 0, 0}, {0, 0, 0, 0}};
static const schema S_Point = {K_OBJ, "an object", 0, point_fields, 0, 0, 0};
static const schema S_Points = {K_ARR, "an array", &S_Point, 0, 0, 0, 0};
static const field count_fields[] = {
  {"points", &S_Points, F_REQUIRED, 0}, {"granularity_ms", &S_INT, 0, 0}, {0, 0, 0, 0},
};
const schema S_CountResponse = {K_OBJ, "a counts object", 0, count_fields, 0, 0, 0};
static const field create_fields[] = {
  {"id", &S_STR, F_REQUIRED, 0}, {"name", &S_STR, 0, 0}, {"volume_mounts", &S_STRMAP, 0, 0}, {0, 0, 0, 0},
};
const schema S_CreateResponse = {K_OBJ, "a create response object", 0, create_fields, 0, 0, 0};
static const field lookup_fields[] = {{"id", &S_STR, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_LookupResult = {K_OBJ, "a lookup result object", 0, lookup_fields, 0, 0, 0};
static const field exec_resp_fields[] = {
  {"stdout", &S_STR, F_REQUIRED, 0}, {"stderr", &S_STR, F_REQUIRED, 0}, {"exit_code", &S_INT, F_REQUIRED, 0},
  {0, 0, 0, 0},
};
const schema S_ExecResponse = {K_OBJ, "an exec result object", 0, exec_resp_fields, 0, 0, 0};
static const field logline_fields[] = {
  {"timestamp", &S_STR, 0, 0}, {"line", &S_STR, 0, 0}, {"level", &S_STR, 0, 0}, {"exec_id", &S_STR, 0, 0},
  {0, 0, 0, 0},
};
const schema S_LogLine = {K_OBJ, "an object", 0, logline_fields, 0, 0, 0};
static const schema S_LogLines = {K_ARR, "an array", &S_LogLine, 0, 0, 0, 0};
static const field logs_fields[] = {{"sandbox_id", &S_STR, 0, 0}, {"logs", &S_LogLines, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_LogsResponse = {K_OBJ, "a logs object", 0, logs_fields, 0, 0, 0};
static const field volume_fields[] = {
  {"id", &S_STR, F_REQUIRED, 0}, {"name", &S_STR, 0, 0}, {"path", &S_STR, 0, 0}, {"phase", &S_STR, 0, 0},
  {"attached_to", &S_STRARR, 0, 0}, {"created_at", &S_STR, 0, 0}, {0, 0, 0, 0},
};
const schema S_Volume = {K_OBJ, "a volume object", 0, volume_fields, 0, 0, 0};
static const schema S_Volumes = {K_ARR, "an array", &S_Volume, 0, 0, 0, 0};
static const field volume_list_fields[] = {{"volumes", &S_Volumes, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_VolumeList = {K_OBJ, "a volume list object", 0, volume_list_fields, 0, 0, 0};
extern const schema S_Entries;
static const field entry_fields[] = {
  {"name", &S_STR, F_REQUIRED, 0}, {"type", &S_STR, F_REQUIRED, 0}, {"size_bytes", &S_INT, 0, 0},
  {"modified_at", &S_STR, 0, 0}, {"truncated", &S_BOOL, 0, 0}, {"entries", &S_Entries, 0, 0}, {0, 0, 0, 0},
};
const schema S_Entry = {K_OBJ, "a file entry object", 0, entry_fields, 0, 0, 0};
const schema S_Entries = {K_ARR, "an array", &S_Entry, 0, 0, 0, 0};
static const field file_list_fields[] = {
  {"path", &S_STR, 0, 0}, {"entries", &S_Entries, F_REQUIRED, 0}, {"truncated", &S_BOOL, 0, 0}, {0, 0, 0, 0},
};
const schema S_FileList = {K_OBJ, "a file listing object", 0, file_list_fields, 0, 0, 0};
static const field snapshot_fields[] = {
  {"id", &S_STR, F_REQUIRED, 0}, {"name", &S_STR, 0, 0}, {"sandbox_id", &S_STR, 0, 0},
  {"created_at", &S_STR, 0, 0}, {"size_bytes", &S_INT, 0, 0}, {0, 0, 0, 0},
};
const schema S_Snapshot = {K_OBJ, "a snapshot object", 0, snapshot_fields, 0, 0, 0};
static const schema S_Snapshots = {K_ARR, "an array", &S_Snapshot, 0, 0, 0, 0};
static const field snapshot_list_fields[] = {{"snapshots", &S_Snapshots, F_REQUIRED, 0}, {0, 0, 0, 0}};
const schema S_SnapshotList = {K_OBJ, "a snapshot list object", 0, snapshot_list_fields, 0, 0, 0};
static const field health_fields[] = {{"status", &S_STR, 0, 0}, {0, 0, 0, 0}};
const schema S_Health = {K_OBJ, "a health object", 0, health_fields, 0, 0, 0};
static const field ready_fields[] = {{"status", &S_STR, 0, 0}, {"active_sandboxes", &S_INT, 0, 0}, {0, 0, 0, 0}};
const schema S_Readiness = {K_OBJ, "a readiness object", 0, ready_fields, 0, 0, 0};
