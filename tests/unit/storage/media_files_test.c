/*
 * media_files_test.c - tests for storage/media_files.c: folder names, the
 * master playlist, signing playlists, and the life of a lecture's folder
 * (job folder, publish, install, discard, clean) in a mkdtemp data folder
 * whose content store holds the WebVTT files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/content.h"
#include "storage/media_files.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define UID "0123abcd-4567-4def-8abc-0123456789ab"
#define UID2 "0123abcd-4567-4def-8abc-0123456789ac"

static char tmp[512];		/* the mkdtemp folder */
static char data[600];		/* tmp/data */

/* ---- helpers ------------------------------------------------------------ */

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The whole file at PATH (free()), or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Is the file at PATH exactly WANT? */
static int
file_is(const char *path, const char *want)
{
	char *got = slurp(path);
	int same = got && strcmp(got, want) == 0;

	if (got && !same)
		printf("# %s holds:\n# %s\n", path, got);
	free(got);
	return same;
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* DIR/SUB into OUT. */
static const char *
at(char out[PATH_MAX], const char *dir, const char *sub)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, sub) >= PATH_MAX)
		out[0] = '\0';
	return out;
}

/* Entries under PATH (any depth): *TMPS the names ending ".tmp", *ALL every one. */
static void
walk(const char *path, int *tmps, int *all)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char sub[PATH_MAX];
		size_t len = strlen(e->d_name);

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(*all)++;
		if (len >= 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
			(*tmps)++;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (is_dir(sub))
			walk(sub, tmps, all);
	}
	closedir(d);
}

static int
count_tmp(const char *path)
{
	int tmps = 0, all = 0;

	walk(path, &tmps, &all);
	return tmps;
}

static int
count_entries(const char *path)
{
	int tmps = 0, all = 0;

	walk(path, &tmps, &all);
	return all;
}

/* Entries of the folder PATH whose names start with PREFIX. */
static int
count_prefix(const char *path, const char *prefix)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Stores TEXT in the content store; HASH receives its name. */
static int
store_text(const char *text, char hash[CONTENT_HASH_LEN + 1])
{
	struct content_writer *w = NULL;
	int rc = content_begin(data, &w);

	hash[0] = '\0';
	if (rc)
		return rc;
	if ((rc = content_write(w, text, strlen(text)))) {
		content_abort(w);
		return rc;
	}
	return content_commit(w, hash);
}

static void
make_rendition(struct media_rendition *r, const char *name, int w, int h, double fps,
	       int64_t bw, int64_t avg, const char *codecs)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->width = w;
	r->height = h;
	r->frame_rate = fps;
	r->bandwidth = bw;
	r->average_bandwidth = avg;
	snprintf(r->codecs, sizeof(r->codecs), "%s", codecs);
	r->segments = 11;
	r->duration = 61.4;
}

/* A result with renditions original, 360p and audio (in that order). */
static void
make_result(struct media_result *res)
{
	memset(res, 0, sizeof(*res));
	res->info.duration = 61.5;
	make_rendition(&res->r[0], "original", 1280, 720, 25, 2500000, 2000000,
		       "avc1.64001f,mp4a.40.2");
	make_rendition(&res->r[1], "360p", 640, 360, 29.97, 500000, 420000,
		       "avc1.4d401e,mp4a.40.2");
	make_rendition(&res->r[2], "audio", 0, 0, 0, 70000, 64000, "mp4a.40.2");
	res->nr = 3;
	res->poster = 1;
}

static void
make_cap(struct media_caption_file *c, const char *lang, const char *label, const char *sha)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->lang, sizeof(c->lang), "%s", lang);
	snprintf(c->label, sizeof(c->label), "%s", label);
	snprintf(c->sha256, sizeof(c->sha256), "%s", sha);
}

#define SHA_A "aaaaaaaa11111111111111111111111111111111111111111111111111111111"
#define SHA_B "bbbbbbbb22222222222222222222222222222222222222222222222222222222"

#define STREAMS_360P \
	"#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=420000," \
	"CODECS=\"avc1.4d401e,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=29.970"
#define STREAMS_ORIGINAL \
	"#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000," \
	"CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=25.000"
