/* metrics_test.c - tests for server/metrics.c */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "server/metrics.h"
#include "tests/tap.h"

static int
is_name_start(int c)
{
	return isalpha(c) || c == '_' || c == ':';
}

static int
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == ':';
}

/*
 * Checks one sample line: name, optional {label="value",...}, one space,
 * a number (or +Inf/-Inf/NaN), nothing after. NAME receives the name.
 */
static int
valid_sample(const char *line, char *name, size_t namelen)
{
	const char *p = line, *start = line;
	char *end;

	if (!is_name_start((unsigned char)*p))
		return 0;
	while (is_name_char((unsigned char)*p))
		p++;
	if ((size_t)(p - start) >= namelen)
		return 0;
	memcpy(name, start, (size_t)(p - start));
	name[p - start] = '\0';
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (!is_name_start((unsigned char)*p) || *p == ':')
				return 0;
			while (is_name_char((unsigned char)*p) && *p != ':')
				p++;
			if (*p++ != '=' || *p++ != '"')
				return 0;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
					p++;
				else if (*p == '\\')
					return 0;
				p++;
			}
			if (*p++ != '"')
				return 0;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return 0;
		}
		p++;
	}
	if (*p++ != ' ')
		return 0;
	if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0)
		return 1;
	if (!*p || isspace((unsigned char)*p))
		return 0;
	strtod(p, &end);
	return end != p && *end == '\0';
}

/* The family a sample belongs to: NAME without a histogram suffix when
 * TEXT declares such a histogram. */
static void
family_of(const char *text, const char *name, char *fam, size_t len)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	char want[256];

	snprintf(fam, len, "%s", name);
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), sl = strlen(suffix[i]);

		if (n > sl && strcmp(name + n - sl, suffix[i]) == 0) {
			snprintf(want, sizeof(want), "# TYPE %.*s histogram\n", (int)(n - sl), name);
			if (strstr(text, want)) {
				snprintf(fam, len, "%.*s", (int)(n - sl), name);
				return;
			}
		}
	}
}

/*
 * Walks the exposition: every sample line well-formed, and its family
 * announced by # HELP and # TYPE lines before it. Returns the number of
 * bad lines (each explained with diag) and the sample count in *samples.
 */
static int quiet;	/* no diag lines while testing the validator itself */

static void
complain(const char *msg)
{
	if (!quiet)
		diag(msg);
}

static int
validate(const char *text, int *samples)
{
	char *copy = strdup(text), *line, *save = NULL;
	char name[256], fam[256], want[300], msg[600];
	int bad = 0;

	*samples = 0;
	if (!copy)
		return 1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *at = text + (line - copy);

		if (line[0] == '#') {
			if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0) {
				snprintf(msg, sizeof(msg), "bad comment: %s", line);
				complain(msg);
				bad++;
			}
			continue;
		}
		(*samples)++;
		if (!valid_sample(line, name, sizeof(name))) {
			snprintf(msg, sizeof(msg), "bad sample: %s", line);
			complain(msg);
			bad++;
			continue;
		}
		family_of(text, name, fam, sizeof(fam));
		snprintf(want, sizeof(want), "# HELP %s ", fam);
		{
			const char *h = strstr(text, want);
			snprintf(want, sizeof(want), "# TYPE %s ", fam);
			const char *t = strstr(text, want);

			if (!h || !t || h > at || t > at) {
				snprintf(msg, sizeof(msg), "no # HELP / # TYPE before: %s", line);
				complain(msg);
				bad++;
			}
		}
	}
	free(copy);
	return bad;
}

static unsigned long long
value_of(const char *text, const char *series)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(text, want);
	return p ? strtoull(p + strlen(want), NULL, 10) : ~0ull;
}

