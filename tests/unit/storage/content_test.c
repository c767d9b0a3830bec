/* content_test.c - tests for storage/content.c */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/content.h"
#include "storage/store.h"
#include "tests/tap.h"
#include "tests/unit/tmpdir.h"

#define ABC_HASH "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_STEPS 64	/* injection stops looking for the end here */

static char dir[1024];	/* the data folder */

/* DIR/content/SUB into BUF. */
static void
content_sub(char *buf, size_t size, const char *sub)
{
	snprintf(buf, size, "%s/content%s%s", dir, sub[0] ? "/" : "", sub);
}

/* DIR/content/ab/cdef... for HASH into BUF. */
static void
hash_path(char *buf, size_t size, const char *hash)
{
	snprintf(buf, size, "%s/content/%.2s/%s", dir, hash, hash + 2);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Counts entries under PATH (two levels deep at most): *TMP the names
 * ending ".tmp" anywhere, *FILES the regular files. */
static void
walk(const char *path, int depth, int *tmp, int *files)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[8192];
		size_t len = strlen(de->d_name);
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0)
			(*tmp)++;
		if (lstat(sub, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			(*files)++;
		else if (S_ISDIR(st.st_mode) && depth < 2)
			walk(sub, depth + 1, tmp, files);
	}
	closedir(d);
}

static int
count_tmp(void)
{
	char path[4096];
	int tmp = 0, files = 0;

	content_sub(path, sizeof(path), "");
	walk(path, 0, &tmp, &files);
	return tmp;
}

static int
count_files(void)
{
	char path[4096];
	int tmp = 0, files = 0;

	content_sub(path, sizeof(path), "");
	walk(path, 0, &tmp, &files);
	return files;
}

/* begin + write (in two pieces) + commit. */
static int
store_bytes(const void *p, size_t n, char hash[CONTENT_HASH_LEN + 1])
{
	struct content_writer *w = NULL;
	int rc;

	hash[0] = '\0';
	rc = content_begin(dir, &w);
	if (rc)
		return rc;
	rc = content_write(w, p, n / 2);
	if (rc == 0)
		rc = content_write(w, (const char *)p + n / 2, n - n / 2);
	if (rc) {
		content_abort(w);
		return rc;
	}
	return content_commit(w, hash);
}

/* Reads all of FD into BUF (SIZE bytes at most); the count or -1. */
static ssize_t
read_all(int fd, void *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t k = read(fd, (char *)buf + got, size - got);

		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void
fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static void
test_abc(void)
{
	struct content_writer *w = NULL;
	char hash[CONTENT_HASH_LEN + 1];
	char want[SHA256_HEX_LEN + 1];
	char path[4096];
	struct stat st;
	mode_t mask;

	mask = umask(0);
	umask(mask);
	is_int(content_begin(dir, &w), 0, "begin");
	ok(w != NULL, "begin gives a writer");
	is_int(count_tmp(), 1, "one temporary file while writing");
	is_int(content_write(w, "ab", 2), 0, "write 'ab'");
	is_int(content_write(w, "c", 1), 0, "write 'c'");
	is_int(content_write(w, NULL, 0), 0, "write nothing");
	is_int(content_size(w), 3, "size 3");
	is_int(content_commit(w, hash), 0, "commit");
	is_str(hash, ABC_HASH, "SHA-256 of 'abc' (FIPS 180-2 vector)");
	sha256_hex("abc", 3, want);
	is_str(hash, want, "same as sha256_hex");
	hash_path(path, sizeof(path), hash);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 3,
	   "stored as content/ba/7816bf...");
	is_int(st.st_mode & 0777, 0640 & ~mask, "file mode 0640");
	content_sub(path, sizeof(path), "ba");
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "fan-out folder");
	is_int(st.st_mode & 0777, 0750 & ~mask, "folder mode 0750");
	is_int(count_tmp(), 0, "no temporary file after commit");
}

static void
test_identical(void)
{
	char hash[CONTENT_HASH_LEN + 1];
	int before = count_files();

	is_int(store_bytes("abc", 3, hash), 0, "store 'abc' again");
	is_str(hash, ABC_HASH, "same hash");
	is_int(count_files(), before, "still one file");
	is_int(count_tmp(), 0, "temporary removed");
}

