/*
 * media_files.c - the published folders of processed lectures; see
 * media_files.h.
 */
#include <dirent.h>
#include <ctype.h>
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
#include "courses/webvtt.h"
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

/* A tag is a node's name made safe for a file name: [A-Za-z0-9_.-], at
 * most 32 characters, never empty. */
static void
tag_clean(const char *tag, char out[33])
{
	size_t n = 0;

	for (; tag && tag[n] && n < 32; n++)
		out[n] = ((tag[n] >= 'a' && tag[n] <= 'z') || (tag[n] >= 'A' && tag[n] <= 'Z') ||
			  (tag[n] >= '0' && tag[n] <= '9') || tag[n] == '_' || tag[n] == '-')
			 ? tag[n] : '_';
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
}

int
media_tmp_create(const char *data_dir, const char *tag, const char *uid, char out[PATH_MAX])
{
	char path[PATH_MAX], name[128], t[33];
	unsigned char r[8];
	int rc;

	if (!data_dir || !uid || !uid_valid(uid))
		return TC_EINVALID;
	tag_clean(tag, t);
	if ((rc = path_fmt(path, "%s/%s", data_dir, MEDIA_ROOT)) || (rc = ensure_dir(path)) ||
	    (rc = path_fmt(path, "%s/%s", data_dir, MEDIA_TMP)) || (rc = ensure_dir(path)) ||
	    (rc = crypto_random(r, sizeof(r))))
		return rc;
	snprintf(name, sizeof(name), "job.%s.%s-%02x%02x%02x%02x%02x%02x%02x%02x", t, uid, r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
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

/* Removes the entries of DATA/media/.tmp whose names start with PREFIX. */
static int
tmp_remove_prefixed(const char *data_dir, const char *prefix)
{
	char root[PATH_MAX], path[PATH_MAX];
	size_t plen = strlen(prefix);
	struct dirent *e;
	DIR *d;
	int rc = path_fmt(root, "%s/%s", data_dir, MEDIA_TMP);

	if (rc)
		return rc;
	if ((d = opendir(root)) == NULL)
		return errno == ENOENT ? 0 : TC_EIO;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, plen) == 0 &&
		    path_fmt(path, "%s/%s", root, e->d_name) == 0 && media_dir_remove(path))
			rc = TC_EIO;
	closedir(d);
	return rc;
}

int
media_tmp_clean(const char *data_dir, const char *tag)
{
	char t[33], prefix[40];

	tag_clean(tag, t);
	snprintf(prefix, sizeof(prefix), "job.%s.", t);
	return tmp_remove_prefixed(data_dir, prefix);
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
	return tmp_remove_prefixed(data_dir, "trash-");
}

const char *
media_file_type(const char *dir, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	char lang[40];

	if (!name)
		return NULL;
	if (!dir) {
		if (strcmp(name, "master.m3u8") == 0)
			return "application/vnd.apple.mpegurl";
		return strcmp(name, "poster.jpg") == 0 ? "image/jpeg" : NULL;
	}
	if (strcmp(dir, "captions") == 0) {
		if (n > 5 && n - 5 < sizeof(lang) && strcmp(name + n - 5, ".m3u8") == 0) {
			memcpy(lang, name, n - 5);
			lang[n - 5] = '\0';
			return lang_tag_valid(lang) ? "application/vnd.apple.mpegurl" : NULL;
		}
		if (n > 13 && n - 13 < sizeof(lang) && strcmp(name + n - 4, ".vtt") == 0 &&
		    name[n - 13] == '-') {
			memcpy(lang, name, n - 13);
			lang[n - 13] = '\0';
			for (size_t i = n - 12; i < n - 4; i++)
				if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
					return NULL;
			return lang_tag_valid(lang) ? "text/vtt; charset=utf-8" : NULL;
		}
		return NULL;
	}
	if (strcmp(dir, "original") && strcmp(dir, "360p") && strcmp(dir, "audio"))
		return NULL;
	if (strcmp(name, "index.m3u8") == 0)
		return "application/vnd.apple.mpegurl";
	if (strcmp(name, "init.mp4") == 0)
		return strcmp(dir, "audio") == 0 ? "audio/mp4" : "video/mp4";
	if (n == 13 && strncmp(name, "seg_", 4) == 0 && strcmp(name + 9, ".m4s") == 0) {
		for (size_t i = 4; i < 9; i++)
			if (name[i] < '0' || name[i] > '9')
				return NULL;
		return "video/iso.segment";
	}
	return NULL;
}