#define STREAMS_AUDIO \
	"#EXT-X-STREAM-INF:BANDWIDTH=70000,AVERAGE-BANDWIDTH=64000,CODECS=\"mp4a.40.2\""

#define MASTER_HEAD "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"

static const char master_plain[] =
	MASTER_HEAD
	STREAMS_360P "\n360p/index.m3u8\n"
	STREAMS_ORIGINAL "\noriginal/index.m3u8\n"
	STREAMS_AUDIO "\naudio/index.m3u8\n";

/* ---- tests -------------------------------------------------------------- */

static void
test_dir_path(void)
{
	char out[PATH_MAX], want[PATH_MAX];

	is_int(media_dir_path(data, UID, out), 0, "media_dir_path of a UUID");
	snprintf(want, sizeof(want), "%s/media/%s", data, UID);
	is_str(out, want, "DATA/media/UID");
	is_int(media_dir_path(data, "../x", out), TC_EINVALID, "\"../x\": TC_EINVALID");
	is_int(media_dir_path(data, "0123ABCD-4567-4DEF-8ABC-0123456789AB", out), TC_EINVALID,
	       "upper case: TC_EINVALID");
	is_int(media_dir_path(data, "0123abcd-4567-4def", out), TC_EINVALID,
	       "short: TC_EINVALID");
	is_int(media_dir_path(data, UID "0", out), TC_EINVALID, "37 characters: TC_EINVALID");
	is_int(media_dir_path(data, "0123abcd-4567-4def-8abc-0123456789a/", out), TC_EINVALID,
	       "a slash in place of a digit: TC_EINVALID");
	is_int(media_dir_path(data, "0123abcd-4567-4def-8abc/0123456789ab", out), TC_EINVALID,
	       "a slash in place of a dash: TC_EINVALID");
	is_int(media_dir_path(data, "", out), TC_EINVALID, "empty: TC_EINVALID");
	is_int(media_dir_path(data, NULL, out), TC_EINVALID, "NULL: TC_EINVALID");
	is_int(media_tmp_create(data, "node", "../x", out), TC_EINVALID,
	       "media_tmp_create of a non-UUID: TC_EINVALID");
	is_int(media_dir_install(data, "../x", "/nonexistent"), TC_EINVALID,
	       "media_dir_install of a non-UUID: TC_EINVALID");
	is_int(media_dir_discard(data, "../x"), TC_EINVALID,
	       "media_dir_discard of a non-UUID: TC_EINVALID");
	ok(!exists(at(want, data, "media/.tmp")), "nothing was created for them");
}

static void
test_master(void)
{
	struct media_result res;
	struct media_caption_file caps[3];
	struct dynbuf b;

	make_result(&res);
	dynbuf_init(&b, 1 << 16);
	is_int(media_master_playlist(&res, NULL, 0, &b), 0, "master playlist without captions");
	is_str(dynbuf_str(&b), master_plain, "its exact text, 360p listed first");

	dynbuf_reset(&b);
	make_cap(&caps[0], "vi", "Tiếng Việt", SHA_A);
	make_cap(&caps[1], "en", "Tiếng Việt", SHA_B);
	is_int(media_master_playlist(&res, caps, 2, &b), 0, "master playlist with two captions");
	is_str(dynbuf_str(&b),
	       MASTER_HEAD
	       "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"vi\","
	       "NAME=\"Tiếng Việt (vi)\",DEFAULT=NO,AUTOSELECT=YES,URI=\"captions/vi.m3u8\"\n"
	       "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"en\","
	       "NAME=\"Tiếng Việt (en)\",DEFAULT=NO,AUTOSELECT=YES,URI=\"captions/en.m3u8\"\n"
	       STREAMS_360P ",SUBTITLES=\"subs\"\n360p/index.m3u8\n"
	       STREAMS_ORIGINAL ",SUBTITLES=\"subs\"\noriginal/index.m3u8\n"
	       STREAMS_AUDIO ",SUBTITLES=\"subs\"\naudio/index.m3u8\n",
	       "subtitle group, duplicate labels made unique with their tags, SUBTITLES on every variant");

	dynbuf_reset(&b);
	make_cap(&caps[0], "fr", "", SHA_A);
	is_int(media_master_playlist(&res, caps, 1, &b), 0, "captions without a label");
	ok(strstr(dynbuf_str(&b), "LANGUAGE=\"fr\",NAME=\"fr\",") != NULL,
	   "NAME falls back to the language tag");

	/* audio only, unknown bandwidths */
	memset(&res, 0, sizeof(res));
	make_rendition(&res.r[0], "audio", 0, 0, 0, 0, 0, "mp4a.40.2");
	res.nr = 1;
	dynbuf_reset(&b);
	is_int(media_master_playlist(&res, NULL, 0, &b), 0, "an audio-only lecture");
	is_str(dynbuf_str(&b),
	       MASTER_HEAD "#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1,"
	       "CODECS=\"mp4a.40.2\"\naudio/index.m3u8\n",
	       "one variant, no RESOLUTION or FRAME-RATE, bandwidth at least 1");
	dynbuf_cleanup(&b);
}

