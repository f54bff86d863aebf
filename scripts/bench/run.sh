#!/bin/sh
# `make bench`: every number beside its baseline, measured in the same run; medians of
# ROUNDS rounds. Quoted in the README.
set -eu
cd "$(dirname "$0")/../.."
B="${BUILD:-build}"
ROUNDS="${ROUNDS:-5}"
N="${N:-5000}"
export LUA_PATH="$PWD/$B/lua/?.lua;$PWD/$B/lua/?/init.lua;$PWD/?.lua;;" LUA_CPATH="$PWD/$B/lua/?.so;;"
tmp=$(mktemp -d)
cleanup() { kill "$srv_pid" "$sd_pid" ${many_pid:-} 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

# This machine is a Firecracker VM, which backs guest memory only when the guest first
# touches it (about 10 us a page: dd writes a new file at 0.4 GB/s on untouched memory, 6 GB/s
# on memory used before); whichever side of a comparison makes new memory first would pay for
# it. 2 GiB touched and freed before anything is measured, as on a machine that has run a while.
{ dd if=/dev/zero of=/dev/shm/porter-bench-warm bs=1M count=2048 status=none; rm -f /dev/shm/porter-bench-warm; } || true

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$B/porter-scripted-server" --listen 127.0.0.1:0 --print-url --no-record >"$tmp/url" &
srv_pid=$!
while [ ! -s "$tmp/url" ]; do sleep 0.05; done
url=$(cat "$tmp/url")
status='{"id":"sb_bench","name":"bench","image":"python:3.12-slim","tags":{"team":"a"},"phase":"running","exit_code":null,"created_at":"2026-11-22T10:00:00Z","started_at":"2026-11-22T10:00:01Z","host":"","volume_mounts":{},"exec_target":{"namespace":"ns","pod_name":"p","container_name":"c"}}'
slow=$(echo "$status" | sed 's/sb_bench/sb_slow/')
curl -s -X POST "$url/__control/script" -d "[{\"method\":\"GET\",\"path\":\"/v1/sandbox/sb_bench\",\"times\":0,\"json\":$status},{\"method\":\"GET\",\"path\":\"/v1/sandbox/sb_slow\",\"times\":0,\"delay_ms\":20,\"json\":$slow}]" >/dev/null

echo "== sequential GET /v1/sandbox/{id}, $N requests over keep-alive, median of $ROUNDS"
for i in $(seq "$ROUNDS"); do
  "$B/bench/curl_get" "$url/v1/sandbox/sb_bench" "$N" >>"$tmp/c"
  lua5.4 scripts/bench/sdk_get.lua "$url" "$N" >>"$tmp/s"
done
c=$(median <"$tmp/c"); s=$(median <"$tmp/s")
awk -v c="$c" -v s="$s" -v n="$N" 'BEGIN {
  printf "raw libcurl C loop : %8.0f req/s\n", n / c
  printf "porter_sandbox SDK : %8.0f req/s   (%.2fx the libcurl time)\n", n / s, s / c }'

F=200
echo "== fan-out: $F GETs that each take 20 ms on the server, median of $ROUNDS"
for i in $(seq "$ROUNDS"); do
  "$B/bench/curl_multi" "$url/v1/sandbox/sb_slow" "$F" 32 >>"$tmp/m"
  lua5.4 scripts/bench/sdk_fanout.lua "$url" "$F" async >>"$tmp/a"
  lua5.4 scripts/bench/sdk_fanout.lua "$url" "$F" sync >>"$tmp/q"
done
m=$(median <"$tmp/m"); a=$(median <"$tmp/a"); q=$(median <"$tmp/q")
awk -v m="$m" -v a="$a" -v q="$q" 'BEGIN {
  printf "libcurl multi C loop (32 in flight) : %7.3f s\n", m
  printf "AsyncPorter gather (32 in flight)   : %7.3f s   (%.2fx libcurl multi)\n", a, a / m
  printf "Porter, one after the other         : %7.3f s   (%.1fx slower than AsyncPorter)\n", q, q / a }'

