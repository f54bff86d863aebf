-- The YAML that api/openapi.yaml is written in, read into Lua tables: block mappings and
-- sequences by indentation, flow collections ({a: 1}, [a, b]) on one line, plain, quoted and
-- folded (">") scalars, comments. Not a general YAML reader (no anchors, tags, multi-line
-- flows or documents): what it does not know is an error with the line, never a guess, so that
-- the generators (scripts/gen_contract.lua) and the contract spec read the same thing.
local M = {}

-- the keys of each mapping in the order written (Lua's tables keep none), for M.keys
local order = setmetatable({}, { __mode = "k" })

local function scalar(s)
  if s == "true" then return true elseif s == "false" then return false
  elseif s == "null" or s == "~" then return nil end
  if s:match("^-?%d+$") then return math.tointeger(tonumber(s)) end
  if s:match("^-?%d+%.%d+$") then return tonumber(s) end
  return s
end

-- a quoted scalar at s[i] (i on the quote): its text and the index after it
local function quoted(s, i, where)
  local q, out, j = s:sub(i, i), {}, i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if q == "'" and c == "'" then
      if s:sub(j + 1, j + 1) ~= "'" then return table.concat(out), j + 1 end
      out[#out + 1], j = "'", j + 2
    elseif q == '"' and c == '"' then
      return table.concat(out), j + 1
    elseif q == '"' and c == "\\" then
      local e = s:sub(j + 1, j + 1)
      out[#out + 1] = ({ n = "\n", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" })[e]
        or error(where .. ": escape \\" .. e .. " not supported")
      j = j + 2
    else
      out[#out + 1], j = c, j + 1
    end
  end
  error(where .. ": unterminated string")
end

-- a flow value at s[i]: the value and the index after it
local function flow(s, i, where)
  i = s:find("%S", i) or #s + 1
  local c = s:sub(i, i)
  if c == "{" or c == "[" then
    local map, close, t = c == "{", c == "{" and "}" or "]", {}
    i = i + 1
    while true do
      i = s:find("%S", i) or error(where .. ": unclosed " .. c)
      if s:sub(i, i) == close then return t, i + 1 end
      if map then
        local k
        if s:sub(i, i):match("[\"']") then k, i = quoted(s, i, where)
        else
          local a, b = s:find("^[^:,{}%[%]]+", i)
          if not a then error(where .. ": a key expected at column " .. i) end
          k, i = s:sub(a, b):match("^(.-)%s*$"), b + 1
        end
        i = s:find("%S", i) or error(where .. ": unclosed " .. c)
        -- a key with no ':' has a null value, as in any YAML reader: a plain scalar in a flow
        -- ends at a comma, so "{description: a, b}" holds the key "b"
        if s:sub(i, i) == ":" then t[k], i = flow(s, i + 1, where)
        elseif not s:sub(i, i):match("[,}]") then error(where .. ": ':' expected after " .. k) end
        order[t] = order[t] or {}
        table.insert(order[t], k)
      else
        t[#t + 1], i = flow(s, i, where)
      end
      i = s:find("%S", i) or error(where .. ": unclosed " .. c)
      local d = s:sub(i, i)
      if d == "," then i = i + 1
      elseif d ~= close then error(where .. ": ',' or '" .. close .. "' expected at column " .. i) end
    end
  elseif c == '"' or c == "'" then
    return quoted(s, i, where)
  end
  local a, b = s:find("^[^,{}%[%]]*", i)
  return scalar(s:sub(a, b):match("^(.-)%s*$")), b + 1
end

-- a value written after "key:" or "- " on one line
local function inline(s, where)
  -- outside a flow, a plain scalar runs to the end of the line, brackets and commas included
  if not s:match("^[{%[\"']") then return scalar(s) end
  local v, i = flow(s, 1, where)
  if s:find("%S", i) then error(where .. ": unexpected text after a value: " .. s:sub(i)) end
  return v
end

function M.parse(text, name)
  local lines = {}
  local n = 0
  for raw in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    -- a comment starts at '#' after a blank (or at the start), never inside a quoted scalar
    local body, q = {}, nil
    for j = 1, #raw do
      local c = raw:sub(j, j)
      if q then if c == q then q = nil end
      elseif (c == '"' or c == "'") and (j == 1 or raw:sub(j - 1, j - 1):match("[%s{%[,:]")) then q = c
      elseif c == "#" and (j == 1 or raw:sub(j - 1, j - 1):match("%s")) then break end
      body[#body + 1] = c
    end
    local s = table.concat(body):gsub("%s+$", "")
    if s ~= "" then
      if s:match("^%s*"):find("\t") then error(name .. ":" .. n .. ": a tab in the indentation") end
      lines[#lines + 1] = { indent = #s:match("^ *"), text = s:match("^ *(.*)$"), n = n }
    end
  end

  local block
  -- a folded scalar (">"): the following more-indented lines, joined by spaces
  local function folded(i, indent)
    local parts = {}
    while lines[i] and lines[i].indent > indent do
      parts[#parts + 1] = lines[i].text
      i = i + 1
    end
    return table.concat(parts, " ") .. "\n", i
  end
  local function value_after(rest, i, indent, where)
    if rest == ">" or rest == "|" then return folded(i + 1, indent) end
    if rest ~= "" then return inline(rest, where), i + 1 end
    local nxt = lines[i + 1]
    if nxt and (nxt.indent > indent or (nxt.indent == indent and nxt.text:match("^%-%s") )) then
      return block(i + 1, nxt.indent)
    end
    return nil, i + 1
  end
  function block(i, indent)
    local first = lines[i]
    if first.text:match("^%-%s") or first.text == "-" then
      local t = {}
      while lines[i] and lines[i].indent == indent and (lines[i].text:match("^%-%s") or lines[i].text == "-") do
        local l = lines[i]
        local rest = l.text:match("^%-%s*(.*)$")
        if rest == "" then
          t[#t + 1], i = block(i + 1, lines[i + 1].indent)
        else
          -- "- key: v" opens a mapping whose other keys sit two columns right of the dash
          lines[i] = { indent = indent + 2, text = rest, n = l.n }
          if rest:match("^[{%[\"']") and not rest:match("^[\"'][^\"']*[\"']%s*:") then
            t[#t + 1], i = inline(rest, name .. ":" .. l.n), i + 1
          else
            t[#t + 1], i = block(i, indent + 2)
          end
        end
      end
      return t, i
    end
    local t = {}
    while lines[i] and lines[i].indent == indent and not lines[i].text:match("^%-%s") do
      local l = lines[i]
      local where = name .. ":" .. l.n
      local k, rest
      if l.text:match("^[\"']") then
        local q, j = quoted(l.text, 1, where)
        k, rest = q, l.text:sub(j):match("^%s*:%s*(.*)$")
      else
        k, rest = l.text:match("^([^:]-)%s*:%s+(.*)$")
        if not k then k, rest = l.text:match("^([^:]-)%s*:$"), "" end
      end
      if not k or not rest then error(where .. ": 'key: value' expected: " .. l.text) end
      if t[k] ~= nil then error(where .. ": '" .. k .. "' twice in one mapping") end
      t[k], i = value_after(rest, i, indent, where)
      order[t] = order[t] or {}
      table.insert(order[t], k)
    end
    if lines[i] and lines[i].indent > indent then
      error(name .. ":" .. lines[i].n .. ": unexpected indentation")
    end
    return t, i
  end

  if #lines == 0 then return {} end
  local v, i = block(1, lines[1].indent)
  if lines[i] then error(name .. ":" .. lines[i].n .. ": unexpected indentation") end
  return v
end

-- the keys of mapping t in the order the text gives them
function M.keys(t)
  local ks = {}
  for _, k in ipairs(order[t] or {}) do ks[#ks + 1] = k end
  return ks
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return M.parse(text, path)
end

return M
