-- Loaded by busted before every spec file (see .busted); specs also `require "spec.helpers"`.
local helpers = {}

helpers.build = os.getenv("PORTER_BUILD") or "build"
helpers.process = require("spec.support.process")

-- A scripted HTTP server on loopback for what a real server cannot produce on demand.
function helpers.scripted_server(opts)
  return require("spec.support.scripted").start(opts)
end

-- The real local Sandbox API, on a free port with a fresh state dir.
function helpers.sandboxd(opts)
  return require("spec.support.sandboxd").start(opts)
end

return helpers
