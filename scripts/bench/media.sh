#!/usr/bin/env bash
# scripts/bench/media.sh - lecture processing and streaming: how fast a
# 10-minute 720p lecture becomes HLS, what a running job does to the
# server's other requests, and how fast segments are served, with the
# references measured in the same run.
#
# The input, made once with the ffmpeg CLI and kept in MEDIA_CACHE (default
# var/bench-media/; made again when missing): 10 min of 1280x720 at 30
# frames/s, H.264 (libx264 veryfast, about 2.5 Mbit/s, a key frame every
# 2 s, no scene cuts) of lavfi's testsrc2, with 48 kHz stereo AAC at
# 128 kbit/s, moov first. Making it takes 2-8 minutes on two cores.
#
#  1. Stream copy: `tinchi media-worker --renditions original` (the
#     "original" rendition alone, a remux that opens no decoder) against
#     `ffmpeg -c copy -f hls` with the same segment length and fMP4, in
#     turns, ROUNDS times each, best kept; the input is read into the page
#     cache first. Real-time factor = 600 s / wall time.
#  2. Whole job: `tinchi media-worker OUTDIR` (original, 360p, audio,
#     poster), once; wall time and the CPU time of the process (user +
#     system, /usr/bin/time), so CPU / wall says how many of the cores it
#     kept busy.
#  3. Latency during a job: `tinchi serve` (access log off, one media job
#     thread) on a fresh data folder with one institution and one lecturer;
#     scripts/bench/media.py uploads the lecture through the API and, while
#     the job is running, sends LAT_RATE requests a second for LAT_DURATION
#     seconds on one keep-alive connection (the catalog, /healthz, the
#     job's status), then the same with no job running (the reference).
#  4. Segment serving: one 360p segment (about 300 KB) through tinchi's
#     /media/ URL with its token, against nginx (one worker, sendfile on,
#     as static.sh) serving the same file from DATA/media/<uid>/360p/;
#     `wrk -t2 -c64`, SEG_DURATION seconds, SEG_ROUNDS turns each, best
#     kept.
# The load average is printed at the start of each part: other work on
# the machine shows up in every figure here.
# Ends with one `target ...` line per goal.
# Environment: ROUNDS (default 3), LAT_DURATION (20), LAT_RATE (50),
# SEG_DURATION (10), SEG_ROUNDS (2), MEDIA_CACHE, MEDIA_LENGTH (600 s; a
# shorter input only to try the script out: the goals are for 10 minutes).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
scripts/deps.sh bench
scripts/build.sh build-bench CFLAGS="-O2 -g"
ROUNDS=${ROUNDS:-3}
LAT_DURATION=${LAT_DURATION:-20}
LAT_RATE=${LAT_RATE:-50}
SEG_DURATION=${SEG_DURATION:-10}
SEG_ROUNDS=${SEG_ROUNDS:-2}
cache=${MEDIA_CACHE:-$top/var/bench-media}
bin=$top/build-bench/tinchi
LENGTH=${MEDIA_LENGTH:-600}	# seconds; shorter only to try the script out
long=$cache/lecture-720p30-${LENGTH}s.mp4

work=$(mktemp -d /tmp/tinchi-media-bench.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
now() { date +%s.%N; }
loadavg() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }	# calc FORMAT EXPRESSION

echo "machine: $(nproc) cores, $(loadavg)"

# ---- the input ----------------------------------------------------------------
if [ ! -s "$long" ]; then
	mkdir -p "$cache"
	echo "making $long (once) ..."
	t0=$(now)
	ffmpeg -nostdin -v error -y \
		-f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$LENGTH" \
		-f lavfi -i "sine=frequency=220:beep_factor=4:sample_rate=48000:duration=$LENGTH" \
		-c:v libx264 -preset veryfast -b:v 2500k -maxrate 3000k -bufsize 5000k \
		-g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p \
		-c:a aac -b:a 128k -ac 2 -movflags +faststart -shortest "$long.part.mp4"
	mv "$long.part.mp4" "$long"
	echo "made in $(calc %.0f "$(now) - $t0") s"
fi
IFS=, read -r dur size rate < <(ffprobe -v error -show_entries format=duration,size,bit_rate \
	-of csv=p=0 "$long")
echo "input: $long: $(calc %.1f "$dur") s, $(calc %.1f "$size / 1e6") MB," \
	"$(calc %.2f "$rate / 1e6") Mbit/s, $(ffprobe -v error -select_streams v:0 \
	-show_entries stream=codec_name,profile,width,height,r_frame_rate -of csv=p=0 "$long")"
cat "$long" >/dev/null		# into the page cache, for both sides alike

