-- The scripted HTTP server (build/porter-scripted-server), started per spec file.
local process = require("spec.support.process")
local http = require("spec.support.http")
local reaper = require("spec.support.reaper")

local M = {}
local Server = {}
Server.__index = Server

local function control(self, method, path, json)
  local r = http.request { method = method, url = self.url .. path, json = json }
  assert(r.status == 200, "scripted server control " .. path .. ": " .. tostring(r.status) .. " " .. tostring(r.body))
  return r.json
end

-- entries: array of {method, path, times, status, headers, body, json, gen_body, delay_ms, drop, ranges}
function Server:script(entries) control(self, "POST", "/__control/script", entries) end
function Server:requests() return control(self, "GET", "/__control/requests") end
function Server:reset() control(self, "POST", "/__control/reset", {}) end
function Server:stop() process.stop(self.proc) end

function M.start(opts)
  opts = opts or {}
  local build = os.getenv("PORTER_BUILD") or "build"
  local argv = { build .. "/porter-scripted-server", "--listen", "127.0.0.1:0", "--print-url" }
  if opts.no_record then argv[#argv + 1] = "--no-record" end
  local proc = process.spawn(argv)
  local url = process.wait_line(proc, "(http://[%d%.]+:%d+)")
  return reaper.own(setmetatable({ url = url, proc = proc }, Server))
end

return M
