/* credential_derive.c - see credential_derive.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "courses/credential_derive.h"
#include "courses/crypto.h"
#include "courses/errors.h"

static const char uid_label[] = "tinchi credential uid v1";
static const char salt_label[] = "tinchi credential salt v1";

/* Bits 48..51 (the version, 0100) and 64..65 (the variant, 10) of a UUID. */
static int
fixed_bit(int pos)
{
	return (pos >= 48 && pos < 52) || pos == 64 || pos == 65;
}

static int
in_v4(const unsigned char x[16])
{
	return (x[6] & 0xf0) == 0x40 && (x[8] & 0xc0) == 0x80;
}

/* HI (58 bits) and LO (64 bits) into the 122 free bits of a v4 UUID. */
static void
embed(uint64_t hi, uint64_t lo, unsigned char x[16])
{
	int v = 121;	/* the bit of (hi, lo) that goes next, from the top */

	memset(x, 0, 16);
	for (int pos = 0; pos < 128; pos++) {
		int bit;

		if (fixed_bit(pos)) {
			bit = pos == 49 || pos == 64;	/* 0100 and 10 */
		} else {
			bit = v >= 64 ? (int)(hi >> (v - 64) & 1) : (int)(lo >> v & 1);
			v--;
		}
		if (bit)
			x[pos / 8] |= (unsigned char)(0x80u >> (pos % 8));
	}
}

static void
unembed(const unsigned char x[16], uint64_t *hi, uint64_t *lo)
{
	int v = 121;

	*hi = *lo = 0;
	for (int pos = 0; pos < 128; pos++) {
		uint64_t bit;

		if (fixed_bit(pos))
			continue;
		bit = x[pos / 8] >> (7 - pos % 8) & 1;
		if (v >= 64)
			*hi |= bit << (v - 64);
		else
			*lo |= bit << v;
		v--;
	}
}

/*
 * AES-128-ECB fetched once: the implicit fetch behind EVP_aes_128_ecb()
 * looks the algorithm up (under a lock) on every init, which costs more
 * than the blocks themselves (as crypto.c does for SHA-256).
 */
