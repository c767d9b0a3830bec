/*
 * media_worker.c - `tinchi media-worker OUTDIR`: the child side of
 * media_sandbox.h. Standard input is the uploaded file (a regular file,
 * read through its descriptor only), standard output the pipe to the
 * server: one JSON object a line, each written whole with write(2) so
 * that nothing waits in a stdio buffer when the process is killed.
 *
 *   {"stage":"package","percent":42}
 *   {"ok":true,"result":{...}}                               exit 0
 *   {"ok":false,"code":"invalid","error":"the file ..."}     exit 1
 * "code" is tc_strerror() of the failure ("invalid", "unsupported", ...).
 * Exit status 2: the command line was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "server/media_sandbox.h"
#include "storage/media.h"

static const char worker_usage[] =
	"usage: tinchi media-worker OUTDIR < FILE\n\n"
	"Internal: started by the server (in a sandbox) to process one uploaded\n"
	"recording. Reads FILE from standard input, writes the HLS renditions and\n"
	"poster into OUTDIR (existing and empty) and reports progress and the\n"
	"result as JSON lines on standard output.\n";

/* Writes O (stolen) as one line on standard output. */
static int
write_line(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len, off = 0;
	int rc = 0;

	json_decref(o);
	if (!s)
		return TC_ENOMEM;
	len = strlen(s);
	s[len++] = '\n';		/* json_dumps' NUL becomes the newline */
	while (off < len) {
		ssize_t n = write(STDOUT_FILENO, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = TC_EIO;
			break;
		}
		off += (size_t)n;
	}
	free(s);
	return rc;
}

static void
on_progress(void *arg, const char *stage, int percent)
{
	(void)arg;
	write_line(json_pack("{s:s, s:i}", "stage", stage, "percent", percent));
}

int
media_worker_main(int argc, char **argv)
{
	struct media_result res;
	char why[512], *text = NULL;
	json_t *result = NULL;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s", worker_usage);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "%s", worker_usage);
		return 2;
	}
	media_log_level(LOG_ERROR);
	rc = media_package(STDIN_FILENO, argv[1], on_progress, NULL, &res, why, sizeof(why));
	if (rc == 0) {
		text = media_result_json(&res);
		result = text ? json_loads(text, 0, NULL) : NULL;
		free(text);
		if (!result) {
			rc = TC_ENOMEM;
			snprintf(why, sizeof(why), "there was not enough memory to report the result");
		}
	}
	if (rc == 0)
		rc = write_line(json_pack("{s:b, s:o}", "ok", 1, "result", result));
	else
		write_line(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", tc_strerror(rc),
				     "error", why[0] ? why : tc_strerror(rc)));
	return rc ? 1 : 0;
}
