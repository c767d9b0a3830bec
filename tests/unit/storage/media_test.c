/*
 * media_test.c - tests for storage/media.c (probe, HLS packaging, JSON) and
 * server/media_sandbox.c with server/media_worker.c (the worker process).
 *
 * The inputs are made with the ffmpeg command in a mkdtemp folder, a few
 * seconds each; without ffmpeg on PATH the whole test is skipped. The
 * outputs are checked by reading the playlists and by decoding them again
 * with `ffmpeg -xerror`. The sandbox part starts the real worker, the
 * tinchi binary named by TINCHI_BIN (set by `make check`), and is skipped
 * without it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "courses/errors.h"
#include "server/media_sandbox.h"
#include "storage/media.h"
#include "tests/tap.h"

#define WHY 512

static char tmp[PATH_MAX];

static const char *
at(const char *name)
{
	static char buf[4][PATH_MAX + 64];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmp, name);
	return buf[k];
}

/* Runs a shell command; 1 when it exits 0. */
static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Makes TMP/NAME with ffmpeg ARGS (inputs and codecs); bails out when
 * ffmpeg fails, as every test after would be meaningless. */
static void
gen(const char *name, const char *args)
{
	if (sh("ffmpeg -nostdin -hide_banner -v error -y %s '%s' >'%s' 2>&1", args, at(name),
	       at("ffmpeg.log")))
		return;
	printf("# ffmpeg %s %s failed:\n", args, name);
	sh("sed 's/^/# /' '%s'", at("ffmpeg.log"));
	printf("Bail out! cannot make the test input %s\n", name);
	exit(1);
}

static int
on_path(const char *prog)
{
	const char *p = getenv("PATH");
	char dir[PATH_MAX + 64];

	while (p && *p) {
		size_t n = strcspn(p, ":");

		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, prog);
		if (n && access(dir, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* Standard output of a command, at most OUTLEN - 1 bytes. */
static int __attribute__((format(printf, 3, 4)))
capture(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *fp;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	out[0] = '\0';
	fp = popen(cmd, "r");
	if (!fp)
		return -1;
	n = fread(out, 1, outlen - 1, fp);
	out[n] = '\0';
	return pclose(fp) == 0 ? 0 : -1;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- progress ------------------------------------------------------------ */

struct prog {
	int calls, last, bad;
	char stage[16];
};

static void
on_progress(void *arg, const char *stage, int percent)
{
	struct prog *p = arg;

	if (percent < 0 || percent > 100 || (p->calls && percent <= p->last) ||
	    (strcmp(stage, "probe") && strcmp(stage, "package") && strcmp(stage, "poster")))
		p->bad = 1;
	p->calls++;
	p->last = percent;
	snprintf(p->stage, sizeof(p->stage), "%s", stage);
}

/* Packages TMP/NAME into TMP/OUT (created here), only the renditions of
 * MASK. */
static int
package_only(const char *name, const char *out, unsigned mask, struct media_result *res,
	     char *why, struct prog *p)
{
	int fd = open(at(name), O_RDONLY | O_CLOEXEC), rc;

	if (p)
		memset(p, 0, sizeof(*p));
	if (fd < 0 || mkdir(at(out), 0755) != 0) {
		printf("Bail out! cannot open %s or make %s\n", name, out);
		exit(1);
	}
	rc = media_package(fd, at(out), mask, p ? on_progress : NULL, p, res, why, WHY);
	close(fd);
	if (rc)
		printf("# %s: %s (%s)\n", name, why, tc_strerror(rc));
	return rc;
}

/* Packages TMP/NAME into TMP/OUT: every rendition. */
static int
package(const char *name, const char *out, struct media_result *res, char *why, struct prog *p)
{
	return package_only(name, out, MEDIA_ALL, res, why, p);
}

/* CPU seconds this process (every thread: the codecs' too) used so far. */
static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Entries in TMP/DIR besides . and .. (-1: cannot be read). */
static int
entries(const char *dir)
{
	struct dirent *e;
	DIR *dp = opendir(at(dir));
	int n = 0;

	if (!dp)
		return -1;
	while ((e = readdir(dp)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dp);
	return n;
}

static int
probe(const char *name, struct media_info *info, char *why)
{
	int fd = open(at(name), O_RDONLY | O_CLOEXEC), rc;

	rc = media_probe(fd, info, why, WHY);
	close(fd);
	return rc;
}

static const struct media_rendition *
rendition(const struct media_result *res, const char *name)
{
	for (int i = 0; i < res->nr; i++)
		if (strcmp(res->r[i].name, name) == 0)
			return &res->r[i];
	return NULL;
}

/* ---- output checks ------------------------------------------------------- */

/*
 * Checks DIR/index.m3u8 (DIR relative to the test folder): the tags of a
 * version-7 fMP4 VOD playlist, every listed segment present and non-empty,
 * each EXTINF at most MAXDUR and all but the last at least MINDUR, no
 * temporary file left in DIR. Prints what is wrong.
 */
static int
playlist_ok(const char *dir, double mindur, double maxdur)
{
	static const char *const tags[] = {
		"#EXTM3U\n", "#EXT-X-VERSION:7\n", "#EXT-X-PLAYLIST-TYPE:VOD\n",
		"#EXT-X-INDEPENDENT-SEGMENTS\n", "#EXT-X-MAP:URI=\"init.mp4\"\n", "#EXT-X-ENDLIST\n",
	};
	char text[65536], path[2 * PATH_MAX + 300], *line, *next;
	double d = -1, last = -1;
	int fd, n, good = 1, segs = 0, short_ones = 0;
	struct dirent *e;
	struct stat st;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/%s/index.m3u8", tmp, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : (int)read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		printf("# %s: no playlist\n", dir);
		return 0;
	}
	text[n] = '\0';
	if (strncmp(text, "#EXTM3U\n", 8) != 0) {
		printf("# %s: does not start with #EXTM3U\n", dir);
		good = 0;
	}
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strstr(text, tags[i])) {
			printf("# %s: no %s", dir, tags[i]);
			good = 0;
		}
	snprintf(path, sizeof(path), "%s/%s/init.mp4", tmp, dir);
	if (stat(path, &st) != 0 || st.st_size == 0) {
		printf("# %s: no init.mp4\n", dir);
		good = 0;
	}
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "#EXTINF:", 8) == 0) {
			d = strtod(line + 8, NULL);
			continue;
		}
		if (line[0] == '#' || !line[0])
			continue;
		segs++;
		snprintf(path, sizeof(path), "%s/%s/%.255s", tmp, dir, line);
		if (stat(path, &st) != 0 || st.st_size == 0) {
			printf("# %s: segment %s missing\n", dir, line);
			good = 0;
		}
		if (d < 0 || d > maxdur) {
			printf("# %s: segment %s lasts %.3f s (at most %.1f)\n", dir, line, d, maxdur);
			good = 0;
		}
		if (last >= 0 && last < mindur)
			short_ones++;
		last = d;
		d = -1;
	}
	if (segs == 0 || short_ones) {
		printf("# %s: %d segments, %d short ones before the last\n", dir, segs, short_ones);
		good = 0;
	}
	snprintf(path, sizeof(path), "%s/%s", tmp, dir);
	dp = opendir(path);
	while (dp && (e = readdir(dp))) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) {
			printf("# %s: %s left behind\n", dir, e->d_name);
			good = 0;
		}
	}
	if (dp)
		closedir(dp);
	return good;
}

/* ffmpeg decodes DIR/index.m3u8 without an error. */
static int
decodes(const char *dir)
{
	return sh("ffmpeg -nostdin -v error -xerror -i '%s/%s/index.m3u8' -f null - >/dev/null 2>&1",
		  tmp, dir);
}

