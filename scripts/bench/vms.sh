#!/bin/sh
# The SDK on each VM (make bench, after the 5.4 numbers): instructions per sequential GET
# (callgrind: the difference between runs of N2 and N1 calls, so start-up is not counted),
# beside Lua 5.4's measured the same way in the same run; and the fan-out's wall time.
# Usage: vms.sh URL (a scripted server answering sb_bench and sb_slow) ROUNDS
set -eu
cd "$(dirname "$0")/../.."
B="${BUILD:-build}"
url=$1 rounds=$2
N1=200 N2=1200
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for vm in lua5.1 lua5.3 luajit; do make -s BUILD="$B" LUA=$vm all; done

# instructions of `VM sdk_get.lua URL N`, everything the process ran
instr() { # vm n
  lib="$PWD/$B/$1"; [ "$1" = lua5.4 ] && lib="$PWD/$B/lua"
  LUA_PATH="$lib/?.lua;$lib/?/init.lua;;" LUA_CPATH="$lib/?.so;;" valgrind --tool=callgrind --smc-check=all-non-file \
    --callgrind-out-file="$tmp/cg" "$1" scripts/bench/sdk_get.lua "$url" "$2" >/dev/null 2>"$tmp/cg.err"
  grep -E '^summary:|^totals:' "$tmp/cg" | head -n1 | awk '{ print $2 }'
}

echo "== the SDK per VM: instructions per sequential get_sandbox (callgrind, ($N2 - $N1) calls)"
base=0
for vm in lua5.4 lua5.3 lua5.1 luajit; do
  a=$(instr $vm $N1); b=$(instr $vm $N2)
  per=$(( (b - a) / (N2 - N1) ))
  [ "$vm" = lua5.4 ] && base=$per
  awk -v vm="$vm" -v p="$per" -v b="$base" 'BEGIN { printf "%-7s %8d instructions per call   (%.2fx Lua 5.4)\n", vm, p, p / b }'
done

F=200
echo "== fan-out per VM: $F GETs of 20 ms each, AsyncPorter gather, median of $rounds"
for i in $(seq "$rounds"); do
  for vm in lua5.4 luajit lua5.3; do
    lib="$PWD/$B/$vm"; [ "$vm" = lua5.4 ] && lib="$PWD/$B/lua"
    LUA_PATH="$lib/?.lua;$lib/?/init.lua;;" LUA_CPATH="$lib/?.so;;" $vm scripts/bench/sdk_fanout.lua "$url" "$F" async >>"$tmp/f-$vm"
  done
done
f54=$(median <"$tmp/f-lua5.4")
for vm in lua5.4 luajit lua5.3; do
  f=$(median <"$tmp/f-$vm")
  awk -v vm="$vm" -v f="$f" -v b="$f54" 'BEGIN { printf "%-7s %7.3f s   (%.2fx Lua 5.4)\n", vm, f, f / b }'
done
