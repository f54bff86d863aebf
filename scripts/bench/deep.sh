#!/bin/sh
# deep.sh BUILD ROUNDS: a snapshot holding a tree 1,500 directories deep, restored by
# porter-sandbox-unpack --seed (as a sandbox started from it is) beside GNU tar -x of the same
# tar; each the median of ROUNDS runs onto the tree the warm-up made.
set -eu
B="$1" ROUNDS="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/src" "$tmp/seed" "$tmp/tar"
(cd "$tmp/src" && i=0 && while [ $i -lt 1500 ]; do mkdir d && cd d; i=$((i + 1)); done && echo bottom > f)
tar --format=pax -C "$tmp/src" -cf "$tmp/deep.tar" .
sha=$(sha256sum "$tmp/deep.tar" | cut -d' ' -f1)
t=$("$B/bench/timecmd" "$ROUNDS" tar -C "$tmp/tar" -xf "$tmp/deep.tar")
u=$("$B/bench/timecmd" "$ROUNDS" "$B/porter-sandbox-unpack" --seed "$tmp/seed" 100000 65536 "$tmp/deep.tar" 1000000000 "$sha" | tail -n 1)
find "$tmp/seed" -name f | grep -q . || { echo "the tree did not come back" >&2; exit 1; }
awk -v t="$t" -v u="$u" 'BEGIN { printf "tar -x                 : %.3f s\nporter-sandbox-unpack  : %.3f s (%.1fx tar)\n", t, u, u / t }'