static int
is_jpeg(const char *path, int *w, int *h)
{
	char out[128];
	unsigned char b[3] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, 3) != 3) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	*w = *h = 0;
	if (capture(out, sizeof(out), "ffprobe -v error -show_entries stream=width,height "
		    "-of csv=p=0 '%s'", path) == 0)
		sscanf(out, "%d,%d", w, h);
	return b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

/* Frames in the video of DIR/index.m3u8. */
static int
video_frames(const char *dir)
{
	char out[64];

	if (capture(out, sizeof(out), "ffprobe -v error -count_frames -select_streams v:0 "
		    "-show_entries stream=nb_read_frames -of csv=p=0 '%s/%s/index.m3u8'", tmp, dir))
		return -1;
	return atoi(out);
}

/* ---- the tests ----------------------------------------------------------- */

static double full_cpu;			/* CPU seconds of the whole job of a.mp4 */

static void
test_h264_aac(void)
{
	struct media_result res, back;
	const struct media_rendition *o, *p, *a;
	struct media_info info;
	struct prog prog;
	char why[WHY], *json;
	int w, h;

	gen("a.mp4", "-f lavfi -i testsrc2=s=640x480:r=30:d=8 -f lavfi -i sine=f=440:d=8 "
	    "-c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -c:a aac -shortest");
	full_cpu = cpu_now();
	is_int(package("a.mp4", "a", &res, why, &prog), 0, "H.264/AAC: packaged");
	full_cpu = cpu_now() - full_cpu;
	is_int(res.nr, 3, "H.264/AAC: three renditions");
	o = rendition(&res, "original");
	p = rendition(&res, "360p");
	a = rendition(&res, "audio");
	ok(o && p && a && o == &res.r[0] && p == &res.r[1] && a == &res.r[2],
	   "H.264/AAC: original, 360p and audio, in that order");
	if (!o || !p || !a)
		return;
	is_str(res.info.container, "mp4", "H.264/AAC: container mp4");
	ok(strcmp(res.info.vcodec, "h264") == 0 && strcmp(res.info.acodec, "aac") == 0 &&
	   res.info.width == 640 && res.info.height == 480 && fabs(res.info.duration - 8) < 0.2 &&
	   fabs(res.info.frame_rate - 30) < 0.01 && !res.info.variable_frame_rate &&
	   res.info.rotation == 0 && res.info.streams == 2,
	   "H.264/AAC: info (codecs, size, duration, frame rate)");
	is_int(o->copy, 1, "H.264/AAC: original is a stream copy");
	ok(o->width == 640 && o->height == 480, "H.264/AAC: original keeps 640x480");
	ok(!p->copy && p->width == 480 && p->height == 360, "H.264/AAC: 360p is encoded at 480x360");
	ok(fabs(p->frame_rate - 30) < 0.01, "H.264/AAC: 360p keeps 30 frames/s");
	ok(strncmp(o->codecs, "avc1.6400", 9) == 0 && strstr(o->codecs, ",mp4a.40.2"),
	   "H.264/AAC: original CODECS from the source's avcC");
	ok(strncmp(p->codecs, "avc1.64", 7) == 0 && strstr(p->codecs, ",mp4a.40.2"),
	   "H.264/AAC: 360p CODECS (High profile, AAC-LC)");
	is_str(a->codecs, "mp4a.40.2", "H.264/AAC: audio CODECS");
	ok(a->width == 0 && a->height == 0 && a->frame_rate == 0, "H.264/AAC: audio has no picture");
	for (int i = 0; i < 3; i++)
		ok(res.r[i].segments == 2 && fabs(res.r[i].duration - 8) < 0.2 &&
		   res.r[i].bandwidth >= res.r[i].average_bandwidth && res.r[i].average_bandwidth > 0,
		   "H.264/AAC: segments, duration and bandwidths of each rendition");
	ok(p->bandwidth < 600000, "H.264/AAC: 360p peak under 600 kbit/s");
	ok(a->average_bandwidth > 50000 && a->average_bandwidth < 90000,
	   "H.264/AAC: audio at about 64 kbit/s");
	ok(playlist_ok("a/original", 5.9, 6.5), "H.264/AAC: original playlist and segments");
	ok(playlist_ok("a/360p", 5.9, 6.5), "H.264/AAC: 360p playlist, 6-s segments");
	ok(playlist_ok("a/audio", 5.9, 6.5), "H.264/AAC: audio playlist, 6-s segments");
	ok(decodes("a/original"), "H.264/AAC: original decodes without an error");
	ok(decodes("a/360p"), "H.264/AAC: 360p decodes without an error");
	ok(decodes("a/audio"), "H.264/AAC: audio decodes without an error");
	ok(res.poster && is_jpeg(at("a/poster.jpg"), &w, &h) && w == 640 && h == 480,
	   "H.264/AAC: poster.jpg is a 640x480 JPEG");
	ok(!exists(at("a/poster.jpg.tmp")), "H.264/AAC: no temporary poster left");
	ok(prog.calls >= 3 && !prog.bad && prog.last == 100 && strcmp(prog.stage, "poster") == 0,
	   "H.264/AAC: progress rises to 100 through probe, package, poster");

	json = media_result_json(&res);
	ok(json && media_result_parse(json, &back) == 0 && back.nr == 3 && back.poster == 1 &&
	   strcmp(back.r[1].codecs, p->codecs) == 0 && back.r[1].bandwidth == p->bandwidth &&
	   back.r[0].copy == 1 && fabs(back.r[2].duration - a->duration) < 1e-6 &&
	   strcmp(back.info.container, "mp4") == 0 && back.info.width == 640,
	   "JSON: the result reads back the same");
	free(json);
	json = media_info_json(&res.info);
	ok(json && strstr(json, "\"vcodec\":\"h264\""), "JSON: media_info_json");
	free(json);

	is_int(probe("a.mp4", &info, why), 0, "probe: H.264/AAC");
	ok(info.width == 640 && strcmp(info.vprofile, "High") == 0 && info.sample_rate == 44100 &&
	   info.channels == 1 && info.audio_streams == 1 && info.video_streams == 1,
	   "probe: size, profile, audio format, stream counts");
}

static void
test_not_h264(void)
{
	struct media_result res;
	const struct media_rendition *o, *p;
	char why[WHY], list[65536];
	int hevc, n;

	hevc = capture(list, sizeof(list), "ffmpeg -hide_banner -encoders 2>/dev/null") == 0 &&
	       strstr(list, "libx265");
	if (hevc)
		gen("hevc.mp4", "-f lavfi -i testsrc2=s=640x480:r=50:d=4 -f lavfi -i sine=d=4 "
		    "-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1 "
		    "-c:a aac -shortest");
	else
		gen("hevc.mp4", "-f lavfi -i testsrc2=s=640x480:r=50:d=4 -f lavfi -i sine=d=4 "
		    "-c:v mpeg4 -c:a aac -shortest");
	diag(hevc ? "non-H.264 source: HEVC (libx265)" : "non-H.264 source: MPEG-4 part 2");
	is_int(package("hevc.mp4", "hevc", &res, why, NULL), 0, "HEVC: packaged");
	o = rendition(&res, "original");
	p = rendition(&res, "360p");
	ok(res.nr == 3 && o && p && rendition(&res, "audio"), "HEVC: original, 360p, audio");
	if (!o || !p)
		return;
	ok(!o->copy && o->width == 640 && o->height == 480 && strncmp(o->codecs, "avc1.", 5) == 0,
	   "HEVC: original is an H.264 encode at the source's 480 lines");
	ok(!p->copy && p->width == 480 && p->height == 360, "HEVC: 360p at 480x360");
	ok(fabs(p->frame_rate - 30) < 0.01, "HEVC 50 frames/s: 360p declared at 30");
	n = video_frames("hevc/360p");
	ok(n >= 100 && n <= 121, "HEVC 50 frames/s: 360p capped at 30 frames/s by dropping");
	if (n < 100 || n > 121)
		printf("# 360p has %d frames for 4 s\n", n);
	ok(playlist_ok("hevc/original", 0, 6.5) && playlist_ok("hevc/360p", 0, 6.5),
	   "HEVC: playlists valid");
	ok(decodes("hevc/original") && decodes("hevc/360p") && decodes("hevc/audio"),
	   "HEVC: every rendition decodes");

	gen("small.mkv", "-f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i sine=d=3 "
	    "-c:v mpeg4 -c:a libmp3lame -shortest");
	is_int(package("small.mkv", "small", &res, why, NULL), 0, "320x240 MPEG-4: packaged");
	ok(res.nr == 2 && !rendition(&res, "original") && (p = rendition(&res, "360p")) &&
	   p->width == 320 && p->height == 240 && rendition(&res, "audio"),
	   "320x240 MPEG-4: no original, 360p not upscaled, audio");
	ok(decodes("small/360p") && decodes("small/audio"), "320x240 MPEG-4: decodes");
}

