/*
 * main.c - the tinchi command: `tinchi COMMAND [options]`.
 *
 * Commands are a table of data plus one static function each. Exit codes:
 * 0 success, 1 the command failed, 2 the command line was wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "courses/mediatoken.h"
#include "courses/identity.h"
#include "courses/password.h"
#include "courses/package.h"
#include "courses/people.h"
#include "server/api.h"
#include "server/api_identity.h"
#include "server/api_util.h"
#include "server/cli_verify.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/media_sandbox.h"
#include "server/media_jobs.h"
#include "server/metrics.h"
#include "server/progress_writer.h"
#include "server/access_writer.h"
#include "server/cli_outbox.h"
#include "server/outbox_pruner.h"
#include "server/checkpointer.h"
#include "server/issuing.h"
#include "server/static.h"
#include "server/tlog.h"
#include "server/version.h"
#include "storage/courses.h"
#include "storage/identity.h"
#include "storage/secret.h"
#include "storage/store.h"
#include "storage/tlog.h"

#ifndef TINCHI_DATADIR
#define TINCHI_DATADIR "/usr/local/share/tinchi"
#endif

#define DRAIN_SECONDS 10

/* The only globals: what the signal handler needs. */
static volatile sig_atomic_t stop_requested;
static struct app *signal_app;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
};

static int cmd_serve(int argc, char **argv);
static int cmd_migrate(int argc, char **argv);
static int cmd_institution(int argc, char **argv);
static int cmd_person(int argc, char **argv);
static int cmd_import(int argc, char **argv);
static int cmd_course(int argc, char **argv);
static int cmd_log(int argc, char **argv);

static const struct command commands[] = {
	{ "serve", cmd_serve, "[options]", "run the server" },
	{ "migrate", cmd_migrate, "[--data DIR]",
	  "create or upgrade the data folder and its database, then exit" },
	{ "institution", cmd_institution, "add|list ...", "register institutions (operator)" },
	{ "person", cmd_person, "add ...", "add a person with a role (operator)" },
	{ "import", cmd_import, "learners FILE --institution CODE",
	  "import learners from a CSV file" },
	{ "course", cmd_course, "export|import ...", "move a course as a package (zip)" },
	{ "log", cmd_log, "audit|append ...", "check the transparency log; append an entry (operator)" },
	{ "verify", cli_verify_main, "FILE [--checkpoint FILE] ...",
	  "verify a credential, presentation or bundle offline" },
	{ "outbox", cli_outbox_main, "prune [--older-than DAYS]",
	  "delete consumed outbox events now (the server does it by itself)" },
	{ "media-worker", media_worker_main, "OUTDIR < FILE",
	  "internal: process one media job; started by the server" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: tinchi COMMAND [options]\n\n"
		    "tinchi is an open online learning and credit recognition server.\n\n"
		    "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\n  tinchi COMMAND --help   options of one command\n"
		    "  tinchi --version        print the version\n");
}

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	http_server_wake(signal_app);
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return TC_EIO;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL) ? TC_EIO : 0;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The web folder: as configured, else the installed one, else ./web. */
static const char *
pick_web_root(const struct config *cfg)
{
	if (cfg->web_root[0])
		return cfg->web_root;
	if (is_dir(TINCHI_DATADIR "/web"))
		return TINCHI_DATADIR "/web";
	if (is_dir("web"))
		return "web";
	return NULL;
}

static int
open_store(const char *dir, struct store **out)
{
	int rc = store_prepare_dir(dir);

	if (rc == 0)
		rc = store_open(dir, out);
	else
		fprintf(stderr, "tinchi: cannot prepare the data folder %s\n", dir);
	if (rc == TC_ETOONEW)
		fprintf(stderr, "tinchi: the database in %s was written by a newer tinchi; "
				"upgrade tinchi (this one knows schema version %d)\n",
			dir, store_schema_latest());
	else if (rc)
		fprintf(stderr, "tinchi: cannot open the data folder %s: %s\n", dir, tc_strerror(rc));
	return rc;
}

static int
load_secret(struct app *app)
{
	char dir[PATH_MAX + 8];

	snprintf(dir, sizeof(dir), "%s/keys", app->cfg->data_dir);
	if (platform_secret_load(dir, app->secret) != 0) {
		fprintf(stderr, "tinchi: cannot read or create %s/platform.secret\n", dir);
		return TC_EIO;
	}
	media_token_key(app->secret, app->media_key);
	return 0;
}

