#!/usr/bin/env bash
# scripts/bench/verify_callgrind.sh - instructions per verification over
# HTTP (issue 7), a figure the machine's load does not move.
#
# A fresh data folder with N (400) credentials issued by the real path
# (issue.sh's setup: one institution, 200 learners, completions written by
# issue_driver gen, `tinchi serve` issuing them at start-up), exported;
# then each server binary given (default build-bench/tinchi) runs under
# `valgrind --tool=callgrind` on the port that issued them (the status
# list's URL names it): 20 verifications of warm-up (POST
# /api/v1/credentials/verify, one connection each), then 200 distinct ones
# between `callgrind_control -z` and `-d`, every answer "verified": true.
# Prints, per binary, the instructions of every thread of the server in
# that window divided by 200 (the connection set-up of each request
# included: wrk's keep-alive connections do not pay it).
# A binary older than the data folder's schema refuses it: to compare with
# an older tree, make the folder with that tree's build-bench (SETUP_TOP:
# its tinchi and issue_driver, as issue.sh builds them) and give the older
# binaries first (a newer one migrates the folder).
# Environment: N, SETUP_TOP (default: this tree), CG_KEEP (a folder: each
# binary's callgrind files are copied there as K.DIR.PID[.PART], K its
# place among the binaries given, for callgrind_annotate).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
N=${N:-400}
scripts/build.sh build-bench CFLAGS="-O2 -g"
libs=$(printf 'libs:\n\t@echo $(TINCHI_LIBS)\n' | make -s -C build-bench --no-print-directory -f Makefile -f - libs)
drv=build-bench/issue_driver
# shellcheck disable=SC2086
cc -O2 -g -std=gnu11 -I. -Ibuild-bench -DHAVE_CONFIG_H -o "$drv" scripts/bench/issue_driver.c \
	build-bench/libtinchi.a $libs
[ $# -gt 0 ] || set -- build-bench/tinchi
SETUP_TOP=${SETUP_TOP:-$top}
drv=$SETUP_TOP/build-bench/issue_driver
bin=$SETUP_TOP/build-bench/tinchi
work=$(mktemp -d /tmp/tinchi-vcg.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
data=$work/data
$bin migrate --data "$data" >/dev/null 2>&1
$bin institution add BENCHU --name "Trường Đại học Thử nghiệm" --kind university --data "$data" >/dev/null
echo 'bench-lecturer-password' | $bin person add --national-id 001000000001 --name "Giảng viên" \
	--role lecturer --institution BENCHU --password-stdin --password-cost 10 --data "$data" >/dev/null
python3 scripts/bench/gen_learners.py 200 --seed 7 >"$work/learners.csv"
$bin import learners "$work/learners.csv" --institution BENCHU --data "$data" >/dev/null 2>&1
$drv gen "$data" BENCHU 001000000001 $(((N + 199) / 200)) "$N" >/dev/null
$bin serve --data "$data" --listen 127.0.0.1:0 --port-file "$work/port" --access-log off \
	--log-level info --password-cost 10 --media-jobs 1 2>"$work/serve.log" &
pid=$!
for _ in $(seq 6000); do grep -q 'pending credential' "$work/serve.log" && break; sleep 0.05; done
port=$(cat "$work/port")
for _ in $(seq 200); do
	size=$(curl -sf "http://127.0.0.1:$port/log/checkpoint" | sed -n 2p || true)
	[ -n "$size" ] && [ "$size" -ge "$N" ] && break
	sleep 0.1
done
kill "$pid"
wait "$pid" || true
pid=
$drv export "$data" "$N" "$work/creds.jsonl" BENCHU
send() {
	python3 - "http://127.0.0.1:$port" "$work/creds.jsonl" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, f, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for line in open(f).read().splitlines()[a:b]:
    req = urllib.request.Request(base + "/api/v1/credentials/verify",
                                 data=('{"credential":%s}' % line).encode(),
                                 headers={"Content-Type": "application/json"})
    d = json.loads(urllib.request.urlopen(req).read())
    if not d.get("verified"):
        sys.exit("not verified: %s" % json.dumps(d)[:400])
PY
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
nb=0
for b in "$@"; do
	nb=$((nb + 1))
	out=$work/cg
	rm -f "$out".*
	valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$b" serve --data "$data" \
		--listen "127.0.0.1:$port" --access-log off --log-level warn --password-cost 10 \
		--media-jobs 1 2>"$work/cg.log" &
	pid=$!
	for _ in $(seq 600); do
		curl -sf "http://127.0.0.1:$port/log/checkpoint" >/dev/null 2>&1 && break
		sleep 0.2
	done
	send 0 20
	callgrind_control -z "$pid" >/dev/null 2>&1
	send 100 300
	callgrind_control -d "$pid" >/dev/null 2>&1
	sleep 1
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	total=$(callgrind_annotate "$out".*.1 2>/dev/null |
		awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
	echo "$b: $((total / 200)) instructions per verification (200 distinct, callgrind)"
	if [ -n "${CG_KEEP:-}" ]; then
		mkdir -p "$CG_KEEP"
		k=$nb.$(basename "$(dirname "$b")")
		for f in "$out".*; do cp "$f" "$CG_KEEP/$k.${f#"$out".}"; done
		echo "callgrind files: $CG_KEEP/$k.*"
	fi
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