# run_timed STDIN CMD...: runs CMD, sets wall (s), cpu (user + system s), rss (MB)
run_timed() {
	local in=$1 a b
	shift
	a=$(now)
	if ! /usr/bin/time -f '%U %S %M' -o "$work/time" "$@" <"$in"; then
		echo "bench: failed: $*" >&2
		[ "${2:-}" = media-worker ] && tail -n 2 "$work/worker.out" >&2
		exit 1
	fi
	b=$(now)
	wall=$(calc %.3f "$b - $a")
	read -r u s m <"$work/time"
	cpu=$(calc %.2f "$u + $s")
	rss=$(calc %.0f "$m / 1024")
}

# checks that the worker's last line says ok
worker_ok() {
	if ! tail -n 1 "$1" | grep -q '^{"ok":true,'; then
		echo "bench: the media worker failed:" >&2
		tail -n 3 "$1" >&2
		exit 1
	fi
}

# ---- 1. stream copy -------------------------------------------------------------
echo
echo "1. stream copy of the original, $ROUNDS runs each, in turns, best kept ($(loadavg))"
best_t=999999 best_f=999999
for r in $(seq "$ROUNDS"); do
	rm -rf "$work/out"; mkdir "$work/out"
	run_timed "$long" "$bin" media-worker --renditions original "$work/out" >"$work/worker.out"
	worker_ok "$work/worker.out"
	t_segs=$(grep -c '^seg_' "$work/out/original/index.m3u8")
	t_dirs=$(ls "$work/out" | tr '\n' ' ')
	printf '  run %d: tinchi %6.2f s (CPU %5.2f s)' "$r" "$wall" "$cpu"
	best_t=$(calc %.3f "($wall < $best_t) ? $wall : $best_t")
	t_cpu=$cpu
	rm -rf "$work/out"; mkdir "$work/out"
	run_timed /dev/null ffmpeg -nostdin -v error -i "$long" -c copy -f hls -hls_time 6 \
		-hls_playlist_type vod -hls_segment_type fmp4 \
		-hls_segment_filename "$work/out/seg_%05d.m4s" "$work/out/index.m3u8"
	f_segs=$(grep -c '^seg_' "$work/out/index.m3u8")
	printf ', ffmpeg %6.2f s (CPU %5.2f s)\n' "$wall" "$cpu"
	best_f=$(calc %.3f "($wall < $best_f) ? $wall : $best_f")
done
rm -rf "$work/out"
copy_rt=$(calc %.0f "$LENGTH / $best_t")
ref_rt=$(calc %.0f "$LENGTH / $best_f")
echo "  tinchi: $best_t s = ${copy_rt}x real time ($t_segs segments; wrote: $t_dirs)"
echo "  ffmpeg -c copy -f hls (reference): $best_f s = ${ref_rt}x real time ($f_segs segments)"
echo "  tinchi / ffmpeg speed: $(calc %.2f "$best_f / $best_t")"

# ---- 2. the whole job -------------------------------------------------------------
echo
echo "2. the whole job: original (copy), 360p, audio, poster ($(loadavg))"
rm -rf "$work/out"; mkdir "$work/out"
run_timed "$long" "$bin" media-worker "$work/out" >"$work/worker.out"
worker_ok "$work/worker.out"
job_wall=$wall job_cpu=$cpu
job_rt=$(calc %.1f "$LENGTH / $job_wall")
echo "  wall $job_wall s = ${job_rt}x real time; CPU $job_cpu s (user + system)," \
	"$(calc %.2f "$job_cpu / $job_wall") cores busy on average; peak RSS $rss MB"
echo "  with $(nproc) cores to itself and all kept busy it would take at least" \
	"$(calc %.0f "$job_cpu / $(nproc)") s = $(calc %.1f "$LENGTH * $(nproc) / $job_cpu")x real time"
for d in original 360p audio; do
	echo "  $d: $(grep -c '^seg_' "$work/out/$d/index.m3u8") segments," \
		"$(du -sm "$work/out/$d" | cut -f1) MB"
done
[ -s "$work/out/poster.jpg" ] || { echo "bench: no poster.jpg" >&2; exit 1; }
rm -rf "$work/out"

# ---- 3. latency of other requests during a job ------------------------------------------
echo
echo "3. server latency while a job runs ($(loadavg))"
data=$work/data
"$bin" migrate --data "$data" >/dev/null 2>&1
"$bin" institution add BENCH --name "Đại học Đo lường" --kind university --data "$data" >/dev/null
echo 'bench-lecturer-password' | "$bin" person add --national-id 100000000001 \
	--name "Giảng viên Đo" --role lecturer --institution BENCH --password-stdin \
	--password-cost 10 --data "$data" >/dev/null
"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$work/port" --access-log off \
	--log-level warn --password-cost 10 --media-jobs 1 --max-connections 4096 &
pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"
curl -sf "$base/healthz" >/dev/null
python3 scripts/bench/media.py serve "$base" "$long" --national-id 100000000001 \
	--password bench-lecturer-password --duration "$LAT_DURATION" --rate "$LAT_RATE" \
	>"$work/serve.out"
