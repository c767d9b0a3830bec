#!/usr/bin/env bash
# Installs every Debian package tinchi needs to build, run, test and benchmark,
# skipping what is already there. Safe to run again. Needs root (or sudo).
set -euo pipefail

build_pkgs=(
  build-essential autoconf automake libtool pkg-config python3
  libwebsockets-dev libsqlite3-dev libssl-dev libmagic-dev
  libavformat-dev libavcodec-dev libavutil-dev libjansson-dev zlib1g-dev
)
test_pkgs=( curl python3 sqlite3 openssl )
bench_pkgs=( nginx-light wrk procps )

want=( "${build_pkgs[@]}" )
case "${1:-build}" in
  build) ;;
  test)  want+=( "${test_pkgs[@]}" ) ;;
  bench) want+=( "${test_pkgs[@]}" "${bench_pkgs[@]}" ) ;;
  *) echo "usage: scripts/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=( "$p" )
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