static void
test_audio_only(void)
{
	struct media_result res;
	char why[WHY];

	gen("cover.mp3", "-f lavfi -i sine=d=4 -f lavfi -i color=c=green:s=64x64:d=1 -map 0:a "
	    "-map 1:v -frames:v 1 -c:a libmp3lame -c:v mjpeg -disposition:v attached_pic");
	is_int(package("cover.mp3", "mp3", &res, why, NULL), 0, "MP3 with cover art: packaged");
	ok(res.nr == 1 && strcmp(res.r[0].name, "audio") == 0 && !res.poster,
	   "MP3 with cover art: only audio, no poster");
	ok(strcmp(res.info.container, "mp3") == 0 && res.info.vcodec[0] == '\0' &&
	   res.info.video_streams == 0, "MP3 with cover art: the picture is not a video");
	ok(playlist_ok("mp3/audio", 5.9, 6.5) && decodes("mp3/audio"), "MP3: playlist, decodes");
	ok(!exists(at("mp3/poster.jpg")) && !exists(at("mp3/360p")), "MP3: no video output");

	gen("a.m4a", "-f lavfi -i sine=d=3:sample_rate=48000 -ac 2 -c:a aac");
	is_int(package("a.m4a", "m4a", &res, why, NULL), 0, "M4A: packaged");
	ok(res.nr == 1 && strcmp(res.r[0].name, "audio") == 0 && res.info.sample_rate == 48000 &&
	   res.info.channels == 2 && strcmp(res.info.container, "m4a") == 0,
	   "M4A: only audio; 48 kHz stereo; container m4a");
}

static void
test_video_only(void)
{
	struct media_result res;
	const struct media_rendition *o;
	char why[WHY];

	gen("vo.mp4", "-f lavfi -i testsrc2=s=640x360:r=30:d=4 -c:v libx264 -preset ultrafast "
	    "-g 60 -pix_fmt yuv420p");
	is_int(package("vo.mp4", "vo", &res, why, NULL), 0, "video only: packaged");
	o = rendition(&res, "original");
	ok(res.nr == 2 && o && o->copy && rendition(&res, "360p") && !rendition(&res, "audio"),
	   "video only: original (copy) and 360p, no audio rendition");
	ok(o && !strchr(o->codecs, ',') && strncmp(o->codecs, "avc1.", 5) == 0 &&
	   !strchr(res.r[1].codecs, ','), "video only: CODECS without audio");
	ok(res.r[1].width == 640 && res.r[1].height == 360, "video only: 360p at 640x360");
	ok(playlist_ok("vo/360p", 5.9, 6.5) && decodes("vo/360p") && decodes("vo/original"),
	   "video only: playlists, decodes");
}

/* media_package's RENDITIONS mask (after test_h264_aac and test_not_h264,
 * whose a.mp4 and small.mkv it reuses). */
static void
test_renditions(void)
{
	struct media_result res;
	const struct media_rendition *o;
	struct prog prog;
	char why[WHY], line[160];
	double cpu;
	int rc;

	cpu = cpu_now();
	is_int(package_only("a.mp4", "copy", MEDIA_ORIGINAL, &res, why, &prog), 0,
	       "original alone: packaged");
	cpu = cpu_now() - cpu;
	o = rendition(&res, "original");
	ok(res.nr == 1 && o == &res.r[0] && o->copy && o->segments == 2 &&
	   fabs(o->duration - 8) < 0.2 && o->width == 640 && o->height == 480 &&
	   strncmp(o->codecs, "avc1.6400", 9) == 0 && strstr(o->codecs, ",mp4a.40.2"),
	   "original alone: one rendition, the stream copy with its audio");
	ok(entries("copy") == 1 && exists(at("copy/original")) && !res.poster,
	   "original alone: only original/ is written, no poster (nothing is decoded)");
	ok(playlist_ok("copy/original", 5.9, 6.5) && decodes("copy/original"),
	   "original alone: playlist and segments, decodes");
	ok(prog.last == 100 && !prog.bad && strcmp(prog.stage, "package") == 0,
	   "original alone: progress rises to 100 in package");
	snprintf(line, sizeof(line), "original alone: %.3f s of CPU, the whole job %.3f s", cpu,
		 full_cpu);
	diag(line);
	ok(cpu * 5 < full_cpu, "original alone: a remux, well under a fifth of the whole job's CPU");

	is_int(package_only("a.mp4", "enc", MEDIA_360P | MEDIA_AUDIO, &res, why, NULL), 0,
	       "360p and audio: packaged");
	ok(res.nr == 2 && strcmp(res.r[0].name, "360p") == 0 && strcmp(res.r[1].name, "audio") == 0 &&
	   res.poster && !exists(at("enc/original")) && exists(at("enc/poster.jpg")),
	   "360p and audio: those two and the poster, no original");
	ok(decodes("enc/360p") && decodes("enc/audio"), "360p and audio: decode");

	is_int(package_only("a.mp4", "aud", MEDIA_AUDIO, &res, why, NULL), 0,
	       "audio alone from a video: packaged");
	ok(res.nr == 1 && strcmp(res.r[0].name, "audio") == 0 && !res.poster &&
	   entries("aud") == 1 && playlist_ok("aud/audio", 5.9, 6.5),
	   "audio alone from a video: only audio/, no poster");

	rc = package_only("small.mkv", "none", MEDIA_ORIGINAL, &res, why, NULL);
	ok(rc == TC_EINVALID && strstr(why, "none of the renditions") && res.nr == 0,
	   "original alone of a 240-line MPEG-4 (no original applies): refused");
}

/* The pixel at X, Y of an RGB24 picture is mostly red. */
static int
red_at(const unsigned char *rgb, int w, int x, int y)
{
	const unsigned char *p = rgb + ((size_t)y * w + x) * 3;

	return p[0] > 180 && p[1] < 90 && p[2] < 90;
}