/* RFC 8216 4.4.6.1: every EXT-X-MEDIA tag of a group has a different NAME.
 * Labels are the lecturers' own text, so one may be another's name with
 * " (lang)" added. */
static void
test_master_names_unique(void)
{
	struct media_result res;
	struct media_caption_file caps[3];
	struct dynbuf b;
	char names[3][128];
	const char *p;
	int n = 0, same = 0;

	make_result(&res);
	make_cap(&caps[0], "en", "English", SHA_A);
	make_cap(&caps[1], "en-GB", "English", SHA_B);
	make_cap(&caps[2], "en-US", "English (en-GB)", SHA_A);
	dynbuf_init(&b, 1 << 16);
	is_int(media_master_playlist(&res, caps, 3, &b), 0, "three captions");
	for (p = dynbuf_str(&b); n < 3 && (p = strstr(p, "NAME=\"")) != NULL; n++) {
		const char *q = strchr(p + 6, '"');

		snprintf(names[n], sizeof(names[n]), "%.*s", q ? (int)(q - p - 6) : 0, p + 6);
		printf("# NAME %d: %s\n", n + 1, names[n]);
		p += 6;
	}
	is_int(n, 3, "three NAME attributes");
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			same += strcmp(names[i], names[k]) == 0;
	is_int(same, 0, "every NAME in the SUBTITLES group is different");
	dynbuf_cleanup(&b);
}

/* media_playlist_sign of TEXT (LEN bytes) with "t=abc"; its text, or "ERROR n". */
static char *
signed_text(const char *text, size_t len, int *rc)
{
	struct dynbuf b;
	char *s;

	dynbuf_init(&b, 1 << 16);
	*rc = media_playlist_sign(text, len, "t=abc", &b);
	s = strdup(dynbuf_str(&b));
	dynbuf_cleanup(&b);
	return s;
}

