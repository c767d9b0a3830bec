/* keys.c - see keys.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/log.h"
#include "storage/keys.h"

#define KEY_FILE_MAX 16384	/* an Ed25519 PKCS#8 PEM is about 120 bytes */

/* NAME is [A-Za-z0-9._-]{1,95}. */
static int
name_check(const char *name)
{
	size_t i;

	if (name == NULL)
		return TC_EINVALID;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= KEY_NAME_MAX - 1)
			return TC_EINVALID;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return TC_EINVALID;
	}
	return i > 0 ? 0 : TC_EINVALID;
}

/* DIR/NAME.pem plus SUFFIX into PATH (PATH_MAX bytes). */
static int
key_path(const char *dir, const char *name, const char *suffix, char path[PATH_MAX])
{
	int m;

	if (dir == NULL || name_check(name) != 0)
		return TC_EINVALID;
	m = snprintf(path, PATH_MAX, "%s/%s.pem%s", dir, name, suffix);
	return (m > 0 && m < PATH_MAX) ? 0 : TC_EINVALID;
}

/* Writes all N bytes at P to FD. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return TC_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return TC_EIO;
	if (fsync(fd) != 0)
		rc = TC_EIO;
	close(fd);
	return rc;
}

/*
 * Moves TMP to FINAL unless FINAL exists (TC_ECONFLICT). renameat2 with
 * RENAME_NOREPLACE where the file system has it, else link + unlink; a
 * plain rename() would silently replace a key created meanwhile.
 */
static int
move_noreplace(const char *tmp, const char *final)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return TC_ECONFLICT;
	if (errno != EINVAL && errno != ENOSYS)
		return TC_EIO;
	if (link(tmp, final) != 0)
		return errno == EEXIST ? TC_ECONFLICT : TC_EIO;
	if (unlink(tmp) != 0)
		log_warn("keys: cannot remove %s: %s", tmp, strerror(errno));
	return 0;
}

/* PKCS#8 PEM of PKEY into a BIO whose memory is wiped when freed. */
static int
pem_encode(EVP_PKEY *pkey, BIO **out)
{
	BIO *bio = BIO_new(BIO_s_secmem());

	if (bio == NULL) {
		ERR_clear_error();
		return TC_ENOMEM;
	}
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		crypto_log_error("keys: PEM_write_bio_PrivateKey");
		BIO_free(bio);
		return TC_EIO;
	}
	*out = bio;
	return 0;
}

int
keys_generate(const char *keys_dir, const char *name, unsigned char pub[32])
{
	char path[PATH_MAX], tmp[PATH_MAX];
	EVP_PKEY *pkey = NULL;
	BIO *pem = NULL;
	char *data;
	long len;
	size_t publen = 32;
	int fd = -1, rc, created = 0;

	rc = key_path(keys_dir, name, "", path);
	if (rc == 0)
		rc = key_path(keys_dir, name, ".tmp", tmp);
	if (rc != 0)
		goto out;
	if (access(path, F_OK) == 0) {
		rc = TC_ECONFLICT;
		goto out;
	}
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		crypto_log_error("keys: Ed25519 key generation");
		rc = TC_EIO;
		goto out;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &publen) != 1 || publen != 32) {
		crypto_log_error("keys: EVP_PKEY_get_raw_public_key");
		rc = TC_EIO;
		goto out;
	}
	rc = pem_encode(pkey, &pem);
	if (rc != 0)
		goto out;
	len = BIO_get_mem_data(pem, &data);
	if (len <= 0) {
		rc = TC_EIO;
		goto out;
	}
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			log_warn("keys: %s exists (another generation, or left by a crash)", tmp);
			rc = TC_ECONFLICT;
		} else {
			log_err("keys: cannot create %s: %s", tmp, strerror(errno));
			rc = TC_EIO;
		}
		goto out;
	}
	created = 1;
	rc = write_all(fd, data, (size_t)len);
	if (rc == 0 && fsync(fd) != 0)
		rc = TC_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = TC_EIO;
	fd = -1;
	if (rc != 0) {
		log_err("keys: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = move_noreplace(tmp, path);
	if (rc != 0)
		goto out;
	created = 0;
	rc = fsync_dir(keys_dir);
	if (rc != 0)
		log_err("keys: cannot sync %s: %s", keys_dir, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	BIO_free(pem);		/* secure memory: wiped */
	EVP_PKEY_free(pkey);	/* OpenSSL wipes the private key */
	if (rc != 0 && pub != NULL)
		memset(pub, 0, 32);
	return rc;
}

/*
 * Loads the private key of KEYS_DIR/NAME.pem into *OUT (the caller frees it
 * with EVP_PKEY_free). The file is read into a buffer that is wiped before
 * it is freed. 0, TC_EINVALID, TC_ENOTFOUND, TC_EIO.
 */
static int
key_load(const char *keys_dir, const char *name, EVP_PKEY **out)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	struct stat st;
	size_t len = 0, size = 0;
	int fd = -1, rc;

	rc = key_path(keys_dir, name, "", path);
	if (rc != 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno == ENOENT ? TC_ENOTFOUND : TC_EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > KEY_FILE_MAX) {
		rc = TC_EIO;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size);
	if (buf == NULL) {
		rc = TC_ENOMEM;
		goto out;
	}
	while (len < size) {
		ssize_t r = read(fd, buf + len, size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (len != size) {
		rc = TC_EIO;
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		ERR_clear_error();
		rc = TC_ENOMEM;
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pkey == NULL) {
		crypto_log_error("keys: PEM_read_bio_PrivateKey");
		rc = TC_EIO;
		goto out;
	}
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		log_err("keys: %s is not an Ed25519 key", path);
		rc = TC_EIO;
		goto out;
	}
	*out = pkey;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, size);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int
keys_public(const char *keys_dir, const char *name, unsigned char pub[32])
{
	EVP_PKEY *pkey = NULL;
	size_t publen = 32;
	int rc;

	rc = key_load(keys_dir, name, &pkey);
	if (rc != 0)
		goto out;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &publen) != 1 || publen != 32) {
		crypto_log_error("keys: EVP_PKEY_get_raw_public_key");
		rc = TC_EIO;
		goto out;
	}
out:
	EVP_PKEY_free(pkey);
	return rc;
}