static void
test_rotation(void)
{
	struct media_result res;
	const struct media_rendition *o, *p;
	char why[WHY], src[256], out[256], args[PATH_MAX + 64];
	unsigned char *rgb;
	int w = 0, h = 0, fd;
	ssize_t n;

	/* A red box at the top left of a blue 320x240 picture. FFmpeg 5.1
	 * writes `-metadata rotate=N` as a display matrix turning N degrees
	 * counter-clockwise; 270 of those is what a phone held upright
	 * records: turn 90 degrees clockwise to display. */
	gen("land.mp4", "-f lavfi -i color=c=blue:s=320x240:r=30:d=3 -f lavfi -i sine=d=3 "
	    "-vf drawbox=x=0:y=0:w=80:h=60:c=red:t=fill -c:v libx264 -preset ultrafast "
	    "-g 60 -pix_fmt yuv420p -c:a aac -shortest");
	snprintf(args, sizeof(args), "-i '%s' -c copy -metadata:s:v:0 rotate=270", at("land.mp4"));
	gen("rot.mp4", args);
	is_int(package("rot.mp4", "rot", &res, why, NULL), 0, "rotated: packaged");
	is_int(res.info.rotation, 90, "rotated: info.rotation 90 (clockwise)");
	ok(res.info.width == 320 && res.info.height == 240, "rotated: info has the coded size");
	o = rendition(&res, "original");
	p = rendition(&res, "360p");
	ok(p && p->width == 240 && p->height == 320, "rotated: 360p is portrait, 240x320");
	ok(o && o->copy && o->width == 240 && o->height == 320,
	   "rotated: original (copy) reports the displayed size");
	ok(capture(src, sizeof(src), "ffprobe -v error -select_streams v:0 -show_entries "
		   "stream_side_data=rotation -of csv=p=0 '%s'", at("rot.mp4")) == 0 &&
	   capture(out, sizeof(out), "ffprobe -v error -select_streams v:0 -show_entries "
		   "stream_side_data=rotation -of csv=p=0 '%s'", at("rot/original/init.mp4")) == 0 &&
	   strstr(src, "90") && strcmp(src, out) == 0,
	   "rotated: the copy keeps the source's display matrix in init.mp4");
	if (strcmp(src, out))
		printf("# source rotation '%s', copy '%s'\n", src, out);
	ok(capture(out, sizeof(out), "ffprobe -v error -select_streams v:0 -show_entries "
		   "stream_side_data=rotation -of csv=p=0 '%s'", at("rot/360p/init.mp4")) == 0 &&
	   !strpbrk(out, "0123456789"), "rotated: no display matrix on the encoded 360p");
	ok(res.poster && is_jpeg(at("rot/poster.jpg"), &w, &h) && w == 240 && h == 320,
	   "rotated: the poster is portrait");
	ok(sh("ffmpeg -nostdin -v error -i '%s' -frames:v 1 -f rawvideo -pix_fmt rgb24 -y '%s'",
	      at("rot/360p/index.m3u8"), at("rot.rgb")), "rotated: first 360p frame decoded");
	rgb = malloc(240 * 320 * 3);
	fd = open(at("rot.rgb"), O_RDONLY | O_CLOEXEC);
	n = fd >= 0 && rgb ? read(fd, rgb, 240 * 320 * 3) : -1;
	if (fd >= 0)
		close(fd);
	ok(n == 240 * 320 * 3 && red_at(rgb, 240, 230, 10) && !red_at(rgb, 240, 10, 10) &&
	   !red_at(rgb, 240, 10, 310), "rotated: turned clockwise (the red corner is top right)");
	free(rgb);
	ok(decodes("rot/original") && decodes("rot/360p"), "rotated: decodes");
}

static void
test_vfr_and_tracks(void)
{
	struct media_result res;
	char why[WHY], maps[1024], args[2048];
	size_t len = 0;

	/* 30 frames/s for 1.5 s, then one frame in four: 7.5 frames/s */
	gen("vfr.mp4", "-f lavfi -i testsrc2=s=320x240:r=30:d=9 -f lavfi -i sine=d=9 "
	    "-vf select='lt(n\\,45)+not(mod(n\\,4))' -vsync vfr -c:v libx264 -preset veryfast "
	    "-c:a aac -shortest");
	is_int(package("vfr.mp4", "vfr", &res, why, NULL), 0, "variable frame rate: packaged");
	is_int(res.info.variable_frame_rate, 1, "variable frame rate: detected");
	ok(res.nr == 3 && fabs(res.r[1].duration - res.info.duration) < 0.3 &&
	   fabs(res.r[0].duration - res.info.duration) < 0.3,
	   "variable frame rate: the playlists last as long as the source");
	if (res.nr == 3)
		printf("# source %.3f s, original %.3f s, 360p %.3f s\n", res.info.duration,
		       res.r[0].duration, res.r[1].duration);
	ok(playlist_ok("vfr/360p", 5.9, 6.5), "variable frame rate: 6-s segments");
	ok(video_frames("vfr/360p") == video_frames("vfr/original"),
	   "variable frame rate: no frame dropped or repeated");
	ok(decodes("vfr/360p") && decodes("vfr/original"), "variable frame rate: decodes");

	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(maps + len, sizeof(maps) - len, "-map 1:a ");
	snprintf(args, sizeof(args), "-f lavfi -i testsrc2=s=320x240:r=30:d=3 -f lavfi -i sine=d=3 "
		 "-map 0:v %s -c:v libx264 -preset ultrafast -g 60 -c:a aac -shortest", maps);
	gen("tracks.mkv", args);
	is_int(package("tracks.mkv", "tracks", &res, why, NULL), 0, "MKV, 20 audio tracks: packaged");
	ok(res.info.audio_streams == 20 && res.info.streams == 21 && res.nr == 3 &&
	   strcmp(res.info.container, "matroska") == 0,
	   "MKV, 20 audio tracks: counted, one used");
	ok(res.r[0].copy && decodes("tracks/original") && decodes("tracks/audio"),
	   "MKV, 20 audio tracks: copied and decodes");
}

static void
test_still_picture(void)
{
	struct media_result res;
	const struct media_rendition *p;
	char why[WHY];

	/* a picture every 10 s over 13 s of talk (slides with a voice): the
	 * 360p still gets 6-s segments */
	gen("still.mp4", "-f lavfi -i color=c=red:s=320x240:r=0.1:d=13 -f lavfi -i sine=d=13 "
	    "-c:v libx264 -preset veryfast -c:a aac");
	is_int(package("still.mp4", "still", &res, why, NULL), 0, "still picture: packaged");
	p = rendition(&res, "360p");
	/* the second picture is shown for 10 s: the recording lasts 20 s */
	ok(p && p->segments == 4 && fabs(p->duration - res.info.duration) < 0.3 &&
	   fabs(res.info.duration - 20) < 0.3, "still picture: 360p in 6-s segments to the end");
	ok(playlist_ok("still/360p", 5.9, 6.5) && decodes("still/360p"),
	   "still picture: 6-s segments, decodes");
}

static int
why_has(const char *why, const char *what)
{
	if (strstr(why, what))
		return 1;
	printf("# why: %s\n", why);
	return 0;
}

/* Writes N random bytes after a plausible ftyp box. */
static void
ftyp_then_noise(const char *name)
{
	static const unsigned char ftyp[] = {
		0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
		'i', 's', 'o', 'm', 'i', 's', 'o', '2',
	};
	unsigned char noise[65536];
	FILE *fp = fopen(at(name), "wb");
	unsigned x = 12345;

	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (unsigned char)(x >> 16);
	}
	fwrite(ftyp, 1, sizeof(ftyp), fp);
	fwrite(noise, 1, sizeof(noise), fp);
	fclose(fp);
}

static void
write_text(const char *name, const char *text)
{
	FILE *fp = fopen(at(name), "w");

	fputs(text, fp);
	fclose(fp);
}

/* Cuts TMP/SRC to PERCENT of its size into TMP/DST. */
static void
cut(const char *src, const char *dst, int percent)
{
	struct stat st;

	if (stat(at(src), &st) != 0 || !sh("head -c %lld '%s' > '%s'",
					   (long long)st.st_size * percent / 100, at(src), at(dst))) {
		printf("Bail out! cannot cut %s\n", src);
		exit(1);
	}
}

/* Sets the width and height of the first video stream of an AVI (strf's
 * BITMAPINFOHEADER and avih) to V. */
static void
avi_claim_size(const char *src, const char *dst, int32_t v)
{
	static unsigned char b[1 << 20];
	FILE *fp = fopen(at(src), "rb");
	size_t n = fp ? fread(b, 1, sizeof(b), fp) : 0;
	unsigned char *s;

	if (fp)
		fclose(fp);
	s = memmem(b, n, "strf", 4);
	if (!s || s + 20 > b + n) {
		printf("Bail out! no strf in %s\n", src);
		exit(1);
	}
	for (int i = 0; i < 4; i++) {
		s[12 + i] = (unsigned char)((uint32_t)v >> (8 * i));
		s[16 + i] = (unsigned char)((uint32_t)v >> (8 * i));
	}
	fp = fopen(at(dst), "wb");
	fwrite(b, 1, n, fp);
	fclose(fp);
}