static void
test_sign(void)
{
	static const char media[] =
		"#EXTM3U\n"
		"#EXT-X-VERSION:7\n"
		"#EXT-X-TARGETDURATION:6\n"
		"#EXT-X-MAP:URI=\"init.mp4\"\n"
		"#EXTINF:6.000,\n"
		"seg_00001.m4s\n"
		"\n"
		"#EXTINF:6.000,\r\n"
		"seg_00002.m4s?x=1\r\n"
		"\r\n"
		"#EXT-X-ENDLIST\n"
		"sub/seg_00003.m4s";
	static const char media_signed[] =
		"#EXTM3U\n"
		"#EXT-X-VERSION:7\n"
		"#EXT-X-TARGETDURATION:6\n"
		"#EXT-X-MAP:URI=\"init.mp4?t=abc\"\n"
		"#EXTINF:6.000,\n"
		"seg_00001.m4s?t=abc\n"
		"\n"
		"#EXTINF:6.000,\r\n"
		"seg_00002.m4s?x=1&t=abc\r\n"
		"\r\n"
		"#EXT-X-ENDLIST\n"
		"sub/seg_00003.m4s?t=abc";
	static const char master[] =
		"#EXTM3U\r\n"
		"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"vi\","
		"URI=\"captions/vi.m3u8\",AUTOSELECT=YES\r\n"
		"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",URI=\"c.m3u8?a=b\"\n"
		"#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a.40.2\",SUBTITLES=\"subs\"\n"
		"audio/index.m3u8\n";
	static const char master_signed[] =
		"#EXTM3U\r\n"
		"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"vi\","
		"URI=\"captions/vi.m3u8?t=abc\",AUTOSELECT=YES\r\n"
		"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\","
		"URI=\"c.m3u8?a=b&t=abc\"\n"
		"#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a.40.2\",SUBTITLES=\"subs\"\n"
		"audio/index.m3u8?t=abc\n";
	static const char bad[] = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\n#EXTINF:6,\nseg.m4s\n";
	char *s;
	int rc = -1;

	s = signed_text(media, strlen(media), &rc);
	is_int(rc, 0, "sign a media playlist");
	is_str(s, media_signed, "segment URIs, EXT-X-MAP URI; CRLF, empty and last lines kept");
	free(s);
	s = signed_text(master, strlen(master), &rc);
	is_int(rc, 0, "sign a master playlist");
	is_str(s, master_signed, "EXT-X-MEDIA URIs and variant URIs; tags without URI kept");
	free(s);
	s = signed_text(media, 33, &rc);
	is_int(rc, 0, "sign only the first LEN bytes");
	is_str(s, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-T", "the text ends at LEN");
	free(s);
	{
		/* the token goes to nothing outside the lecture's folder */
		static const char *const foreign[] = {
			"../360p/seg_00003.m4s\n", "/media/x/seg.m4s\n", "https://evil.example/x.m3u8\n",
			"#EXT-X-MAP:URI=\"//evil.example/init.mp4\"\n",
			"#EXT-X-MEDIA:TYPE=SUBTITLES,URI=\"file:/etc/passwd\"\n", "a/../../b.m4s\n",
			/* browsers read a backslash as a slash: \\host is //host */
			"\\\\evil.example/x.m4s\n", "\\evil.example\\x.m4s\n", "a\\..\\..\\b.m4s\n",
			"seg 1.m4s\n", "seg%2f..%2fx.m4s\n", "seg\tx.m4s\n", "#EXT-X-MAP:URI=\"\\\\e.example/i.mp4\"\n",
		};
		for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
			s = signed_text(foreign[i], strlen(foreign[i]), &rc);
			is_int(rc, TC_EINVALID, foreign[i]);
			free(s);
		}
	}
	s = signed_text("index.m3u8", 10, &rc);
	is_int(rc, 0, "one URI without a newline");
	is_str(s, "index.m3u8?t=abc", "signed");
	free(s);
	s = signed_text("", 0, &rc);
	is_int(rc, 0, "empty text");
	is_str(s, "", "stays empty");
	free(s);
	s = signed_text("\n\n", 2, &rc);
	is_int(rc, 0, "only empty lines");
	is_str(s, "\n\n", "kept as they are");
	free(s);
	s = signed_text(bad, strlen(bad), &rc);
	is_int(rc, TC_EINVALID, "a URI attribute without its closing quote: TC_EINVALID");
	free(s);
	s = signed_text(bad + 8, 24, &rc);
	is_int(rc, TC_EINVALID, "the same on the last line: TC_EINVALID");
	free(s);
}

