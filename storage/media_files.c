/*
 * media_files.c - the published folders of processed lectures; see
 * media_files.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/content.h"
#include "storage/media_files.h"

#define MEDIA_ROOT "media"
#define MEDIA_TMP MEDIA_ROOT "/.tmp"

static int
uid_valid(const char *uid)
{
	size_t i;

	for (i = 0; uid[i]; i++) {
		char c = uid[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return i == 36;
}

static int path_fmt(char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* snprintf into a path buffer: TC_EINVALID when it does not fit. */
static int
path_fmt(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? TC_EINVALID : 0;
}

/* mkdir that accepts an existing folder. */
static int
ensure_dir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	log_err("media: mkdir %s: %s", path, strerror(errno));
	return TC_EIO;
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) != 0)
		rc = TC_EIO;
	if (fd >= 0)
		close(fd);
	return rc;
}

int
media_dir_path(const char *data_dir, const char *uid, char out[PATH_MAX])
{
	if (!data_dir || !uid || !uid_valid(uid))
		return TC_EINVALID;
	return path_fmt(out, "%s/%s/%s", data_dir, MEDIA_ROOT, uid);
}

int
media_tmp_create(const char *data_dir, const char *uid, char out[PATH_MAX])
{
	char path[PATH_MAX], name[64];
	unsigned char r[8];
	int rc;

	if (!uid_valid(uid))
		return TC_EINVALID;
	if ((rc = path_fmt(path, "%s/%s", data_dir, MEDIA_ROOT)) || (rc = ensure_dir(path)) ||
	    (rc = path_fmt(path, "%s/%s", data_dir, MEDIA_TMP)) || (rc = ensure_dir(path)) ||
	    (rc = crypto_random(r, sizeof(r))))
		return rc;
	snprintf(name, sizeof(name), "%s-%02x%02x%02x%02x%02x%02x%02x%02x", uid, r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7]);
	if ((rc = path_fmt(out, "%s/%s", path, name)))
		return rc;
	if (mkdir(out, 0755) != 0) {
		log_err("media: mkdir %s: %s", out, strerror(errno));
		return TC_EIO;
	}
	return 0;
}

/* Removes everything inside the folder open at DFD (closed here), depth first. */
static int
remove_tree_at(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return TC_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = TC_EIO;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0 || remove_tree_at(sub) ||
			    unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0)
				rc = TC_EIO;
		} else if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
			rc = TC_EIO;
		}
	}
	closedir(d);
	return rc;
}

int
media_dir_remove(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : TC_EIO;
	if (remove_tree_at(fd) || rmdir(dir) != 0) {
		log_err("media: could not remove %s: %s", dir, strerror(errno));
		return TC_EIO;
	}
	return 0;
}

int
media_tmp_clean(const char *data_dir)
{
	char path[PATH_MAX];
	int rc = path_fmt(path, "%s/%s", data_dir, MEDIA_TMP);

	return rc ? rc : media_dir_remove(path);
}

int
media_dir_discard(const char *data_dir, const char *uid)
{
	char final[PATH_MAX], tmp[PATH_MAX], root[PATH_MAX];
	unsigned char r[8];
	int rc;

	if ((rc = media_dir_path(data_dir, uid, final)) ||
	    (rc = path_fmt(root, "%s/%s", data_dir, MEDIA_TMP)) || (rc = crypto_random(r, sizeof(r))) ||
	    (rc = path_fmt(tmp, "%s/trash-%s-%02x%02x%02x%02x", root, uid, r[0], r[1], r[2], r[3])))
		return rc;
	if (access(final, F_OK) != 0)
		return 0;
	if ((rc = path_fmt(root, "%s/%s", data_dir, MEDIA_ROOT)) || (rc = ensure_dir(root)) ||
	    (rc = path_fmt(root, "%s/%s", data_dir, MEDIA_TMP)) || (rc = ensure_dir(root)))
		return rc;
	if (rename(final, tmp) != 0) {
		log_err("media: rename %s -> %s: %s", final, tmp, strerror(errno));
		return TC_EIO;
	}
	return 0;
}

int
media_trash_clean(const char *data_dir)
{
	char root[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = path_fmt(root, "%s/%s", data_dir, MEDIA_TMP);

	if (rc)
		return rc;
	if ((d = opendir(root)) == NULL)
		return errno == ENOENT ? 0 : TC_EIO;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "trash-", 6) == 0 &&
		    path_fmt(path, "%s/%s", root, e->d_name) == 0 && media_dir_remove(path))
			rc = TC_EIO;
	closedir(d);
	return rc;
}