static void
test_large(void)
{
	size_t n = 1000003;
	unsigned char *data = malloc(n);
	unsigned char *back = malloc(n + 1);
	char hash[CONTENT_HASH_LEN + 1];
	char want[SHA256_HEX_LEN + 1];
	struct content_writer *w = NULL;
	size_t off = 0, piece = 1;
	int fd = -1;
	int rc = 0;

	if (data == NULL || back == NULL) {
		ok(0, "memory for the large test");
		goto out;
	}
	fill_pattern(data, n, 42);
	sha256_hex(data, n, want);
	is_int(content_begin(dir, &w), 0, "begin (large)");
	while (off < n && rc == 0) {
		size_t k = piece < n - off ? piece : n - off;

		rc = content_write(w, data + off, k);
		off += k;
		piece = piece * 3 + 1;
	}
	is_int(rc, 0, "uneven writes");
	is_int(content_size(w), n, "size");
	is_int(content_commit(w, hash), 0, "commit (large)");
	is_str(hash, want, "hash of 1 MB in uneven pieces");
	is_int(content_open(dir, hash, &fd), 0, "open it");
	is_int(read_all(fd, back, n + 1), n, "read back the whole size");
	ok(memcmp(back, data, n) == 0, "same bytes");
	close(fd);
	is_int(content_delete(dir, hash), 0, "delete it");
out:
	free(data);
	free(back);
}

static void
test_abort(void)
{
	struct content_writer *w = NULL;
	int before = count_files();

	is_int(content_begin(dir, &w), 0, "begin (abort)");
	is_int(content_write(w, "to be dropped", 13), 0, "write");
	content_abort(w);
	is_int(count_tmp(), 0, "abort leaves no temporary");
	is_int(count_files(), before, "abort stores nothing");
	content_abort(NULL);
	ok(1, "content_abort(NULL)");
}

static void
test_open_delete(void)
{
	char buf[16];
	int fd = 123;

	is_int(content_open(dir, ABC_HASH, &fd), 0, "open 'abc'");
	ok(fd >= 0, "a descriptor");
	is_int(read_all(fd, buf, sizeof(buf)), 3, "3 bytes");
	ok(memcmp(buf, "abc", 3) == 0, "'abc'");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "O_CLOEXEC");
	ok((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "read-only");
	close(fd);

	fd = 123;
	is_int(content_open(dir, EMPTY_HASH, &fd), TC_ENOTFOUND,
	       "open missing: not found");
	is_int(fd, -1, "fd -1 on failure");
	is_int(content_delete(dir, EMPTY_HASH), TC_ENOTFOUND,
	       "delete missing: not found");
	is_int(content_delete(dir, ABC_HASH), 0, "delete 'abc'");
	is_int(content_open(dir, ABC_HASH, &fd), TC_ENOTFOUND,
	       "gone after delete");
	is_int(content_delete(dir, ABC_HASH), TC_ENOTFOUND, "delete twice");
}

static void
test_bad_hashes(void)
{
	static const char *bad[] = {
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aD",
		"ba7816bf",
		"",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"../../../../../../../../../../../../../../../../../etc/passwd",
		"../7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015",
		"ba/816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015g0",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001 ad",
	};
	char name[96];
	int fd;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "bad hash %zu refused by open", i);
		fd = 123;
		is_int(content_open(dir, bad[i], &fd), TC_EINVALID, name);
		snprintf(name, sizeof(name), "bad hash %zu refused by delete", i);
		is_int(content_delete(dir, bad[i]), TC_EINVALID, name);
	}
	fd = 123;
	is_int(content_open(dir, NULL, &fd), TC_EINVALID, "NULL hash");
	is_int(fd, -1, "fd -1");
	is_int(content_open(NULL, ABC_HASH, &fd), TC_EINVALID, "NULL folder");
}

