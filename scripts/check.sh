#!/bin/sh
# `make check`: the whole suite twice, plain and under AddressSanitizer + UBSan, then one
# summed line "N passed, N failed"; exits non-zero if anything failed.
cd "$(dirname "$0")/.."
status=0 passed=0 failed=0
tmp=$(mktemp -d)

run() { # build dir, san flag
  make -s BUILD="$1" SAN="$2" all || { echo "build of $1 failed"; failed=$((failed + 1)); status=1; return; }
  ( BUILD="$1" SAN="$2" sh scripts/run-specs.sh; echo $? >"$tmp/rc" ) 2>&1 | tee "$tmp/log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/log" | tail -n1)
  if [ -z "$line" ]; then
    echo "no summary from the $1 run"; failed=$((failed + 1)); status=1; return
  fi
  passed=$((passed + ${line%% passed*}))
  f=${line#*, }; f=${f%% failed}
  failed=$((failed + f))
  [ "$(cat "$tmp/rc")" = 0 ] || status=1
}

run build ""
run build-asan 1
rm -rf "$tmp"
[ "$failed" -eq 0 ] || status=1
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit $status
