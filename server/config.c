/* config.c - see config.h. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "courses/errors.h"
#include "courses/password.h"
#include "server/config.h"

enum opt_type { T_PATH, T_LISTEN, T_INT, T_SIZE, T_BOOL, T_LEVEL };

struct opt {
	const char *name;	/* flag name; the file key is this with '_' for '-' */
	enum opt_type type;
	size_t off;		/* offset in struct config */
	size_t len;		/* buffer size for strings */
	int64_t min, max;	/* range for numbers */
	const char *arg;	/* argument name in --help */
	const char *help;
};

#define F(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)

static const struct opt opts[] = {
	{ "data", T_PATH, F(data_dir), 0, 0, "DIR", "data folder (database, content store, keys)" },
	{ "listen", T_LISTEN, F(listen_host), 0, 0, "HOST:PORT", "address to listen on (port 0 picks a free one)" },
	{ "web", T_PATH, F(web_root), 0, 0, "DIR", "static web front end to serve at /" },
	{ "tls-cert", T_PATH, F(tls_cert), 0, 0, "FILE", "TLS certificate chain (PEM); turns TLS on" },
	{ "tls-key", T_PATH, F(tls_key), 0, 0, "FILE", "TLS private key (PEM)" },
	{ "port-file", T_PATH, F(port_file), 0, 0, "FILE", "write the port actually bound to FILE" },
	{ "log-level", T_LEVEL, F(log_level), 0, 0, "LEVEL", "error, warn, info or debug" },
	{ "access-log", T_BOOL, F(access_log), 0, 1, "on|off", "one log line per request" },
	{ "http2", T_BOOL, F(http2), 0, 1, "on|off", "offer HTTP/2 (ALPN h2 under TLS); off = HTTP/1.1 only" },
	{ "max-body", T_SIZE, F(max_body), 0, (int64_t)1 << 40, "BYTES", "largest request body (suffix K, M, G)" },
	{ "max-header", T_SIZE, F(max_header), 1024, 65535, "BYTES", "largest request header block" },
	{ "max-connections", T_INT, F(max_connections), 1, 1000000, "N", "open connections at once" },
	{ "header-timeout", T_INT, F(header_timeout), 1, 3600, "SECONDS", "time to receive request headers" },
	{ "request-timeout", T_INT, F(request_timeout), 1, 86400, "SECONDS", "time to receive a request body" },
	{ "send-timeout", T_INT, F(send_timeout), 1, 3600, "SECONDS", "time a client may stall reading a response" },
	{ "idle-timeout", T_INT, F(idle_timeout), 1, 3600, "SECONDS", "keep-alive connection idle time" },
	{ "ws-ping-interval", T_INT, F(ws_ping_interval), 1, 3600, "SECONDS", "WebSocket silence before a ping" },
	{ "ws-queue-max", T_INT, F(ws_queue_max), 1, 100000, "N", "messages queued to one WebSocket before it is closed" },
	{ "static-cache-max", T_SIZE, F(static_cache_max), 0, (int64_t)64 << 20, "BYTES", "static files up to this size are kept in memory" },
	{ "session-idle", T_INT, F(session_idle), 60, 30 * 86400, "SECONDS", "a sign-in session ends after this long unused" },
	{ "institution-quota", T_SIZE, F(institution_quota), 0, (int64_t)1 << 50, "BYTES", "materials an institution may store in all (suffix K, M, G)" },
	{ "upload-expiry", T_INT, F(upload_expiry), 60, 30 * 86400, "SECONDS", "unfinished resumable uploads are removed after this long untouched" },
	{ "password-cost", T_INT, F(password_cost), 10, PASSWORD_COST_MAX, "LOG2N", "scrypt cost of new password hashes, log2 N (r=8, p=1); lower only for tests" },
	{ "session-max-age", T_INT, F(session_max_age), 60, 365 * 86400, "SECONDS", "a sign-in session ends this long after sign-in" },
	{ "media-jobs", T_INT, F(media_jobs), 0, 16, "N", "lecture processing jobs run at once on this node (0: this node runs none)" },
	{ "media-cpu-seconds", T_INT, F(media_cpu_seconds), 1, 7 * 86400, "SECONDS", "CPU time one media job may use" },
	{ "media-memory", T_SIZE, F(media_memory), (int64_t)64 << 20, (int64_t)1 << 40, "BYTES", "address space of one media worker process" },
	{ "media-max-output", T_SIZE, F(media_max_output), (int64_t)1 << 20, (int64_t)1 << 40, "BYTES", "largest file a media worker may write" },
	{ "media-timeout", T_INT, F(media_timeout), 1, 7 * 86400, "SECONDS", "wall-clock time one media job may take" },
	{ "media-stall", T_INT, F(media_stall), 1, 86400, "SECONDS", "a media worker silent this long is stopped" },
	{ "media-token-ttl", T_INT, F(media_token_ttl), 60, 7 * 86400, "SECONDS", "how long a signed stream URL stays valid" },
	{ "node-name", T_PATH, F(node_name), 0, 0, "NAME", "this server in the shared job queue (default: the host name)" },
	{ "public-url", T_PATH, F(public_url), 0, 0, "URL", "the platform's public address: xAPI home pages, share and verification links (default: http://LISTEN, with the bound port)" },
	{ "log-origin", T_PATH, F(log_origin), 0, 0, "NAME", "the transparency log's origin and key name, fixed at first start (default: HOST of public-url \"/log\")" },
	{ "log-batch", T_INT, F(log_batch), 1, 1000000, "N", "a new log checkpoint as soon as this many entries wait for one" },
	{ "log-interval-ms", T_INT, F(log_interval_ms), 1, 3600000, "MS", "a new log checkpoint at most this long after an entry" },
	{ "outbox-retention", T_INT, F(outbox_retention), 0, 3650 * 86400, "SECONDS", "consumed outbox events are deleted this long after (default 30 days; 0: kept forever)" },
	{ "outbox-prune-interval", T_INT, F(outbox_prune_interval), 1, 86400, "SECONDS", "how often the server deletes the consumed outbox events past their retention" },
	{ "issuing-retry-ms", T_INT, F(issuing_retry_ms), 1, 3600000, "MS", "a credential whose issuing failed (no key yet, a full status list, a storage error) is tried again this long after, then after twice as long each time it fails again" },
	{ "issuing-retry-max-ms", T_INT, F(issuing_retry_max_ms), 1, 86400000, "MS", "the longest wait between two such tries" },
	{ "wal-checkpoint-pages", T_INT, F(wal_checkpoint_pages), 0, 1000000, "PAGES", "a background thread copies the write-ahead log back once it holds this many new pages (0: the commit that crosses 1000 pages does it)" },
	{ "wal-checkpoint-ms", T_INT, F(wal_checkpoint_ms), 1, 3600000, "MS", "the background checkpoint runs at least this often while the log holds new pages" },
	/* hidden (no help: not in --help): for tests, fewer lists to go round */
	{ "verify-kept-lists", T_INT, F(verify_kept_lists), 1, 256, "N", NULL },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "./var");
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8080;
	c->log_level = LOG_INFO;
	c->access_log = 1;
	c->http2 = 0;
	c->max_body = 1 << 20;
	c->max_header = 8192;
	c->max_connections = 4096;
	c->header_timeout = 10;
	c->request_timeout = 60;
	c->send_timeout = 30;
	c->idle_timeout = 15;
	c->ws_ping_interval = 30;
	c->ws_queue_max = 256;
	c->static_cache_max = 256 << 10;
	c->session_idle = 8 * 3600;
	c->session_max_age = 7 * 86400;
	c->password_cost = 17;
	c->institution_quota = (int64_t)50 << 30;
	c->upload_expiry = 86400;
	c->media_jobs = 1;
	c->media_cpu_seconds = 4 * 3600;
	c->media_memory = (int64_t)3 << 30;
	c->media_max_output = (int64_t)16 << 30;
	c->media_timeout = 4 * 3600;
	c->media_stall = 300;
	c->media_token_ttl = 12 * 3600;
	c->log_batch = 1000;
	c->log_interval_ms = 1000;
	c->outbox_retention = 30 * 86400;
	c->outbox_prune_interval = 3600;
	c->issuing_retry_ms = 5000;
	c->issuing_retry_max_ms = 300000;
	c->wal_checkpoint_pages = 1000;
	c->wal_checkpoint_ms = 1000;
	c->verify_kept_lists = 256;
}