static void
test_empty(void)
{
	struct content_writer *w = NULL;
	char hash[CONTENT_HASH_LEN + 1];
	char path[4096];
	struct stat st;
	int64_t size = -1;
	int fd;

	is_int(content_begin(dir, &w), 0, "begin (empty)");
	is_int(content_size(w), 0, "size 0");
	is_int(content_commit(w, hash), 0, "commit empty");
	is_str(hash, EMPTY_HASH, "SHA-256 of nothing");
	hash_path(path, sizeof(path), hash);
	ok(stat(path, &st) == 0 && st.st_size == 0, "zero-byte file stored");

	snprintf(path, sizeof(path), "%s/empty-source", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	is_int(content_put_fd(dir, fd, NULL, hash, &size, NULL), 0, "put_fd of an empty file");
	is_str(hash, EMPTY_HASH, "same hash");
	is_int(size, 0, "size 0");
	close(fd);
	unlink(path);
	is_int(content_delete(dir, EMPTY_HASH), 0, "delete empty");
}

static void
test_put_fd(void)
{
	size_t n = 3 * 256 * 1024 + 17;		/* four reads of 256 KiB */
	unsigned char *data = malloc(n);
	char hash[CONTENT_HASH_LEN + 1];
	char want[SHA256_HEX_LEN + 1];
	char path[4096];
	int64_t size = -1;
	int fd = -1;

	if (data == NULL) {
		ok(0, "memory for put_fd");
		return;
	}
	fill_pattern(data, n, 7);
	snprintf(path, sizeof(path), "%s/source", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, data, n) == (ssize_t)n, "source file written");
	lseek(fd, 0, SEEK_SET);
	sha256_hex(data, n, want);
	is_int(content_put_fd(dir, fd, NULL, hash, &size, NULL), 0, "put_fd");
	is_str(hash, want, "put_fd hash");
	is_int(size, n, "put_fd size");
	is_int(content_delete(dir, hash), 0, "delete it");

	lseek(fd, 1000, SEEK_SET);
	sha256_hex(data + 1000, n - 1000, want);
	is_int(content_put_fd(dir, fd, NULL, hash, NULL, NULL), 0,
	       "put_fd from an offset (size NULL)");
	is_str(hash, want, "hash of the rest of the file");
	is_int(content_delete(dir, hash), 0, "delete it");
	is_int(count_tmp(), 0, "no temporaries");

	/* an expected hash: stored when it matches, placed once */
	{
		char other[CONTENT_HASH_LEN + 1];
		int placed = -1, sfd = -1;

		sha256_hex(data, n, want);
		lseek(fd, 0, SEEK_SET);
		is_int(content_put_fd(dir, fd, want, hash, &size, &placed), 0,
		       "put_fd with its own hash expected");
		ok(strcmp(hash, want) == 0 && placed == 1, "stored, and placed by this call");
		lseek(fd, 0, SEEK_SET);
		is_int(content_put_fd(dir, fd, want, hash, &size, &placed), 0,
		       "the same bytes again");
		is_int(placed, 0, "not placed: it was there already");
		/* the same bytes under another hash: refused, the stored file kept */
		sha256_hex(data + 1, n - 1, other);
		lseek(fd, 0, SEEK_SET);
		placed = -1;
		is_int(content_put_fd(dir, fd, other, hash, &size, &placed), TC_EINVALID,
		       "bytes that do not have the expected hash: TC_EINVALID");
		ok(hash[0] == '\0' && placed == 0, "no hash, nothing placed");
		is_int(content_open(dir, want, &sfd), 0, "the file stored under its own hash is still there");
		if (sfd >= 0)
			close(sfd);
		is_int(content_open(dir, other, &sfd), TC_ENOTFOUND, "nothing under the expected hash");
		is_int(count_tmp(), 0, "no temporaries after the refusal");
		is_int(content_delete(dir, want), 0, "delete it");
	}
	close(fd);
	unlink(path);
	free(data);
}

/*
 * Fails each system call of storing PAYLOAD in turn (1, 2, ... until a
 * run gets through) and checks that every failed run left no temporary
 * and nothing under the hash. PREPARE runs before each try. Returns the
 * number of calls the write path made.
 */
static int
inject_each(const char *what, const char *payload, void (*prepare)(const char *),
	    int keep_existing)
{
	char want[SHA256_HEX_LEN + 1];
	char hash[CONTENT_HASH_LEN + 1];
	char path[4096];
	char name[160];
	int steps = -1;
	int rc;

	sha256_hex(payload, strlen(payload), want);
	hash_path(path, sizeof(path), want);
	for (int n = 1; n <= MAX_STEPS; n++) {
		if (prepare != NULL)
			prepare(want);
		content_fail_at(n);
		rc = store_bytes(payload, strlen(payload), hash);
		content_fail_at(0);
		if (rc == 0) {
			steps = n - 1;
			break;
		}
		snprintf(name, sizeof(name),
			 "%s: call %d fails: TC_EIO, no temporary, %s", what, n,
			 keep_existing ? "stored file kept" : "nothing stored");
		ok(rc == TC_EIO && hash[0] == '\0' && count_tmp() == 0 &&
		   exists(path) == keep_existing, name);
	}
	snprintf(name, sizeof(name), "%s: the write path ends (%d calls)",
		 what, steps);
	ok(steps > 0, name);
	is_str(hash, want, "the run past the last call stores the file");
	return steps;
}

/* Removes the fan-out folder of HASH (empty after a failed write). */
static void
remove_fanout(const char *hash)
{
	char path[4096];
	char sub[3] = { hash[0], hash[1], '\0' };

	content_sub(path, sizeof(path), sub);
	rmdir(path);
}

static void
make_fanout(const char *hash)
{
	char path[4096];
	char sub[3] = { hash[0], hash[1], '\0' };

	content_sub(path, sizeof(path), sub);
	mkdir(path, 0750);
}

