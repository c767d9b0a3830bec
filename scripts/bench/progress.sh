#!/usr/bin/env bash
# scripts/bench/progress.sh - learning progress over the WebSocket, and xAPI
# statements (issue 6).
#
#  1. WebSocket heartbeats. A fresh data folder (`tinchi migrate`), one
#     institution, one lecturer, LEARNERS (default 5,000) learners imported
#     with `tinchi import learners` (scripts/bench/gen_learners.py); the
#     server (-O2 build, access log off, one media job thread) runs as its
#     own process. scripts/bench/progress.py setup: the lecturer makes a
#     course with one video unit (a 10-minute 320x180 test video made with
#     the ffmpeg CLI, processed by the real media pipeline), publishes it;
#     each learner activates, signs in and enrols over HTTP.
#     progress.py ws: one WebSocket per learner (session cookie), all open at
#     once; each sends a progress heartbeat every INTERVAL (5) s, random
#     phase, for DURATION (60) s: 1,000 messages a second at 5,000
#     connections. Acknowledgement latency = send -> the server's ack (sent
#     after the commit), measured by the client (Python asyncio, one
#     process). Reference in the same run: a "ping" message (no database)
#     sent once by every connection halfway through, under the same load;
#     the ratio of the p99s is printed. Server RSS (VmRSS) before the
#     connections and with all of them open (after the heartbeats) gives the
#     memory per connection.
#     "No message lost": every heartbeat acknowledged, none refused, no
#     connection closed, and progress.py check reads back SAMPLE learners'
#     watched ranges over HTTP and compares them with the spans their
#     connection sent.
#  2. xAPI: an institution admin's LRS credential; progress.py xapi POSTs
#     STATEMENTS (20,000) generated statements in batches of 50 from 4
#     threads to /xapi/statements. Reference: the same statements inserted
#     by Python's sqlite3, 50 per transaction, WAL, synchronous=FULL, into a
#     plain (id, json) table on the same disk.
# Ends with one `target ...` line per goal.
# Environment: LEARNERS, DURATION, INTERVAL, STATEMENTS, SAMPLE; PERF_OUT=FILE
# records the server with perf during the WebSocket phase.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
scripts/deps.sh bench
scripts/build.sh build-bench CFLAGS="-O2 -g"
LEARNERS=${LEARNERS:-5000}
DURATION=${DURATION:-60}
INTERVAL=${INTERVAL:-5}
STATEMENTS=${STATEMENTS:-20000}
SAMPLE=${SAMPLE:-500}
bin=build-bench/tinchi
py="python3 scripts/bench/progress.py"
work=$(mktemp -d /tmp/tinchi-progress.XXXXXX)
data=$work/data
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# both ends hold one descriptor per connection
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((LEARNERS + 1000)) ]; then
	echo "bench: $LEARNERS connections need more open files than the limit $(ulimit -n)" >&2
	exit 1
fi

$bin migrate --data "$data" >/dev/null 2>&1
$bin institution add BENCHU --name "Trường Đại học Thử nghiệm" --kind university --data "$data" >/dev/null
echo 'bench-lecturer-password' | $bin person add --national-id 001000000001 --name "Giảng viên" \
	--role lecturer --institution BENCHU --password-stdin --password-cost 10 --data "$data" >/dev/null
echo 'bench-admin-password' | $bin person add --national-id 001000000002 --name "Quản trị" \
	--role admin --institution BENCHU --password-stdin --password-cost 10 --data "$data" >/dev/null
python3 scripts/bench/gen_learners.py "$LEARNERS" --seed 6 >"$work/learners.csv"
$bin import learners "$work/learners.csv" --institution BENCHU --data "$data" >"$work/codes.csv" 2>/dev/null
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x180:rate=25:duration=600" \
	-f lavfi -i "sine=frequency=220:sample_rate=48000:duration=600" \
	-c:v libx264 -preset ultrafast -g 50 -pix_fmt yuv420p -c:a aac -b:a 64k -shortest \
	-movflags +faststart "$work/lecture.mp4"

$bin serve --data "$data" --listen 127.0.0.1:0 --port-file "$work/port" --access-log off \
	--log-level warn --password-cost 10 --max-connections 20000 --media-jobs 1 &
pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"
curl -sf "$base/healthz" >/dev/null
t0=$(date +%s.%N)
read -r _ nl setup_s < <($py setup "$base" --institution BENCHU --lecturer 001000000001 \
	--password bench-lecturer-password --codes "$work/codes.csv" --video "$work/lecture.mp4" \
	--out "$work" | grep '^learners')
echo "setup: $nl learners activated, signed in and enrolled over HTTP in $setup_s s;" \
	"course with a processed 10-minute video in $(awk -v a="$t0" -v b="$(date +%s.%N)" \
	'BEGIN { printf "%.0f", b - a }') s in all"
unit=$(cat "$work/unit")

