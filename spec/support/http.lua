-- A plain HTTP client for specs that must look at the wire without going through the SDK
-- (server specs, and the scripted server's control endpoints). LuaSocket under the hood.
local socket_http = require("socket.http")
local ltn12 = require("ltn12")
local cjson = require("cjson")

local M = {}

-- req: { method = "GET", url = ..., headers = {}, body = string|nil, json = table|nil,
--        sink_file = path|nil (write the body there instead of returning it) }
-- Returns { status = n, headers = {lowercase = value}, body = string, json = decoded or nil }.
function M.request(req)
  local headers = {}
  for k, v in pairs(req.headers or {}) do headers[k:lower()] = v end
  local body = req.body
  if req.json ~= nil then
    body = cjson.encode(req.json)
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  -- a body is the API's JSON unless the spec says otherwise (porter-sandboxd answers 415 to
  -- one sent as anything else)
  if body and not headers["content-type"] then headers["content-type"] = "application/json" end
  if body then headers["content-length"] = tostring(#body) end
  local chunks, sink = {}, nil
  local f
  if req.sink_file then
    f = assert(io.open(req.sink_file, "wb"))
    sink = ltn12.sink.file(f)
  else
    sink = ltn12.sink.table(chunks)
  end
  local ok, status, rheaders = socket_http.request{
    url = req.url,
    method = req.method or "GET",
    headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = sink,
    redirect = false,
  }
  if not ok then error("HTTP request to " .. req.url .. " failed: " .. tostring(status)) end
  local res = { status = status, headers = rheaders or {}, body = table.concat(chunks) }
  local ctype = res.headers["content-type"] or ""
  if ctype:find("json", 1, true) and #res.body > 0 then
    local okj, decoded = pcall(cjson.decode, res.body)
    if okj then res.json = decoded end
  end
  return res
end

function M.get(url, headers) return M.request{ url = url, headers = headers } end

return M
