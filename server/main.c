/*
 * main.c - the tinchi command: `tinchi COMMAND [options]`.
 *
 * Commands are a table of data plus one static function each. Exit codes:
 * 0 success, 1 the command failed, 2 the command line was wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/api.h"
#include "server/app.h"
#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/static.h"
#include "server/version.h"
#include "storage/store.h"

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

static const struct command commands[] = {
	{ "serve", cmd_serve, "[options]", "run the server" },
	{ "migrate", cmd_migrate, "[--data DIR]",
	  "create or upgrade the data folder and its database, then exit" },
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
	if (rc == TC_ETOONEW)
		fprintf(stderr, "tinchi: the database in %s was written by a newer tinchi; "
				"upgrade tinchi (this one knows schema version %d)\n",
			dir, store_schema_latest());
	else if (rc)
		fprintf(stderr, "tinchi: cannot open the data folder %s: %s\n", dir, tc_strerror(rc));
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
	app.routes = api_routes;
	app.nroutes = api_routes_count;
	app.start_time = (int64_t)time(NULL);

	rc = 1;
	if (open_store(cfg.data_dir, &app.store))
		goto out;
	if (metrics_create(&app.metrics) || api_init(&app)) {
		fprintf(stderr, "tinchi: out of memory\n");
		goto out;
	}
	web = pick_web_root(&cfg);
	if (web) {
		int lr = static_site_load(web, cfg.static_cache_max, &app.site);
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
	http_server_run(&app, &stop_requested, DRAIN_SECONDS);
	log_info("stopped");
	rc = 0;
out:
	signal_app = NULL;
	http_server_destroy(&app);
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
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tinchi: unknown command '%s' (see tinchi --help)\n", argv[1]);
	return 2;
}
