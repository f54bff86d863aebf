-- The SDK as a rock: `luarocks --lua-version=5.4 make rockspec/porter-sandbox-scm-1.rockspec`
-- from the top of the repository. It needs libcurl's headers (Debian: libcurl4-openssl-dev).
--
-- lua-cjson: Debian's `lua-cjson` package installs it for lua5.4 outside LuaRocks' tree, and
-- LuaRocks does not see it. Either let LuaRocks build lua-cjson too (the default), or, with the
-- Debian package installed, skip the dependency check: `luarocks ... make --deps-mode=none ...`.
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
dependencies = { "lua >= 5.4", "lua-cjson >= 2.1" }
-- checked by library: Debian keeps curl.h under /usr/include/<multiarch>, which the compiler
-- searches but LuaRocks' header check does not
external_dependencies = { CURL = { library = "curl" } }
build = {
  type = "builtin",
  modules = {
    ["porter_sandbox.core"] = {
      sources = {
        "csrc/sdk/async.c", "csrc/sdk/class.c", "csrc/sdk/client.c", "csrc/sdk/config.c", "csrc/sdk/error.c",
        "csrc/sdk/health.c", "csrc/sdk/http.c", "csrc/sdk/model.c", "csrc/sdk/module.c", "csrc/sdk/ops.c",
        "csrc/sdk/raw.c", "csrc/sdk/sandbox.c", "csrc/sdk/schema.c", "csrc/sdk/snapshot.c", "csrc/sdk/volume.c",
      },
      libraries = { "curl" },
      defines = { "_GNU_SOURCE" },
      incdirs = { "csrc/sdk" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["porter_sandbox"] = "lua/porter_sandbox/init.lua",
    ["porter_sandbox.async"] = "lua/porter_sandbox/async.lua",
    ["porter_sandbox.sandbox"] = "lua/porter_sandbox/sandbox.lua",
    ["porter_sandbox.volume"] = "lua/porter_sandbox/volume.lua",
  },
}
