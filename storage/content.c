/*
 * content.c - the content-addressed file store (content.h).
 *
 * On disk:
 *   DATA/content/up-0123abcd.tmp   a file being written (O_EXCL, 0640)
 *   DATA/content/ab/cdef...        a committed file: the folder is the first
 *                                  two hex digits of its SHA-256, the name
 *                                  the other 62
 *
 * A writer holds a descriptor of DATA/content and works relative to it
 * (openat, mkdirat, renameat2), so the data folder's path is resolved
 * once. Every system call of the write path goes through the sys_*
 * wrappers, which count calls for the failure-injection hook
 * content_fail_at(). Clean-up calls (unlink of a temporary, close of a
 * read-only folder) are not counted: they run after a failure and must
 * not fail in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/content.h"

#define CONTENT_DIR "content"
#define FANOUT_LEN 2			/* "ab" */
#define TMP_NAME_LEN 15			/* "up-0123abcd.tmp" */
#define TMP_TRIES 8			/* names tried before giving up */
#define READ_CHUNK (256 * 1024)		/* content_put_fd */
#define WRITE_MAX (1024 * 1024 * 1024)	/* largest single write(2) */

struct content_writer {
	int dirfd;			/* DATA/content, O_DIRECTORY */
	int fd;				/* the temporary file; -1 once closed */
	char tmp[TMP_NAME_LEN + 1];	/* its name in dirfd; "" when none */
	EVP_MD_CTX *md;			/* SHA-256 of the bytes so far */
	int64_t size;			/* bytes written so far */
	int failed;			/* a write failed: commit refuses */
	const char *expect;		/* the hash the bytes must have, or NULL */
};

/* ---- failure injection ---------------------------------------------- */

static int fail_at;	/* 0: off; else the call (from 1) that fails */
static int fail_count;	/* calls counted since content_fail_at */

void
content_fail_at(int nth)
{
	fail_at = nth > 0 ? nth : 0;
	fail_count = 0;
}

/* 1 (errno set to EIO) when this call is the one to fail. */
static int
inject(void)
{
	if (fail_at == 0 || ++fail_count != fail_at)
		return 0;
	errno = EIO;
	return 1;
}

static int
sys_open(const char *path, int flags)
{
	return inject() ? -1 : open(path, flags);
}

static int
sys_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	return inject() ? -1 : openat(dirfd, name, flags, mode);
}

static ssize_t
sys_write(int fd, const void *p, size_t n)
{
	return inject() ? -1 : write(fd, p, n);
}

static ssize_t
sys_read(int fd, void *p, size_t n)
{
	return inject() ? -1 : read(fd, p, n);
}

static int
sys_fsync(int fd)
{
	return inject() ? -1 : fsync(fd);
}

/* close(2) reports write-back errors on some file systems; FD is closed
 * whatever the outcome. */
static int
sys_close(int fd)
{
	if (inject()) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return close(fd);
}

static int
sys_mkdirat(int dirfd, const char *name, mode_t mode)
{
	return inject() ? -1 : mkdirat(dirfd, name, mode);
}

static int
sys_renameat2(int olddir, const char *oldname, int newdir,
	      const char *newname, unsigned int flags)
{
	return inject() ? -1 :
	       renameat2(olddir, oldname, newdir, newname, flags);
}

static int
sys_linkat(int olddir, const char *oldname, int newdir, const char *newname)
{
	return inject() ? -1 : linkat(olddir, oldname, newdir, newname, 0);
}

/* ---- helpers ---------------------------------------------------------- */

/* SHA-256 fetched once (see courses/crypto.c for why). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}

/* 1 when HASH is exactly 64 lower-case hex digits. */
static int
hash_valid(const char *hash)
{
	size_t i;

	if (hash == NULL)
		return 0;
	for (i = 0; hash[i] != '\0'; i++) {
		char c = hash[i];

		if (i >= CONTENT_HASH_LEN)
			return 0;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return i == CONTENT_HASH_LEN;
}

/* DATA_DIR/content/ab/cdef... into PATH. 0 or TC_EINVALID. */
int
content_path(const char *data_dir, const char *hash, char path[PATH_MAX])
{
	int n;

	if (data_dir == NULL || data_dir[0] == '\0' || !hash_valid(hash))
		return TC_EINVALID;
	n = snprintf(path, PATH_MAX, "%s/" CONTENT_DIR "/%.*s/%s", data_dir,
		     FANOUT_LEN, hash, hash + FANOUT_LEN);
	if (n < 0 || n >= PATH_MAX) {
		log_err("content: path too long (%zu bytes): %.64s...",
			strlen(data_dir), data_dir);
		return TC_EINVALID;
	}
	return 0;
}

/* Opens DATA_DIR/content as a folder into *DIRFD. 0, TC_EINVALID, TC_EIO. */
static int
open_content_dir(const char *data_dir, int *dirfd)
{
	char path[PATH_MAX];
	int n;
	int rc = 0;

	*dirfd = -1;
	if (data_dir == NULL || data_dir[0] == '\0') {
		log_err("content: data folder not set");
		rc = TC_EINVALID;
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/" CONTENT_DIR, data_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_err("content: path too long (%zu bytes): %.64s...",
			strlen(data_dir), data_dir);
		rc = TC_EINVALID;
		goto out;
	}
	*dirfd = sys_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		log_err("content: cannot open %s: %s", path, strerror(errno));
		rc = TC_EIO;
	}
