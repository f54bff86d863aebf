#!/bin/sh
# Installs the Debian packages the project needs, only when some are missing, so that
# `make demo` and `make check` work on a fresh Debian machine.
set -e
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' scripts/debian-packages.txt | tr '\n' ' ')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q $missing