perfpid=
if [ -n "${PERF_OUT:-}" ]; then
	perf record -F 499 -g -p "$pid" -o "$PERF_OUT" 2>/dev/null &
	perfpid=$!
fi
$py ws "$base" --sessions "$work/sessions" --unit "$unit" --pid "$pid" --spans "$work/spans" \
	--duration "$DURATION" --interval "$INTERVAL" >"$work/ws"
if [ -n "$perfpid" ]; then
	kill -INT "$perfpid"
	wait "$perfpid" || true
fi
cat "$work/ws" | grep -v '^rss\|^messages\|^ack\|^ping' || true
read -r _ opened failed ramp_s < <(grep '^connected' "$work/ws")
read -r _ rss0 rss1 rss2 < <(grep '^rss' "$work/ws")
read -r _ sent acked refused closed < <(grep '^messages' "$work/ws")
read -r _ nack a50 a95 a99 amax < <(grep '^ack' "$work/ws")
read -r _ nping p50 p95 p99 pmax < <(grep '^ping' "$work/ws")
$py check "$base" --sessions "$work/sessions" --unit "$unit" --spans "$work/spans" \
	--sample "$SAMPLE" >"$work/check"
read -r _ good bad < <(grep '^checked' "$work/check")
grep '^mismatch' "$work/check" || true
per_conn=$(awk -v a="$rss0" -v b="$rss2" -v n="$opened" 'BEGIN { printf "%.1f", (b - a) / n }')
per_conn_idle=$(awk -v a="$rss0" -v b="$rss1" -v n="$opened" 'BEGIN { printf "%.1f", (b - a) / n }')
echo
echo "$opened WebSockets open ($failed refused) in $ramp_s s; heartbeat every $INTERVAL s for $DURATION s"
echo "messages: $sent sent, $acked acknowledged, $refused refused, $closed connections closed"
echo "read back: $good of $((good + bad)) sampled learners' watched ranges equal what they sent"
printf '%-36s %8s %8s %8s %8s %8s\n' "ms" n p50 p95 p99 max
printf '%-36s %8s %8s %8s %8s %8s\n' "progress -> ack (committed)" "$nack" "$a50" "$a95" "$a99" "$amax"
printf '%-36s %8s %8s %8s %8s %8s\n' "ping -> pong (reference, no db)" "$nping" "$p50" "$p95" "$p99" "$pmax"
echo "p99 ratio ack / ping: $(awk -v a="$a99" -v b="$p99" 'BEGIN { printf "%.2f", a / b }')"
echo "server RSS: $rss0 KiB before, $rss1 KiB with $opened open, $rss2 KiB after the heartbeats" \
	"($per_conn_idle KiB/connection idle, $per_conn KiB/connection after)"

# xAPI statements
admin=$($py admin-key "$base" --institution BENCHU --national-id 001000000002 \
	--password bench-admin-password 2>&1) || { echo "$admin" >&2; exit 1; }
read -r key secret <<<"$admin"
read -r _ ns xs x50 x99 < <($py xapi "$base" --key "$key" --secret "$secret" --statements "$STATEMENTS" | grep '^xapi')
read -r _ _ rs < <($py xapi-ref "$work/ref.db" --statements "$STATEMENTS" | grep '^xapi-ref')
# the benchmark's own (the platform's learning records have no credential)
stored=$(sqlite3 "$data/tinchi.db" "SELECT count(*) FROM statements WHERE credential_id <> 0")
xrate=$(awk -v n="$ns" -v s="$xs" 'BEGIN { printf "%.0f", n / s }')
rrate=$(awk -v n="$ns" -v s="$rs" 'BEGIN { printf "%.0f", n / s }')
echo
echo "xAPI: $ns statements in batches of 50, 4 threads: $xs s, $xrate statements/s" \
	"(POST p50 $x50 ms, p99 $x99 ms); $stored rows stored"
echo "reference, sqlite3 plain table, same batches: $rrate statements/s; ratio $(awk -v a="$xrate" -v b="$rrate" 'BEGIN { printf "%.2f", a / b }')"
echo
lost=$((sent - acked + refused + closed + bad))
echo "target ws_messages_lost: $lost messages (goal = 0) $([ "$lost" -eq 0 ] && [ "$opened" -eq "$LEARNERS" ] && echo ok || echo short)"
echo "target ws_ack_p99: $a99 ms (goal < 50) $(awk -v v="$a99" 'BEGIN { print (v < 50) ? "ok" : "short" }')"
echo "target ws_rss_per_connection: $per_conn KiB (goal < 16) $(awk -v v="$per_conn" 'BEGIN { print (v < 16) ? "ok" : "short" }')"
echo "target xapi_statements_rate: $xrate statements/s (goal >= 2000) $([ "$stored" -ge "$ns" ] && awk -v v="$xrate" 'BEGIN { print (v >= 2000) ? "ok" : "short" }' || echo short)"
