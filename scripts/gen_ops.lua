-- lua5.4 scripts/gen_ops.lua api/openapi.yaml OUT.h: the operations of the contract as C,
-- for the SDK's operation table and the server's route table alike: an enum OP_<operationId>,
-- OPW_<operationId> expanding to "operationId", "METHOD", "/path/{id}", <path params>, and
-- PORTER_OPS(X), X(operationId) for each.
-- Reads the paths section line by line, in the layout api/openapi.yaml keeps (two-space
-- indents: path, method, then operationId); anything else there is an error, not a guess.
local src, out = assert(arg[1], "usage: gen_ops.lua openapi.yaml out.h"), assert(arg[2])
local ops, path, method = {}, nil, nil
local in_paths = false
local n = 0
for line in io.lines(src) do
  n = n + 1
  if line:match("^paths:") then in_paths = true
  elseif line:match("^%S") then in_paths = false
  elseif in_paths then
    local p = line:match("^  (/[^:]*):%s*$")
    local m = line:match("^    (%a+):%s*$")
    local id = line:match("^      operationId:%s*([%w_]+)%s*$")
    if p then path, method = p, nil
    elseif m and (m == "get" or m == "post" or m == "put" or m == "delete" or m == "patch") then method = m:upper()
    elseif id then
      assert(path and method, src .. ":" .. n .. ": an operationId outside a path and method")
      local _, npath = path:gsub("{[%w_]+}", "")
      ops[#ops + 1] = { id = id, method = method, path = path, npath = npath }
    end
  end
end
assert(#ops > 0, "no operations in " .. src)
local lines = { "/* generated from " .. src .. " by scripts/gen_ops.lua: do not edit */",
                "#ifndef PORTER_OPS_GEN_H", "#define PORTER_OPS_GEN_H", "typedef enum {" }
for _, o in ipairs(ops) do lines[#lines + 1] = ("  OP_%s,"):format(o.id) end
lines[#lines + 1] = "  OP__COUNT"
lines[#lines + 1] = "} op_id;"
for _, o in ipairs(ops) do
  lines[#lines + 1] = ('#define OPW_%s "%s", "%s", "%s", %d'):format(o.id, o.id, o.method, o.path, o.npath)
end
local xs = {}
for _, o in ipairs(ops) do xs[#xs + 1] = "X(" .. o.id .. ")" end
lines[#lines + 1] = "/* X(operationId) for every operation, in the contract's order */"
lines[#lines + 1] = "#define PORTER_OPS(X) " .. table.concat(xs, " ")
lines[#lines + 1] = "#endif"
local f = assert(io.open(out, "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