static void
test_folders(void)
{
	static const char vtt_vi[] = "WEBVTT\n\n00:00.000 --> 00:01.500\nXin chào các bạn\n";
	static const char vtt_en[] = "WEBVTT\n\n00:00.000 --> 00:01.500\nHello everyone\n";
	static const char vtt_en2[] = "WEBVTT\n\n00:00.000 --> 00:01.500\nHello, everyone!\n";
	struct media_result res;
	struct media_caption_file caps[2];
	struct dynbuf b;
	char job[PATH_MAX], job2[PATH_MAX], pub[PATH_MAX], p[PATH_MAX], want[PATH_MAX];
	char name_vi[64], name_en[64], name_en2[64], pl[512];
	char sha_vi[65], sha_en[65], sha_en2[65];

	make_result(&res);
	ok(store_text(vtt_vi, sha_vi) == 0 && store_text(vtt_en, sha_en) == 0 &&
	   store_text(vtt_en2, sha_en2) == 0, "three WebVTT files in the content store");
	snprintf(name_vi, sizeof(name_vi), "captions/vi-%.8s.vtt", sha_vi);
	snprintf(name_en, sizeof(name_en), "captions/en-%.8s.vtt", sha_en);
	snprintf(name_en2, sizeof(name_en2), "captions/en-%.8s.vtt", sha_en2);

	/* a job folder */
	is_int(media_tmp_create(data, "node", UID, job), 0, "media_tmp_create");
	snprintf(want, sizeof(want), "%s/media/.tmp/job.node.%s-", data, UID);
	ok(strncmp(job, want, strlen(want)) == 0 && strlen(job) == strlen(want) + 16,
	   "the job folder is DATA/media/.tmp/job.<node>.UID-<16 hex>");
	ok(is_dir(job) && count_entries(job) == 0, "it exists and is empty");
	is_int(media_tmp_create(data, "node", UID, job2), 0, "a second job folder for the same uid");
	ok(strcmp(job, job2) != 0 && is_dir(job2), "it is another folder");
	mkdir(at(p, job, "360p"), 0755);
	write_file(at(p, job, "360p/index.m3u8"), "#EXTM3U\n");

	/* publish with two captions */
	make_cap(&caps[0], "en", "English", sha_en);
	make_cap(&caps[1], "vi", "Tiếng Việt", sha_vi);
	is_int(media_dir_publish(data, job, &res, caps, 2), 0, "publish with two captions");
	dynbuf_init(&b, 1 << 16);
	media_master_playlist(&res, caps, 2, &b);
	ok(file_is(at(p, job, "master.m3u8"), dynbuf_str(&b)),
	   "master.m3u8 is media_master_playlist's text");
	dynbuf_cleanup(&b);
	ok(file_is(at(p, job, name_vi), vtt_vi), "captions/vi-<hash8>.vtt holds the vi bytes");
	ok(file_is(at(p, job, name_en), vtt_en), "captions/en-<hash8>.vtt holds the en bytes");
	snprintf(pl, sizeof(pl), "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:62\n"
		 "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:61.500,\n"
		 "vi-%.8s.vtt\n#EXT-X-ENDLIST\n", sha_vi);
	ok(file_is(at(p, job, "captions/vi.m3u8"), pl), "captions/vi.m3u8 lists the vi file");
	snprintf(pl, sizeof(pl), "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:62\n"
		 "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:61.500,\n"
		 "en-%.8s.vtt\n#EXT-X-ENDLIST\n", sha_en);
	ok(file_is(at(p, job, "captions/en.m3u8"), pl), "captions/en.m3u8 lists the en file");
	is_int(count_entries(at(p, job, "captions")), 4, "four files in captions/");
	ok(file_is(at(p, job, "360p/index.m3u8"), "#EXTM3U\n"), "the rendition is untouched");
	is_int(count_tmp(job), 0, "no .tmp file left");

	/* the vi captions removed, the en ones replaced */
	make_cap(&caps[0], "en", "English", sha_en2);
	is_int(media_dir_publish(data, job, &res, caps, 1), 0, "publish again without vi");
	ok(!exists(at(p, job, "captions/vi.m3u8")) && !exists(at(p, job, name_vi)),
	   "the vi files are gone");
	ok(!exists(at(p, job, name_en)), "the replaced en file is gone");
	ok(file_is(at(p, job, name_en2), vtt_en2), "the new en file is there");
	is_int(count_entries(at(p, job, "captions")), 2, "two files in captions/");
	dynbuf_init(&b, 1 << 16);
	media_master_playlist(&res, caps, 1, &b);
	ok(file_is(at(p, job, "master.m3u8"), dynbuf_str(&b)), "master.m3u8 rewritten");
	dynbuf_cleanup(&b);
	is_int(count_tmp(job), 0, "no .tmp file left");

	make_cap(&caps[0], "de", "Deutsch",
		 "cccccccc33333333333333333333333333333333333333333333333333333333");
	ok(media_dir_publish(data, job, &res, caps, 1) != 0,
	   "publish with captions missing from the content store fails");
	is_int(count_tmp(job), 0, "and leaves no .tmp file");

	/* install */
	is_int(media_dir_install(data, UID, job), 0, "media_dir_install");
	media_dir_path(data, UID, pub);
	ok(is_dir(pub), "DATA/media/UID appears");
	ok(!exists(job), "the job folder is gone");
	ok(file_is(at(p, pub, "360p/index.m3u8"), "#EXTM3U\n") && exists(at(p, pub, name_en2)),
	   "with everything in it");
	is_int(media_dir_publish(data, pub, &res, NULL, 0), 0,
	   "the published folder is published again without captions");
	is_int(count_entries(at(p, pub, "captions")), 0, "captions/ is empty");
	ok(file_is(at(p, pub, "master.m3u8"), master_plain), "master.m3u8 without captions");

	/* installing again replaces it */
	write_file(at(p, job2, "poster.jpg"), "2");
	is_int(media_dir_publish(data, job2, &res, NULL, 0), 0, "publish the second job folder");
	is_int(media_dir_install(data, UID, job2), 0, "install it over the first");
	ok(file_is(at(p, pub, "poster.jpg"), "2") && !exists(at(p, pub, "360p")),
	   "the published folder is the second one only");
	ok(!exists(job2), "the second job folder is gone");
	ok(snprintf(p, sizeof(p), "%s.old", pub) < (int)sizeof(p) && !exists(p),
	   "no UID.old folder is left");
	is_int(count_entries(at(p, data, "media/.tmp")), 0, "DATA/media/.tmp is empty");
	ok(media_dir_install(data, UID, job2) != 0, "installing a job folder that is gone fails");
	ok(file_is(at(p, pub, "poster.jpg"), "2"), "and leaves the published folder in place");
	/* (if it was left as UID.old, put it back so that what follows still
	 * tests discarding a published folder) */
	if (!exists(pub) && snprintf(p, sizeof(p), "%s.old", pub) < (int)sizeof(p))
		rename(p, pub);

	/* discard */
	is_int(media_tmp_create(data, "node", UID2, job), 0, "a job folder of another lecture");
	is_int(media_dir_discard(data, UID), 0, "media_dir_discard");
	ok(!exists(pub), "the published folder disappears at once");
	is_int(count_prefix(at(p, data, "media/.tmp"), "trash-"), 1, "moved aside as trash-...");
	is_int(media_dir_discard(data, UID), 0, "discarding it again: 0");
	is_int(media_trash_clean(data), 0, "media_trash_clean");
	is_int(count_prefix(at(p, data, "media/.tmp"), "trash-"), 0, "the trash is gone");
	ok(is_dir(job), "a job folder in .tmp is not trash");

	/* tmp clean, then discard without DATA/media/.tmp */
	is_int(media_tmp_clean(data, "node"), 0, "media_tmp_clean");
	ok(!exists(job) && count_entries(at(p, data, "media/.tmp")) == 0,
	   "every job folder of the node is gone");
	is_int(media_tmp_clean(data, "node"), 0, "media_tmp_clean again: 0");
	is_int(media_trash_clean(data), 0, "media_trash_clean without .tmp: 0");
	mkdir(pub, 0755);
	write_file(at(p, pub, "master.m3u8"), "#EXTM3U\n");
	is_int(media_dir_discard(data, UID), 0, "discard when DATA/media/.tmp is missing");
	ok(!exists(pub) && count_prefix(at(p, data, "media/.tmp"), "trash-") == 1,
	   "the folder went to the trash");
	is_int(media_trash_clean(data), 0, "media_trash_clean");
	is_int(count_entries(at(p, data, "media")), 1, "only DATA/media/.tmp is left");
}