int
media_dir_install(const char *data_dir, const char *uid, const char *tmpdir)
{
	char final[PATH_MAX], old[PATH_MAX], root[PATH_MAX];
	int rc;

	if ((rc = media_dir_path(data_dir, uid, final)) ||
	    (rc = path_fmt(old, "%s.old", final)) ||
	    (rc = path_fmt(root, "%s/%s", data_dir, MEDIA_ROOT)))
		return rc;
	/* an older folder (a job run again) goes aside first, then away */
	if (media_dir_remove(old) || (rename(final, old) != 0 && errno != ENOENT)) {
		log_err("media: could not move %s aside: %s", final, strerror(errno));
		return TC_EIO;
	}
	if (rename(tmpdir, final) != 0) {
		log_err("media: rename %s -> %s: %s", tmpdir, final, strerror(errno));
		rename(old, final);	/* the older folder stays published */
		return TC_EIO;
	}
	media_dir_remove(old);
	return fsync_path(root);
}

/* Writes LEN bytes at P to DIR/NAME through DIR/.NAME.tmp, synced. */
static int
write_atomic(const char *dir, const char *name, const void *p, size_t len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	const char *c = p;
	int fd, rc = 0;

	if (path_fmt(tmp, "%s/.%s.tmp", dir, name) || path_fmt(final, "%s/%s", dir, name))
		return TC_EINVALID;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return TC_EIO;
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = errno == ENOSPC || errno == EFBIG ? TC_ETOOBIG : TC_EIO;
			break;
		}
		c += n;
		len -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = TC_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = TC_EIO;
	if (rc == 0 && rename(tmp, final) != 0)
		rc = TC_EIO;
	if (rc) {
		log_err("media: could not write %s: %s", final, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/* Reads the whole stored file HASH into B. */
static int
read_content(const char *data_dir, const char *hash, struct dynbuf *b)
{
	char chunk[16384];
	ssize_t n;
	int fd = -1, rc = content_open(data_dir, hash, &fd);

	while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? TC_EIO : dynbuf_append(b, chunk, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static double
media_duration(const struct media_result *res)
{
	double d = res->info.duration;

	for (int i = 0; i < res->nr; i++)
		if (res->r[i].duration > d)
			d = res->r[i].duration;
	return d > 0 ? d : 1;
}

/* The file name of caption C's WebVTT file (hash in the name: immutable). */
static void
caption_vtt_name(const struct media_caption_file *c, char out[64])
{
	snprintf(out, 64, "%s-%.8s.vtt", c->lang, c->sha256);
}

/* Is NAME one of the files CAPS make? */
static int
caption_listed(const char *name, const struct media_caption_file *caps, size_t n)
{
	char want[64];

	for (size_t i = 0; i < n; i++) {
		caption_vtt_name(&caps[i], want);
		if (strcmp(name, want) == 0)
			return 1;
		snprintf(want, sizeof(want), "%s.m3u8", caps[i].lang);
		if (strcmp(name, want) == 0)
			return 1;
	}
	return 0;
}

static int
publish_captions(const char *data_dir, const char *dir, const struct media_result *res,
		 const struct media_caption_file *caps, size_t n)
{
	char cdir[PATH_MAX], name[64], pl[64];
	struct dynbuf b;
	double dur = media_duration(res);
	DIR *d;
	struct dirent *e;
	int rc;

	if ((rc = path_fmt(cdir, "%s/%s", dir, "captions")) || (rc = ensure_dir(cdir)))
		return rc;
	dynbuf_init(&b, 4096);
	for (size_t i = 0; i < n && rc == 0; i++) {
		dynbuf_reset(&b);
		caption_vtt_name(&caps[i], name);
		if ((rc = read_content(data_dir, caps[i].sha256, &b)) ||
		    (rc = write_atomic(cdir, name, b.data, b.len)))
			break;
		dynbuf_reset(&b);
		snprintf(pl, sizeof(pl), "%s.m3u8", caps[i].lang);
		rc = dynbuf_printf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%.0f\n"
				   "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
				   "#EXTINF:%.3f,\n%s\n#EXT-X-ENDLIST\n", ceil(dur), dur, name);
		if (rc == 0)
			rc = write_atomic(cdir, pl, b.data, b.len);
	}
	dynbuf_cleanup(&b);
	if (rc)
		return rc;
	/* files of captions replaced or removed go */
	if ((d = opendir(cdir)) == NULL)
		return TC_EIO;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && !caption_listed(e->d_name, caps, n))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return fsync_path(cdir);
}

int
media_dir_publish(const char *data_dir, const char *dir, const struct media_result *res,
		  const struct media_caption_file *caps, size_t n)
{
	struct dynbuf b;
	int rc;

	if (!data_dir || !dir || !res || (n && !caps))
		return TC_EINVALID;
	if ((rc = publish_captions(data_dir, dir, res, caps, n)))
		return rc;
	dynbuf_init(&b, 2048);
	rc = media_master_playlist(res, caps, n, &b);
	if (rc == 0)
		rc = write_atomic(dir, "master.m3u8", b.data, b.len);
	if (rc == 0)
		rc = fsync_path(dir);
	dynbuf_cleanup(&b);
	return rc;
}

/* The rendition order in the master playlist: 360p first, so a player
 * that starts with the first variant starts where a weak link copes. */
static const char *const variant_order[] = { "360p", "original", "audio" };

int
media_master_playlist(const struct media_result *res, const struct media_caption_file *caps,
		      size_t n, struct dynbuf *out)
{
	int rc = dynbuf_puts(out, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");

	int dup = 0;

	/* NAME must be unique within the group: when two labels are the same,
	 * every NAME gets its language tag, "label (tag)", and tags are unique */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(caps[k].label[0] ? caps[k].label : caps[k].lang,
				      caps[i].label[0] ? caps[i].label : caps[i].lang) == 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = dynbuf_printf(out, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\","
				   "LANGUAGE=\"%s\",NAME=\"%s%s%s%s\",DEFAULT=NO,AUTOSELECT=YES,"
				   "URI=\"captions/%s.m3u8\"\n", caps[i].lang,
				   caps[i].label[0] ? caps[i].label : caps[i].lang,
				   dup ? " (" : "", dup ? caps[i].lang : "", dup ? ")" : "",
				   caps[i].lang);
	}
	for (size_t o = 0; o < sizeof(variant_order) / sizeof(variant_order[0]); o++) {
		for (int i = 0; i < res->nr && rc == 0; i++) {
			const struct media_rendition *r = &res->r[i];

			if (strcmp(r->name, variant_order[o]) != 0)
				continue;
			rc = dynbuf_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRId64
					   ",AVERAGE-BANDWIDTH=%" PRId64 ",CODECS=\"%s\"",
					   r->bandwidth > 0 ? r->bandwidth : 1,
					   r->average_bandwidth > 0 ? r->average_bandwidth : 1,
					   r->codecs);
			if (rc == 0 && r->width > 0 && r->height > 0)
				rc = dynbuf_printf(out, ",RESOLUTION=%dx%d", r->width, r->height);
			if (rc == 0 && r->frame_rate > 0)
				rc = dynbuf_printf(out, ",FRAME-RATE=%.3f", r->frame_rate);
			if (rc == 0 && n > 0)
				rc = dynbuf_puts(out, ",SUBTITLES=\"subs\"");
			if (rc == 0)
				rc = dynbuf_printf(out, "\n%s/index.m3u8\n", r->name);
		}
	}
	return rc;
}

/* Appends URI (N bytes) and the query to OUT. */
static int
sign_uri(struct dynbuf *out, const char *uri, size_t n, const char *query)
{
	int rc = dynbuf_append(out, uri, n);

	if (rc == 0)
		rc = dynbuf_puts(out, memchr(uri, '?', n) ? "&" : "?");
	return rc ? rc : dynbuf_puts(out, query);
}

int
media_playlist_sign(const char *text, size_t len, const char *query, struct dynbuf *out)
{
	const char *p = text, *end = text + len;
	int rc = 0;

	while (p < end && rc == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *ce = le;

		if (ce > p && ce[-1] == '\r')
			ce--;
		if (ce == p) {
			/* empty line */
		} else if (*p != '#') {
			rc = sign_uri(out, p, (size_t)(ce - p), query);
			p = ce;
		} else {
			const char *a;

			/* a tag: sign each URI="..." attribute */
			while (rc == 0 && (a = memmem(p, (size_t)(ce - p), "URI=\"", 5)) != NULL) {
				const char *q = a + 5, *close = memchr(q, '"', (size_t)(ce - q));

				if (!close)
					return TC_EINVALID;
				if ((rc = dynbuf_append(out, p, (size_t)(q - p))) ||
				    (rc = sign_uri(out, q, (size_t)(close - q), query)))
					break;
				p = close;
			}
		}
		if (rc == 0)
			rc = dynbuf_append(out, p, (size_t)(le - p));
		if (rc == 0 && eol)
			rc = dynbuf_append(out, "\n", 1);
		p = eol ? eol + 1 : end;
	}
	return rc;
}