/* A temporary file a crash left behind (".NAME.<random>.tmp"): never
 * served, removed when its folder is next published. */
static int
leftover_tmp(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 5 && strcmp(name + n - 4, ".tmp") == 0;
}

/* fsync of the plain file NAME in DFD. */
static int
fsync_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) != 0) {
		log_err("media: cannot sync %s: %s", name, strerror(errno));
		rc = TC_EIO;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The worker wrote DIR (it is untrusted): only the names media_file_type
 * knows, in the folders it knows, as plain files with one link (a hard
 * link could point at any file of the server's), or folders. Anything else
 * refuses the whole folder. What passes is made durable on the way, every
 * file and folder synced (the worker syncs nothing), so that the lecture
 * is never recorded ready with files a crash could still lose.
 */
static int
check_tree_at(int dfd, const char *sub)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return TC_EIO;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = TC_EIO;
		} else if (S_ISDIR(st.st_mode) && !sub &&
			   (strcmp(e->d_name, "original") == 0 || strcmp(e->d_name, "360p") == 0 ||
			    strcmp(e->d_name, "audio") == 0 || strcmp(e->d_name, "captions") == 0)) {
			int fd = openat(dirfd(d), e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			rc = fd < 0 ? TC_EIO : check_tree_at(fd, e->d_name);
		} else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
			   (!media_file_type(sub, e->d_name) && !leftover_tmp(e->d_name))) {
			log_warn("media: unexpected %s%s%s in a job's output", sub ? sub : "",
				 sub ? "/" : "", e->d_name);
			rc = TC_EINVALID;
		} else if (!leftover_tmp(e->d_name)) {
			rc = fsync_at(dirfd(d), e->d_name);
		}
	}
	if (rc == 0 && fsync(dirfd(d)) != 0)
		rc = TC_EIO;
	closedir(d);
	return rc;
}

static int
check_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? TC_EIO : check_tree_at(fd, NULL);
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
	if ((rc = check_tree(tmpdir)))
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

/* Writes LEN bytes at P to DIR/NAME through a new DIR/.NAME.<random>.tmp,
 * synced: two writers never share a temporary file. */
static int
write_atomic(const char *dir, const char *name, const void *p, size_t len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	unsigned char r[6];
	const char *c = p;
	int fd, rc = crypto_random(r, sizeof(r));

	if (rc)
		return rc;
	if (path_fmt(tmp, "%s/.%s.%02x%02x%02x%02x%02x%02x.tmp", dir, name, r[0], r[1], r[2], r[3],
		     r[4], r[5]) || path_fmt(final, "%s/%s", dir, name))
		return TC_EINVALID;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
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
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    !caption_listed(e->d_name, caps, n))
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
	/* a job folder was written by the worker: nothing in it is followed */
	if ((rc = check_tree(dir)) || (rc = publish_captions(data_dir, dir, res, caps, n)))
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

/* 1 when URI (N bytes) is a plain relative path inside the playlist's
 * folder: [A-Za-z0-9._-] names joined by '/', no leading '/', no "..", then
 * at most a query of [A-Za-z0-9._~=&%-]. Anything else (a scheme, "//", a
 * backslash, which browsers read as '/', spaces, escapes) could lead a
 * player elsewhere. */
static int
uri_local(const char *uri, size_t n)
{
	size_t i = 0;

	if (n == 0 || uri[0] == '/' || memmem(uri, n, "..", 2))
		return 0;
	for (; i < n && uri[i] != '?'; i++)
		if (!isalnum((unsigned char)uri[i]) && (!uri[i] || !strchr("._-/", uri[i])))
			return 0;
	if (i > 0 && uri[i - 1] == '/')
		return 0;
	for (i++; i < n; i++)
		if (!isalnum((unsigned char)uri[i]) && (!uri[i] || !strchr("._~=&%-", uri[i])))
			return 0;
	return 1;
}

/* Appends URI (N bytes) and the query to OUT. Only relative URIs inside
 * the lecture's folder are signed: the token never leaves for elsewhere. */
static int
sign_uri(struct dynbuf *out, const char *uri, size_t n, const char *query)
{
	int rc;

	if (!uri_local(uri, n))
		return TC_EINVALID;
	rc = dynbuf_append(out, uri, n);

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
