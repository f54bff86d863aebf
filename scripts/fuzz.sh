#!/bin/sh
# `make fuzz`: runs each libFuzzer target for $FUZZ_SECONDS from its seeds (fuzz/corpus/NAME,
# read only) and what earlier runs found ($FUZZ/corpus-NAME). Prints one "fuzz NAME: ok|FAILED"
# line a target and ends with "N passed, N failed".
cd "$(dirname "$0")/.."
F="${FUZZ:-build-fuzz}"
passed=0 failed=0
for t in "$@"; do
  mkdir -p "$F/corpus-$t"
  # the Lua state's cjson comes from the system; leaks are checked by LeakSanitizer per input
  if "$F/$t" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$F/$t-" -print_final_stats=0 "$F/corpus-$t" "fuzz/corpus/$t" >"$F/$t.log" 2>&1; then
    echo "fuzz $t: ok ($(grep -c . "$F/$t.log") log lines, $(ls "$F/corpus-$t" | wc -l) inputs kept)"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED"
    tail -n 40 "$F/$t.log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