read -r _ up_s up_bytes < <(grep '^upload ' "$work/serve.out")
read -r _ dn d50 d90 d99 dmax derr drun < <(grep '^during ' "$work/serve.out")
read -r _ in i50 i90 i99 imax ierr < <(grep '^idle ' "$work/serve.out")
read -r _ server_job < <(grep '^job ' "$work/serve.out")
read -r _ seg_url seg_name seg_size < <(grep '^segment ' "$work/serve.out")
echo "  upload: $(calc %.0f "$up_bytes / 1e6") MB in $up_s s (one POST)"
echo "  $LAT_RATE requests/s for $LAT_DURATION s on one keep-alive connection:" \
	"GET /api/v1/courses, /healthz, /api/v1/materials/{uid}/media in turn"
printf '  %-22s %6s %8s %8s %8s %8s %7s\n' ms requests p50 p90 p99 max errors
printf '  %-22s %6s %8s %8s %8s %8s %7s\n' "during the job" "$dn" "$d50" "$d90" "$d99" "$dmax" "$derr"
printf '  %-22s %6s %8s %8s %8s %8s %7s\n' "no job (reference)" "$in" "$i50" "$i90" "$i99" "$imax" "$ierr"
[ "$drun" = 1 ] || echo "  note: the job was not running for the whole measurement"
[ "$derr" = 0 ] && [ "$ierr" = 0 ] || { echo "bench: requests failed" >&2; exit 1; }
echo "  the job in the server: $server_job s from running to ready" \
	"($(calc %.1f "$LENGTH / $server_job")x real time, with the measurement beside it)"

# ---- 4. segment serving -----------------------------------------------------------------
echo
echo "4. serving one 360p segment ($seg_name, $seg_size bytes): tinchi vs nginx ($(loadavg))"
seg_file=$(find "$data/media" -path "*/360p/$seg_name" | head -n 1)
[ -n "$seg_file" ] || { echo "bench: $seg_name not found under $data/media" >&2; exit 1; }
seg_dir=$(dirname "$seg_file")
# nginx's worker runs as nobody: let it through the data folder to this file
chmod o+x "$data" "$data/media" "$(dirname "$seg_dir")" "$seg_dir"
chmod o+r "$seg_file"
mkdir -p "$work/nginx"
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
	types { video/iso.segment m4s; }
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$nginx_port;
		root $seg_dir;
		add_header Cache-Control "public, max-age=31536000, immutable";
	}
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
curl -sSf -o "$work/seg.t" "$base$seg_url"
curl -sSf -o "$work/seg.n" "http://127.0.0.1:$nginx_port/$seg_name"
cmp -s "$work/seg.t" "$work/seg.n" && cmp -s "$work/seg.t" "$seg_file" ||
	{ echo "bench: tinchi and nginx serve different bytes" >&2; exit 1; }

rps() {	# rps URL: requests per second from one wrk run (0 if any answer was not 2xx/3xx)
	local out
	out=$(wrk -t2 -c64 -d"${SEG_DURATION}s" "$1" 2>&1)
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "bench: $1 answered errors:" >&2
		grep -E 'Non-2xx|Requests/sec' <<<"$out" >&2
		echo 0
		return
	fi
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}
st=0 sn=0
for _ in $(seq "$SEG_ROUNDS"); do	# alternate, so drift hits both alike
	r=$(rps "$base$seg_url"); st=$(calc %.0f "($r > $st) ? $r : $st")
	r=$(rps "http://127.0.0.1:$nginx_port/$seg_name"); sn=$(calc %.0f "($r > $sn) ? $r : $sn")
done
seg_ratio=$(calc %.2f "($sn > 0) ? $st / $sn : 0")
printf '  %-8s %10s %10s\n' "" "req/s" "MB/s"
printf '  %-8s %10s %10s\n' tinchi "$st" "$(calc %.0f "$st * $seg_size / 1e6")"
printf '  %-8s %10s %10s\n' nginx "$sn" "$(calc %.0f "$sn * $seg_size / 1e6")"
echo "  tinchi / nginx: $seg_ratio"
echo
echo "finished: $(loadavg)"

target() {	# target NAME VALUE UNIT OP GOAL
	local okay
	okay=$(awk -v v="$2" -v g="$5" -v op="$4" 'BEGIN {
		print ((op == ">=") ? (v >= g) : (op == "<") ? (v < g) : (v <= g)) ? "ok" : "short" }')
	echo "target $1: $2 $3 (goal $4 $5) $okay"
}
target media_copy_realtime "$copy_rt" x ">=" 100
target media_job_realtime "$job_rt" x ">=" 8
target media_latency_p99_during_job "$d99" ms "<" 50
target media_segment_vs_nginx "$seg_ratio" x ">=" 0.5
