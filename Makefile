# porter-sandbox-lua build.  `make` builds everything into $(BUILD)/; `make test` runs the suite;
# `make asan-test` rebuilds into build-asan/ with AddressSanitizer + UBSan and runs it again.
# Sources are globbed per directory so a new file needs no Makefile edit.

BUILD   ?= build
PREFIX  ?= /usr/local
LUA     ?= lua5.4
SAN     ?=
CC      ?= cc

# The Lua the module is built for: `make LUA=lua5.1`, `LUA=lua5.3` or `LUA=luajit` builds
# the SDK (core.so and the façade) for that VM into $(BUILD)/<vm>/ (build/luajit/, ...), and `make test LUA=...`
# runs the SDK's specs under it. Everything else (porter-lua, the server, the generators)
# is Lua 5.4's. LuaRocks passes the interpreter's path and LUA_INCDIR.
LUA_VM  := $(patsubst luajit%,luajit,$(notdir $(LUA)))
LUA_INCDIR ?=
TOOL_LUA := lua5.4
ifeq ($(LUA_VM),lua5.4)
  LUA_DIR := $(BUILD)/lua
  SDK_OBJDIR := $(BUILD)/obj
else
  LUA_DIR := $(BUILD)/$(LUA_VM)
  SDK_OBJDIR := $(BUILD)/obj-$(LUA_VM)
endif
LUA_VM_CFLAGS := $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell pkg-config --cflags $(LUA_VM) 2>/dev/null))

PKGS_SDK    := lua5.4 libcurl
PKGS_SERVER := libmicrohttpd sqlite3 jansson libarchive

# Without the Debian packages, say so once (rather than pkg-config's complaint per flag), and
# stop unless the goal is to install them (deps, and demo and check, which run it first).
HAVE_DEPS := $(shell pkg-config --exists $(PKGS_SDK) $(PKGS_SERVER) 2>/dev/null && echo yes)
ifneq ($(HAVE_DEPS),yes)
  ifneq ($(filter-out deps demo check clean,$(or $(MAKECMDGOALS),all)),)
    $(error the build needs Debian packages that are not installed (pkg-config finds no $(PKGS_SDK) $(PKGS_SERVER)): run `make deps` as root first, which installs scripts/debian-packages.txt)
  endif
endif

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
OPT     := -O2 -g
ifeq ($(SAN),1)
  OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -fPIC
# hidden: the module exports luaopen_porter_sandbox_core and nothing else (no table_merge or
# k_result in the process's symbol space, where porter-lua's -E would put them)
SDK_CFLAGS    := $(CFLAGS_COMMON) $(LUA_VM_CFLAGS) $(shell pkg-config --cflags libcurl 2>/dev/null) -Icsrc/sdk -Icsrc/include -I$(BUILD)/gen -fvisibility=hidden
SDK_LIBS      := $(shell pkg-config --libs libcurl 2>/dev/null)
SERVER_CFLAGS := $(CFLAGS_COMMON) $(shell pkg-config --cflags $(PKGS_SERVER) 2>/dev/null) -Icsrc/server -Icsrc/include -I$(BUILD)/gen
SERVER_LIBS   := $(shell pkg-config --libs $(PKGS_SERVER) 2>/dev/null) -lpthread
LUA_CFLAGS    := $(shell pkg-config --cflags lua5.4 2>/dev/null)
LUA_LIBS      := $(shell pkg-config --libs lua5.4 2>/dev/null) -lm -ldl
SANFLAGS      := -fsanitize=address,undefined
LDSAN         := $(if $(filter 1,$(SAN)),$(SANFLAGS))

