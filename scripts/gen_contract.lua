-- lua5.4 scripts/gen_contract.lua api/openapi.yaml OUTDIR: the contract as C, for the SDK and
-- the server alike (csrc/include/contract.h says what the tables are made of).
--   OUTDIR/contract_gen.h     enum OP_<operationId>; OPW_<op> = "id", "METHOD", "/path/{id}",
--                             <path params>; OPT_<op> = query type, body kind, body type,
--                             answer type, octets; PORTER_OPS(X); the named types' declarations
--   OUTDIR/contract_types.inc the types: one ct_type a schema of components/schemas (CT_<Name>),
--                             a query of an operation (CT_Q_<op>), and the anonymous ones
--                             between, included by one file of each binary
-- Labels (what a message says is expected) are made here from the schema, so the SDK's
-- refusal and the server's 400 read the same.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local yaml = require("yaml")

local src, outdir = assert(arg[1], "usage: gen_contract.lua openapi.yaml OUTDIR"), assert(arg[2])
local doc = yaml.read(src)
local schemas = doc.components.schemas
local function fail(msg) error(src .. ": " .. msg, 0) end

-- ---- words ----
local function words(name) -- SandboxNetworkingSpec -> "sandbox networking spec"
  return (name:gsub("(%l)(%u)", "%1 %2"):gsub("_", " "):lower())
