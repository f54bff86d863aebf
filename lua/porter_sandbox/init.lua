-- The porter_sandbox module: the C core, extended with what reads better in Lua.
local core = require("porter_sandbox.core")
return core
