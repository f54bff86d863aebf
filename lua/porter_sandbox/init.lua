-- porter_sandbox: the C core (porter_sandbox.core) plus the few methods that read better in
-- Lua: tree walks over volume listings, streaming reads, and the AsyncPorter scheduler.
local core = require("porter_sandbox.core")
local volume = require("porter_sandbox.volume")
local async = require("porter_sandbox.async")

volume.install(core)
async.install(core)

return core