/*
 * Parsed signing keys, kept in memory (never as bytes outside OpenSSL) so
 * that a signature does not read and parse a PEM file: keyed by the file's
 * path and checked against its identity (device, inode, size, change time)
 * by one stat() per signature, so a replaced or removed file is read again
 * (or refused). A few slots, the least recently used one reused.
 */
#define KEY_CACHE_SLOTS 8

static struct key_slot {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec ctime;
	EVP_PKEY *pkey;
	unsigned long used;
} key_cache[KEY_CACHE_SLOTS];
static unsigned long key_clock;
static pthread_mutex_t key_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int
same_file(const struct key_slot *k, const struct stat *st)
{
	return k->dev == st->st_dev && k->ino == st->st_ino && k->size == st->st_size &&
	       k->ctime.tv_sec == st->st_ctim.tv_sec && k->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* key_load through the cache: *OUT holds a reference (EVP_PKEY_free it). */
static int
key_load_cached(const char *keys_dir, const char *name, EVP_PKEY **out)
{
	char path[PATH_MAX];
	struct stat st, st2;
	struct key_slot *k = NULL, *victim = &key_cache[0];
	EVP_PKEY *pkey = NULL;
	int rc = key_path(keys_dir, name, "", path);

	*out = NULL;
	if (rc != 0)
		return rc;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? TC_ENOTFOUND : TC_EIO;
	pthread_mutex_lock(&key_cache_mu);
	for (int i = 0; i < KEY_CACHE_SLOTS; i++) {
		if (key_cache[i].pkey && strcmp(key_cache[i].path, path) == 0)
			k = &key_cache[i];
		if (key_cache[i].used < victim->used)
			victim = &key_cache[i];
	}
	if (k && same_file(k, &st) && EVP_PKEY_up_ref(k->pkey) == 1) {
		k->used = ++key_clock;
		*out = k->pkey;
	}
	pthread_mutex_unlock(&key_cache_mu);
	if (*out)
		return 0;
	if ((rc = key_load(keys_dir, name, &pkey)) != 0)
		return rc;
	/* kept only when the file did not change while it was read */
	if (lstat(path, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev &&
	    st2.st_size == st.st_size && st2.st_ctim.tv_sec == st.st_ctim.tv_sec &&
	    st2.st_ctim.tv_nsec == st.st_ctim.tv_nsec && EVP_PKEY_up_ref(pkey) == 1) {
		pthread_mutex_lock(&key_cache_mu);
		if (!k || !k->pkey || strcmp(k->path, path) != 0)
			k = victim;
		EVP_PKEY_free(k->pkey);
		snprintf(k->path, sizeof(k->path), "%s", path);
		k->dev = st.st_dev;
		k->ino = st.st_ino;
		k->size = st.st_size;
		k->ctime = st.st_ctim;
		k->pkey = pkey;
		k->used = ++key_clock;
		pthread_mutex_unlock(&key_cache_mu);
	}
	*out = pkey;
	return 0;
}

int
keys_sign(const char *keys_dir, const char *name, const void *msg, size_t n,
	  unsigned char sig[64])
{
	static const unsigned char empty[1];
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = 64;
	int rc;

	rc = key_load_cached(keys_dir, name, &pkey);
	if (rc != 0)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		ERR_clear_error();
		rc = TC_ENOMEM;
		goto out;
	}
	/* Pure Ed25519: no digest, one-shot over the whole message. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, n ? msg : empty, n) != 1 ||
	    siglen != 64) {
		crypto_log_error("keys: Ed25519 signing");
		rc = TC_EIO;
		goto out;
	}
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}
