/* The route table of the Sandbox API (openapi.yaml). */
#include "server.h"

const route routes[] = {
  {"GET", "/healthz", h_healthz, 0, 0},
  {"GET", "/readyz", h_readyz, 0, 0},
  {"GET", "/v1/sandbox", h_sandbox_list, 0, 0},
  {"GET", "/v1/sandbox/counts", h_sandbox_counts, 0, 0},
  {"POST", "/v1/sandbox/run", h_sandbox_create, 0, 0},
  {"GET", "/v1/sandbox/lookup", h_sandbox_lookup, 0, 0},
  {"GET", "/v1/sandbox/{}", h_sandbox_get, 0, 0},
  {"DELETE", "/v1/sandbox/{}", h_sandbox_delete, 0, 0},
  {"GET", "/v1/sandbox/{}/logs", h_sandbox_logs, 0, 0},
  {"POST", "/v1/sandbox/{}/exec", h_sandbox_exec, 0, 0},
  {"POST", "/v1/sandbox/{}/snapshot", h_snapshot_create, 0, 0},
  {"GET", "/v1/snapshot", h_snapshot_list, 0, 0},
  {"DELETE", "/v1/snapshot/{}", h_snapshot_delete, 0, 0},
  {"GET", "/v1/volume", h_volume_list, 0, 0},
  {"POST", "/v1/volume", h_volume_create, 0, 0},
  {"GET", "/v1/volume/lookup", h_volume_lookup, 0, 0},
  {"GET", "/v1/volume/{}", h_volume_get, 0, 0},
  {"DELETE", "/v1/volume/{}", h_volume_delete, 0, 0},
  {"GET", "/v1/volume/{}/files", h_files_list, 0, 0},
  {"GET", "/v1/volume/{}/files/content", h_files_read, 0, 0},
  {"PUT", "/v1/volume/{}/files/content", h_files_write, files_write_begin, files_write_chunk},
  {"POST", "/v1/volume/{}/files/move", h_files_move, 0, 0},
  {0, 0, 0, 0, 0},
};
