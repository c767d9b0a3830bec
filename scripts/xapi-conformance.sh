#!/usr/bin/env bash
# Runs the ADL LRS conformance test suite against a fresh tinchi.
#   scripts/xapi-conformance.sh SUITE_DIR [VERSION [BUILD_DIR]] [-- RUNNER_ARGS...]
# SUITE_DIR: a checkout of adlnet/lrs-conformance-test-suite with its
# node_modules installed (npm install); it is not part of tinchi.
# VERSION: 2.0.0 (default) or 1.0.3. Starts `tinchi serve` on a temporary
# data folder, creates an institution, its admin and an LRS credential over
# the API, runs bin/console_runner.js, prints the summary and leaves the
# runner's log in $XAPI_CONFORMANCE_LOG (default: a temp file).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:?usage: $0 SUITE_DIR [VERSION [BUILD_DIR]] [-- RUNNER_ARGS...]}
shift
version=2.0.0
build=$top/build
if [ $# -gt 0 ] && [ "$1" != "--" ]; then version=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then build=$1; shift; fi
[ "${1:-}" = "--" ] && shift
bin=$build/tinchi
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 2; }
[ -f "$suite/bin/console_runner.js" ] || { echo "$suite is not the conformance suite" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
data=$tmp/data
cli() { "$bin" "$@" --data "$data" --password-cost 10; }
cli institution add LRS --name "Conformance" --kind university >/dev/null
echo "password-100000000042" | cli person add --national-id 100000000042 --name "Quản Trị" \
	--role admin --institution LRS --password-stdin >/dev/null
"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --password-cost 10 \
	--access-log off --log-level warn --max-body 64M >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
base=http://127.0.0.1:$port
read -r key secret < <(python3 - "$base" <<'PY'
import http.client, json, re, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("POST", "/api/v1/session", json.dumps({"national_id": "100000000042",
          "password": "password-100000000042"}), {"Content-Type": "application/json"})
r = c.getresponse(); j = json.loads(r.read())
cookie = re.match(r"([^=]+=[^;]+)", r.getheader("set-cookie")).group(1)
c.request("POST", "/api/v1/institutions/LRS/lrs-credentials", json.dumps({"name": "ADL suite"}),
          {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": j["csrf_token"]})
r = c.getresponse(); j = json.loads(r.read())
assert r.status == 201, j
print(j["key"], j["secret"])
PY
)
log=${XAPI_CONFORMANCE_LOG:-${TMPDIR:-/tmp}/xapi-conformance-$version.log}
cd "$suite"
set +e
node bin/console_runner.js -e "$base/xapi" -a -u "$key" -p "$secret" -x "$version" "$@" >"$log" 2>&1
rc=$?
set -e
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
cp "$tmp/server.log" "${log%.log}.server.log"	# sanitizer reports land here
grep -E "^\s*(passing|failing|pending)|[0-9]+ (passing|failing)" "$log" | tail -5 || true
echo "log: $log (server: ${log%.log}.server.log)"
exit $rc
