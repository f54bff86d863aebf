-- The SDK as a rock: `luarocks --lua-version=5.4 make rockspec/porter-sandbox-scm-1.rockspec`
-- from the top of the repository (or --lua-version=5.1 / 5.3; for LuaJIT add
-- LUA=/usr/bin/luajit LUA_INCDIR=/usr/include/luajit-2.1). It builds with the Makefile (in a
-- directory of its own, so nothing is left in the checkout) and needs pkg-config, the headers
-- of that Lua and of libcurl, and lua5.4, which runs the build's code generators (Debian:
-- pkg-config liblua5.X-dev or libluajit-5.1-dev, libcurl4-openssl-dev, lua5.4).
--
-- The SDK needs no JSON library. The porter-sandbox CLI prints JSON with lua-cjson, which is
-- not listed: LuaRocks does not see Debian's `lua-cjson` package and would insist on building
-- its own from a rocks server. Install either one (apt-get install lua-cjson, or luarocks
-- install lua-cjson).
rockspec_format = "3.0"
package = "porter-sandbox"
version = "scm-1"
source = { url = "git+file:///dev/null" }
description = {
  summary = "Lua SDK for the Porter Sandbox API, with a C core over libcurl",
  detailed = [[
    Launch isolated sandboxes, exec into them, read their logs and keep files in volumes:
    Porter and AsyncPorter clients, typed errors, retries, streaming file transfers.
  ]],
  license = "MIT",
}
dependencies = { "lua >= 5.1" }
build = {
  type = "make",
  build_target = "rock-build",
  build_variables = { LUA = "$(LUA)", LUA_INCDIR = "$(LUA_INCDIR)" },
  install_target = "rock-install",
  install_variables = { ROCK_LIBDIR = "$(LIBDIR)", ROCK_LUADIR = "$(LUADIR)", ROCK_BINDIR = "$(BINDIR)",
                        LUA = "$(LUA)", LUA_INCDIR = "$(LUA_INCDIR)" },
}
