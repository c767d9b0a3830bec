/* metrics.c - see metrics.h. */
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "server/metrics.h"

#define STATUS_MAX 24

/* Upper bounds of the latency buckets, in microseconds. */
static const int64_t bucket_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000,
};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct route_stats {
	const char *name;
	struct { int status; uint64_t n; } st[STATUS_MAX];
	int nst;
	uint64_t bucket[NBUCKETS];	/* not cumulative; summed when rendered */
	uint64_t count;
	int64_t sum_us;
};

struct metrics {
	struct route_stats routes[METRICS_ROUTES_MAX];
	int nroutes;
	int64_t connections, websockets;
	uint64_t bytes_out, ws_in, ws_out, verify_inline;
	uint64_t signin[2][METRICS_SIGNIN_COSTS];	/* [known][log2 N] */
};

int
metrics_create(struct metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : TC_ENOMEM;
}

void
metrics_destroy(struct metrics *m)
{
	free(m);
}

static struct route_stats *
route_for(struct metrics *m, const char *name)
{
	int i;

	for (i = 0; i < m->nroutes; i++)
		if (m->routes[i].name == name || strcmp(m->routes[i].name, name) == 0)
			return &m->routes[i];
	if (m->nroutes < METRICS_ROUTES_MAX - 1) {
		m->routes[m->nroutes].name = name;
		return &m->routes[m->nroutes++];
	}
	/* the last slot collects everything past the limit */
	m->routes[METRICS_ROUTES_MAX - 1].name = "other";
	m->nroutes = METRICS_ROUTES_MAX;
	return &m->routes[METRICS_ROUTES_MAX - 1];
}

void
metrics_request(struct metrics *m, const char *route, int status,
		int64_t usec, int64_t bytes)
{
	struct route_stats *r = route_for(m, route);
	size_t b;
	int i;

	for (i = 0; i < r->nst; i++)
		if (r->st[i].status == status)
			break;
	if (i == r->nst && r->nst < STATUS_MAX)
		r->st[r->nst++].status = status;
	if (i < STATUS_MAX)
		r->st[i].n++;
	for (b = 0; b < NBUCKETS && usec > bucket_us[b]; b++)
		;
	if (b < NBUCKETS)
		r->bucket[b]++;
	r->count++;
	r->sum_us += usec;
	if (bytes > 0)
		m->bytes_out += (uint64_t)bytes;
}

void
metrics_connections(struct metrics *m, int delta)
{
	m->connections += delta;
}

void
metrics_websockets(struct metrics *m, int delta)
{
	m->websockets += delta;
}

void
metrics_ws_message(struct metrics *m, int inbound)
{
	if (inbound)
		m->ws_in++;
	else
		m->ws_out++;
}

void
metrics_verify_inline(struct metrics *m)
{
	m->verify_inline++;
}

void
metrics_signin_hash(struct metrics *m, int known, unsigned log2_n)
{
	if (log2_n < METRICS_SIGNIN_COSTS)
		m->signin[known != 0][log2_n]++;
}

int64_t
metrics_open_connections(const struct metrics *m)
{
	return m->connections;
}

int
metrics_render(const struct metrics *m, const struct metrics_gauges *g,
	       struct dynbuf *o)
{
	int rc = 0, i, j;

#define P(...) do { if ((rc = dynbuf_printf(o, __VA_ARGS__))) return rc; } while (0)
	P("# HELP tinchi_build_info Version of the running server.\n"
	  "# TYPE tinchi_build_info gauge\n"
	  "tinchi_build_info{version=\"%s\"} 1\n", g->version);
	P("# HELP tinchi_process_start_time_seconds Start time of the process since the Unix epoch.\n"
	  "# TYPE tinchi_process_start_time_seconds gauge\n"
	  "tinchi_process_start_time_seconds %lld\n", (long long)g->start_time);

	P("# HELP tinchi_http_requests_total HTTP requests answered, by route and status.\n"
	  "# TYPE tinchi_http_requests_total counter\n");
	for (i = 0; i < m->nroutes; i++)
		for (j = 0; j < m->routes[i].nst; j++)
			P("tinchi_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			  m->routes[i].name, m->routes[i].st[j].status,
			  (unsigned long long)m->routes[i].st[j].n);

	P("# HELP tinchi_http_request_duration_seconds Time from request start to the last byte handed to the socket.\n"
	  "# TYPE tinchi_http_request_duration_seconds histogram\n");
	for (i = 0; i < m->nroutes; i++) {
		const struct route_stats *r = &m->routes[i];
		uint64_t cum = 0;

		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += r->bucket[b];
			P("tinchi_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			  r->name, (double)bucket_us[b] / 1e6, (unsigned long long)cum);
		}
		P("tinchi_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		  "tinchi_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		  "tinchi_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		  r->name, (unsigned long long)r->count, r->name,
		  (double)r->sum_us / 1e6, r->name, (unsigned long long)r->count);
	}