static EVP_CIPHER *aes_cipher;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void
aes_fetch(void)
{
	aes_cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

static const EVP_CIPHER *
aes128(void)
{
	pthread_once(&aes_once, aes_fetch);
	return aes_cipher ? aes_cipher : EVP_aes_128_ecb();
}

/* HMAC-SHA-256(SECRET, A || B) into OUT (32 bytes). 0 or TC_EIO. */
static int
hmac(const unsigned char secret[CREDENTIAL_KEY_LEN], const void *a, size_t an, const void *b,
     size_t bn, unsigned char out[32])
{
	unsigned char msg[64];
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	if (an + bn > sizeof(msg))
		return TC_EINVALID;
	memcpy(msg, a, an);
	if (bn)
		memcpy(msg + an, b, bn);
	rc = hmac_sha256_hex(secret, CREDENTIAL_KEY_LEN, msg, an + bn, hex);
	for (int i = 0; rc == 0 && i < 32; i++) {
		int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
		int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;

		out[i] = (unsigned char)(hi << 4 | lo);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc ? TC_EIO : 0;
}

/*
 * Each thread keeps the AES contexts of the last secret it walked with
 * (the key is an HMAC of a label: the same for every uid of a database),
 * so that a walk is its AES blocks alone: the recognition query derives
 * the uid of every row it reads. The secret's copy and the key schedules
 * are cleansed when the thread ends or another secret comes.
 */
struct walk_keys {
	unsigned char secret[CREDENTIAL_KEY_LEN];
	EVP_CIPHER_CTX *ctx[2];		/* [enc]: decrypting, encrypting */
};

static pthread_key_t walk_key;
static pthread_once_t walk_once = PTHREAD_ONCE_INIT;
static int walk_key_ok;

static void
walk_keys_clear(struct walk_keys *w)
{
	for (int i = 0; i < 2; i++) {
		EVP_CIPHER_CTX_free(w->ctx[i]);	/* cleanses its key schedule */
		w->ctx[i] = NULL;
	}
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
}

static void
walk_keys_free(void *p)
{
	walk_keys_clear(p);
	free(p);
}

static void
walk_key_init(void)
{
	walk_key_ok = pthread_key_create(&walk_key, walk_keys_free) == 0;
}

/* A new context of SECRET's walk key for ENC (1 encrypt, 0 decrypt), or
 * NULL. */
static EVP_CIPHER_CTX *
walk_ctx_new(const unsigned char secret[CREDENTIAL_KEY_LEN], int enc)
{
	unsigned char key[32];
	EVP_CIPHER_CTX *ctx = NULL;
	int ok = hmac(secret, uid_label, sizeof(uid_label) - 1, NULL, 0, key) == 0;

	if (ok)
		ok = (ctx = EVP_CIPHER_CTX_new()) != NULL &&
		     EVP_CipherInit_ex(ctx, aes128(), NULL, key, NULL, enc) == 1 &&
		     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* This thread's context for SECRET and ENC (kept: not to be freed), or,
 * when none can be kept, a new one into *OWN (the caller frees it). */
static EVP_CIPHER_CTX *
walk_ctx(const unsigned char secret[CREDENTIAL_KEY_LEN], int enc, EVP_CIPHER_CTX **own)
{
	struct walk_keys *w = NULL;

	*own = NULL;
	pthread_once(&walk_once, walk_key_init);
	if (walk_key_ok && !(w = pthread_getspecific(walk_key)) &&
	    (w = calloc(1, sizeof(*w))) && pthread_setspecific(walk_key, w) != 0) {
		free(w);
		w = NULL;
	}
	if (!w)
		return *own = walk_ctx_new(secret, enc);
	if (CRYPTO_memcmp(w->secret, secret, CREDENTIAL_KEY_LEN) != 0) {
		walk_keys_clear(w);
		memcpy(w->secret, secret, CREDENTIAL_KEY_LEN);
	}
	if (!w->ctx[enc])
		w->ctx[enc] = walk_ctx_new(secret, enc);
	return w->ctx[enc];
}

/* Cycle walking: X through AES-128 (ENC 1: encrypt, 0: decrypt) until the
 * block is a v4 UUID again. 0 or TC_EIO. ECB with no padding keeps no
 * state from one block to the next, so a context serves many walks. */
static int
walk(const unsigned char secret[CREDENTIAL_KEY_LEN], int enc, unsigned char x[16])
{
	EVP_CIPHER_CTX *own, *ctx = walk_ctx(secret, enc ? 1 : 0, &own);
	int ok = ctx != NULL;

	/* a v4 UUID is 1 block in 64: about 64 rounds; the cycle through X
	 * always comes back to X, which is one */
	do {
		unsigned char y[32];
		int n = 0;

		ok = ok && EVP_CipherUpdate(ctx, y, &n, x, 16) == 1 && n == 16;
		if (ok)
			memcpy(x, y, 16);
	} while (ok && !in_v4(x));
	EVP_CIPHER_CTX_free(own);
	if (!ok)
		crypto_log_error("credential uid (AES-128)");
	return ok ? 0 : TC_EIO;
}

int
credential_uid_derive(const unsigned char secret[CREDENTIAL_KEY_LEN], int64_t institution_id,
		      int64_t status_index, unsigned char uid[16])
{
	if (institution_id < 1 || institution_id >= CREDENTIAL_INST_MAX || status_index < 0)
		return TC_EINVALID;
	embed((uint64_t)institution_id, (uint64_t)status_index, uid);
	return walk(secret, 1, uid);
}

int
credential_uid_locate(const unsigned char secret[CREDENTIAL_KEY_LEN], const unsigned char uid[16],
		      int64_t *institution_id, int64_t *status_index)
{
	unsigned char x[16];
	uint64_t hi, lo;
	int rc;

	if (!in_v4(uid))
		return TC_ENOTFOUND;
	memcpy(x, uid, 16);
	if ((rc = walk(secret, 0, x)))
		return rc;
	unembed(x, &hi, &lo);
	if (hi < 1 || lo > (uint64_t)INT64_MAX)
		return TC_ENOTFOUND;
	*institution_id = (int64_t)hi;
	*status_index = (int64_t)lo;
	return 0;
}

int
credential_salt_derive(const unsigned char secret[CREDENTIAL_KEY_LEN], const unsigned char uid[16],
		       unsigned char salt[16])
{
	unsigned char md[32];

	if (hmac(secret, salt_label, sizeof(salt_label) - 1, uid, 16, md))
		return TC_EIO;
	memcpy(salt, md, 16);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}