out:
	return rc;
}

/* Creates a new temporary file in W's folder: W->fd and W->tmp. */
static int
create_tmp(struct content_writer *w)
{
	char name[TMP_NAME_LEN + 1];
	uint32_t r;
	int rc = 0;

	for (int i = 0; i < TMP_TRIES; i++) {
		rc = crypto_random(&r, sizeof(r));
		if (rc)
			goto out;
		snprintf(name, sizeof(name), "up-%08" PRIx32 ".tmp", r);
		w->fd = sys_openat(w->dirfd, name,
				   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				   0640);
		if (w->fd >= 0) {
			memcpy(w->tmp, name, sizeof(name));
			goto out;
		}
		if (errno != EEXIST)
			break;
	}
	log_err("content: cannot create a temporary file: %s",
		strerror(errno));
	rc = TC_EIO;
out:
	return rc;
}

/* TC_ETOOBIG when ERR means the disk or quota is full, else TC_EIO. */
static int
write_error(int err)
{
	return (err == ENOSPC || err == EDQUOT) ? TC_ETOOBIG : TC_EIO;
}

/*
 * Moves W's temporary file to FANDIR/NAME (HEX without its first two
 * digits) unless a file is there already (then that one is kept: same
 * hash, same bytes). *PLACED is 1 when this
 * call created NAME. renameat2 with RENAME_NOREPLACE where the file system
 * has it, else link (which never replaces either); the temporary that is
 * left over is removed by content_abort.
 */
static int
move_into_place(struct content_writer *w, int fandir, const char *hex,
		int *placed)
{
	const char *name = hex + FANOUT_LEN;
	int rc = 0;

	*placed = 0;
	if (sys_renameat2(w->dirfd, w->tmp, fandir, name,
			  RENAME_NOREPLACE) == 0) {
		*placed = 1;
		w->tmp[0] = '\0';
		goto out;
	}
	if (errno == EEXIST)
		goto out;
	if (errno != EINVAL && errno != ENOSYS)
		goto fail;
	if (sys_linkat(w->dirfd, w->tmp, fandir, name) == 0) {
		*placed = 1;
		goto out;
	}
	if (errno == EEXIST)
		goto out;
fail:
	log_err("content: cannot move %s to %.*s/%s: %s", w->tmp, FANOUT_LEN,
		hex, name, strerror(errno));
	rc = TC_EIO;
out:
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

int
content_begin(const char *data_dir, struct content_writer **out)
{
	struct content_writer *w = NULL;
	int rc = 0;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	w->dirfd = -1;
	w->fd = -1;
	w->md = EVP_MD_CTX_new();
	if (w->md == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(w->md, sha256(), NULL) != 1) {
		crypto_log_error("content: EVP_DigestInit_ex");
		rc = TC_EIO;
		goto out;
	}
	rc = open_content_dir(data_dir, &w->dirfd);
	if (rc)
		goto out;
	rc = create_tmp(w);
	if (rc)
		goto out;
	*out = w;
	w = NULL;
out:
	content_abort(w);
	return rc;
}

int
content_write(struct content_writer *w, const void *p, size_t n)
{
	const unsigned char *q = p;
	int rc = 0;

	if (w == NULL || (p == NULL && n > 0))
		return TC_EINVALID;
	if (w->failed)
		return w->failed;
	while (n > 0) {
		size_t chunk = n > WRITE_MAX ? WRITE_MAX : n;
		ssize_t k = sys_write(w->fd, q, chunk);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = k < 0 ? errno : EIO;

			log_err("content: cannot write %s: %s", w->tmp,
				strerror(err));
			rc = write_error(err);
			goto out;
		}
		if (EVP_DigestUpdate(w->md, q, (size_t)k) != 1) {
			crypto_log_error("content: EVP_DigestUpdate");
			rc = TC_EIO;
			goto out;
		}
		w->size += k;
		q += k;
		n -= (size_t)k;
	}
out:
	if (rc)
		w->failed = rc;
	return rc;
}

int64_t
content_size(const struct content_writer *w)
{
	return w != NULL ? w->size : 0;
}

