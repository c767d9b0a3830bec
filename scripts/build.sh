#!/usr/bin/env bash
# Configures (once) and builds tinchi out of tree.
#   scripts/build.sh [BUILD_DIR [CONFIGURE_ARGS...]]     default: build
# Re-running only rebuilds what changed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p "$dir"
if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/config.status" ]; then
	(cd "$dir" && "$top/configure" --quiet "$@")
fi
make -C "$dir" -j"$(nproc)" --no-print-directory >/dev/null
