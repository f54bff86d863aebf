#!/bin/sh
# Instructions per request (callgrind: the difference between runs of N2 and N1 requests, so
# start-up is not counted), the SDK beside raw libcurl doing the same requests in the same run:
# sequential get_sandbox against curl_get (one easy handle, keep-alive), and the fan-out's
# AsyncPorter gather against curl_multi (32 in flight).
# Usage: instr.sh URL (a scripted server answering sb_bench and sb_slow)
set -eu
cd "$(dirname "$0")/../.."
B="${BUILD:-build}"
url=$1
N1=200 N2=1200
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LUA_PATH="$PWD/$B/lua/?.lua;$PWD/$B/lua/?/init.lua;;" LUA_CPATH="$PWD/$B/lua/?.so;;"

instr() { # command...
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" >/dev/null 2>"$tmp/cg.err"
  grep -E '^summary:|^totals:' "$tmp/cg" | head -n1 | awk '{ print $2 }'
}
per() { # what n1-command n2-command
  a=$(eval "instr $2"); b=$(eval "instr $3")
  echo $(( (b - a) / (N2 - N1) ))
}

c=$(per curl "$B/bench/curl_get $url/v1/sandbox/sb_bench $N1" "$B/bench/curl_get $url/v1/sandbox/sb_bench $N2")
s=$(per sdk "lua5.4 scripts/bench/sdk_get.lua $url $N1" "lua5.4 scripts/bench/sdk_get.lua $url $N2")
awk -v c="$c" -v s="$s" 'BEGIN {
  printf "sequential GET, raw libcurl : %8d instructions per request\n", c
  printf "sequential GET, Porter      : %8d instructions per request   (%.2fx libcurl)\n", s, s / c }'
m=$(per multi "$B/bench/curl_multi $url/v1/sandbox/sb_slow $N1 32" "$B/bench/curl_multi $url/v1/sandbox/sb_slow $N2 32")
a=$(per async "lua5.4 scripts/bench/sdk_fanout.lua $url $N1 async" "lua5.4 scripts/bench/sdk_fanout.lua $url $N2 async")
awk -v m="$m" -v a="$a" 'BEGIN {
  printf "fan-out, curl multi         : %8d instructions per request\n", m
  printf "fan-out, AsyncPorter gather : %8d instructions per request   (%.2fx curl multi)\n", a, a / m }'