/* content_commit, with *PLACED (when not NULL) set as content_put_fd's. */
static int
commit(struct content_writer *w, char hash[CONTENT_HASH_LEN + 1], int *placed_out)
{
	static const char hexdig[] = "0123456789abcdef";
	unsigned char raw[32];
	unsigned int len = 0;
	char hex[CONTENT_HASH_LEN + 1] = "";
	char fan[FANOUT_LEN + 1];
	int fandir = -1;
	int fd;
	int created_dir = 0;
	int placed = 0;
	int rc = 0;

	hash[0] = '\0';
	if (w == NULL)
		return TC_EINVALID;
	if (w->failed) {
		rc = TC_EIO;
		goto out;
	}
	if (EVP_DigestFinal_ex(w->md, raw, &len) != 1 || len != sizeof(raw)) {
		crypto_log_error("content: EVP_DigestFinal_ex");
		rc = TC_EIO;
		goto out;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		hex[2 * i] = hexdig[raw[i] >> 4];
		hex[2 * i + 1] = hexdig[raw[i] & 0xf];
	}
	hex[CONTENT_HASH_LEN] = '\0';
	if (w->expect != NULL && strcmp(hex, w->expect) != 0) {
		rc = TC_EINVALID;	/* not the bytes the caller meant: nothing placed */
		goto out;
	}
	memcpy(fan, hex, FANOUT_LEN);
	fan[FANOUT_LEN] = '\0';

	if (sys_fsync(w->fd) != 0) {
		log_err("content: cannot fsync %s: %s", w->tmp, strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	fd = w->fd;
	w->fd = -1;
	if (sys_close(fd) != 0) {
		log_err("content: cannot close %s: %s", w->tmp, strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	if (sys_mkdirat(w->dirfd, fan, 0750) == 0)
		created_dir = 1;
	else if (errno != EEXIST) {
		log_err("content: cannot create folder %s: %s", fan,
			strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	fandir = sys_openat(w->dirfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			    0);
	if (fandir < 0) {
		log_err("content: cannot open folder %s: %s", fan,
			strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	rc = move_into_place(w, fandir, hex, &placed);
	if (rc)
		goto out;
	if (sys_fsync(fandir) != 0) {
		log_err("content: cannot fsync folder %s: %s", fan,
			strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	if (created_dir && sys_fsync(w->dirfd) != 0) {
		log_err("content: cannot fsync folder " CONTENT_DIR ": %s",
			strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	memcpy(hash, hex, sizeof(hex));
	if (placed_out != NULL)
		*placed_out = placed;
out:
	/* A file this call placed but could not make durable is withdrawn:
	 * the caller was told it failed and will not refer to it. */
	if (rc && placed && unlinkat(fandir, hex + FANOUT_LEN, 0) != 0 &&
	    errno != ENOENT)
		log_err("content: cannot remove %s/%s: %s", fan,
			hex + FANOUT_LEN, strerror(errno));
	if (fandir >= 0)
		close(fandir);
	content_abort(w);
	return rc;
}

int
content_commit(struct content_writer *w, char hash[CONTENT_HASH_LEN + 1])
{
	return commit(w, hash, NULL);
}

void
content_abort(struct content_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp[0] != '\0' && unlinkat(w->dirfd, w->tmp, 0) != 0 &&
	    errno != ENOENT)
		log_err("content: cannot remove %s: %s", w->tmp,
			strerror(errno));
	if (w->dirfd >= 0)
		close(w->dirfd);
	EVP_MD_CTX_free(w->md);
	free(w);
}

int
content_put_fd(const char *data_dir, int fd, const char *expect,
	       char hash[CONTENT_HASH_LEN + 1], int64_t *size, int *placed)
{
	struct content_writer *w = NULL;
	unsigned char *buf = NULL;
	int64_t total = 0;
	int rc = 0;

	hash[0] = '\0';
	if (size != NULL)
		*size = 0;
	if (placed != NULL)
		*placed = 0;
	buf = malloc(READ_CHUNK);
	if (buf == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	rc = content_begin(data_dir, &w);
	if (rc)
		goto out;
	for (;;) {
		ssize_t k = sys_read(fd, buf, READ_CHUNK);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			log_err("content: cannot read the source file: %s",
				strerror(errno));
			rc = TC_EIO;
			goto out;
		}
		if (k == 0)
			break;
		rc = content_write(w, buf, (size_t)k);
		if (rc)
			goto out;
	}
	total = content_size(w);
	w->expect = expect;
	rc = commit(w, hash, placed);
	w = NULL;
	if (rc == 0 && size != NULL)
		*size = total;
out:
	content_abort(w);
	free(buf);
	return rc;
}

/* ---- reading and deleting ------------------------------------------- */

int
content_open(const char *data_dir, const char *hash, int *fd)
{
	char path[PATH_MAX];
	int rc = 0;

	*fd = -1;
	rc = content_path(data_dir, hash, path);
	if (rc)
		goto out;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		if (errno == ENOENT) {
			rc = TC_ENOTFOUND;
			goto out;
		}
		log_err("content: cannot open %s: %s", path, strerror(errno));
		rc = TC_EIO;
	}
out:
	return rc;
}

int
content_delete(const char *data_dir, const char *hash)
{
	char path[PATH_MAX];
	int rc = 0;

	rc = content_path(data_dir, hash, path);
	if (rc)
		goto out;
	if (unlink(path) != 0) {
		if (errno == ENOENT) {
			rc = TC_ENOTFOUND;
			goto out;
		}
		log_err("content: cannot remove %s: %s", path, strerror(errno));
		rc = TC_EIO;
	}
out:
	return rc;
}
