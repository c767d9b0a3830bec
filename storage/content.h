/*
 * content.h - the content-addressed file store under DATA/content/.
 *
 * A file is named by the SHA-256 of its bytes (lower-case hex), in a
 * two-level fan-out: content/ab/cdef...; identical files are stored once.
 * Writing goes to a temporary file in content/ ("*.tmp", O_EXCL, 0640),
 * which is fsynced, renamed into place and its folder fsynced: a crash
 * never leaves a half-written file under a content name, and leftovers are
 * removed at start (store_prepare_dir). Deletion is explicit: the caller
 * (which knows whether anything still refers to a hash) calls
 * content_delete.
 */
#ifndef TINCHI_CONTENT_H
#define TINCHI_CONTENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTENT_HASH_LEN 64

struct content_writer;

/* Starts a new file in DATA_DIR/content. 0, TC_EIO, TC_ENOMEM. */
int content_begin(const char *data_dir, struct content_writer **out);

/* Appends N bytes (hashing as it goes). TC_EIO (ENOSPC: TC_ETOOBIG). */
int content_write(struct content_writer *w, const void *p, size_t n);

/* Bytes written so far. */
int64_t content_size(const struct content_writer *w);

/*
 * Makes the file permanent: fsync, rename to its hash (an existing file of
 * the same hash is kept and the temporary one removed), fsync the folder.
 * HASH receives the hex SHA-256. The writer is freed whatever happens.
 * 0, TC_EIO.
 */
int content_commit(struct content_writer *w, char hash[CONTENT_HASH_LEN + 1]);

/* Drops an unfinished file (removes the temporary). Accepts NULL. */
void content_abort(struct content_writer *w);

/*
 * Stores the whole file FD (read from its current offset to the end). With
 * EXPECT (else NULL) the bytes must have that hash: when they do not,
 * nothing is stored (not even bytes already stored under their own hash
 * are touched) and the result is TC_EINVALID. *PLACED (when not NULL) is 1
 * when this call created the stored file, 0 when it was there already.
 */
int content_put_fd(const char *data_dir, int fd, const char *expect,
		   char hash[CONTENT_HASH_LEN + 1], int64_t *size, int *placed);

/* Opens a stored file read-only (O_CLOEXEC). TC_ENOTFOUND, TC_EINVALID
 * (HASH is not 64 lower-case hex digits), TC_EIO. */
int content_open(const char *data_dir, const char *hash, int *fd);

/* The path of a stored file (it may not exist), for a process that opens
 * it itself (the media worker). 0, or TC_EINVALID (bad HASH, long path). */
int content_path(const char *data_dir, const char *hash, char path[PATH_MAX]);

/* Removes a stored file; TC_ENOTFOUND when absent. */
int content_delete(const char *data_dir, const char *hash);

/*
 * Test hook: make the Nth system call of the write path (open, write,
 * fsync, rename, fsync of the folder; counted from 1 after this call) fail
 * with EIO. 0 turns it off. Not thread-safe; tests only.
 */
void content_fail_at(int nth);

#endif