static void
test_refusals(void)
{
	struct media_result res;
	struct media_info info;
	char why[WHY], text[PATH_MAX * 2];
	char ev[4096];
	int ino, wd, rc;

	gen("z1.mp4", "-f lavfi -i testsrc2=s=320x240:r=30:d=1 -frames:v 0 -c:v libx264");
	rc = package("z1.mp4", "z1", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "no playable content"), "zero duration: refused, in words");
	gen("z4.mp4", "-f lavfi -i testsrc2=s=320x240:r=30:d=1 -frames:v 0 -c:v libx264 "
	    "-movflags +empty_moov+frag_keyframe");
	rc = package("z4.mp4", "z4", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "no playable content"), "tracks without samples: refused");
	ok(probe("z4.mp4", &info, why) == TC_EINVALID && why_has(why, "no playable content"),
	   "tracks without samples: refused by the probe too");

	gen("fs.mp4", "-f lavfi -i testsrc2=s=320x240:r=30:d=10 -f lavfi -i sine=d=10 "
	    "-c:v libx264 -preset ultrafast -c:a aac -shortest -movflags +faststart");
	cut("fs.mp4", "trunc.mp4", 30);
	rc = package("trunc.mp4", "trunc", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "the file ends after 3 s of 10 s: the upload may be truncated"),
	   "faststart MP4 cut at 30%: truncation named");
	gen("ns.mp4", "-f lavfi -i testsrc2=s=320x240:r=30:d=10 -f lavfi -i sine=d=10 "
	    "-c:v libx264 -preset ultrafast -c:a aac -shortest");
	cut("ns.mp4", "nomoov.mp4", 50);
	rc = package("nomoov.mp4", "nomoov", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "no moov atom"), "MP4 cut before its moov: named");
	ok(probe("nomoov.mp4", &info, why) == TC_EINVALID && why_has(why, "truncated"),
	   "MP4 cut before its moov: the probe says so too");

	/* playlists naming other files: refused, and the files never opened */
	write_text("secret.txt", "secret\n");
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	wd = ino >= 0 ? inotify_add_watch(ino, at("secret.txt"), IN_OPEN | IN_ACCESS) : -1;
	snprintf(text, sizeof(text), "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
		 "file:///etc/passwd\n#EXTINF:10,\nfile://%s\n#EXT-X-ENDLIST\n", at("secret.txt"));
	write_text("hls.mp4", text);
	snprintf(text, sizeof(text), "ffconcat version 1.0\nfile file:///etc/passwd\nfile '%s'\n",
		 at("secret.txt"));
	write_text("concat.mp4", text);
	rc = package("hls.mp4", "hls", &res, why, NULL);
	ok(rc == TC_EUNSUPPORTED && why_has(why, "(hls) is not accepted"), "HLS playlist named .mp4: refused");
	rc = package("concat.mp4", "concat", &res, why, NULL);
	ok(rc == TC_EUNSUPPORTED && why_has(why, "(concat) is not accepted"), "ffconcat named .mp4: refused");
	ok(probe("hls.mp4", &info, why) == TC_EUNSUPPORTED, "HLS playlist: refused by the probe");
	ok(wd >= 0 && read(ino, ev, sizeof(ev)) < 0 && errno == EAGAIN,
	   "the files they name were never opened");
	rc = open(at("secret.txt"), O_RDONLY | O_CLOEXEC);
	if (rc >= 0)
		close(rc);
	ok(wd >= 0 && read(ino, ev, sizeof(ev)) > 0, "(and the watch would have seen it)");
	if (ino >= 0)
		close(ino);

	ftyp_then_noise("noise.mp4");
	rc = package("noise.mp4", "noise", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "moov"), "random bytes after ftyp: a clear error");

	gen("small.avi", "-f lavfi -i testsrc2=s=320x240:r=25:d=1 -c:v mpeg4");
	avi_claim_size("small.avi", "huge.avi", 100000);
	rc = package("huge.avi", "huge", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "100000 x 100000 pixels"), "100000-pixel AVI: refused, size named");
	ok(probe("huge.avi", &info, why) == TC_EINVALID, "100000-pixel AVI: refused by the probe");

	write_text("text.mp4", "hello, this is not a video\n");
	rc = package("text.mp4", "text", &res, why, NULL);
	ok(rc == TC_EUNSUPPORTED && why_has(why, "not a video or audio recording"), "text file: refused");
	write_text("empty.mp4", "");
	rc = package("empty.mp4", "empty", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "empty"), "empty file: refused");
}

/* Formats outside MEDIA_DECODERS are refused by name; the others decode
 * with the decoder chosen from the list. */
static void
test_decoders(void)
{
	struct media_result res;
	struct media_info info;
	char why[WHY], enc[65536], dec[65536];
	int rc;

	if (capture(enc, sizeof(enc), "ffmpeg -hide_banner -encoders 2>/dev/null") != 0 ||
	    capture(dec, sizeof(dec), "ffmpeg -hide_banner -decoders 2>/dev/null") != 0)
		enc[0] = dec[0] = '\0';
	if (strstr(enc, "prores_ks")) {
		gen("prores.mov", "-f lavfi -i testsrc2=s=320x240:r=25:d=1 -c:v prores_ks -profile:v 0");
		rc = package("prores.mov", "prores", &res, why, NULL);
		ok(rc == TC_EUNSUPPORTED && why_has(why, "the video is in prores, which is not accepted"),
		   "ProRes video: refused, the format named");
		ok(probe("prores.mov", &info, why) == TC_EUNSUPPORTED, "ProRes video: refused by the probe");
	} else {
		diag("no prores_ks encoder: the ProRes refusal is not tested");
	}
	gen("adpcm.wav", "-f lavfi -i sine=d=1 -c:a adpcm_ms");
	rc = package("adpcm.wav", "adpcm", &res, why, NULL);
	ok(rc == TC_EUNSUPPORTED && why_has(why, "the audio is in adpcm_ms, which is not accepted"),
	   "ADPCM audio: refused, the format named");

	/* a PNG cover: its decoder is not in the list, and is not needed */
	gen("png.mp3", "-f lavfi -i sine=d=2 -f lavfi -i color=c=blue:s=64x64:d=1 -map 0:a -map 1:v "
	    "-frames:v 1 -c:a libmp3lame -c:v png -disposition:v attached_pic");
	rc = package("png.mp3", "png", &res, why, NULL);
	ok(rc == 0 && res.nr == 1 && strcmp(res.r[0].name, "audio") == 0,
	   "MP3 with a PNG cover: packaged, audio only");

	if (strstr(enc, "libaom-av1") && strstr(dec, "libdav1d")) {
		gen("av1.mp4", "-f lavfi -i testsrc2=s=192x108:r=10:d=1 -c:v libaom-av1 -cpu-used 8 "
		    "-b:v 100k -pix_fmt yuv420p");
		rc = package("av1.mp4", "av1", &res, why, NULL);
		ok(rc == 0 && strcmp(res.info.vcodec, "av1") == 0 && rendition(&res, "360p") &&
		   decodes("av1/360p"), "AV1 (libdav1d): packaged, 360p decodes");
	} else {
		diag("no libaom-av1 encoder or libdav1d decoder: AV1 is not tested");
	}
}

/* The displayed size (sample aspect ratio applied) is bounded like the
 * coded one. */