/* The host part of the public URL (or the listen host): the default
 * origin of the transparency log is "HOST/log". */
static void
public_host(const struct config *cfg, char *out, size_t n)
{
	const char *u = cfg->public_url, *p = strstr(u, "://");
	size_t len;

	if (!u[0] || !p) {
		snprintf(out, n, "%s", cfg->listen_host);
		return;
	}
	p += 3;
	len = strcspn(p, "/?#");
	snprintf(out, n, "%.*s", (int)len, p);
}

static int
open_tlog(struct app *app)
{
	char host[512];
	int rc;

	public_host(app->cfg, host, sizeof(host));
	rc = tlog_open(app->store, app->cfg->data_dir, app->cfg->log_origin, host, &app->tlog);
	/* the log is served from a checkpoint of what is stored now */
	if (rc == 0)
		rc = tlog_checkpoint_now(app->tlog, app->store, NULL);
	if (rc)
		fprintf(stderr, "tinchi: cannot open the transparency log: %s\n", tc_strerror(rc));
	return rc;
}

static int
cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	const char *web;
	char err[PATH_MAX + 128];
	int rc;

	config_defaults(&cfg);
	rc = config_parse_args(&cfg, argc, argv, err, sizeof(err));
	if (rc == CONFIG_HELP) {
		printf("usage: tinchi serve [options]\n\nRuns the server until SIGTERM or SIGINT.\n\noptions:\n");
		config_usage(stdout);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "tinchi serve: %s (see tinchi serve --help)\n", err);
		return 2;
	}
	log_set_level(cfg.log_level);

	memset(&app, 0, sizeof(app));
	app.cfg = &cfg;
	app.start_time = (int64_t)time(NULL);

	rc = 1;
	/* no request's commit checkpoints: the checkpointer does (started
	 * below; every connection opened from here on) */
	if (cfg.wal_checkpoint_pages > 0)
		store_set_wal_external(1);
	if (open_store(cfg.data_dir, &app.store) || load_secret(&app) || open_tlog(&app))
		goto out;
	/* the event loop never waits long for a lock held elsewhere (an
	 * import on a worker thread): it answers 503 instead */
	store_set_busy_timeout(app.store, 250);
	if (api_identity_count_costs(&app)) {
		fprintf(stderr, "tinchi: cannot count the password hashes by cost\n");
		goto out;
	}
	if (metrics_create(&app.metrics) || api_init(&app)) {
		fprintf(stderr, "tinchi: out of memory\n");
		goto out;
	}
	web = pick_web_root(&cfg);
	if (web) {
		/* the video player's library, from the source tree's node_modules
		 * (an installed web folder has its own copy in vendor/) */
		char hls[PATH_MAX + 64];
		struct static_extra extra = { "/vendor/hls.min.mjs", hls };
		int lr;

		snprintf(hls, sizeof(hls), "%s/../node_modules/hls.js/dist/hls.min.mjs", web);
		lr = static_site_load_with(web, cfg.static_cache_max, &extra, 1, &app.site);
		if (lr) {
			fprintf(stderr, "tinchi: cannot load the web folder %s: %s\n", web, tc_strerror(lr));
			goto out;
		}
		log_info("serving %zu static file(s) from %s", static_site_files(app.site), web);
	} else
		log_warn("no web folder found; only the API is served");

	signal_app = &app;
	if (install_signals() || http_server_create(&app))
		goto out;
	if ((rc = media_jobs_start(&app, &app.media)) != 0) {
		fprintf(stderr, "tinchi: cannot start the media jobs: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	if ((rc = progress_writer_start(&app, &app.progress_writer)) != 0) {
		fprintf(stderr, "tinchi: cannot start the progress writer: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	if ((rc = access_writer_start(&app, &app.access_writer)) != 0) {
		fprintf(stderr, "tinchi: cannot start the access-log writer: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	if (cfg.wal_checkpoint_pages > 0 &&
	    (rc = checkpointer_start(cfg.data_dir, cfg.wal_checkpoint_pages, cfg.wal_checkpoint_ms,
				     &app.checkpointer)) != 0) {
		fprintf(stderr, "tinchi: cannot start the WAL checkpointer: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	if ((rc = tlog_start(app.tlog, cfg.log_batch, cfg.log_interval_ms)) != 0) {
		fprintf(stderr, "tinchi: cannot start the log checkpoints: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	{	/* completions recorded before the last stop, not yet issued */
		int issued = 0, ir = issuing_run(&app, &issued);

		if (ir)
			log_warn("issuing pending credentials: %s", tc_strerror(ir));
		else if (issued)
			log_info("issued %d pending credential(s)", issued);
	}
	/* after the start-up issuing, which consumes events */
	if ((rc = outbox_pruner_start(&app, &app.outbox_pruner)) != 0) {
		fprintf(stderr, "tinchi: cannot start the outbox pruner: %s\n", tc_strerror(rc));
		rc = 1;
		goto out;
	}
	http_server_run(&app, &stop_requested, DRAIN_SECONDS);
	outbox_pruner_stop(app.outbox_pruner);
	app.outbox_pruner = NULL;
	/* what the WebSockets sent is committed before the process ends */
	progress_writer_stop(app.progress_writer);
	app.progress_writer = NULL;
	/* the access-log entries queued are committed and answered; the
	 * writer is freed after the workers are joined (below) */
	access_writer_stop(app.access_writer);
	/* running media jobs go back to the queue for the next start */
	media_jobs_stop(app.media);
	app.media = NULL;
	log_info("stopped");
	rc = 0;
out:
	signal_app = NULL;
	outbox_pruner_stop(app.outbox_pruner);
	app.outbox_pruner = NULL;
	progress_writer_stop(app.progress_writer);
	app.progress_writer = NULL;
	access_writer_stop(app.access_writer);
	media_jobs_stop(app.media);
	app.media = NULL;
	/* after the workers: a batch still verifying holds a copy of app.tlog
	 * (its lanes' struct app) until http_server_destroy joins it, and its
	 * last commits are in the checkpointer's last TRUNCATE */
	http_server_destroy(&app);
	access_writer_free(app.access_writer);	/* a late worker may still have held it */
	app.access_writer = NULL;
	tlog_destroy(app.tlog);
	app.tlog = NULL;
	checkpointer_stop(app.checkpointer);
	app.checkpointer = NULL;
	static_site_destroy(app.site);
	metrics_destroy(app.metrics);
	api_cleanup(&app);
	store_close(app.store);
	return rc;
}

static int
cmd_migrate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./var";
	struct store *st = NULL;
	int ch, version = 0;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			printf("usage: tinchi migrate [--data DIR]\n\n"
			       "Creates the data folder DIR (default ./var) if needed and brings its\n"
			       "database to schema version %d.\n", store_schema_latest());
			return 0;
		case ':':
			fprintf(stderr, "tinchi migrate: option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tinchi migrate: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tinchi migrate: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (open_store(dir, &st))
		return 1;
	store_schema_version(st, &version);
	printf("%s: schema version %d\n", dir, version);
	store_close(st);
	return 0;
}

/* ---- the operator's commands ------------------------------------------- */

/* Options shared by the data commands. */
struct cli {
	struct config cfg;
	struct app app;
	const char *code, *name, *kind, *website, *nid, *role, *email, *institution, *out, *owner;
	int password_stdin, partial, reissue, publish;
};

static int
cli_parse(struct cli *c, const char *cmd, int argc, char **argv, const char *usage_text,
	  int *first_arg)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "kind", required_argument, NULL, 'k' },
		{ "website", required_argument, NULL, 'w' },
		{ "national-id", required_argument, NULL, 'i' },
		{ "role", required_argument, NULL, 'r' },
		{ "email", required_argument, NULL, 'e' },
		{ "institution", required_argument, NULL, 'I' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "partial", no_argument, NULL, 'P' },
		{ "reissue-codes", no_argument, NULL, 'R' },
		{ "out", required_argument, NULL, 'o' },
		{ "owner", required_argument, NULL, 'O' },
		{ "code", required_argument, NULL, 'C' },
		{ "publish", no_argument, NULL, 'B' },
		{ "password-cost", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	config_defaults(&c->cfg);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': snprintf(c->cfg.data_dir, sizeof(c->cfg.data_dir), "%s", optarg); break;
		case 'n': c->name = optarg; break;
		case 'k': c->kind = optarg; break;
		case 'w': c->website = optarg; break;
		case 'i': c->nid = optarg; break;
		case 'r': c->role = optarg; break;
		case 'e': c->email = optarg; break;
		case 'I': c->institution = optarg; break;
		case 'p': c->password_stdin = 1; break;
		case 'P': c->partial = 1; break;
		case 'R': c->reissue = 1; break;
		case 'o': c->out = optarg; break;
		case 'O': c->owner = optarg; break;
		case 'C': c->code = optarg; break;
		case 'B': c->publish = 1; break;
		case 'c': {
			char why[128];
			if (config_set(&c->cfg, "password-cost", optarg, why, sizeof(why))) {
				fprintf(stderr, "tinchi %s: %s\n", cmd, why);
				return 2;
			}
			break;
		}
		case 'h':
			printf("%s", usage_text);
			return 1;
		case ':':
			fprintf(stderr, "tinchi %s: option '%s' needs a value\n", cmd, argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tinchi %s: unknown option '%s'\n", cmd, argv[optind - 1]);
			return 2;
		}
	}
	*first_arg = optind;
	return 0;
}

static int
cli_open(struct cli *c)
{
	c->app.cfg = &c->cfg;
	log_set_level(LOG_WARN);
	if (open_store(c->cfg.data_dir, &c->app.store) || load_secret(&c->app))
		return 1;
	return 0;
}

static void
cli_close(struct cli *c)
{
	store_close(c->app.store);
}

static const char institution_usage[] =
	"usage: tinchi institution add CODE --name NAME --kind school|university|other\n"
	"                              [--website https://...] [--data DIR]\n"
	"       tinchi institution list [--data DIR]\n\n"
	"Registers an institution and makes its first Ed25519 signing key (did:key).\n";

static int
print_institution(const struct institution *inst, void *arg)
{
	struct store *st = arg;
	struct inst_key k;

	printf("%s\t%s\t%s\t%s\n", inst->code, inst_kind_name(inst->kind),
	       store_key_current(st, inst->id, &k) == 0 ? k.did : "-", inst->name);
	return 0;
}

static int
cmd_institution(int argc, char **argv)
{
	struct cli c = { 0 };
	struct institution inst = { 0 };
	struct inst_key key;
	int first, rc;

	rc = cli_parse(&c, "institution", argc, argv, institution_usage, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first >= argc || (strcmp(argv[first], "add") && strcmp(argv[first], "list"))) {
		fprintf(stderr, "tinchi institution: say add or list (see tinchi institution --help)\n");
		return 2;
	}
	if (strcmp(argv[first], "list") == 0) {
		if (first + 1 != argc) {
			fprintf(stderr, "tinchi institution list: unexpected argument '%s'\n", argv[first + 1]);
			return 2;
		}
		if (cli_open(&c))
			return 1;
		rc = store_institution_each(c.app.store, print_institution, c.app.store);
		cli_close(&c);
		return rc ? 1 : 0;
	}
	if (first + 2 != argc) {
		fprintf(stderr, "tinchi institution add: give exactly one CODE\n");
		return 2;
	}
	c.code = argv[first + 1];
	if (inst_code_check(c.code)) {
		fprintf(stderr, "tinchi institution add: CODE must be 2 to 32 of A-Z, 0-9, '-' and '_'\n");
		return 2;
	}
	if (!c.name || person_name_check(c.name)) {
		fprintf(stderr, "tinchi institution add: --name must be UTF-8 text of 1 to 200 bytes\n");
		return 2;
	}
	if (!c.kind || inst_kind_parse(c.kind, &inst.kind)) {
		fprintf(stderr, "tinchi institution add: --kind must be school, university or other\n");
		return 2;
	}
	if (c.website && (strncmp(c.website, "https://", 8) || strlen(c.website) >= sizeof(inst.website))) {
		fprintf(stderr, "tinchi institution add: --website must be an https:// address\n");
		return 2;
	}
	snprintf(inst.code, sizeof(inst.code), "%s", c.code);
	snprintf(inst.name, sizeof(inst.name), "%s", c.name);
	snprintf(inst.website, sizeof(inst.website), "%s", c.website ? c.website : "");
	if (cli_open(&c))
		return 1;
	rc = api_institution_create(&c.app, &inst, &key);
	if (rc == 0)
		api_audit(&c.app, NULL, inst.id, "institution.created", inst.code, NULL);
	cli_close(&c);
	if (rc == TC_ECONFLICT) {
		fprintf(stderr, "tinchi institution add: %s exists already\n", inst.code);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "tinchi institution add: %s\n", tc_strerror(rc));
		return 1;
	}
	printf("%s\t%s\n", inst.code, key.did);
	return 0;
}

static const char person_usage[] =
	"usage: tinchi person add --national-id ID --name NAME --role ROLE\n"
	"                         [--institution CODE] [--email E] [--password-stdin] [--data DIR]\n\n"
	"Adds (or updates) a person and gives them ROLE: operator (platform-wide), or\n"
	"admin, lecturer, verifier or learner at --institution. Without --password-stdin\n"
	"a one-time activation code is printed for the person to choose a password.\n";

static int
cmd_person(int argc, char **argv)
{
	char code[ACTIVATION_CODE_LEN + 1] = "", pw[PASSWORD_MAX + 2] = "", hash[PASSWORD_HASH_MAX];
	struct cli c = { 0 };
	struct institution inst = { 0 };
	struct person p = { 0 };
	struct enrol_result res = { 0 };
	enum role role;
	int first, rc;

	rc = cli_parse(&c, "person", argc, argv, person_usage, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first + 1 != argc || strcmp(argv[first], "add")) {
		fprintf(stderr, "tinchi person: say add (see tinchi person --help)\n");
		return 2;
	}
	if (!c.nid || national_id_check(c.nid)) {
		fprintf(stderr, "tinchi person add: --national-id must be exactly 12 digits\n");
		return 2;
	}
	if (!c.name || person_name_check(c.name)) {
		fprintf(stderr, "tinchi person add: --name must be UTF-8 text of 1 to 200 bytes\n");
		return 2;
	}
	if (!c.role || role_parse(c.role, &role) || role == ROLE_NONE) {
		fprintf(stderr, "tinchi person add: --role must be operator, admin, lecturer, verifier or learner\n");
		return 2;
	}
	if ((role == ROLE_OPERATOR) != (c.institution == NULL)) {
		fprintf(stderr, "tinchi person add: operators have no --institution; every other role needs one\n");
		return 2;
	}
	if (c.email && email_check(c.email)) {
		fprintf(stderr, "tinchi person add: --email is not a valid address\n");
		return 2;
	}
	if (c.password_stdin) {
		if (!fgets(pw, sizeof(pw), stdin)) {
			fprintf(stderr, "tinchi person add: no password on standard input\n");
			return 2;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
		if (password_policy_check(pw)) {
			fprintf(stderr, "tinchi person add: the password must be UTF-8 of %d to %d bytes\n",
				PASSWORD_MIN, PASSWORD_MAX);
			return 2;
		}
		struct scrypt_params params = password_default_params;
		params.log2_n = (unsigned)c.cfg.password_cost;
		if (password_hash(pw, &params, hash, sizeof(hash))) {
			fprintf(stderr, "tinchi person add: could not hash the password\n");
			return 1;
		}
	}
	if (cli_open(&c))
		return 1;
	if (c.institution && store_institution_get(c.app.store, c.institution, &inst)) {
		fprintf(stderr, "tinchi person add: no institution %s\n", c.institution);
		cli_close(&c);
		return 1;
	}
	snprintf(p.national_id, sizeof(p.national_id), "%s", c.nid);
	snprintf(p.full_name, sizeof(p.full_name), "%s", c.name);
	snprintf(p.email, sizeof(p.email), "%s", c.email ? c.email : "");
	int64_t now = (int64_t)time(NULL);
	rc = store_begin(c.app.store);
	if (rc == 0)
		rc = people_enrol(c.app.store, c.app.secret, now, &p, role, inst.id, NULL,
				  ENROL_PRIVILEGED | ENROL_REISSUE,
				  c.password_stdin ? NULL : code, &res);
	if (rc == 0 && c.password_stdin)
		rc = store_person_set_password(c.app.store, p.id, hash, now);
	if (rc == 0)
		rc = store_commit(c.app.store);
	if (rc)
		store_rollback(c.app.store);
	else
		api_audit(&c.app, NULL, inst.id, "role.granted", p.uid, NULL);
	cli_close(&c);
	if (rc) {
		fprintf(stderr, "tinchi person add: %s\n", tc_strerror(rc));
		return 1;
	}
	printf("%s\t%s\t%s%s%s\n", p.uid, role_name(role), res.created ? "created" : "updated",
	       code[0] ? "\tactivation code " : "", code);
	return 0;
}

static const char import_usage[] =
	"usage: tinchi import learners FILE --institution CODE [--partial] [--reissue-codes]\n"
	"                              [--data DIR]\n\n"
	"Imports learners from a UTF-8 CSV file with the header\n"
	"  national_id,full_name,date_of_birth,email,student_code\n"
	"Every row is checked first; if any is bad nothing is imported (unless\n"
	"--partial). Importing the same people again updates them and keeps their\n"
	"still-valid activation codes (--reissue-codes makes new ones). People who\n"
	"also belong to another institution are enrolled but not changed. Prints\n"
	"the new activation codes as CSV on standard output; problems go to\n"
	"standard error, by row and column.\n";

/* Codes arrive batch by batch as batches commit; the CSV on standard
 * output lists exactly the people whose rows were saved. */
static int
print_code(const struct learner_row *row, const char *code, void *arg)
{
	(void)arg;
	return printf("%s,%s,%s\n", row->national_id, row->student_code, code) < 0 ? TC_EIO : 0;
}

static int
cmd_import(int argc, char **argv)
{
	struct import_outcome out;
	struct cli c = { 0 };
	struct institution inst;
	FILE *fp;
	int first, rc;

	rc = cli_parse(&c, "import", argc, argv, import_usage, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first + 2 != argc || strcmp(argv[first], "learners")) {
		fprintf(stderr, "tinchi import: say learners FILE (see tinchi import --help)\n");
		return 2;
	}
	if (!c.institution) {
		fprintf(stderr, "tinchi import learners: --institution CODE is required\n");
		return 2;
	}
	fp = fopen(argv[first + 1], "r");
	if (!fp) {
		fprintf(stderr, "tinchi import learners: cannot read %s: %s\n", argv[first + 1], strerror(errno));
		return 1;
	}
	if (cli_open(&c)) {
		fclose(fp);
		return 1;
	}
	if (store_institution_get(c.app.store, c.institution, &inst)) {
		fprintf(stderr, "tinchi import learners: no institution %s\n", c.institution);
		cli_close(&c);
		fclose(fp);
		return 1;
	}
	printf("national_id,student_code,activation_code\n");
	rc = people_import_learners(c.app.store, c.app.secret, (int64_t)time(NULL), inst.id, fp,
				    c.partial, c.reissue ? ENROL_REISSUE : 0, print_code, NULL, &out);
	fclose(fp);
	for (size_t i = 0; i < out.report.kept; i++) {
		const struct import_error *e = &out.report.errors[i];
		fprintf(stderr, "%s:%zu: row %zu%s%s: %s\n", argv[first + 1], e->line, e->row,
			e->column[0] ? ", " : "", e->column, e->message);
	}
	if (out.report.nerrors > out.report.kept)
		fprintf(stderr, "... and %zu more problems\n", out.report.nerrors - out.report.kept);
	if (rc == 0 && out.applied) {
		api_audit(&c.app, NULL, inst.id, "learners.imported", inst.code, NULL);
		fprintf(stderr, "imported %zu of %zu rows: %zu new, %zu updated (%zu of them belong to "
			"other institutions too and were left as they were); %zu activation codes "
			"made, %zu still-valid ones kept\n", out.created + out.updated,
			out.report.rows, out.created, out.updated, out.kept, out.codes, out.pending);
	} else if (rc == 0) {
		fprintf(stderr, "nothing imported: %s\n", out.report.fatal ? "not a learners CSV file"
			: out.report.rows == 0 ? "no rows" : "some rows are invalid (--partial imports the rest)");
	} else {
		fprintf(stderr, "tinchi import learners: %s after %zu rows had been saved\n",
			tc_strerror(rc), out.created + out.updated);
	}
	import_report_cleanup(&out.report);
	cli_close(&c);
	return rc || !out.applied ? 1 : 0;
}

static const char course_usage[] =
	"usage: tinchi course export COURSE_CODE --institution CODE --out FILE.zip [--data DIR]\n"
	"       tinchi course import FILE.zip --institution CODE --owner NATIONAL_ID\n"
	"                            [--code NEW_CODE] [--publish] [--data DIR]\n\n"
	"A package is a zip file with manifest.json and the course's files. Importing\n"
	"checks everything in it again and creates a draft course owned by --owner (a\n"
	"lecturer of the institution).\n";

static int
cmd_course(int argc, char **argv)
{
	char why[256];
	struct cli c = { 0 };
	struct institution inst;
	struct course *co = NULL;
	struct person p;
	int first, rc, fd = -1, ret = 1;

	rc = cli_parse(&c, "course", argc, argv, course_usage, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first + 2 != argc || (strcmp(argv[first], "export") && strcmp(argv[first], "import"))) {
		fprintf(stderr, "tinchi course: say export COURSE_CODE or import FILE (see tinchi course --help)\n");
		return 2;
	}
	if (!c.institution || (strcmp(argv[first], "export") == 0 && !c.out) ||
	    (strcmp(argv[first], "import") == 0 && (!c.owner || national_id_check(c.owner)))) {
		fprintf(stderr, "tinchi course: --institution, and --out for export or --owner NATIONAL_ID for import, are required\n");
		return 2;
	}
	if (!(co = calloc(1, sizeof(*co))) || cli_open(&c)) {
		free(co);
		return 1;
	}
	if (store_institution_get(c.app.store, c.institution, &inst)) {
		fprintf(stderr, "tinchi course: no institution %s\n", c.institution);
		goto out;
	}
	if (strcmp(argv[first], "export") == 0) {
		if (store_course_get_by_code(c.app.store, inst.id, argv[first + 1], co)) {
			fprintf(stderr, "tinchi course export: no course %s at %s\n", argv[first + 1], inst.code);
			goto out;
		}
		fd = open(c.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "tinchi course export: cannot write %s: %s\n", c.out, strerror(errno));
			goto out;
		}
		rc = package_export(c.app.store, c.cfg.data_dir, co, fd, why, sizeof(why));
		if (rc == 0 && fsync(fd) != 0)
			rc = TC_EIO;
		if (rc) {
			fprintf(stderr, "tinchi course export: %s\n", why[0] ? why : tc_strerror(rc));
			unlink(c.out);
			goto out;
		}
		printf("%s\n", c.out);
		ret = 0;
		goto out;
	}
	if (store_person_get_by_nid(c.app.store, c.owner, &p)) {
		fprintf(stderr, "tinchi course import: no person with that national ID\n");
		goto out;
	}
	fd = open(argv[first + 1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tinchi course import: cannot read %s: %s\n", argv[first + 1], strerror(errno));
		goto out;
	}
	/* an operator's command: not held to the institutions' quota */
	rc = package_import(c.app.store, c.cfg.data_dir, fd, inst.id, p.id, c.code, INT64_MAX, co,
			    why, sizeof(why));
	if (rc) {
		fprintf(stderr, "tinchi course import: %s\n", why[0] ? why : tc_strerror(rc));
		goto out;
	}
	if (c.publish) {
		char *text = malloc(COURSE_DESCRIPTION_MAX + 2048);

		co->status = COURSE_PUBLISHED;
		co->updated_at = (int64_t)time(NULL);
		rc = text ? course_search_text(co, inst.name, text, COURSE_DESCRIPTION_MAX + 2048) : TC_ENOMEM;
		if (rc == 0)
			rc = store_course_update(c.app.store, co, text);
		free(text);
		if (rc) {
			fprintf(stderr, "tinchi course import: imported, but could not publish: %s\n", tc_strerror(rc));
			goto out;
		}
	}
	api_audit(&c.app, NULL, inst.id, "course.imported", co->uid, NULL);
	printf("%s\t%s\t%s\n", co->uid, co->code, co->title);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(co);
	cli_close(&c);
	return ret;
}

/* ---- the transparency log ------------------------------------------------- */

static const char log_usage[] =
	"usage: tinchi log audit [--data DIR]\n"
	"       tinchi log append --kind issue|revoke --hash sha256:HEX --issuer DID\n"
	"                         [--time UNIX-SECONDS] [--data DIR]\n\n"
	"audit: recomputes every leaf hash from its entry, the whole tree, and every\n"
	"checkpoint's root and signature; then rebuilds every stored credential and\n"
	"checks that it hashes to its stored hash, that the hash is an issue leaf by\n"
	"its issuer, and that its status bit says whether it is revoked; prints the\n"
	"first inconsistency and exits 1, or exits 0 when all is consistent.\n"
	"append: appends one entry (operator use and tests; issuing credentials\n"
	"appends its own) and prints its leaf index. A running server puts it in\n"
	"its next checkpoint.\n";

static int
log_audit(struct store *st, const char *dir)
{
	struct signednote_verifier v;
	char problem[512];
	uint64_t leaves = 0, cps = 0;
	int rc = tlog_load_verifier(st, dir, &v);

	if (rc && rc != TC_ENOTFOUND) {
		fprintf(stderr, "tinchi log audit: cannot read the log key: %s\n", tc_strerror(rc));
		return 1;
	}
	/* no key or origin yet (no server has run): no checkpoint can be valid */
	rc = tlog_audit(st, rc ? NULL : &v, problem, sizeof(problem), &leaves, &cps);
	if (rc == TC_EINVALID) {
		printf("log: INCONSISTENT: %s\n", problem);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "tinchi log audit: cannot read the log: %s\n", tc_strerror(rc));
		return 1;
	}
	printf("log: consistent: %" PRIu64 " leaves, %" PRIu64 " checkpoints\n", leaves, cps);
	rc = tlog_audit_credentials(st, problem, sizeof(problem), &leaves);
	if (rc == TC_EINVALID) {
		printf("credentials: INCONSISTENT: %s\n", problem);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "tinchi log audit: cannot read the credentials: %s\n", tc_strerror(rc));
		return 1;
	}
	printf("credentials: consistent: %" PRIu64 " credentials, each in the log as issued, its"
	       " status bit as its revocation\n", leaves);
	return 0;
}

