-- porter_sandbox: the C core (porter_sandbox.core) plus the few methods that read better in
-- Lua: waiting loops, tree walks over volume listings, streaming reads, and the AsyncPorter
-- scheduler. Everything is installed on the core's own tables, so there is one module.
local core = require("porter_sandbox.core")

require("porter_sandbox.async").install(core)
require("porter_sandbox.sandbox").install(core)
require("porter_sandbox.volume").install(core)

return core