static void
test_aspect(void)
{
	struct media_result res;
	struct media_info info;
	const struct media_rendition *p;
	char why[WHY];
	int rc, w, h;

	gen("sar100.mp4", "-f lavfi -i testsrc2=s=640x360:r=25:d=1 -vf setsar=100/1 -c:v libx264 "
	    "-preset ultrafast -pix_fmt yuv420p");
	rc = package("sar100.mp4", "sar100", &res, why, NULL);
	ok(rc == TC_EINVALID && why_has(why, "displayed 64000 x 360 pixels (its pixels are 100:1"),
	   "sample aspect ratio 100:1: refused, the displayed size named");
	ok(probe("sar100.mp4", &info, why) == TC_EINVALID && why_has(why, "100:1"),
	   "sample aspect ratio 100:1: refused by the probe");
	gen("sar1.mp4", "-f lavfi -i testsrc2=s=640x360:r=25:d=1 -vf setsar=1/100 -c:v libx264 "
	    "-preset ultrafast -pix_fmt yuv420p");
	rc = package("sar1.mp4", "sar1", &res, why, NULL);
	p = rendition(&res, "360p");
	ok(rc == 0 && p && p->width >= 2 && p->width <= 8 && p->height == 360,
	   "sample aspect ratio 1:100: a picture a few pixels wide, no overflow");
	gen("sar43.mp4", "-f lavfi -i testsrc2=s=480x360:r=25:d=2 -vf setsar=4/3 -c:v libx264 "
	    "-preset ultrafast -pix_fmt yuv420p");
	rc = package("sar43.mp4", "sar43", &res, why, NULL);
	p = rendition(&res, "360p");
	ok(rc == 0 && p && p->width == 640 && p->height == 360 &&
	   is_jpeg(at("sar43/poster.jpg"), &w, &h) && w == 640 && h == 360,
	   "anamorphic 480x360 at 4:3: 360p and poster at 640x360");
}

/* A plausible result of a worker, as media_result_json writes it (free()). */
static char *
good_result_json(void)
{
	struct media_result r;

	memset(&r, 0, sizeof(r));
	snprintf(r.info.container, sizeof(r.info.container), "mp4");
	snprintf(r.info.vcodec, sizeof(r.info.vcodec), "h264");
	snprintf(r.info.vprofile, sizeof(r.info.vprofile), "High");
	snprintf(r.info.acodec, sizeof(r.info.acodec), "aac");
	r.info.duration = 10.5;
	r.info.streams = 2;
	r.info.video_streams = r.info.audio_streams = 1;
	r.info.width = 640;
	r.info.height = 360;
	r.info.frame_rate = 25;
	r.info.rotation = 90;
	r.info.sample_rate = 44100;
	r.info.channels = 2;
	r.nr = 3;
	r.poster = 1;
	snprintf(r.r[0].name, sizeof(r.r[0].name), "original");
	snprintf(r.r[1].name, sizeof(r.r[1].name), "360p");
	snprintf(r.r[2].name, sizeof(r.r[2].name), "audio");
	snprintf(r.r[0].codecs, sizeof(r.r[0].codecs), "avc1.64001e,mp4a.40.2");
	snprintf(r.r[1].codecs, sizeof(r.r[1].codecs), "avc1.64001e,mp4a.40.2");
	snprintf(r.r[2].codecs, sizeof(r.r[2].codecs), "mp4a.40.2");
	r.r[0].copy = 1;
	r.r[0].width = 360;
	r.r[0].height = 640;
	r.r[1].width = 202;
	r.r[1].height = 360;
	r.r[0].frame_rate = r.r[1].frame_rate = 25;
	for (int i = 0; i < 3; i++) {
		r.r[i].bandwidth = 800000 - 1000 * i;
		r.r[i].average_bandwidth = 700000 - 1000 * i;
		r.r[i].segments = 2;
		r.r[i].duration = 10.5;
	}
	return media_result_json(&r);
}

/* SRC with its first FROM replaced by TO (a new string; "" when FROM is
 * not in it, which fails the test that uses it). */
static char *
replaced(const char *src, const char *from, const char *to)
{
	const char *at = strstr(src, from);
	size_t n = strlen(src) + strlen(to) + 1;
	char *out = malloc(n);

	if (!out)
		exit(1);
	if (!at)
		out[0] = '\0';
	else
		snprintf(out, n, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
	return out;
}

static void
test_parse(void)
{
	/* what the worker could send if it were taken over: each is refused */
	static const struct { const char *from, *to, *name; } hostile[] = {
		{ "\"codecs\":\"mp4a.40.2\"", "\"codecs\":\"mp4a.40.2\\\"\\n#EXT-X-KEY:URI=\\\"x\"",
		  "codecs with a quote and a newline" },
		{ "\"codecs\":\"mp4a.40.2\"", "\"codecs\":\"\"", "empty codecs" },
		{ "\"codecs\":\"mp4a.40.2\"", "\"codecs\":\"mp4a 40 2\"", "codecs with spaces" },
		{ "\"name\":\"audio\"", "\"name\":\"../x\"", "a rendition named ../x" },
		{ "\"name\":\"audio\"", "\"name\":\"360p\"", "two renditions named 360p" },
		{ "\"name\":\"audio\"", "\"name\":\"1080p\"", "an unknown rendition" },
		{ "\"width\":202", "\"width\":4097", "a rendition 4097 pixels wide" },
		{ "\"width\":640", "\"width\":100000", "info 100000 pixels wide" },
		{ "\"height\":640", "\"height\":-1", "a negative height" },
		{ "\"segments\":2", "\"segments\":100001", "100001 segments" },
		{ "\"segments\":2", "\"segments\":99999999999999999999999", "segments beyond 64 bits" },
		{ "\"bandwidth\":800000", "\"bandwidth\":1000000001", "a bandwidth over 1 Gbit/s" },
		{ "\"bandwidth\":800000", "\"bandwidth\":0", "a bandwidth of 0" },
		{ "\"average_bandwidth\":700000", "\"average_bandwidth\":9223372036854775807",
		  "an average bandwidth of 2^63-1" },
		{ "\"frame_rate\":25.0", "\"frame_rate\":1e300", "a frame rate of 1e300" },
		{ "\"duration\":10.5", "\"duration\":21661", "a duration over 6 h + 60 s" },
		{ "\"duration\":10.5", "\"duration\":-0.5", "a negative duration" },
		{ "\"rotation\":90", "\"rotation\":45", "a rotation of 45" },
		{ "\"vprofile\":\"High\"", "\"vprofile\":\"Hi\\\"gh\"", "a profile with a quote" },
		{ "\"container\":\"mp4\"", "\"container\":\"mp4\\u0007\"", "a container with a control" },
		{ "\"acodec\":\"aac\"", "\"acodec\":\"a\\u00e9c\"", "a codec name not in ASCII" },
		{ "\"streams\":2", "\"streams\":65", "65 streams" },
		{ "\"copy\":true", "\"copy\":1", "copy as a number" },
		{ "\"poster\":true", "\"poster\":true,\"poster\":false", "a key twice" },
		{ "\"renditions\":[", "\"renditions\":[{},", "four renditions" },
	};
	struct media_result r;
	char *good = good_result_json(), *bad, name[160];

	ok(media_result_parse("{}", &r) == TC_EINVALID, "parse: {} refused");
	ok(media_result_parse("not json", &r) == TC_EINVALID, "parse: not JSON refused");
	ok(media_result_parse("{\"info\":{},\"renditions\":[],\"poster\":false}", &r) == TC_EINVALID,
	   "parse: info without its fields refused");
	ok(good && media_result_parse(good, &r) == 0 && r.nr == 3 && r.info.rotation == 90 &&
	   r.r[0].width == 360 && strcmp(r.r[2].codecs, "mp4a.40.2") == 0,
	   "parse: a plausible result is read");
	for (size_t i = 0; good && i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		bad = replaced(good, hostile[i].from, hostile[i].to);
		memset(&r, 0x5a, sizeof(r));
		snprintf(name, sizeof(name), "parse: refused, nothing kept: %s", hostile[i].name);
		ok(bad[0] && media_result_parse(bad, &r) == TC_EINVALID && r.nr == 0 && !r.r[0].name[0],
		   name);
		if (!bad[0])
			printf("# '%s' is not in %s\n", hostile[i].from, good);
		free(bad);
	}
	bad = replaced(good, "\"renditions\":[", "\"renditions\":[],\"x\":[");
	ok(bad[0] && media_result_parse(bad, &r) == TC_EINVALID, "parse: no rendition refused");
	free(bad);
	free(good);
}

/* ---- the sandbox --------------------------------------------------------- */

/* The only child of this process (the worker), from /proc. */
static pid_t
worker_pid(void)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	pid_t found = -1;
	DIR *d = opendir("/proc");
	int fd;
	ssize_t n;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && atoi(p + 4) == (int)getpid())	/* ") S PPID" */
			found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