static void
test_exposition(void)
{
	struct metrics_gauges g = { 4096, 1700000000, "0.1.0" };
	struct metrics *m = NULL;
	struct dynbuf out;
	const char *t;
	int samples = -1;

	is_int(metrics_create(&m), 0, "metrics_create");
	if (!m)
		return;
	metrics_request(m, "healthz", 200, 100, 2);		/* bucket 0.00025 */
	metrics_request(m, "healthz", 200, 800, 2);		/* bucket 0.001 */
	metrics_request(m, "healthz", 503, 20000, 10);		/* bucket 0.025 */
	metrics_request(m, "courses", 404, 250, 0);		/* on a bound: 0.00025 */
	metrics_request(m, "courses", 200, 10000000, 1000);	/* past the last bucket */
	metrics_connections(m, 1);
	metrics_connections(m, 1);
	metrics_connections(m, 1);
	metrics_connections(m, -1);
	metrics_websockets(m, 1);
	metrics_ws_message(m, 1);
	metrics_ws_message(m, 1);
	metrics_ws_message(m, 0);
	is_int(metrics_open_connections(m), 2, "connection gauge");

	dynbuf_init(&out, 1 << 20);
	is_int(metrics_render(m, &g, &out), 0, "render");
	t = dynbuf_str(&out);

	ok(strstr(t, "\ntinchi_http_requests_total{route=\"healthz\",status=\"200\"} 2\n") != NULL,
	   "healthz 200 counted twice");
	ok(strstr(t, "\ntinchi_http_requests_total{route=\"healthz\",status=\"503\"} 1\n") != NULL,
	   "healthz 503 counted once");
	ok(strstr(t, "\ntinchi_http_requests_total{route=\"courses\",status=\"404\"} 1\n") != NULL,
	   "second route counted");
	ok(strstr(t, "route=\"courses\",status=\"503\"") == NULL, "no series for a status not seen");

	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"healthz\",le=\"0.00025\"}"), 1,
	       "first bucket");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"healthz\",le=\"0.0005\"}"), 1,
	       "empty bucket repeats the cumulative count");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"healthz\",le=\"0.001\"}"), 2,
	       "buckets are cumulative");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"healthz\",le=\"0.025\"}"), 3,
	       "bucket holding the slow request");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"healthz\",le=\"+Inf\"}"), 3,
	       "+Inf bucket");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_count{route=\"healthz\"}"), 3,
	       "+Inf equals _count");
	ok(strstr(t, "\ntinchi_http_request_duration_seconds_sum{route=\"healthz\"} 0.020900\n") != NULL,
	   "_sum in seconds");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"courses\",le=\"0.00025\"}"), 1,
	       "a request on a bound falls in that bucket");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"courses\",le=\"5\"}"), 1,
	       "a request past the last bound is in no finite bucket");
	is_int(value_of(t, "tinchi_http_request_duration_seconds_bucket{route=\"courses\",le=\"+Inf\"}"), 2,
	       "but it is in +Inf");
	{
		const char *inf = strstr(t, "{route=\"healthz\",le=\"+Inf\"}");
		const char *last = strstr(t, "{route=\"healthz\",le=\"5\"}");
		ok(inf && last && last < inf, "+Inf is the last bucket");
	}

	ok(strstr(t, "\ntinchi_http_connections_open 2\n") != NULL, "connections gauge rendered");
	ok(strstr(t, "\ntinchi_websocket_connections_open 1\n") != NULL, "websocket gauge rendered");
	ok(strstr(t, "\ntinchi_websocket_messages_total{direction=\"in\"} 2\n") != NULL, "ws messages in");
	ok(strstr(t, "\ntinchi_websocket_messages_total{direction=\"out\"} 1\n") != NULL, "ws messages out");
	ok(strstr(t, "\ntinchi_http_response_bytes_total 1014\n") != NULL, "response bytes summed");
	ok(strstr(t, "tinchi_build_info{version=\"0.1.0\"} 1\n") != NULL, "build info");
	ok(strstr(t, "\ntinchi_process_start_time_seconds 1700000000\n") != NULL, "start time");
	ok(strstr(t, "\ntinchi_database_size_bytes 4096\n") != NULL, "database size when known");
	ok(t[strlen(t) - 1] == '\n', "exposition ends with a newline");

	is_int(validate(t, &samples), 0, "every line is valid exposition with # HELP and # TYPE");
	ok(samples > 30, "validator saw the samples");
	quiet = 1;
	is_int(validate("# HELP x y\n# TYPE x gauge\nx{a=\"1\"} 1 2\n", &samples), 1,
	       "validator rejects a line with junk after the value");
	is_int(validate("y 1\n", &samples), 1, "validator rejects a sample without # TYPE");
	is_int(validate("# HELP z q\n# TYPE z gauge\nz{a=1} 1\n", &samples), 1,
	       "validator rejects an unquoted label");
	quiet = 0;

	dynbuf_reset(&out);
	g.db_size_bytes = -1;
	is_int(metrics_render(m, &g, &out), 0, "render without a database size");
	ok(strstr(dynbuf_str(&out), "tinchi_database_size_bytes") == NULL,
	   "database size absent when unknown");
	dynbuf_cleanup(&out);

	dynbuf_init(&out, 64);
	is_int(metrics_render(m, &g, &out), TC_ETOOBIG, "render reports a full buffer");
	dynbuf_cleanup(&out);
	metrics_destroy(m);
	metrics_destroy(NULL);
}

static void
test_route_overflow(void)
{
	static char names[METRICS_ROUTES_MAX + 8][16];
	struct metrics_gauges g = { -1, 0, "x" };
	struct metrics *m = NULL;
	struct dynbuf out;
	char want[128];
	const char *t;
	int tracked = 0, samples;

	if (metrics_create(&m) != 0)
		return;
	for (int i = 0; i < METRICS_ROUTES_MAX + 8; i++) {
		snprintf(names[i], sizeof(names[i]), "r%d", i);
		metrics_request(m, names[i], 200, 10, 0);
	}
	metrics_request(m, "r0", 200, 10, 0);
	dynbuf_init(&out, 1 << 22);
	is_int(metrics_render(m, &g, &out), 0, "render many routes");
	t = dynbuf_str(&out);
	for (int i = 0; i < METRICS_ROUTES_MAX + 8; i++) {
		snprintf(want, sizeof(want), "{route=\"%.15s\",status=", names[i]);
		if (strstr(t, want))
			tracked++;
	}
	ok(tracked < METRICS_ROUTES_MAX, "not every route name gets its own series");
	ok(tracked >= METRICS_ROUTES_MAX - 1, "routes up to the limit keep their names");
	snprintf(want, sizeof(want), "{route=\"r%d\",status=", METRICS_ROUTES_MAX + 7);
	ok(strstr(t, want) == NULL, "the last new route is folded");
	is_int(value_of(t, "tinchi_http_requests_total{route=\"r0\",status=\"200\"}"), 2,
	       "an early route keeps counting after the limit");
	is_int(value_of(t, "tinchi_http_requests_total{route=\"other\",status=\"200\"}"),
	       METRICS_ROUTES_MAX + 8 - tracked, "the rest are counted under route=\"other\"");
	is_int(validate(t, &samples), 0, "folded exposition is still valid");
	dynbuf_cleanup(&out);
	metrics_destroy(m);
}

int
main(void)
{
	test_exposition();
	test_route_overflow();
	return done_testing();
}
