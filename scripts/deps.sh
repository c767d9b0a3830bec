#!/usr/bin/env bash
# Installs every Debian package tinchi needs to build, run, test and benchmark,
# skipping what is already there, and for run, test and bench the npm
# packages in package-lock.json (npm ci). Safe to run again. Needs root (or sudo).
set -euo pipefail

build_pkgs=(
  build-essential autoconf automake libtool pkg-config python3
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libsqlite3-dev libssl-dev libmagic-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libjansson-dev zlib1g-dev libqrencode-dev
)
test_pkgs=( curl python3 sqlite3 openssl ffmpeg python3-jsonschema python3-cryptography zbar-tools librsvg2-bin chromium )
bench_pkgs=( nginx-light wrk procps )

want=( "${build_pkgs[@]}" )
node=0
case "${1:-build}" in
  build) ;;
  run)   want+=( ffmpeg libqrencode4 ); node=1 ;;	# node_modules: the player's hls.js
  test)  want+=( "${test_pkgs[@]}" ); node=1 ;;
  bench) want+=( "${test_pkgs[@]}" "${bench_pkgs[@]}" ); node=1 ;;
  *) echo "usage: scripts/deps.sh [build|run|test|bench]" >&2; exit 2 ;;
esac

# Node.js and npm, for the node_modules in package.json (hls.js, which
# tinchi serves to browsers as /vendor/hls.min.mjs, and the tests' tools).
# A node and npm already on PATH are kept (NodeSource's nodejs, say, which
# conflicts with Debian's npm); otherwise Debian's.
if [ $node -eq 1 ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  want+=( nodejs npm )
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=( "$p" )
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# node_modules, from package-lock.json, when missing or older than it (npm
# writes node_modules/.package-lock.json when an install is complete). It
# belongs to whoever runs this, not to root when that is through sudo.
[ $node -eq 1 ] || exit 0
top=$(cd "$(dirname "$0")/.." && pwd)
stamp=$top/node_modules/.package-lock.json
[ -f "$top/package-lock.json" ] || exit 0
[ -f "$stamp" ] && ! [ "$top/package-lock.json" -nt "$stamp" ] && exit 0
as_user=()
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  as_user=( sudo -H -u "$SUDO_USER" -- )
fi
echo "installing: node_modules (npm ci)" >&2
(cd "$top" && "${as_user[@]}" npm ci --no-audit --no-fund >&2)
