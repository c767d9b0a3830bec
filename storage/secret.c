/* secret.c - see secret.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/secret.h"

static int
read_exact(const char *path, unsigned char *out, size_t n)
{
	unsigned char extra;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? TC_ENOTFOUND : TC_EIO;
	while (got < n) {
		ssize_t r = read(fd, out + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = TC_EIO;
			goto out;
		}
		got += (size_t)r;
	}
	if (read(fd, &extra, 1) != 0)
		rc = TC_EIO;	/* longer than a secret */
out:
	close(fd);
	return rc;
}

static int
create_secret(const char *dir, const char *path, unsigned char *out, size_t n)
{
	char tmp[PATH_MAX];
	int fd = -1, dfd = -1, rc = TC_EIO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return TC_EINVALID;
	if (RAND_bytes(out, (int)n) != 1)
		return TC_EIO;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, out, n) != (ssize_t)n || fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	/* link, not rename: if another process won the race, keep its secret */
	if (link(tmp, path) != 0) {
		unlink(tmp);
		if (errno == EEXIST)
			return read_exact(path, out, n);
		goto out;
	}
	unlink(tmp);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	if (rc)
		OPENSSL_cleanse(out, n);
	return rc;
}

int
platform_secret_load(const char *keys_dir, unsigned char out[PLATFORM_SECRET_LEN])
{
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof(path), "%s/platform.secret", keys_dir) >= (int)sizeof(path))
		return TC_EINVALID;
	rc = read_exact(path, out, PLATFORM_SECRET_LEN);
	if (rc == TC_ENOTFOUND)
		rc = create_secret(keys_dir, path, out, PLATFORM_SECRET_LEN);
	if (rc) {
		OPENSSL_cleanse(out, PLATFORM_SECRET_LEN);
		log_err("cannot read or create the platform secret %s (it must be exactly %d bytes)",
			path, PLATFORM_SECRET_LEN);
	}
	return rc ? TC_EIO : 0;
}
