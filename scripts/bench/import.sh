#!/usr/bin/env bash
# scripts/bench/import.sh - bulk learner import: 100,000 generated rows
# (scripts/bench/gen_learners.py) imported into a fresh data folder, once
# through the command line (`tinchi import learners`) and once through the
# HTTP API (POST .../learners:import with an API token), and a second time
# through the API to measure an idempotent re-import (all updates). As a
# reference, the sqlite3 shell's `.import` loads the same file into a plain
# table in the same run (no validation, no HMAC, no activation codes), and
# the ratio to it is printed. Environment: ROWS (default 100000).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
scripts/deps.sh bench
scripts/build.sh build-bench CFLAGS="-O2 -g"
ROWS=${ROWS:-100000}
bin=build-bench/tinchi
work=$(mktemp -d /tmp/tinchi-import.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

python3 scripts/bench/gen_learners.py "$ROWS" --seed 1 >"$work/learners.csv"
size_mb=$(awk -v b="$(stat -c %s "$work/learners.csv")" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "file: $ROWS rows, $size_mb MB"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# reference: the sqlite3 shell's CSV import into a plain table
t0=$(now)
sqlite3 "$work/ref.db" 'PRAGMA journal_mode=WAL;' '.mode csv' \
	'.import '"$work/learners.csv"' learners' >/dev/null
t1=$(now)
ref=$(secs "$t0" "$t1")

# the command line
$bin institution add BENCH --name "Bench University" --kind university --data "$work/cli" >/dev/null
t0=$(now)
$bin import learners "$work/learners.csv" --institution BENCH --data "$work/cli" >"$work/codes.csv" 2>"$work/cli.err"
t1=$(now)
cli=$(secs "$t0" "$t1")
codes=$(($(wc -l <"$work/codes.csv") - 1))
[ "$codes" -eq "$ROWS" ] || { echo "bench: expected $ROWS activation codes, got $codes" >&2; cat "$work/cli.err" >&2; exit 1; }

# the HTTP API, with an API token of the institution's admin
d="$work/api"
$bin institution add BENCH --name "Bench University" --kind university --data "$d" >/dev/null
echo 'bench-admin-password' | $bin person add --national-id 000000000009 --name "Bench Admin" \
	--role admin --institution BENCH --password-stdin --password-cost 12 --data "$d" >/dev/null
$bin serve --data "$d" --listen 127.0.0.1:0 --port-file "$work/port" --access-log off \
	--log-level warn --password-cost 12 &
pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"
curl -sf -c "$work/jar" -H 'Content-Type: application/json' \
	-d '{"national_id":"000000000009","password":"bench-admin-password"}' \
	"$base/api/v1/session" >"$work/login.json"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$work/login.json")
token=$(curl -sf -b "$work/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"bench","scopes":["learners:import"]}' "$base/api/v1/institutions/BENCH/tokens" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
api_import() {
	curl -sf -o "$work/api.json" -w '%{time_total}' -H "Authorization: Bearer $token" \
		-H 'Content-Type: text/csv' --data-binary "@$work/learners.csv" \
		"$base/api/v1/institutions/BENCH/learners:import"
}
# meanwhile, how long does the event loop take to answer other requests?
python3 - "$base" "$work/stop" >"$work/latency" <<'PY' &
import os, sys, time, urllib.request
worst, n = 0.0, 0
while not os.path.exists(sys.argv[2]):
    t0 = time.time()
    urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=30).read()
    worst = max(worst, time.time() - t0)
    n += 1
    time.sleep(0.2)
print("%d %.1f" % (n, worst * 1000))
PY
probe=$!
api=$(api_import)
touch "$work/stop"
wait "$probe"
read -r probes worst_ms <"$work/latency"
created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$work/api.json")
[ "$created" -eq "$ROWS" ] || { echo "bench: the API created $created of $ROWS" >&2; exit 1; }
again=$(api_import)
updated=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["updated"])' "$work/api.json")
[ "$updated" -eq "$ROWS" ] || { echo "bench: the re-import updated $updated of $ROWS" >&2; exit 1; }
rss=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")

printf '%-34s %8s %10s\n' case seconds "vs sqlite3"
printf '%-34s %8s %10s\n' "sqlite3 .import (reference)" "$ref" 1.00
row() {	# row LABEL SECONDS
	printf '%-34s %8.2f %10s\n' "$1" "$2" "$(awk -v a="$2" -v r="$ref" 'BEGIN { printf "%.1fx", a / r }')"
}
row "tinchi import learners (CLI)" "$cli"
row "POST .../learners:import (API)" "$api"
row "API re-import (all updates)" "$again"
echo "server peak RSS during the imports: $rss MB"
echo "/healthz during the API import: $probes requests, slowest $worst_ms ms"
target() {	# target NAME VALUE UNIT GOAL
	echo "target $1: $2 $3 (goal <= $4) $(awk -v v="$2" -v g="$4" 'BEGIN { print (v <= g) ? "ok" : "short" }')"
}
target import_100k_cli "$cli" s 10
target import_100k_api "$(awk -v a="$api" 'BEGIN { printf "%.2f", a }')" s 10
echo "(no goal) healthz_during_import_max: $worst_ms ms"