enum sbx_act { SBX_NONE, SBX_STOP, SBX_SEGV, SBX_CANCEL };

struct sbx {
	enum sbx_act act;
	int calls, last, lo, hi;
	volatile sig_atomic_t cancel;
};

static void
on_sbx(void *arg, const char *stage, int percent)
{
	struct sbx *s = arg;
	pid_t pid;

	(void)stage;
	s->lo = !s->calls || percent < s->lo ? percent : s->lo;
	s->hi = !s->calls || percent > s->hi ? percent : s->hi;
	s->calls++;
	s->last = percent;
	if (s->calls != 1 || s->act == SBX_NONE)
		return;
	if (s->act == SBX_CANCEL) {
		s->cancel = 1;
		return;
	}
	pid = worker_pid();
	if (pid > 0)
		kill(pid, s->act == SBX_STOP ? SIGSTOP : SIGSEGV);
}

static int
no_zombies(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

static int
sandbox(const char *name, const char *out, const struct media_limits *lim, struct sbx *s,
	struct media_result *res, char *why)
{
	if (mkdir(at(out), 0755) != 0) {
		printf("Bail out! cannot make %s\n", out);
		exit(1);
	}
	return media_sandbox_run(at(name), at(out), lim, on_sbx, s, &s->cancel, res, why, WHY);
}

/* Makes TMP/NAME a stand-in worker: a shell script that runs BEFORE,
 * writes LINES on standard output and exits 1; the sandbox starts it. */
static void
fake_worker(const char *name, const char *before, const char *lines)
{
	FILE *fp = fopen(at(name), "w");

	if (!fp || fprintf(fp, "#!/bin/sh\n%s\ncat <<'EOF'\n%sEOF\nexit 1\n", before, lines) < 0 ||
	    fclose(fp) != 0 || chmod(at(name), 0755) != 0) {
		printf("Bail out! cannot write %s\n", name);
		exit(1);
	}
	setenv("TINCHI_MEDIA_WORKER", at(name), 1);
	media_sandbox_init();
}

/* 1 when S is UTF-8 with whole characters and no control characters. */
static int
clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			(*p & 0xf8) == 0xf0 ? 4 : 0;

		if (n == 0 || *p < 0x20 || *p == 0x7f)
			return 0;
		for (int k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				return 0;
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)	/* C1 */
			return 0;
		p += n;
	}
	return 1;
}

