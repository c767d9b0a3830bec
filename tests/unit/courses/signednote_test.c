/* signednote_test.c - tests for courses/signednote.c */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "courses/crypto.h"
#include "courses/dynbuf.h"
#include "courses/errors.h"
#include "courses/signednote.h"
#include "tests/tap.h"

/*
 * The example of golang.org/x/mod/sumdb/note (the signed-note format's
 * reference implementation): its signer key, verifier key, text and note.
 */
static const char go_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
			      "then you don't know what your problem is.\n";
static const char go_note[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/* A test signer: an Ed25519 seed held here (the server's are in storage/). */
struct seed {
	unsigned char sk[32];
	unsigned char pub[32];
};

static int
seed_sign(void *ctx, const void *msg, size_t n, unsigned char sig[64])
{
	struct seed *s = ctx;
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, s->sk, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 64;
	int rc = TC_EIO;

	if (k != NULL && md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(md, sig, &len, msg, n) == 1 && len == 64)
		rc = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return rc;
}

static int
seed_init(struct seed *s, const unsigned char sk[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
	size_t len = 32;
	int ok_ = k != NULL && EVP_PKEY_get_raw_public_key(k, s->pub, &len) == 1;

	memcpy(s->sk, sk, 32);
	EVP_PKEY_free(k);
	return ok_ ? 0 : TC_EIO;
}

static int
fail_sign(void *ctx, const void *msg, size_t n, unsigned char sig[64])
{
	(void)ctx, (void)msg, (void)n, (void)sig;
	return TC_EIO;
}

static void
test_go_example(void)
{
	unsigned char raw[40];
	struct seed s;
	struct signednote_verifier v, parsed;
	char vkey[SIGNEDNOTE_VKEY_MAX];
	struct dynbuf out;
	size_t len = 0, tlen = 0, nver = 0;

	ok(b64_decode(go_skey_b64, raw, sizeof(raw), &len) == 0 && len == 33 && raw[0] == 1,
	   "Go example signer key decodes to 0x01 || seed");
	ok(seed_init(&s, raw + 1) == 0, "seed gives a public key");
	is_int(signednote_verifier_init(&v, "PeterNeumann", s.pub), 0, "verifier of the example");
	is_int(v.id, 0xc74f20a3, "key id is c74f20a3");
	is_int(signednote_verifier_format(&v, vkey, sizeof(vkey)), 0, "format the verifier key");
	is_str(vkey, go_vkey, "verifier key string equals Go's byte for byte");
	ok(signednote_verifier_parse(go_vkey, &parsed) == 0 && parsed.id == v.id &&
	   memcmp(parsed.pub, s.pub, 32) == 0 && strcmp(parsed.name, "PeterNeumann") == 0,
	   "Go's verifier key parses to the same key");
	dynbuf_init(&out, 4096);
	is_int(signednote_sign(go_text, strlen(go_text), &v, seed_sign, &s, &out), 0, "sign");
	is_str(dynbuf_str(&out), go_note, "signed note equals Go's example byte for byte");
	is_int(signednote_open(go_note, strlen(go_note), &parsed, 1, &tlen, &nver), 0,
	       "Go's note opens with its verifier");
	is_int(tlen, strlen(go_text), "... its text is the first two lines");
	is_int(nver, 1, "... one verified signature");
	dynbuf_cleanup(&out);
}

/* Opens NOTE with KEYS; the result. */
static int
open_str(const char *note, const struct signednote_verifier *keys, size_t n)
{
	return signednote_open(note, strlen(note), keys, n, NULL, NULL);
}

static void
test_refusals(void)
{
	unsigned char sk[32], sk2[32];
	struct seed a, b;
	struct signednote_verifier va, vb, vboth[2], wrong;
	struct dynbuf out, two;
	char *note, *bad;
	size_t n;
	const char *body = "example.com/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

	memset(sk, 7, sizeof(sk));
	memset(sk2, 9, sizeof(sk2));
	seed_init(&a, sk);
	seed_init(&b, sk2);
	signednote_verifier_init(&va, "example.com/log", a.pub);
	signednote_verifier_init(&vb, "witness.example", b.pub);
	vboth[0] = va;
	vboth[1] = vb;
	dynbuf_init(&out, 4096);
	dynbuf_init(&two, 4096);
	is_int(signednote_sign(body, strlen(body), &va, seed_sign, &a, &out), 0, "sign a body");
	note = strdup(dynbuf_str(&out));
	n = strlen(note);
	is_int(open_str(note, &va, 1), 0, "round trip");
	is_int(open_str(note, &vb, 1), TC_EFORBIDDEN, "no known signer: refused");
	is_int(open_str(note, NULL, 0), TC_EFORBIDDEN, "no keys: refused");
	is_int(open_str(note, vboth, 2), 0, "unknown keys in the set do not matter");

	/* A second signature (a witness) appended: both known, or one. */
	dynbuf_append(&two, note, n);
	{
		struct dynbuf w;
		const char *line;
		size_t nv = 0;

		dynbuf_init(&w, 4096);
		signednote_sign(body, strlen(body), &vb, seed_sign, &b, &w);
		line = strstr(dynbuf_str(&w), "\n\n") + 2;
		dynbuf_puts(&two, line);
		ok(signednote_open(dynbuf_str(&two), two.len, vboth, 2, NULL, &nv) == 0 && nv == 2,
		   "two known signatures both verify");
		is_int(open_str(dynbuf_str(&two), &vb, 1), 0,
		       "the other signature is ignored when its key is unknown");
		dynbuf_puts(&two, line);
		is_int(open_str(dynbuf_str(&two), &vb, 1), TC_EINVALID,
		       "the same known key twice: refused");
		dynbuf_cleanup(&w);
	}

	/* Tampering. */
	bad = strdup(note);
	bad[0] = 'E';
	is_int(open_str(bad, &va, 1), TC_EFORBIDDEN, "tampered body refused");
	memcpy(bad, note, n + 1);
	bad[n - 10] = bad[n - 10] == 'A' ? 'B' : 'A';
	is_int(open_str(bad, &va, 1), TC_EFORBIDDEN, "tampered signature refused");
	wrong = va;
	wrong.pub[0] ^= 1;
	is_int(open_str(note, &wrong, 1), TC_EFORBIDDEN, "right name and id, wrong key: refused");
	wrong = va;
	wrong.id ^= 1;
	is_int(open_str(note, &wrong, 1), TC_EFORBIDDEN, "key id differs: not the key, refused");
	{
		/* The key id bytes in the signature altered (signature kept). */
		char *sig = strstr(bad, "log ") + 4, *eol = strchr(sig, '\n');
		unsigned char blob[68];
		size_t len = 0;

		memcpy(bad, note, n + 1);
		*eol = '\0';
		ok(b64_decode(sig, blob, sizeof(blob), &len) == 0 && len == 68, "signature blob");
		blob[3] ^= 1;
		b64_encode(blob, len, sig, (size_t)(eol - sig) + 1);
		*eol = '\n';
		is_int(open_str(bad, &va, 1), TC_EFORBIDDEN, "tampered key id: not signed by the key");
	}
	free(bad);

	/* Malformed notes. */
	{
		static const char *const cases[] = {
			"",
			"text\n",
			"text\n\n",
			"text\n\n\xe2\x80\x94 example.com/log AAAA\n",
			"text\n\n- example.com/log AAAAAAAA\n",
			"text\n\n\xe2\x80\x94 example.com/log  AAAAAAAA\n",
			"text\n\n\xe2\x80\x94 example.com/log AAAAAAAA \n",
			"text\n\n\xe2\x80\x94 example.com/log AAAAAAAA",
			"text\n\n\xe2\x80\x94 example.com/log AAAAAAA*\n",
			"text\n\n\xe2\x80\x94 example+com AAAAAAAA\n",
			"text\n\n\xe2\x80\x94  AAAAAAAA\n",
			"text\n\n\xe2\x80\x94 example.com/log\n",
			"te\x01xt\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n",
			"te\xffxt\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n",
			"te\xc0\xafxt\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n",
			"text\r\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n",
			"text\n\n\xe2\x80\x94 example\xc2\xa0log AAAAAAAA\n",
		};
		int all = 1;

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int rc = open_str(cases[i], &va, 1);

			if (rc != TC_EINVALID) {
				printf("# case %zu gave %d\n", i, rc);
				all = 0;
			}
		}
		ok(all, "malformed notes refused as malformed");
	}
	{
		/* 101 signature lines. */
		struct dynbuf many;

		dynbuf_init(&many, 1 << 20);
		dynbuf_append(&many, note, n);
		for (int i = 0; i < SIGNEDNOTE_MAX_SIGS; i++)
			dynbuf_printf(&many, "\xe2\x80\x94 other%d AAAAAAAA\n", i);
		is_int(open_str(dynbuf_str(&many), &va, 1), TC_EINVALID,
		       "more than 100 signatures refused");
		dynbuf_cleanup(&many);
	}
	is_int(signednote_sign("a\n\n", 3, &va, seed_sign, &a, &out), TC_EINVALID,
	       "text ending in an empty line is not signed");
	is_int(signednote_sign("a", 1, &va, seed_sign, &a, &out), TC_EINVALID,
	       "text without a final newline is not signed");
	n = out.len;
	is_int(signednote_sign("a\n", 2, &va, fail_sign, NULL, &out), TC_EIO,
	       "signer failure comes back");
	is_int(out.len, n, "... and nothing was appended");
	free(note);
	dynbuf_cleanup(&out);
	dynbuf_cleanup(&two);
}

static void
test_verifier_keys(void)
{
	struct signednote_verifier v;
	static const char *const bad[] = {
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+Arpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ApeterNeumannpetePeterNeumann",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
		"PeterNeumann+c74f20a3",
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+",
	};
	int all = 1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (signednote_verifier_parse(bad[i], &v) != TC_EINVALID) {
			printf("# verifier %zu accepted\n", i);
			all = 0;
		}
	ok(all, "mangled verifier keys refused");
	ok(!signednote_name_ok("") && !signednote_name_ok("a b") && !signednote_name_ok("a+b") &&
	   !signednote_name_ok("a\xe3\x80\x80") && !signednote_name_ok("a\xe2\x80\xa9" "b") &&
	   !signednote_name_ok("a\tb") && !signednote_name_ok("a\xc0\xa0") &&
	   signednote_name_ok("\xe2\x80\x8b") && signednote_name_ok("caf\xc3\xa9") &&
	   signednote_name_ok("tinchi.example/credits"), "key name rules");
}

static void
test_checkpoint(void)
{
	unsigned char root[32];
	struct checkpoint cp;
	struct dynbuf b;
	const char *s;

	for (int i = 0; i < 32; i++)
		root[i] = (unsigned char)i;
	dynbuf_init(&b, 4096);
	is_int(checkpoint_format("example.com/log", 18446744073709551615ULL, root, &b), 0,
	       "format a checkpoint");
	is_str(dynbuf_str(&b), "example.com/log\n18446744073709551615\n"
	       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "checkpoint text");
	ok(checkpoint_parse(b.data, b.len, &cp) == 0 && cp.size == UINT64_MAX &&
	   memcmp(cp.root, root, 32) == 0 && strcmp(cp.origin, "example.com/log") == 0 &&
	   cp.ext_len == 0, "parses back");
	s = "o\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextension one\n";
	ok(checkpoint_parse(s, strlen(s), &cp) == 0 && cp.size == 0 && cp.ext_len == 14,
	   "extension lines kept");
	{
		static const char *const bad[] = {
			"o\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"o\n01\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"o\n+1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"o\n1 \nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"o \n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
			"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
			"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
			"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
			"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
			"o\n1\n",
		};
		int all = 1;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (checkpoint_parse(bad[i], strlen(bad[i]), &cp) != TC_EINVALID) {
				printf("# checkpoint %zu accepted\n", i);
				all = 0;
			}
		ok(all, "malformed checkpoints refused");
	}
	is_int(checkpoint_format("", 1, root, &b), TC_EINVALID, "empty origin refused");
	is_int(checkpoint_format("a\nb", 1, root, &b), TC_EINVALID, "origin with a newline refused");
	dynbuf_cleanup(&b);
}

int
main(void)
{
	test_go_example();
	test_refusals();
	test_verifier_keys();
	test_checkpoint();
	return done_testing();
}