static const struct opt *
find_opt(const char *key)
{
	char name[64];
	size_t i;

	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = (key[i] == '_') ? '-' : key[i];
	name[i] = '\0';
	for (i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int
parse_int64(const char *s, int suffixes, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (!*s || isspace((unsigned char)*s))
		return TC_EINVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return TC_EINVALID;
	if (suffixes && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1024; break;
		case 'M': mul = 1024 * 1024; break;
		case 'G': mul = 1024 * 1024 * 1024; break;
		default: return TC_EINVALID;
		}
		end++;
		if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
			end++;
	}
	if (*end)
		return TC_EINVALID;
	if (v != 0 && (v > INT64_MAX / mul || v < INT64_MIN / mul))
		return TC_EINVALID;
	*out = (int64_t)v * mul;
	return 0;
}

int
config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = s;
	size_t hl;
	int64_t p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return TC_EINVALID;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return TC_EINVALID;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))	/* bare IPv6 needs brackets */
			return TC_EINVALID;
	}
	if (hl == 0 || hl >= hostlen)
		return TC_EINVALID;
	if (parse_int64(colon + 1, 0, &p) || p < 0 || p > 65535)
		return TC_EINVALID;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
		if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
	}
	return TC_EINVALID;
}

int
config_set(struct config *c, const char *key, const char *value,
	   char *err, size_t errlen)
{
	const struct opt *o = find_opt(key);
	char *field;
	int64_t v;
	int b;

	if (!o) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return TC_EINVALID;
	}
	field = (char *)c + o->off;
	switch (o->type) {
	case T_PATH:
		if (strlen(value) >= o->len) {
			snprintf(err, errlen, "%s: path too long", o->name);
			return TC_EINVALID;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case T_LISTEN: {
		char host[sizeof(c->listen_host)];
		int port;
		if (config_parse_listen(value, host, sizeof(host), &port)) {
			snprintf(err, errlen, "%s: expected HOST:PORT, got '%s'", o->name, value);
			return TC_EINVALID;
		}
		memcpy(c->listen_host, host, sizeof(host));
		c->listen_port = port;
		return 0;
	}
	case T_LEVEL: {
		enum log_level l;
		if (log_level_parse(value, &l)) {
			snprintf(err, errlen, "%s: expected error, warn, info or debug, got '%s'", o->name, value);
			return TC_EINVALID;
		}
		*(enum log_level *)(void *)field = l;
		return 0;
	}
	case T_BOOL:
		if (parse_bool(value, &b)) {
			snprintf(err, errlen, "%s: expected on or off, got '%s'", o->name, value);
			return TC_EINVALID;
		}
		*(int *)(void *)field = b;
		return 0;
	case T_INT:
	case T_SIZE:
		if (parse_int64(value, o->type == T_SIZE, &v) || v < o->min || v > o->max) {
			snprintf(err, errlen, "%s: expected %s from %lld to %lld, got '%s'",
				 o->name, o->type == T_SIZE ? "a size" : "a number",
				 (long long)o->min, (long long)o->max, value);
			return TC_EINVALID;
		}
		if (o->len == sizeof(int64_t))
			*(int64_t *)(void *)field = v;
		else
			*(int *)(void *)field = (int)v;
		return 0;
	}
	return TC_EINVALID;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[PATH_MAX + 128], why[256];
	FILE *fp = NULL;
	int rc = 0, lineno = 0;

	fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		return TC_EIO;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *k, *v, *eq;
		size_t vl;

		lineno++;
		if (!strchr(line, '\n') && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = TC_EINVALID;
			goto out;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = TC_EINVALID;
			goto out;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		if (config_set(c, k, v, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = TC_EINVALID;
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "cannot read config file %s", path);
		rc = TC_EIO;
	}
out:
	fclose(fp);
	return rc;
}

int
config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct option lo[NOPTS + 3];
	char why[PATH_MAX + 64];
	const char *cfgfile = NULL;
	int i, ch, idx, rc;

	for (i = 0; i < (int)NOPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = required_argument;
		lo[i].flag = NULL;
		lo[i].val = 1000 + i;
	}
	lo[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i] = (struct option){ NULL, 0, NULL, 0 };

	/* First pass: only --config and --help, so the file applies first.
	 * optind = 0 makes glibc reset all its scan state, not only the index
	 * (a scan left inside "-hx" would otherwise resume in an old argv). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		if (ch == 'h')
			return CONFIG_HELP;
		if (ch == 'c')
			cfgfile = optarg;
		else if (ch == '?') {
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return TC_EINVALID;
		} else if (ch == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return TC_EINVALID;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return TC_EINVALID;
	}
	if (cfgfile) {
		rc = config_load_file(c, cfgfile, err, errlen);
		if (rc)
			return rc;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		if (ch < 1000)
			continue;
		if (config_set(c, opts[ch - 1000].name, optarg, why, sizeof(why))) {
			snprintf(err, errlen, "%s", why);
			return TC_EINVALID;
		}
	}
	if (!!c->tls_cert[0] != !!c->tls_key[0]) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return TC_EINVALID;
	}
	return 0;
}

void
config_usage(FILE *fp)
{
	struct config d;
	char def[PATH_MAX + 300];

	config_defaults(&d);
	fprintf(fp, "  --config FILE          read settings from FILE (key = value; flags win)\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *field = (const char *)&d + o->off;
		char flag[48];

		if (!o->help)
			continue;	/* a hidden setting, for tests */
		def[0] = '\0';
		switch (o->type) {
		case T_PATH:
			snprintf(def, sizeof(def), "%s", field);
			break;
		case T_LISTEN:
			snprintf(def, sizeof(def), "%s:%d", d.listen_host, d.listen_port);
			break;
		case T_LEVEL:
			snprintf(def, sizeof(def), "%s", log_level_name(d.log_level));
			break;
		case T_BOOL:
			snprintf(def, sizeof(def), "%s", *(const int *)(const void *)field ? "on" : "off");
			break;
		case T_INT:
		case T_SIZE:
			snprintf(def, sizeof(def), "%lld", o->len == sizeof(int64_t)
				 ? (long long)*(const int64_t *)(const void *)field
				 : (long long)*(const int *)(const void *)field);
			break;
		}
		snprintf(flag, sizeof(flag), "--%s %s", o->name, o->arg);
		fprintf(fp, "  %-22s %s%s%s%s\n", flag, o->help,
			def[0] ? " (default: " : "", def, def[0] ? ")" : "");
	}
	fprintf(fp, "  --help                 show this help\n");
}