static void
test_failure_injection(void)
{
	static const char p1[] = "injected failures, new fan-out folder";
	static const char p2[] = "injected failures, existing fan-out folder";
	static const char p3[] = "injected failures, file already stored";
	char hash[CONTENT_HASH_LEN + 1];
	char want[SHA256_HEX_LEN + 1];
	char path[4096];
	int fresh, existing, same;

	fresh = inject_each("new folder", p1, remove_fanout, 0);
	/* open folder, open temp, 2 writes, fsync, close, mkdir, open
	 * folder, rename, fsync folder, fsync content/ */
	is_int(fresh, 11, "11 calls when the fan-out folder is new");
	sha256_hex(p1, strlen(p1), want);
	is_int(content_delete(dir, want), 0, "delete it");

	existing = inject_each("existing folder", p2, make_fanout, 0);
	is_int(existing, 10, "10 calls when the fan-out folder exists");
	sha256_hex(p2, strlen(p2), want);
	is_int(content_delete(dir, want), 0, "delete it");

	is_int(store_bytes(p3, strlen(p3), hash), 0, "store a file");
	same = inject_each("already stored", p3, NULL, 1);
	is_int(same, 10, "10 calls when the file exists already");
	sha256_hex(p3, strlen(p3), want);
	hash_path(path, sizeof(path), want);
	ok(exists(path), "the stored file is still there");

	content_fail_at(0);
	is_int(store_bytes(p1, strlen(p1), hash), 0,
	       "content_fail_at(0): a write succeeds");
	is_int(content_delete(dir, hash), 0, "delete it");
	is_int(content_delete(dir, want), 0, "delete the other");
}

static void
test_put_fd_injection(void)
{
	size_t n = 300 * 1024;	/* two reads of data and one of the end */
	unsigned char *data = malloc(n);
	char want[SHA256_HEX_LEN + 1];
	char hash[CONTENT_HASH_LEN + 1];
	char path[4096];
	char name[96];
	int64_t size;
	int steps = -1;
	int fd = -1;
	int rc;

	if (data == NULL) {
		ok(0, "memory for put_fd injection");
		return;
	}
	fill_pattern(data, n, 99);
	sha256_hex(data, n, want);
	snprintf(path, sizeof(path), "%s/source", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, data, n) == (ssize_t)n, "source file written");
	hash_path(path, sizeof(path), want);
	for (int k = 1; k <= MAX_STEPS; k++) {
		remove_fanout(want);
		lseek(fd, 0, SEEK_SET);
		size = -1;
		content_fail_at(k);
		rc = content_put_fd(dir, fd, NULL, hash, &size, NULL);
		content_fail_at(0);
		if (rc == 0) {
			steps = k - 1;
			break;
		}
		snprintf(name, sizeof(name), "put_fd: call %d fails cleanly", k);
		ok(rc == TC_EIO && hash[0] == '\0' && size == 0 &&
		   count_tmp() == 0 && !exists(path), name);
	}
	/* open folder, open temp, 3 reads, 2 writes, fsync, close, mkdir,
	 * open folder, rename, fsync folder, fsync content/ */
	is_int(steps, 14, "put_fd: 14 calls");
	is_str(hash, want, "put_fd: stored after the last call");
	is_int(content_delete(dir, want), 0, "delete it");
	close(fd);
	snprintf(path, sizeof(path), "%s/source", dir);
	unlink(path);
	free(data);
}

static void
test_leftovers(void)
{
	char path[4096];
	int fd;

	content_sub(path, sizeof(path), "up-0badf00d.tmp");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	ok(fd >= 0, "a left-over temporary");
	if (fd >= 0)
		close(fd);
	is_int(store_prepare_dir(dir), 0, "store_prepare_dir");
	ok(!exists(path), "left-over removed at start");
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	FILE *log_fp = NULL;
	char *tmp;

	log_fp = tmpfile();
	if (log_fp == NULL) {
		printf("Bail out! tmpfile failed\n");
		return 1;
	}
	log_set_stream(log_fp);
	snprintf(dir, sizeof(dir), "%s/tinchi-content-XXXXXX",
		 base && base[0] ? base : "/tmp");
	tmp = mkdtemp(dir);
	if (tmp == NULL || store_prepare_dir(dir) != 0) {
		printf("Bail out! cannot make a data folder\n");
		return 1;
	}

	test_abc();
	test_identical();
	test_large();
	test_abort();
	test_open_delete();
	test_bad_hashes();
	test_empty();
	test_put_fd();
	test_failure_injection();
	test_put_fd_injection();
	test_leftovers();
	is_int(count_files(), 0, "content folder empty at the end");

	if (test_tmpdir_remove(dir) != 0)
		diag("could not remove the temporary folder");
	log_set_stream(NULL);
	fclose(log_fp);
	return done_testing();
}