/* Whether process PID still runs (a zombie does not). */
static int
running(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The worker's lines are untrusted: stand-in workers send what a taken-over
 * one could. */
static void
test_sandbox_hostile(const struct media_limits *lim)
{
	struct media_result res;
	struct sbx s;
	char why[WHY], small[101], lines[4096], *good, *bad;
	pid_t pid = 0;
	FILE *fp;
	int rc, n;

	n = snprintf(lines, sizeof(lines), "{\"stage\":\"package\",\"percent\":100000}\n"
		     "{\"stage\":\"probe\",\"percent\":-7}\n"
		     "{\"ok\":false,\"code\":\"invalid\",\"error\":\"line one\\nline two\\t"
		     "\\u001b[31m\\u202eend ");
	for (int i = 0; i < 300; i++)
		n += snprintf(lines + n, sizeof(lines) - (size_t)n, "\xc3\xa9");	/* é */
	snprintf(lines + n, sizeof(lines) - (size_t)n, "\\u0085x\"}\n");
	fake_worker("fake_text.sh", "", lines);
	memset(&s, 0, sizeof(s));
	mkdir(at("s_text"), 0755);
	rc = media_sandbox_run(at("a.mp4"), at("s_text"), lim, on_sbx, &s, &s.cancel, &res, small,
			       sizeof(small));
	ok(rc == TC_EINVALID && s.calls == 2 && s.hi == 100 && s.lo == 0,
	   "sandbox: percents from the worker are clamped to 0-100");
	ok(strncmp(small, "line one line two  [31m end \xc3\xa9", 30) == 0 && clean_utf8(small) &&
	   strlen(small) <= 100 && strlen(small) >= 99,
	   "sandbox: the worker's error text loses its control characters, cut between characters");
	if (!clean_utf8(small) || strncmp(small, "line one", 8))
		printf("# why: %s\n", small);

	fake_worker("fake_stage.sh", "", "{\"stage\":\"../../etc\",\"percent\":5}\n"
		    "{\"ok\":false,\"code\":\"invalid\",\"error\":\"x\"}\n");
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_stage", lim, &s, &res, why);
	ok(rc == TC_EINVALID && s.calls == 0 && why_has(why, "an answer that is not understood"),
	   "sandbox: an unknown stage fails the job");

	good = good_result_json();
	bad = replaced(good ? good : "", "\"name\":\"audio\"", "\"name\":\"../x\"");
	snprintf(lines, sizeof(lines), "{\"ok\":true,\"result\":%s}\n", bad);
	fake_worker("fake_result.sh", "", lines);
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_result", lim, &s, &res, why);
	ok(bad[0] && rc == TC_EINVALID && res.nr == 0 &&
	   why_has(why, "the media worker sent a result that could not be read"),
	   "sandbox: a result naming a rendition ../x fails the job");
	free(good);
	free(bad);

	/* a process left behind in the worker's group, not holding the pipe */
	fake_worker("fake_child.sh", "sleep 300 </dev/null >/dev/null 2>&1 &\necho $! >child.pid",
		    "{\"ok\":false,\"code\":\"invalid\",\"error\":\"done\"}\n");
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_child", lim, &s, &res, why);
	fp = fopen(at("s_child/child.pid"), "r");
	if (!fp || fscanf(fp, "%d", &pid) != 1)
		pid = 0;
	if (fp)
		fclose(fp);
	for (int i = 0; i < 40 && pid > 0 && running(pid); i++)
		usleep(50000);
	ok(rc == TC_EINVALID && why_has(why, "done") && pid > 0 && !running(pid) && no_zombies(),
	   "sandbox: a process the worker left in its group is killed with it");
	if (pid > 0 && running(pid))
		kill(pid, SIGKILL);
}

static void
test_sandbox(const char *bin)
{
	struct media_limits lim = {
		.cpu_seconds = 120, .memory = 4LL << 30, .max_output = 1LL << 30,
		.open_files = 64, .timeout = 120, .stall = 60,
	};
	struct media_result res;
	struct sbx s;
	struct stat st;
	char why[WHY], asan_segv[1024], *saved;
	const char *asan;
	int rc;

	setenv("TINCHI_MEDIA_WORKER", bin, 1);
	is_int(media_sandbox_init(), 0, "sandbox: init with TINCHI_MEDIA_WORKER");

	mkdir(at("w_copy"), 0755);
	ok(sh("'%s' media-worker --renditions original '%s' <'%s' >'%s' 2>&1 && tail -n 1 '%s' | "
	      "grep -q '^{\"ok\":true,'", bin, at("w_copy"), at("a.mp4"), at("w_copy.out"),
	      at("w_copy.out")) && entries("w_copy") == 1 && exists(at("w_copy/original/index.m3u8")),
	   "worker: --renditions original writes original/ alone");
	ok(sh("'%s' media-worker --renditions original,4k '%s' </dev/null >/dev/null 2>&1; "
	      "test $? -eq 2", bin, at("w_copy")), "worker: an unknown rendition is a usage error");

	/* a taken-over worker cannot get out of the server's reach: its test
	 * hook tries, once confined, and reports each errno */
	mkdir(at("w_probe"), 0755);
	ok(sh("TINCHI_MEDIA_PROBE=escape '%s' media-worker '%s' </dev/null >'%s' 2>&1",
	      bin, at("w_probe"), at("w_probe.out")), "worker: the escape probe runs");
	{
		static const char *const want[][2] = {
			{ "setsid", "EPERM" }, { "setpgid", "EPERM" }, { "fork", "EPERM" },
			{ "vfork", "EPERM" }, { "clone", "EPERM" }, { "clone3", "ENOSYS" },
			{ "execve", "EPERM" }, { "pdeathsig", "EPERM" }, { "thread", "ok" },
		};
		char name[120];

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			snprintf(name, sizeof(name), "worker: seccomp: %s answers %s%s", want[i][0],
				 want[i][1], strcmp(want[i][1], "ok") ? "" : " (threads still work)");
			ok(sh("grep -q '\"%s\":\"%s\"' '%s'", want[i][0], want[i][1],
			      at("w_probe.out")), name);
		}
		if (!sh("grep -q '\"thread\":\"ok\"}}$' '%s'", at("w_probe.out")))
			sh("sed 's/^/# /' '%s'", at("w_probe.out"));
	}

	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_good", &lim, &s, &res, why);
	if (rc)
		printf("# %s\n", why);
	ok(rc == 0 && res.nr == 3 && strcmp(res.r[1].name, "360p") == 0 && res.poster &&
	   res.info.width == 640, "sandbox: a good file, the result parsed from the worker");
	ok(s.calls >= 3 && s.last == 100, "sandbox: progress lines reach the caller");
	ok(playlist_ok("s_good/360p", 5.9, 6.5) && exists(at("s_good/poster.jpg")),
	   "sandbox: the worker wrote into the output folder");
	ok(stat(at("s_good/360p/index.m3u8"), &st) == 0 && st.st_uid == geteuid() &&
	   stat(at("s_good"), &st) == 0 && st.st_uid == geteuid(),
	   "sandbox: what the worker made belongs to the caller afterwards");
	ok(no_zombies(), "sandbox: the worker was reaped");

	/* the server's TINCHI_ variables stay out of the worker's environment:
	 * its test hook cannot be turned on from there */
	setenv("TINCHI_MEDIA_PROBE", "escape", 1);
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_probe", &lim, &s, &res, why);
	unsetenv("TINCHI_MEDIA_PROBE");
	if (rc)
		printf("# %s\n", why);
	ok(rc == 0 && res.nr == 3, "sandbox: no TINCHI_ variable reaches the worker (the probe stays off)");

	memset(&s, 0, sizeof(s));
	rc = sandbox("trunc.mp4", "s_trunc", &lim, &s, &res, why);
	ok(rc == TC_EINVALID && why_has(why, "the upload may be truncated") && res.nr == 0,
	   "sandbox: a truncated file, the worker's reason");
	memset(&s, 0, sizeof(s));
	rc = sandbox("hls.mp4", "s_hls", &lim, &s, &res, why);
	ok(rc == TC_EUNSUPPORTED && why_has(why, "not accepted"), "sandbox: refusals stay 'unsupported'");

	memset(&s, 0, sizeof(s));
	s.act = SBX_STOP;
	lim.stall = 1;
	rc = sandbox("a.mp4", "s_stall", &lim, &s, &res, why);
	ok(rc == TC_EINVALID && why_has(why, "processing made no progress for 1 s"),
	   "sandbox: a worker that stops sending lines is killed (stall)");
	ok(no_zombies(), "sandbox: the stalled worker was reaped");

	memset(&s, 0, sizeof(s));
	s.act = SBX_STOP;
	lim.stall = 0;
	lim.timeout = 1;
	rc = sandbox("a.mp4", "s_timeout", &lim, &s, &res, why);
	ok(rc == TC_EINVALID && why_has(why, "processing took longer than 1 s"),
	   "sandbox: the wall-clock timeout kills the worker");
	ok(no_zombies(), "sandbox: the timed-out worker was reaped");
	lim.timeout = 120;
	lim.stall = 60;

	/* under AddressSanitizer the worker would catch SIGSEGV itself and
	 * exit 1: let this one die of it */
	asan = getenv("ASAN_OPTIONS");
	snprintf(asan_segv, sizeof(asan_segv), "%s%shandle_segv=0", asan ? asan : "",
		 asan && asan[0] ? ":" : "");
	saved = asan ? strdup(asan) : NULL;
	setenv("ASAN_OPTIONS", asan_segv, 1);
	memset(&s, 0, sizeof(s));
	s.act = SBX_SEGV;
	rc = sandbox("a.mp4", "s_segv", &lim, &s, &res, why);
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	ok(rc == TC_EINVALID && why_has(why, "the media worker crashed (signal 11, SIGSEGV)"),
	   "sandbox: a crash is reported as one");
	ok(no_zombies(), "sandbox: the crashed worker was reaped");

	memset(&s, 0, sizeof(s));
	s.act = SBX_CANCEL;
	rc = sandbox("a.mp4", "s_cancel", &lim, &s, &res, why);
	ok(rc == TC_EBUSY && no_zombies(), "sandbox: cancel gives TC_EBUSY, worker reaped");

	memset(&s, 0, sizeof(s));
	lim.max_output = 20000;
	rc = sandbox("a.mp4", "s_fsize", &lim, &s, &res, why);
	ok(rc == TC_EINVALID && why_has(why, "wrote more than 20000 bytes"),
	   "sandbox: RLIMIT_FSIZE stops a worker writing too much");
	lim.max_output = 1LL << 30;

	test_sandbox_hostile(&lim);

	setenv("TINCHI_MEDIA_WORKER", "/bin/false", 1);
	media_sandbox_init();
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_false", &lim, &s, &res, why);
	ok(rc == TC_EINVALID && why_has(why, "stopped without an answer (exit status 1)"),
	   "sandbox: a worker that exits without its last line");
	setenv("TINCHI_MEDIA_WORKER", "/nonexistent/tinchi", 1);
	media_sandbox_init();
	memset(&s, 0, sizeof(s));
	rc = sandbox("a.mp4", "s_none", &lim, &s, &res, why);
	ok(rc == TC_EIO && why_has(why, "could not be started") && no_zombies(),
	   "sandbox: a worker that cannot be started");
	unsetenv("TINCHI_MEDIA_WORKER");
}

int
main(void)
{
	const char *bin = getenv("TINCHI_BIN");
	int rc;

	if (!on_path("ffmpeg") || !on_path("ffprobe")) {
		printf("1..0 # SKIP ffmpeg not installed\n");
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s/tinchi-media-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	media_log_level(-1);
	test_h264_aac();
	test_not_h264();
	test_renditions();
	test_audio_only();
	test_video_only();
	test_rotation();
	test_vfr_and_tracks();
	test_still_picture();
	test_refusals();
	test_decoders();
	test_aspect();
	test_parse();
	if (bin && access(bin, X_OK) == 0)
		test_sandbox(bin);
	else
		diag("TINCHI_BIN is not set: the sandbox tests are skipped");
	rc = done_testing();
	if (rc == 0)
		sh("rm -rf '%s'", tmp);
	else
		printf("# outputs kept in %s\n", tmp);
	return rc;
}