static void
test_remove(void)
{
	char root[PATH_MAX], outside[PATH_MAX], p[PATH_MAX], deep[PATH_MAX];
	int i;

	snprintf(root, sizeof(root), "%s/tree", tmp);
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	mkdir(root, 0755);
	mkdir(outside, 0755);
	write_file(at(p, outside, "keep"), "keep");
	mkdir(at(p, root, "a"), 0755);
	mkdir(at(p, root, "a/b"), 0755);
	mkdir(at(p, root, "a/b/c"), 0755);
	write_file(at(p, root, "a/b/c/file"), "x");
	write_file(at(p, root, "a/file"), "x");
	write_file(at(p, root, ".hidden"), "x");
	mkdir(at(p, root, "empty"), 0755);
	ok(symlink(outside, at(p, root, "a/link")) == 0, "(a link to a folder outside)");
	if (snprintf(deep, sizeof(deep), "%s/d", root) >= (int)sizeof(deep))
		deep[0] = '\0';
	mkdir(deep, 0755);
	for (i = 0; i < 40; i++) {
		strncat(deep, "/d", sizeof(deep) - strlen(deep) - 1);
		mkdir(deep, 0755);
	}
	write_file(at(p, deep, "bottom"), "x");
	ok(count_entries(root) > 45, "a nested tree");
	is_int(media_dir_remove(root), 0, "media_dir_remove");
	ok(!exists(root), "the tree is gone");
	ok(file_is(at(p, outside, "keep"), "keep"), "the folder a link pointed at is intact");
	is_int(media_dir_remove(root), 0, "a missing folder: 0");
	ok(symlink(outside, root) == 0, "(a link named like the folder)");
	media_dir_remove(root);
	ok(file_is(at(p, outside, "keep"), "keep"), "a link given as DIR is not followed");
	unlink(root);
}