SDK_SRC    := $(wildcard csrc/sdk/*.c)
SDK_OBJ    := $(SDK_SRC:%.c=$(SDK_OBJDIR)/%.o)
INTERP_SRC := $(wildcard csrc/interp/*.c)
INTERP_OBJ := $(INTERP_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_SRC := $(wildcard csrc/server/*.c)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
EXEC_SRC   := $(wildcard csrc/exec/*.c)
EXEC_OBJ   := $(EXEC_SRC:%.c=$(BUILD)/obj/%.o)
UNPACK_SRC := $(wildcard csrc/unpack/*.c)
UNPACK_OBJ := $(UNPACK_SRC:%.c=$(BUILD)/obj/%.o)
TESTSRV_SRC := $(wildcard csrc/testsrv/*.c)
TESTSRV_OBJ := $(TESTSRV_SRC:%.c=$(BUILD)/obj/%.o)
SHA256_OBJ := $(BUILD)/obj/csrc/common/sha256.o
BENCH_SRC  := $(wildcard scripts/bench/*.c)
BENCH_BIN  := $(BENCH_SRC:scripts/bench/%.c=$(BUILD)/bench/%)
LUA_SRC    := $(shell find lua -name '*.lua')
LUA_OUT    := $(LUA_SRC:lua/%=$(LUA_DIR)/%)

CORE_SO := $(LUA_DIR)/porter_sandbox/core.so

.PHONY: all test asan-test clean install bench deps demo check fuzz docs rock-build rock-install
ifeq ($(LUA_VM),lua5.4)
all: $(CORE_SO) $(LUA_OUT) $(BUILD)/porter-lua $(BUILD)/porter-sandbox $(BUILD)/porter-sandboxd $(BUILD)/porter-sandbox-exec $(BUILD)/porter-sandbox-unpack $(BUILD)/porter-scripted-server $(BENCH_BIN)
else
# another VM's SDK; its specs still need the 5.4 build's server and scripted server
all: $(CORE_SO) $(LUA_OUT)
endif

# every object depends on this file: the flags live here
$(SDK_OBJDIR)/csrc/sdk/%.o: csrc/sdk/%.c $(wildcard csrc/sdk/*.h csrc/include/*.h) $(BUILD)/gen/contract_gen.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(SDK_CFLAGS) -c $< -o $@
# porter-lua finds lua-cjson where lua5.4 finds it at build time, whatever LUA_CPATH says later
CJSON_SO := $(shell env -u LUA_CPATH -u LUA_CPATH_5_4 $(TOOL_LUA) -e 'io.write(package.searchpath("cjson", package.cpath) or "")')
$(BUILD)/obj/csrc/interp/%.o: csrc/interp/%.c $(wildcard csrc/interp/*.h csrc/include/*.h) $(BUILD)/gen/embedded_lua.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(SDK_CFLAGS) -I$(BUILD)/gen -DCJSON_SO='"$(CJSON_SO)"' -c $< -o $@
$(BUILD)/obj/csrc/server/%.o: csrc/server/%.c $(wildcard csrc/server/*.h csrc/include/*.h) $(BUILD)/gen/contract_gen.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(SERVER_CFLAGS) -c $< -o $@
$(BUILD)/obj/csrc/exec/%.o: csrc/exec/%.c $(wildcard csrc/exec/*.h csrc/include/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -Icsrc/include -c $< -o $@
$(BUILD)/obj/csrc/unpack/%.o: csrc/unpack/%.c $(wildcard csrc/unpack/*.h csrc/include/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -Icsrc/include $(shell pkg-config --cflags libarchive) -c $< -o $@
$(BUILD)/obj/csrc/testsrv/%.o: csrc/testsrv/%.c $(wildcard csrc/testsrv/*.h csrc/include/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(SERVER_CFLAGS) -Icsrc/testsrv -c $< -o $@
$(BUILD)/obj/csrc/common/%.o: csrc/common/%.c $(wildcard csrc/include/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -Icsrc/include -c $< -o $@

# The module links libcurl but not liblua: the host interpreter provides the Lua API.
$(CORE_SO): $(SDK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(SDK_LIBS) $(LDSAN)

$(LUA_DIR)/%.lua: lua/%.lua
	@mkdir -p $(dir $@)
	cp $< $@

# porter-lua carries the Lua façade inside it, so it needs neither LUA_PATH nor LUA_CPATH.
# the contract's operations and types, for the SDK's tables and the server's routes and
# checks (any build dir); contract_types.inc is written beside the header, by the same run
.PRECIOUS: %/gen/contract_gen.h
%/gen/contract_gen.h: api/openapi.yaml scripts/gen_contract.lua scripts/yaml.lua
	@mkdir -p $(dir $@)
	$(TOOL_LUA) scripts/gen_contract.lua $< $(dir $@)

$(BUILD)/gen/embedded_lua.h: $(LUA_SRC) scripts/embed.lua
	@mkdir -p $(dir $@)
	$(TOOL_LUA) scripts/embed.lua $@ $(LUA_SRC)

$(BUILD)/porter-lua: $(INTERP_OBJ) $(SDK_OBJ)
	$(CC) -o $@ $^ $(SDK_LIBS) $(LUA_LIBS) -lreadline -Wl,-E $(LDSAN)

# the command line is porter-lua under another name
$(BUILD)/porter-sandbox: $(BUILD)/porter-lua
	ln -sf porter-lua $@

$(BUILD)/porter-sandboxd: $(SERVER_OBJ) $(SHA256_OBJ)
	$(CC) -o $@ $^ $(SERVER_LIBS) $(LDSAN)

# porter-sandboxd's exec helper, looked for next to it
$(BUILD)/porter-sandbox-exec: $(EXEC_OBJ)
	$(CC) -o $@ $^ -lseccomp $(LDSAN)

# porter-sandboxd's layer unpacker, also next to it
$(BUILD)/porter-sandbox-unpack: $(UNPACK_OBJ) $(SHA256_OBJ)
	$(CC) -o $@ $^ $(shell pkg-config --libs libarchive) $(LDSAN)

$(BUILD)/porter-scripted-server: $(TESTSRV_OBJ) $(SHA256_OBJ)
	$(CC) -o $@ $^ $(SERVER_LIBS) $(LDSAN)

$(BUILD)/bench/%: scripts/bench/%.c scripts/bench/sdk_request.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(shell pkg-config --cflags libcurl) -Icsrc/include -o $@ $< $(SDK_LIBS) $(LDSAN)

test: all
ifneq ($(LUA_VM),lua5.4)
	$(MAKE) --no-print-directory BUILD=$(BUILD) SAN=$(SAN) LUA=lua5.4 all
endif
	BUILD=$(BUILD) LUA=$(LUA) sh scripts/run-specs.sh

asan-test: all
	$(MAKE) BUILD=build-asan SAN=1 all
	BUILD=build-asan LUA=$(LUA) SAN=1 sh scripts/run-specs.sh

# The README's two commands: the main job (a workflow on the local Sandbox API) and the tests.
deps:
	sh scripts/deps.sh

demo: deps
	$(MAKE) all
	$(BUILD)/porter-lua --local examples/workflow.lua

check: deps
	sh scripts/check.sh

# libFuzzer targets (clang), each run FUZZ_SECONDS from the seeds in fuzz/corpus/; what they
# find goes to build-fuzz/ (crash-*, and the grown corpus), never into the checkout.
FUZZ        := build-fuzz
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := server_spec sdk_decode dns_msg

$(FUZZ)/server_spec: fuzz/server_spec.c csrc/server/spec.c csrc/server/route_match.c csrc/server/validate.c csrc/server/imageref.c csrc/server/vfs.c csrc/server/util.c $(wildcard csrc/server/*.h csrc/include/*.h) $(FUZZ)/gen/contract_gen.h
	@mkdir -p $(FUZZ)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(PKGS_SERVER)) -Icsrc/server -Icsrc/include -I$(FUZZ)/gen -o $@ $(filter %.c,$^) -ljansson

$(FUZZ)/sdk_decode: fuzz/sdk_decode.c $(SDK_SRC) $(wildcard csrc/sdk/*.h) $(FUZZ)/gen/contract_gen.h
	@mkdir -p $(FUZZ)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(PKGS_SDK)) -Icsrc/sdk -Icsrc/include -I$(FUZZ)/gen -o $@ $(filter %.c,$^) $(SDK_LIBS) $(LUA_LIBS)

$(FUZZ)/dns_msg: fuzz/dns_msg.c csrc/exec/dnsmsg.c csrc/exec/dnsmsg.h
	@mkdir -p $(FUZZ)
	clang $(FUZZ_CFLAGS) -Icsrc/exec -o $@ $(filter %.c,$^)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ)/%)
	FUZZ=$(FUZZ) FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh $(FUZZ_TARGETS)

# the reference manual (LDoc, Debian's lua-ldoc) from docs/porter_sandbox.luadoc
docs:
	cd docs && ldoc -c config.ld -q . && echo "build/docs/index.html"

bench: all
	sh scripts/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4/porter_sandbox $(DESTDIR)$(PREFIX)/share/lua/5.4/porter_sandbox
	install -m755 $(BUILD)/porter-lua $(BUILD)/porter-sandboxd $(BUILD)/porter-sandbox-exec $(BUILD)/porter-sandbox-unpack $(DESTDIR)$(PREFIX)/bin/
	ln -sf porter-lua $(DESTDIR)$(PREFIX)/bin/porter-sandbox
	install -m755 $(CORE_SO) $(DESTDIR)$(PREFIX)/lib/lua/5.4/porter_sandbox/
	cd $(BUILD)/lua && find . -name '*.lua' -exec install -D -m644 {} $(DESTDIR)$(PREFIX)/share/lua/5.4/{} \;

# LuaRocks (rockspec/, build type "make"): the rock builds in a directory of its own under
# /tmp and installs from there, so that nothing is left in the checkout.
# LuaRocks passes LUA (the interpreter: lua5.1, lua5.3, lua5.4 or luajit) and LUA_INCDIR. The
# command line (porter-sandbox) is Lua 5.4's, like porter-lua: only the 5.4 rock installs it.
rock-build:
	@command -v pkg-config >/dev/null && pkg-config --exists libcurl && command -v $(TOOL_LUA) >/dev/null || { echo "the rock needs pkg-config, libcurl4-openssl-dev, the headers of its Lua, and lua5.4 (the build's code generators)" >&2; exit 1; }

rock-install:
	@test -n "$(ROCK_LIBDIR)" && test -n "$(ROCK_LUADIR)" || { echo "rock-install is LuaRocks' (ROCK_LIBDIR, ROCK_LUADIR)" >&2; exit 1; }
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	dir="$$tmp/$(patsubst $(BUILD)/%,%,$(LUA_DIR))" && \
	$(MAKE) --no-print-directory SAN= BUILD="$$tmp" LUA="$(LUA)" LUA_INCDIR="$(LUA_INCDIR)" "$$dir/porter_sandbox/core.so" $(LUA_SRC:lua/%="$$dir/%") && \
	install -d "$(ROCK_LIBDIR)/porter_sandbox" "$(ROCK_LUADIR)/porter_sandbox" && \
	install -m755 "$$dir/porter_sandbox/core.so" "$(ROCK_LIBDIR)/porter_sandbox/" && \
	install -m644 "$$dir"/porter_sandbox/*.lua "$(ROCK_LUADIR)/porter_sandbox/" && \
	if [ -n "$(ROCK_BINDIR)" ] && [ "$(LUA_VM)" = lua5.4 ]; then install -d "$(ROCK_BINDIR)" && install -m755 scripts/porter-sandbox.lua "$(ROCK_BINDIR)/porter-sandbox"; fi

clean:
	rm -rf build build-asan build-fuzz
