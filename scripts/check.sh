#!/bin/sh
# `make check`: the whole suite twice, plain and under AddressSanitizer + UBSan, the SDK's
# specs under Lua 5.1, 5.3 and LuaJIT, the fuzzers briefly, then one summed line
# "N passed, N failed"; exits non-zero if anything failed.
cd "$(dirname "$0")/.."
status=0 passed=0 failed=0
tmp=$(mktemp -d)

# adds the "N passed, N failed" line of $tmp/log to the totals
count() { # what ran
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/log" | tail -n1)
  if [ -z "$line" ]; then
    echo "no summary from $1"; failed=$((failed + 1)); status=1; return
  fi
  passed=$((passed + ${line%% passed*}))
  f=${line#*, }; f=${f%% failed}
  failed=$((failed + f))
  [ "$(cat "$tmp/rc")" = 0 ] || status=1
}

run() { # build dir, san flag
  make -s BUILD="$1" SAN="$2" all || { echo "build of $1 failed"; failed=$((failed + 1)); status=1; return; }
  ( BUILD="$1" SAN="$2" sh scripts/run-specs.sh; echo $? >"$tmp/rc" ) 2>&1 | tee "$tmp/log"
  count "the $1 run"
}

run build ""
# the SDK built for each other VM (build/<vm>/), its specs against the plain build's servers
for vm in lua5.1 lua5.3 luajit; do
  make -s BUILD=build LUA=$vm all || { echo "build for $vm failed"; failed=$((failed + 1)); status=1; continue; }
  ( BUILD=build LUA=$vm sh scripts/run-specs.sh; echo $? >"$tmp/rc" ) 2>&1 | tee "$tmp/log"
  count "the $vm run"
done
run build-asan 1
# the fuzzers: a short run from the seeds each time (make fuzz FUZZ_SECONDS=600 for a long one)
( make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-15}"; echo $? >"$tmp/rc" ) 2>&1 | tee "$tmp/log"
count "make fuzz"
rm -rf "$tmp"
[ "$failed" -eq 0 ] || status=1
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit $status
