#!/bin/sh
# cli_test.sh - the tinchi command line: help, version, bad usage (exit 2,
# one line), config files, migrations and a database newer than the binary.
BIN=${TINCHI_BIN:-./tinchi}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {	# ok COND-EXIT-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
run() {	# run ARGS...: sets out, err, rc
	"$BIN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
one_line() { [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; }

run --help
[ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'serve' && printf '%s' "$out" | grep -q 'migrate'
ok $? "--help lists the commands and exits 0"

run --version
[ $rc -eq 0 ] && printf '%s' "$out" | grep -Eq '^tinchi [0-9]+\.[0-9]+\.[0-9]+$'
ok $? "--version prints the version"

run
[ $rc -eq 2 ]
ok $? "no command exits 2"

run frobnicate
[ $rc -eq 2 ] && one_line && printf '%s' "$err" | grep -q "unknown command 'frobnicate'"
ok $? "an unknown command exits 2 with one line"

run serve --help
[ $rc -eq 0 ] && printf '%s' "$out" | grep -q -- '--listen HOST:PORT' && printf '%s' "$out" | grep -q -- '--config FILE'
ok $? "serve --help lists its flags"

run serve --bogus
[ $rc -eq 2 ] && one_line && printf '%s' "$err" | grep -q "unknown option '--bogus'"
ok $? "serve with a bad flag exits 2 with one line"

run serve --listen nowhere
[ $rc -eq 2 ] && one_line && printf '%s' "$err" | grep -q "HOST:PORT"
ok $? "serve with a bad --listen exits 2 with one line"

run serve --max-body lots
[ $rc -eq 2 ] && one_line
ok $? "serve with a bad size exits 2"

run serve --data
[ $rc -eq 2 ] && one_line && printf '%s' "$err" | grep -q "needs a value"
ok $? "a flag without its value exits 2"

printf 'listen = 127.0.0.1:1\nno_such_key = 3\n' >"$tmp/bad.conf"
run serve --config "$tmp/bad.conf"
[ $rc -eq 2 ] && one_line && printf '%s' "$err" | grep -q "bad.conf:2: unknown setting 'no_such_key'"
ok $? "a config file with an unknown key is refused, naming file and line"

run serve --config "$tmp/missing.conf"
[ $rc -eq 2 ] && printf '%s' "$err" | grep -q "cannot read config file"
ok $? "a missing config file is refused"

run migrate --help
[ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'schema version'
ok $? "migrate --help"

run migrate --data "$tmp/d1"
[ $rc -eq 0 ] && [ -f "$tmp/d1/tinchi.db" ] && [ -d "$tmp/d1/content" ] && printf '%s' "$out" | grep -q 'schema version [1-9]'
ok $? "migrate creates the data folder and database"

[ "$(stat -c %a "$tmp/d1/keys")" = 700 ]
ok $? "the keys folder is private (0700)"

run migrate --data "$tmp/d1"
[ $rc -eq 0 ]
ok $? "migrate again is a no-op"

run migrate --data "$tmp/d1" extra
[ $rc -eq 2 ]
ok $? "migrate with a stray argument exits 2"

if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$tmp/d1/tinchi.db" 'PRAGMA user_version = 999;'
	run serve --data "$tmp/d1" --listen 127.0.0.1:0
	[ $rc -eq 1 ] && printf '%s' "$err" | grep -q "newer tinchi"
	ok $? "a database from a newer tinchi is refused with a clear message"
	[ "$(sqlite3 "$tmp/d1/tinchi.db" 'PRAGMA user_version;')" = 999 ]
	ok $? "the newer database is left untouched"
else
	n=$((n + 1)); echo "ok $n # SKIP sqlite3 command not installed"
	n=$((n + 1)); echo "ok $n # SKIP sqlite3 command not installed"
fi

printf 'data = %s\n' "$tmp/d2" >"$tmp/good.conf"
printf 'listen = "127.0.0.1:0"\nport_file = %s\n# a comment\n\nlog_level = warn\n' "$tmp/port" >>"$tmp/good.conf"
"$BIN" serve --config "$tmp/good.conf" --log-level info >"$tmp/serve.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$tmp/port" ] && grep -q "listening on" "$tmp/serve.log"
ok $? "serve runs from a config file, and flags win (--log-level info shows the listen line)"

port=$(cat "$tmp/port" 2>/dev/null)
run serve --data "$tmp/d3" --listen "127.0.0.1:$port"
[ $rc -eq 1 ] && printf '%s' "$err" | grep -q "could not listen"
ok $? "a port in use is a clear error, exit 1"

kill -TERM $pid
wait $pid
ok $? "the server exits 0 on SIGTERM"

echo "1..$n"
[ $fail -eq 0 ]
