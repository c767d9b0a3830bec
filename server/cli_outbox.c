/* cli_outbox.c - `tinchi outbox prune`; see cli_outbox.h. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/cli_outbox.h"
#include "server/outbox_pruner.h"
#include "storage/store.h"

#define DAYS_MAX 36500L
#define DAYS_DEFAULT 30L

static const char outbox_usage[] =
	"usage: tinchi outbox prune [--older-than DAYS] [--data DIR]\n\n"
	"Deletes the outbox events consumed more than DAYS days ago (default 30;\n"
	"0: every consumed event), a few hundred in each transaction, so a running\n"
	"server keeps serving. Unconsumed events and declined completions (still\n"
	"waiting for a lecturer's approval) are kept. The server does the same by\n"
	"itself every outbox-prune-interval seconds (see tinchi serve --help).\n";

/* Between two batches: a running server's writers get the lock (they
 * wait by sleeping and retrying, so a gap of microseconds is missed). */
static int
pause_batch(void *arg)
{
	struct timespec t = { 0, 20 * 1000000L };

	(void)arg;
	nanosleep(&t, NULL);
	return 0;
}

int
cli_outbox_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./var";
	char path[PATH_MAX], *end;
	struct store *st = NULL;
	struct stat sb;
	long days = DAYS_DEFAULT;
	int64_t deleted = 0;
	int ch, rc;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'o':
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || optarg[0] == '+' ||
			    days < 0 || days > DAYS_MAX) {
				fprintf(stderr, "tinchi outbox: --older-than must be a whole number of"
						" days from 0 to %ld, not '%s'\n", DAYS_MAX, optarg);
				return 2;
			}
			break;
		case 'h':
			printf("%s", outbox_usage);
			return 0;
		case ':':
			fprintf(stderr, "tinchi outbox: option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "tinchi outbox: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "prune") != 0) {
		fprintf(stderr, "%s", outbox_usage);
		return 2;
	}
	/* an existing database only: a mistyped --data must not make a new one */
	if ((size_t)snprintf(path, sizeof(path), "%s/tinchi.db", dir) >= sizeof(path) ||
	    stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "tinchi outbox: no database in %s (see --data)\n", dir);
		return 2;
	}
	log_set_level(LOG_WARN);
	/* no TRUNCATE checkpoint at the close: it would hold a running
	 * server's writers while it waits for its readers (the server's own
	 * checkpointer, or the last connection to close, does it) */
	store_set_wal_external(1);
	if ((rc = store_open(dir, &st)) != 0) {
		fprintf(stderr, "tinchi outbox: cannot open the data folder %s: %s\n", dir,
			tc_strerror(rc));
		return 1;
	}
	/* a running server's writers hold the lock a few milliseconds at a time */
	store_set_busy_timeout(st, 5000);
	rc = outbox_prune_all(st, (int64_t)time(NULL) - (int64_t)days * 86400, OUTBOX_PRUNE_BATCH,
			      pause_batch, NULL, &deleted);
	store_close(st);
	if (rc) {
		fprintf(stderr, "tinchi outbox prune: stopped after %" PRId64 " event(s): %s\n",
			deleted, tc_strerror(rc));
		return 1;
	}
	printf("outbox: deleted %" PRId64 " event(s) consumed more than %ld day(s) ago\n",
	       deleted, days);
	return 0;
}
