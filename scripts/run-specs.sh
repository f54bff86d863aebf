#!/bin/sh
# Runs the busted suite against $BUILD (build/ or build-asan/). Ends with "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
B="${BUILD:-build}"
LUA="${LUA:-lua5.4}"
export PORTER_BUILD="$PWD/$B"
export PORTER_ROOT="$PWD"
# Under another VM (make test LUA=luajit) the SDK's specs run with that VM's module, against
# the 5.4 build's servers; the specs of 5.4's own features (<close>, coroutine.close) are in
# files named *_lua54_spec.lua.
vm=$(basename "$LUA"); case $vm in luajit*) vm=luajit ;; esac
lib="$PWD/$B/lua"
if [ "$vm" != lua5.4 ]; then
  lib="$PWD/$B/$vm"
  # Lua 5.1 has no AsyncPorter: its specs are left out there too (vm_spec.lua checks what it says)
  no_async=; [ "$vm" = lua5.1 ] && no_async=--exclude-pattern=async_spec
  [ $# -gt 0 ] || set -- --exclude-pattern=_lua54_spec $no_async spec/sdk spec/integration
fi
export PORTER_SPEC_LUA="$LUA" PORTER_SPEC_LIB="$lib"
export LUA_PATH="$lib/?.lua;$lib/?/init.lua;$PWD/?.lua;;"
export LUA_CPATH="$lib/?.so;;"
# The suite must not talk to whatever Porter the developer's shell points at.
unset PORTER_SANDBOX_API_KEY PORTER_SANDBOX_BASE_URL PORTER_CLUSTER_ID KUBERNETES_SERVICE_HOST
if [ "${SAN:-}" = 1 ]; then
  # lua5.4 itself is not instrumented: preload the runtimes so the module can be.
  export PORTER_SAN_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  export LD_PRELOAD="$PORTER_SAN_PRELOAD"
  # a small quarantine: freed memory ASan holds back counts in RSS, and the specs that keep the
  # server's memory flat must measure ours, not ASan's 256 MB default
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:quarantine_size_mb=8"
  export LSAN_OPTIONS="suppressions=$PWD/spec/support/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
# a hung spec must not hang CI: the whole run gets 20 minutes
if [ "${SAN:-}" != 1 ]; then
  exec timeout --kill-after=10 1200 "$LUA" /usr/bin/busted --output=spec/support/summary.lua "$@"
fi
# Under the sanitizers, gcc 12's LeakSanitizer sometimes crashes in its own tracer as busted's
# lua5.4 exits ("Tracer caught signal 11 ... LeakSanitizer has encountered a fatal error", by
# where glibc 2.36's dynamic TLS happens to lie): that is no finding, and no spec failed. Any
# other non-zero exit, or a leak it did report, still fails the run.
# (the shell's own tools run without the sanitizers' runtimes; busted and what it starts with them)
unset LD_PRELOAD
log="${TMPDIR:-/tmp}/porter-specs.$$"
set +e
{ env LD_PRELOAD="$PORTER_SAN_PRELOAD" timeout --kill-after=10 1200 "$LUA" /usr/bin/busted --output=spec/support/summary.lua "$@"; echo $? >"$log.rc"; } 2>&1 | tee "$log"
rc=$(cat "$log.rc")
if [ "$rc" != 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$log" &&
   ! grep -q "ERROR: LeakSanitizer: detected" "$log" && tail -n 5 "$log" | grep -Eq '^[0-9]+ passed, 0 failed$'; then
  echo "(LeakSanitizer's tracer crashed as busted exited: no finding; every spec passed)"
  rc=0
fi
rm -f "$log" "$log.rc"
exit "$rc"