/* A job folder is written by the worker, which is untrusted: nothing in it
 * is followed, and only known names as plain, singly linked files pass. */
static void
test_untrusted(void)
{
	struct media_result res;
	char job[PATH_MAX], other[PATH_MAX], victim[PATH_MAX], p[PATH_MAX], q[PATH_MAX];

	memset(&res, 0, sizeof(res));
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	mkdir(victim, 0755);
	write_file(at(p, victim, "keep.txt"), "precious");

	is_int(media_tmp_create(data, "node", UID, job), 0, "a job folder");
	ok(symlink(victim, at(p, job, "captions")) == 0, "the worker made captions/ a symbolic link");
	is_int(media_dir_publish(data, job, &res, NULL, 0), TC_EINVALID,
	       "publishing it is refused");
	ok(file_is(at(p, victim, "keep.txt"), "precious"), "nothing was deleted through the link");
	is_int(media_dir_install(data, UID, job), TC_EINVALID, "installing it is refused");
	unlink(at(p, job, "captions"));

	ok(link(at(q, victim, "keep.txt"), at(p, job, "poster.jpg")) == 0,
	   "the worker hard-linked poster.jpg to a file of the server's");
	is_int(media_dir_install(data, UID, job), TC_EINVALID, "installing it is refused");
	unlink(at(p, job, "poster.jpg"));

	write_file(at(p, job, "evil.html"), "<script>");
	is_int(media_dir_install(data, UID, job), TC_EINVALID, "an unknown name is refused");
	unlink(at(p, job, "evil.html"));
	mkdir(at(p, job, "360p"), 0755);
	write_file(at(p, job, "360p/seg_1.m4s"), "x");
	is_int(media_dir_install(data, UID, job), TC_EINVALID,
	       "a segment name of the wrong shape is refused");
	unlink(at(p, job, "360p/seg_1.m4s"));
	write_file(at(p, job, "360p/.seg_00001.m4s.ab12.tmp"), "x");
	write_file(at(p, job, "360p/seg_00001.m4s"), "x");
	is_int(media_dir_publish(data, job, &res, NULL, 0), 0,
	   "known names and a left-over temporary file pass");

	/* another node's job folders survive this node's clean-up */
	is_int(media_tmp_create(data, "other-node", UID2, other), 0, "another node's job folder");
	is_int(media_tmp_clean(data, "node"), 0, "this node cleans up");
	ok(!exists(job) && is_dir(other), "its own folder went, the other node's stayed");
	is_int(media_tmp_clean(data, "other-node"), 0, "the other node cleans up");
	ok(!exists(other), "and its folder goes");
}

int
main(void)
{

	log_set_level(LOG_ERROR);
	if (test_tmpdir_make(tmp, sizeof(tmp), "media-files") != 0) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	if (store_prepare_dir(data) != 0) {
		printf("Bail out! cannot prepare %s\n", data);
		return 1;
	}

	test_dir_path();
	test_master();
	test_master_names_unique();
	test_sign();
	test_folders();
	test_remove();
	test_untrusted();

	if (test_tmpdir_remove(tmp) != 0)
		diag("could not remove the temporary folder");
	return done_testing();
}
