#!/usr/bin/env bash
# scripts/bench/static.sh - static file and small-response throughput of
# tinchi against nginx on this machine, measured in the same run.
#
# Starts tinchi (access log off) and nginx (one worker, sendfile on, access
# log off) on two loopback ports over the same folder, drives each with
# `wrk -t2 -c64` in turns, and prints requests/s and the ratio for a 1 KiB,
# a 64 KiB and a 1 MiB file and a small JSON response (tinchi's API index
# /api/v1, built with jansson per request, against nginx's `return 200` of
# the same bytes). /healthz, which also reads the database on every call, is
# reported beside it without a goal. Ends with one `target ...` line per goal. Environment: DURATION (seconds per run,
# default 8), ROUNDS (alternating runs per case, best kept; default 3).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
scripts/deps.sh bench
scripts/build.sh build-bench CFLAGS="-O2 -g"
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}

work=$(mktemp -d /tmp/tinchi-bench.XXXXXX)
tinchi_pid=
cleanup() {
	[ -n "$tinchi_pid" ] && kill "$tinchi_pid" 2>/dev/null && wait "$tinchi_pid" 2>/dev/null
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 65536 /dev/urandom >"$work/www/64k.bin"
head -c 1048576 /dev/urandom >"$work/www/1m.bin"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	types { application/octet-stream bin; }
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$nginx_port;
		root $work/www;
		location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
		location = /api/v1 { default_type application/json; return 200 '{"name":"tinchi","version":"0.1.0","api":"v1","health":"/healthz","websocket":"/ws"}'; }
	}
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"

build-bench/tinchi serve --data "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
	--web "$work/www" --access-log off --log-level warn --max-connections 4096 &
tinchi_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
tinchi_port=$(cat "$work/port")
curl -sf "http://127.0.0.1:$tinchi_port/healthz" >/dev/null
curl -sf "http://127.0.0.1:$nginx_port/healthz" >/dev/null
sleep 0.5
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$tinchi_pid/status")

rps() {	# rps URL: requests per second from one wrk run (0 if any answer was not 2xx/3xx)
	local out
	out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "$1" 2>&1)
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "bench: $1 answered errors:" >&2
		grep -E 'Non-2xx|Requests/sec' <<<"$out" >&2
		echo 0
		return
	fi
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}
best() {	# best URL: best of ROUNDS runs
	local b=0 r
	for _ in $(seq "$ROUNDS"); do
		r=$(rps "$1")
		b=$(awk -v a="$b" -v r="$r" 'BEGIN { print (r > a) ? r : a }')
	done
	echo "$b"
}

declare -A ratio
printf '%-10s %14s %14s %8s\n' case "tinchi req/s" "nginx req/s" ratio
for c in 1k.bin 64k.bin 1m.bin api/v1 healthz; do
	t=0 n=0
	for _ in $(seq "$ROUNDS"); do	# alternate, so drift hits both alike
		r=$(rps "http://127.0.0.1:$tinchi_port/$c"); t=$(awk -v a="$t" -v r="$r" 'BEGIN { print (r > a) ? r : a }')
		r=$(rps "http://127.0.0.1:$nginx_port/$c"); n=$(awk -v a="$n" -v r="$r" 'BEGIN { print (r > a) ? r : a }')
	done
	ratio[$c]=$(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.2f", (n > 0) ? t / n : 0 }')
	printf '%-10s %14.0f %14.0f %8s\n' "$c" "$t" "$n" "${ratio[$c]}"
done
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$tinchi_pid/status")
echo "tinchi RSS: idle $rss_mb MB, after the runs $(awk -v k="$rss_after" 'BEGIN { printf "%.1f", k / 1024 }') MB"

target() {	# target NAME VALUE UNIT OP GOAL
	local okay
	okay=$(awk -v v="$2" -v g="$5" -v op="$4" 'BEGIN { print ((op == ">=") ? (v >= g) : (v <= g)) ? "ok" : "short" }')
	echo "target $1: $2 $3 (goal $4 $5) $okay"
}
target static_1k_vs_nginx "${ratio[1k.bin]}" x ">=" 0.6
target static_64k_vs_nginx "${ratio[64k.bin]}" x ">=" 0.8
target static_1m_vs_nginx "${ratio[1m.bin]}" x ">=" 0.8
target small_json_vs_nginx "${ratio[api/v1]}" x ">=" 0.6
target idle_rss "$rss_mb" MB "<=" 20