static int
cmd_log(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "kind", required_argument, NULL, 'k' },
		{ "hash", required_argument, NULL, 'H' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./var", *kind = NULL, *hash = NULL, *issuer = NULL, *sub;
	long long when = (long long)time(NULL);
	struct store *st = NULL;
	char why[256] = "invalid entry", *end;
	uint64_t idx = 0;
	int ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'k': kind = optarg; break;
		case 'H': hash = optarg; break;
		case 'i': issuer = optarg; break;
		case 't':
			errno = 0;
			when = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || when < 0 || when > 253402300799LL) {
				fprintf(stderr, "tinchi log: --time must be unix seconds\n");
				return 2;
			}
			break;
		case 'h':
			printf("%s", log_usage);
			return 0;
		case ':':
			fprintf(stderr, "tinchi log: option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tinchi log: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "audit") && strcmp(argv[optind], "append"))) {
		fprintf(stderr, "%s", log_usage);
		return 2;
	}
	sub = argv[optind];
	if (strcmp(sub, "append") == 0 && (!kind || !hash || !issuer)) {
		fprintf(stderr, "tinchi log append: --kind, --hash and --issuer are needed\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	if (open_store(dir, &st))
		return 1;
	if (strcmp(sub, "audit") == 0) {
		rc = log_audit(st, dir);
		store_close(st);
		return rc;
	}
	rc = store_begin(st);
	if (rc == 0)
		rc = tlog_append(st, kind, hash, issuer, (int64_t)when, &idx, why, sizeof(why));
	if (rc == 0)
		rc = store_commit(st);
	if (rc) {
		store_rollback(st);
		if (rc == TC_EINVALID)
			fprintf(stderr, "tinchi log append: %s\n", why);
		else
			fprintf(stderr, "tinchi log append: %s\n", tc_strerror(rc));
		store_close(st);
		return rc == TC_EINVALID ? 2 : 1;
	}
	printf("%" PRIu64 "\n", idx);
	store_close(st);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("tinchi %s\n", TINCHI_VERSION);
		return 0;
	}
	/* before any thread: where to exec the media worker from */
	if (media_sandbox_init() != 0)
		fprintf(stderr, "tinchi: cannot find its own executable; media processing will fail\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tinchi: unknown command '%s' (see tinchi --help)\n", argv[1]);
	return 2;
}
