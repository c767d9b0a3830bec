/*
 * store.c - the backend-independent part of the store: preparing the data
 * folder, opening the default (SQLite) backend, and dispatching calls
 * through the backend's ops table. See store.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/log.h"
#include "storage/sqlite_migrate.h"
#include "storage/store.h"
#include "storage/store_backend.h"

#define DB_FILE "tinchi.db"
#define TMP_SUFFIX ".tmp"

/* BUF = DIR "/" NAME. Returns 0 or TC_EINVALID (logged) when too long. */
static int
join_path(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		log_err("path too long (%zu bytes): %.64s...", strlen(dir),
			dir);
		return TC_EINVALID;
	}
	return 0;
}

/* Makes PATH a folder (MODE when created). Returns 0 or TC_EIO (logged). */
static int
ensure_dir(const char *path, mode_t mode)
{
	struct stat st;
	int err = 0;
	int rc = 0;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			err = ENOTDIR;
		goto out;
	}
	if (errno != ENOENT) {
		err = errno;
		goto out;
	}
	if (mkdir(path, mode) != 0) {
		err = errno;
		/* Someone else may have created it in between. */
		if (err == EEXIST && stat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			err = 0;
	}
out:
	if (err != 0) {
		log_err("cannot create folder %s: %s", path, strerror(err));
		rc = TC_EIO;
	}
	return rc;
}

/* mkdir -p: PATH and every missing parent, created with MODE. */
static int
ensure_dir_tree(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	int n;
	int rc = 0;

	n = snprintf(buf, sizeof(buf), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		log_err("path too long (%zu bytes): %.64s...", strlen(path),
			path);
		rc = TC_EINVALID;
		goto out;
	}
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		rc = ensure_dir(buf, mode);
		*p = '/';
		if (rc)
			goto out;
	}
	rc = ensure_dir(buf, mode);
out:
	return rc;
}

static int
has_tmp_suffix(const char *name)
{
	size_t len = strlen(name);
	size_t slen = sizeof(TMP_SUFFIX) - 1;

	return len >= slen && strcmp(name + len - slen, TMP_SUFFIX) == 0;
}

/*
 * Removes regular files named "*.tmp" directly inside CONTENT: uploads and
 * writes that a crash interrupted before their rename. Folders and links
 * are left alone. Returns 0 or TC_EIO (logged).
 */
static int
remove_tmp_files(const char *content)
{
	DIR *d = NULL;
	struct dirent *de = NULL;
	struct stat st;
	int removed = 0;
	int fd;
	int rc = 0;

	d = opendir(content);
	if (d == NULL) {
		log_err("cannot read folder %s: %s", content, strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	fd = dirfd(d);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (!has_tmp_suffix(de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(fd, de->d_name, 0) != 0 && errno != ENOENT) {
			log_err("cannot remove %s/%s: %s", content, de->d_name,
				strerror(errno));
			rc = TC_EIO;
			goto out;
		}
		removed++;
	}
	if (errno != 0) {
		log_err("cannot read folder %s: %s", content, strerror(errno));
		rc = TC_EIO;
		goto out;
	}
	if (removed > 0)
		log_info("removed %d left-over temporary file%s from %s",
			 removed, removed == 1 ? "" : "s", content);
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

/* Keys must not be readable by others; say so when an old folder is. */
static void
check_keys_mode(const char *keys)
{
	struct stat st;

	if (stat(keys, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s is accessible by group or others (mode %04o); "
			 "chmod 700 it", keys, (unsigned)(st.st_mode & 07777));
}

int
store_prepare_dir(const char *dir)
{
	static const struct {
		const char *name;
		mode_t mode;
	} subdirs[] = {
		{ "content", 0750 },
		{ "keys", 0700 },
		{ "logs", 0750 },
	};
	char path[PATH_MAX];
	int rc = 0;

	if (dir == NULL || dir[0] == '\0') {
		log_err("data folder not set");
		rc = TC_EINVALID;
		goto out;
	}
	rc = ensure_dir_tree(dir, 0750);
	if (rc)
		goto out;
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		rc = join_path(path, sizeof(path), dir, subdirs[i].name);
		if (rc)
			goto out;
		rc = ensure_dir(path, subdirs[i].mode);
		if (rc)
			goto out;
	}
	rc = join_path(path, sizeof(path), dir, "keys");
	if (rc)
		goto out;
	check_keys_mode(path);
	rc = join_path(path, sizeof(path), dir, "content");
	if (rc)
		goto out;
	rc = remove_tmp_files(path);
out:
	return rc;
}

int
store_open(const char *dir, struct store **out)
{
	char path[PATH_MAX];
	int rc = 0;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0') {
		log_err("data folder not set");
		rc = TC_EINVALID;
		goto out;
	}
	rc = join_path(path, sizeof(path), dir, DB_FILE);
	if (rc)
		goto out;
	rc = store_sqlite_open(path, out);
out:
	return rc;
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *
store_backend(const struct store *s)
{
	return s->ops->name;
}

int
store_ping(struct store *s)
{
	return s->ops->ping(s);
}

int
store_schema_version(struct store *s, int *out)
{
	return s->ops->schema_version(s, out);
}

int
store_schema_latest(void)
{
	if (sqlite_migrations_count == 0)
		return 0;
	return sqlite_migrations[sqlite_migrations_count - 1].version;
}

int
store_size_bytes(struct store *s, int64_t *out)
{
	return s->ops->size_bytes(s, out);
}

int
store_set_busy_timeout(struct store *s, int ms)
{
	if (!s || ms < 0)
		return TC_EINVALID;
	return s->ops->set_busy_timeout ? s->ops->set_busy_timeout(s, ms) : TC_EUNSUPPORTED;
}

int
store_set_bulk(struct store *s, int on)
{
	if (!s)
		return TC_EINVALID;
	return s->ops->set_bulk ? s->ops->set_bulk(s, on) : 0;
}

int
store_checkpoint(struct store *s, enum store_checkpoint_mode mode, int *log, int *done)
{
	if (!s || (mode != STORE_CKPT_PASSIVE && mode != STORE_CKPT_TRUNCATE))
		return TC_EINVALID;
	return s->ops->checkpoint ? s->ops->checkpoint(s, (int)mode, log, done) : TC_EUNSUPPORTED;
}