end
local function article(w) return (w:match("^[aeiou]") and "an " or "a ") .. w end
local function list(vs, quote)
  local q = {}
  for i, v in ipairs(vs) do q[i] = quote and ('"' .. v .. '"') or v end
  if #q == 1 then return q[1] end
  return table.concat(q, ", ", 1, #q - 1) .. " or " .. q[#q]
end
local function cstr(s) return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"' end

local function ref_name(node)
  local r = node["$ref"]
  if not r then return nil end
  return r:match("^#/components/schemas/([%w_]+)$") or fail("a $ref outside components/schemas: " .. r)
end

-- ---- which named schemas a request reaches (their labels say "table": Lua's word for what
-- the caller passes; answers are "objects") ----
local in_request = {}
local function mark(node)
  if type(node) ~= "table" then return end
  local n = ref_name(node)
  if n then
    if in_request[n] then return end
    in_request[n] = true
    node = schemas[n] or fail("no schema " .. n)
  end
  mark(node.items)
  mark(node.additionalProperties)
  for _, p in pairs(node.properties or {}) do mark(p) end
end

-- ---- operations ----
local METHODS = { "get", "put", "post", "delete", "patch" }
local ops = {}
local function param(p)
  if p["$ref"] then
    local n = p["$ref"]:match("^#/components/parameters/([%w_]+)$") or fail("bad parameter $ref " .. p["$ref"])
    return doc.components.parameters[n] or fail("no parameter " .. n)
  end
  return p
end
local function content_of(c)
  if not c then return nil end
  if c["application/json"] then return "json", c["application/json"].schema end
  if c["application/octet-stream"] then return "octets" end
  fail("a content type other than JSON or octets")
end
for _, path in ipairs(yaml.keys(doc.paths)) do
  local item = doc.paths[path]
  for _, m in ipairs(METHODS) do
    local o = item[m]
    if o then
      local id = o.operationId or fail(m:upper() .. " " .. path .. " has no operationId")
      local query = {}
      for _, params in ipairs({ item.parameters or {}, o.parameters or {} }) do
        for _, p in ipairs(params) do
          p = param(p)
          if p["in"] == "query" then query[#query + 1] = p end
        end
      end
      local body, body_schema = nil, nil
      if o.requestBody then body, body_schema = content_of(o.requestBody.content) end
      local resp, octets = nil, false
      for _, code in ipairs(yaml.keys(o.responses or {})) do
        local r = o.responses[code]
        if tostring(code):match("^2") and r.content then
          local kind, s = content_of(r.content)
          if kind == "octets" then octets = true elseif not resp then resp = s end
        end
      end
      local _, npath = path:gsub("{[%w_]+}", "")
      ops[#ops + 1] = { id = id, method = m:upper(), path = path, npath = npath, query = query,
                        body = body, body_schema = body_schema, resp = resp, octets = octets }
      if body_schema then mark(body_schema) end
      for _, p in ipairs(query) do mark(p.schema) end
    end
  end
end
if #ops == 0 then fail("no operations") end

-- ---- types ----
local defs = {}   -- C definitions, in an order where each static one precedes its users
local named = {}  -- Name -> "CT_Name" once started (a schema may hold itself: entries)
local interned = {}
local exported = {}
local nanon = 0

local function emit_type(cname, static, t)
  local fields = "NULL"
  if t.fields then
    local fs = {}
    for _, f in ipairs(t.fields) do fs[#fs + 1] = ("{%s, &%s, %d}"):format(cstr(f.name), f.type, f.required and 1 or 0) end
    fs[#fs + 1] = "{NULL, NULL, 0}"
    fields = cname .. "_fields"
    defs[#defs + 1] = ("static const ct_field %s[] = {%s};"):format(fields, table.concat(fs, ", "))
  end
  local enums = "NULL"
  if t.enums then
    local es = {}
    for i, e in ipairs(t.enums) do es[i] = cstr(e) end
    es[#es + 1] = "NULL"
    enums = cname .. "_enums"
    defs[#defs + 1] = ("static const char *const %s[] = {%s};"):format(enums, table.concat(es, ", "))
  end
  defs[#defs + 1] = ("%sconst ct_type %s = {%s, %s, %s, %s, %s, %s, %d, %d, %dLL, %dLL, %d, %d};"):format(
    static and "static " or "", cname, t.kind, cstr(t.label), t.items and ("&" .. t.items) or "NULL", fields, enums,
    t.format or "CT_FMT_NONE", t.min and 1 or 0, t.max and 1 or 0, t.min or 0, t.max or 0, t.min_items or 0,
    t.max_items or 0)
end

-- anonymous types are shared when they are alike ("an array of strings" is made once)
local function anon(t, key)
  if key and interned[key] then return interned[key] end
  nanon = nanon + 1
  local cname = "CT__" .. nanon
  emit_type(cname, true, t)
  if key then interned[key] = cname end
  return cname
end

local gen -- node, name (for a schema of components) -> C name, noun (plural, singular)

local FORMATS = { ["dns-label"] = "CT_FMT_DNS_LABEL" }
local KEY_FORMATS = { ["mount-path"] = "CT_FMT_MOUNT_PATH" }
local BASE = { string = "CT_string", integer = "CT_integer", boolean = "CT_boolean" }

local function describe(node, name)
  local t = {}
  local ty = node.type
  if node.enum then
    t.kind, t.enums = "CT_STR", node.enum
    t.label = name and (article(words(name)) .. " (" .. list(node.enum) .. ")") or list(node.enum, true)
  elseif ty == "string" then
    t.kind = "CT_STR"
    if node.format and node.format ~= "binary" then
      t.format = FORMATS[node.format] or fail("unknown format " .. node.format)
    end
    t.label = t.format == "CT_FMT_DNS_LABEL"
      and "a DNS label: 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
      or "a string"
  elseif ty == "integer" then
    t.kind, t.min, t.max = "CT_INT", node.minimum, node.maximum
    t.label = (t.min and t.max) and ("an integer from %d to %d"):format(t.min, t.max)
      or t.min and ("an integer of at least %d"):format(t.min)
      or t.max and ("an integer of at most %d"):format(t.max) or "an integer"
  elseif ty == "boolean" then
    t.kind, t.label = "CT_BOOL", "a boolean"
  elseif ty == "array" then
    local items, plural, singular = gen(node.items or fail("an array without items"))
    t.kind, t.items, t.min_items, t.max_items = "CT_ARR", items, node.minItems, node.maxItems
    t.label = node.maxItems == 1 and ("an array of at most one " .. singular)
      or node.maxItems and ("an array of at most %d %s"):format(node.maxItems, plural)
      or (node.minItems or 0) >= 1 and ("a non-empty array of " .. plural)
      or ("an array of " .. plural)
  elseif ty == "object" and node.additionalProperties then
    local values, plural = gen(node.additionalProperties)
    if plural == "strings" then plural = "string values" end
    t.kind, t.items = "CT_MAP", values
    if node["x-key-format"] then
      t.format = KEY_FORMATS[node["x-key-format"]] or fail("unknown x-key-format " .. node["x-key-format"])
    end
    t.label = (t.format == "CT_FMT_MOUNT_PATH" and "a table of absolute mount paths to " or "a table of string keys to ")
      .. plural
  elseif ty == "object" then
    t.kind, t.fields = "CT_OBJ", {}
    local req = {}
    for _, r in ipairs(node.required or {}) do req[r] = true end
    local names = yaml.keys(node.properties or {})
    for _, f in ipairs(names) do
      t.fields[#t.fields + 1] = { name = f, type = (gen(node.properties[f])), required = req[f] }
    end
    local w = name and words(name) or "object"
    if name and in_request[name] then
      t.label = article(w) .. " table" .. (#names <= 4 and (" {" .. table.concat(names, ", ") .. "}") or "")
    else
      t.label = article(w) .. " object"
    end
  elseif ty == nil then
    t.kind, t.label = "CT_ANY", "any value"
  else
    fail("unknown type " .. tostring(ty))
  end
  return t
end

local function plural(w) -- entry -> entries, status -> statuses, spec -> specs
  if w:match("[^aeiou]y$") then return w:sub(1, -2) .. "ies" end
  if w:match("s$") then return w .. "es" end
  return w .. "s"
end

local function nouns(t, name)
  if name then return plural(words(name)), words(name) end
  if t.kind == "CT_STR" and not t.enums and not t.format then return "strings", "string" end
  if t.kind == "CT_INT" and not t.min and not t.max then return "integers", "integer" end
  if t.kind == "CT_BOOL" then return "booleans", "boolean" end
  return "values", "value"
end

function gen(node, name)
  name = name or ref_name(node)
  if name then
    if not named[name] then
      named[name] = "CT_" .. name
      exported[#exported + 1] = named[name]
      local t = describe(schemas[name] or fail("no schema " .. name), name)
      emit_type(named[name], false, t)
    end
    return named[name], nouns({}, name)
  end
  local t = describe(node)
  local base = BASE[node.type]
  local plain = base and not node.enum and not node.format and not node.minimum and not node.maximum
  local key = not t.fields and table.concat({ t.kind, t.label, t.items or "", t.format or "",
    tostring(t.min), tostring(t.max), tostring(t.min_items), tostring(t.max_items) }, "|")
  local cname = plain and base or anon(t, key)
  return cname, nouns(t)
end

emit_type("CT_any", false, { kind = "CT_ANY", label = "any value" })
for _, k in ipairs({ "string", "integer", "boolean" }) do
  emit_type(BASE[k], false, describe({ type = k }))
end
for _, name in ipairs(yaml.keys(schemas)) do gen({ ["$ref"] = "#/components/schemas/" .. name }) end
local optypes = {}
for _, o in ipairs(ops) do
  local q = "NULL"
  if #o.query > 0 then
    local fields, names = {}, {}
    for _, p in ipairs(o.query) do
      fields[#fields + 1] = { name = p.name, type = (gen(p.schema)), required = p.required }
      names[#names + 1] = p.name
    end
    q = "CT_Q_" .. o.id
    exported[#exported + 1] = q
    emit_type(q, false, { kind = "CT_OBJ", fields = fields,
      label = #names <= 4 and ("a table {" .. table.concat(names, ", ") .. "}") or "a table of query parameters" })
    q = "&" .. q
  end
  optypes[o.id] = ("%s, %s, %s, %s, %d"):format(q,
    o.body == "json" and "CT_BODY_JSON" or o.body == "octets" and "CT_BODY_OCTETS" or "CT_BODY_NONE",
    o.body_schema and ("&" .. gen(o.body_schema)) or "NULL", o.resp and ("&" .. gen(o.resp)) or "NULL",
    o.octets and 1 or 0)
end

-- ---- writing ----
local head = "/* generated from " .. src .. " by scripts/gen_contract.lua: do not edit */"
local h = { head, "#ifndef PORTER_CONTRACT_GEN_H", "#define PORTER_CONTRACT_GEN_H", '#include "contract.h"', "",
            "typedef enum {" }
for _, o in ipairs(ops) do h[#h + 1] = ("  OP_%s,"):format(o.id) end
h[#h + 1] = "  OP__COUNT"
h[#h + 1] = "} op_id;"
h[#h + 1] = "/* OPW_<op>: operationId, method, path template, number of path parameters */"
for _, o in ipairs(ops) do
  h[#h + 1] = ('#define OPW_%s "%s", "%s", "%s", %d'):format(o.id, o.id, o.method, o.path, o.npath)
end
h[#h + 1] = "/* OPT_<op>: query type, body kind, body type, answer type (JSON), answer is octets */"
for _, o in ipairs(ops) do h[#h + 1] = ("#define OPT_%s %s"):format(o.id, optypes[o.id]) end
local xs = {}
for _, o in ipairs(ops) do xs[#xs + 1] = "X(" .. o.id .. ")" end
h[#h + 1] = "/* X(operationId) for every operation, in the contract's order */"
h[#h + 1] = "#define PORTER_OPS(X) " .. table.concat(xs, " ")
h[#h + 1] = ""
h[#h + 1] = "extern const ct_type CT_any, CT_string, CT_integer, CT_boolean;"
for _, n in ipairs(exported) do h[#h + 1] = "extern const ct_type " .. n .. ";" end
h[#h + 1] = "#endif"

local function write(path, lines)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end
write(outdir .. "/contract_gen.h", h)
local inc = { head, "/* included once per binary (csrc/sdk/schema.c, csrc/server/validate.c) */", '#include "contract_gen.h"' }
for _, d in ipairs(defs) do inc[#inc + 1] = d end
write(outdir .. "/contract_types.inc", inc)