echo "== instructions per request (callgrind), the SDK beside raw libcurl"
sh scripts/bench/instr.sh "$url"

sh scripts/bench/vms.sh "$url" "$ROUNDS"

# a volume larger than the 1G default: the transfers below move a 1 GiB file; room for the
# 1000 idle sandboxes below (their 1G limits together are far past the default --memory-commit)
"$B/porter-sandboxd" --listen 127.0.0.1:0 --print-url --state-dir "$tmp/state" --volume-size 3G \
  --memory-commit 2000G >"$tmp/sdurl" 2>"$tmp/sd.log" &
sd_pid=$!
while [ ! -s "$tmp/sdurl" ]; do sleep 0.05; done

echo "== volume trees: upload_dir and download_dir (4 files in flight) beside curl, median of 3"
lua5.4 scripts/bench/transfer.lua "$(cat "$tmp/sdurl")" 3

echo "== vol:stream of 1 GiB beside curl from the same server, median of 3"
PORTER_BUILD="$PWD/$B" lua5.4 scripts/bench/stream.lua 3
echo "== porter-sandboxd images, median of $ROUNDS (pulls) and $((ROUNDS * 4)) (starts)"
lua5.4 scripts/bench/images.lua "$B" "$ROUNDS"
echo "== restoring a snapshot's tree 1,500 directories deep beside GNU tar -x, median of 3"
sh scripts/bench/deep.sh "$B" 3

echo "== porter-sandboxd under load: 200 live sandboxes, 50 concurrent 2 s execs, /healthz meanwhile"
lua5.4 scripts/bench/load.lua "$(cat "$tmp/sdurl")" 200 50 | awk '{ printf "%-20s : %s\n", $1, $2 }'
MANY="${MANY:-5000}"
echo "== porter-sandboxd: $MANY idle sandboxes alive at once: host memory each, threads, /healthz, create-to-running beside 10 live"
# a server of its own (room for MANY and the one measured beside them): more than 4094 sandboxes
# need a uid range above 2^31 (--sandbox-uids)
"$B/porter-sandboxd" --listen 127.0.0.1:0 --print-url --state-dir "$tmp/many" --max-sandboxes "$((MANY + 1))" \
  --sandbox-uids 2147483648 --memory-commit 100000G >"$tmp/manyurl" 2>"$tmp/many.log" &
many_pid=$!
while [ ! -s "$tmp/manyurl" ]; do sleep 0.05; done
lua5.4 scripts/bench/many.lua "$(cat "$tmp/manyurl")" "$many_pid" "$MANY" 11 | awk '{ printf "%-24s : %s\n", $1, $2 }'
kill "$many_pid"; wait "$many_pid" 2>/dev/null || true
echo "== the sandbox network: a ${NET_MB:-100} MB download and connect time from a lab test host, median of $ROUNDS (connects: $((ROUNDS * 4)))"
PORTER_BUILD="$PWD/$B" lua5.4 scripts/bench/network.lua "$B" "$ROUNDS"
echo "== small durable writes: 1000 files of 4 KiB into a volume, one client and 8, beside nginx WebDAV and O_SYNC writes, median of 3"
PORTER_BUILD="$PWD/$B" lua5.4 scripts/bench/writes.lua "$B" 3 1000
echo "== lists: 100,000 ended sandboxes and 1000 live ones in the store, beside the same requests on an empty store, median of $ROUNDS"
PORTER_BUILD="$PWD/$B" lua5.4 scripts/bench/lists.lua "$B" "$ROUNDS" 100000 1000
echo "== sandbox logs: a workload printing 1,000,000 lines beside the same to /dev/null, and reading the newest 100,000 back, median of $ROUNDS"
# 31 rounds at the default: each is ~50 ms, and the median of 5 moved by 0.4 between runs
PORTER_BUILD="$PWD/$B" lua5.4 scripts/bench/logs.lua "$((ROUNDS * 6 + 1))" 1000000 100000