	P("# HELP tinchi_http_response_bytes_total Response body bytes sent.\n"
	  "# TYPE tinchi_http_response_bytes_total counter\n"
	  "tinchi_http_response_bytes_total %llu\n", (unsigned long long)m->bytes_out);
	P("# HELP tinchi_http_connections_open Client connections open now.\n"
	  "# TYPE tinchi_http_connections_open gauge\n"
	  "tinchi_http_connections_open %lld\n", (long long)m->connections);
	P("# HELP tinchi_websocket_connections_open WebSocket connections open now.\n"
	  "# TYPE tinchi_websocket_connections_open gauge\n"
	  "tinchi_websocket_connections_open %lld\n", (long long)m->websockets);
	P("# HELP tinchi_websocket_messages_total WebSocket messages, by direction.\n"
	  "# TYPE tinchi_websocket_messages_total counter\n"
	  "tinchi_websocket_messages_total{direction=\"in\"} %llu\n"
	  "tinchi_websocket_messages_total{direction=\"out\"} %llu\n",
	  (unsigned long long)m->ws_in, (unsigned long long)m->ws_out);
	P("# HELP tinchi_verify_inline_total Verifications answered on the service thread,"
	  " not on the verify workers.\n"
	  "# TYPE tinchi_verify_inline_total counter\n"
	  "tinchi_verify_inline_total %llu\n", (unsigned long long)m->verify_inline);
	P("# HELP tinchi_signin_hashes_total Password hashes computed at sign-in, by whether"
	  " the account has a password (known) or a stand-in was hashed (unknown), and by"
	  " scrypt cost (log2 N).\n"
	  "# TYPE tinchi_signin_hashes_total counter\n");
	for (int k = 0; k < 2; k++)
		for (unsigned l = 0; l < METRICS_SIGNIN_COSTS; l++)
			if (m->signin[k][l])
				P("tinchi_signin_hashes_total{account=\"%s\",ln=\"%u\"} %llu\n",
				  k ? "known" : "unknown", l, (unsigned long long)m->signin[k][l]);
	if (g->db_size_bytes >= 0)
		P("# HELP tinchi_database_size_bytes Size of the database on disk.\n"
		  "# TYPE tinchi_database_size_bytes gauge\n"
		  "tinchi_database_size_bytes %lld\n", (long long)g->db_size_bytes);
	if (g->media_known)
		P("# HELP tinchi_media_jobs Lecture processing jobs waiting or running, all nodes.\n"
		  "# TYPE tinchi_media_jobs gauge\n"
		  "tinchi_media_jobs{state=\"queued\"} %lld\n"
		  "tinchi_media_jobs{state=\"running\"} %lld\n",
		  (long long)g->media_queued, (long long)g->media_running);
	if (g->progress_known)
		P("# HELP tinchi_progress_batches_total WebSocket progress batches (group commits).\n"
		  "# TYPE tinchi_progress_batches_total counter\n"
		  "tinchi_progress_batches_total %lld\n"
		  "# HELP tinchi_progress_jobs_total WebSocket progress messages written in batches.\n"
		  "# TYPE tinchi_progress_jobs_total counter\n"
		  "tinchi_progress_jobs_total %lld\n"
		  "# HELP tinchi_progress_queue WebSocket progress messages waiting for a batch.\n"
		  "# TYPE tinchi_progress_queue gauge\n"
		  "tinchi_progress_queue %lld\n",
		  (long long)g->progress_batches, (long long)g->progress_jobs,
		  (long long)g->progress_queue);
	P("# HELP tinchi_issuing_retry_total Runs that read again the credentials whose issuing"
	  " failed.\n"
	  "# TYPE tinchi_issuing_retry_total counter\n"
	  "tinchi_issuing_retry_total %lld\n"
	  "# HELP tinchi_issuing_retry_issued_total Credentials issued by those runs.\n"
	  "# TYPE tinchi_issuing_retry_issued_total counter\n"
	  "tinchi_issuing_retry_issued_total %lld\n"
	  "# HELP tinchi_issuing_failed_pending Completions whose credential failed to issue"
	  " and waits for a retry.\n"
	  "# TYPE tinchi_issuing_failed_pending gauge\n"
	  "tinchi_issuing_failed_pending %lld\n",
	  (long long)g->issuing_retries, (long long)g->issuing_retry_issued,
	  (long long)g->issuing_failed_pending);
#undef P
	return rc;
}
