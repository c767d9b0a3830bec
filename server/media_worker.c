/*
 * media_worker.c - `tinchi media-worker [--renditions LIST] OUTDIR`: the
 * child side of
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
 *
 * --renditions LIST (a comma list of original, 360p, audio; default all)
 * makes only those (media_package's RENDITIONS): the server never passes
 * it; it is there to measure one part of the work, e.g. the stream copy
 * alone (scripts/bench/media.sh).
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
	"usage: tinchi media-worker [--renditions LIST] OUTDIR < FILE\n\n"
	"Internal: started by the server (in a sandbox) to process one uploaded\n"
	"recording. Reads FILE from standard input, writes the HLS renditions and\n"
	"poster into OUTDIR (existing and empty) and reports progress and the\n"
	"result as JSON lines on standard output.\n\n"
	"  --renditions LIST  only these, a comma list of original, 360p, audio\n"
	"                     (default: all); the poster is made only when the\n"
	"                     video is decoded anyway (not for original alone)\n";

/* MEDIA_* bits of a comma list such as "original,audio"; 0 when a name is
 * unknown or the list is empty. */
static unsigned
parse_renditions(const char *list)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "original", MEDIA_ORIGINAL }, { "360p", MEDIA_360P }, { "audio", MEDIA_AUDIO },
	};
	unsigned mask = 0;

	while (*list) {
		size_t n = strcspn(list, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(names[i].name, list, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return 0;
		mask |= names[i].bit;
		list += n + (list[n] == ',');
	}
	return mask;
}

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
	unsigned want = MEDIA_ALL;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("%s", worker_usage);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--renditions") == 0) {
		want = parse_renditions(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2 || argv[1][0] == '-' || want == 0) {
		fprintf(stderr, "%s", worker_usage);
		return 2;
	}
	media_log_level(LOG_ERROR);
	rc = media_package(STDIN_FILENO, argv[1], want, on_progress, NULL, &res, why, sizeof(why));
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
