/* merkle_test.c - tests for courses/merkle.c */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "courses/crypto.h"
#include "courses/errors.h"
#include "courses/merkle.h"
#include "tests/tap.h"

#define VECTORS "/../shared/testvectors/rfc9162-merkle/"
#define MAXN 300
#define H MERKLE_HASH_LEN

/* ---- the RFC 6962 / RFC 9162 test tree (the vectors' tree) ---- */

static const struct {
	const char *data;
	size_t len;
} ct_leaves[8] = {
	{ "", 0 }, { "\x00", 1 }, { "\x10", 1 }, { "\x20\x21", 2 }, { "\x30\x31", 2 },
	{ "\x40\x41\x42\x43", 4 }, { "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
	{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16 },
};

/* ---- an in-memory tree: leaf hashes and, optionally, kept nodes ---- */

struct tree {
	unsigned char leaf[1 << 17][H];
	uint64_t size;
	/* node[level][index], filled from merkle_compact_append's reports */
	unsigned char *node[64];
	uint64_t node_cap[64];
	unsigned char node_have[18][1 << 17];
	int use_nodes;
	long leaf_reads, node_reads;
	long upper_reads;	/* node reads of level 6 and up */
	uint64_t fail_at;	/* leaf() fails there (UINT64_MAX: never) */
};

static int
tree_leaf(void *ctx, uint64_t index, unsigned char out[H])
{
	struct tree *t = ctx;

	if (index == t->fail_at)
		return TC_EDB;
	if (index >= t->size)
		return TC_ENOTFOUND;
	t->leaf_reads++;
	memcpy(out, t->leaf[index], H);
	return 0;
}

static int
tree_node(void *ctx, unsigned level, uint64_t index, unsigned char out[H])
{
	struct tree *t = ctx;

	if (!t->use_nodes || level >= 18 || index >= t->node_cap[level] ||
	    !t->node_have[level][index])
		return TC_ENOTFOUND;
	t->node_reads++;
	t->upper_reads += level >= 6;
	memcpy(out, t->node[level] + index * H, H);
	return 0;
}

static int
tree_keep(void *ctx, unsigned level, uint64_t index, const unsigned char hash[H])
{
	struct tree *t = ctx;

	if (level == 0 || level >= 18 || index >= t->node_cap[level])
		return TC_EINVALID;
	memcpy(t->node[level] + index * H, hash, H);
	t->node_have[level][index] = 1;
	return 0;
}

static struct tree *
tree_new(void)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		exit(1);
	for (unsigned l = 1; l < 18; l++) {
		t->node_cap[l] = (UINT64_C(1) << 17) >> l;
		t->node[l] = calloc(t->node_cap[l] ? t->node_cap[l] : 1, H);
		if (t->node[l] == NULL)
			exit(1);
	}
	t->fail_at = UINT64_MAX;
	return t;
}

static void
tree_free(struct tree *t)
{
	for (unsigned l = 0; l < 64; l++)
		free(t->node[l]);
	free(t);
}

/* Reference MTH, straight from the definition (split at the highest bit
 * below n), sharing nothing with merkle.c but the two hash functions. */
static void
ref_mth(const struct tree *t, uint64_t begin, uint64_t n, unsigned char out[H])
{
	unsigned char l[H], r[H];
	uint64_t k;

	if (n == 0) {
		sha256_raw("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, t->leaf[begin], H);
		return;
	}
	for (k = UINT64_C(1) << 63; k >= n; k >>= 1)
		;
	ref_mth(t, begin, k, l);
	ref_mth(t, begin + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static int
hexeq(const unsigned char h[H], const char *hex)
{
	char got[2 * H + 1];

	for (int i = 0; i < H; i++)
		snprintf(got + 2 * i, 3, "%02x", h[i]);
	return strcmp(got, hex) == 0;
}

static void
test_hashes(void)
{
	unsigned char h[H], l[H], r[H], root[H];
	struct tree *t = tree_new();
	struct merkle_source src = { tree_leaf, NULL, t };

	merkle_empty_root(h);
	ok(hexeq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "empty root is SHA-256 of nothing");
	merkle_leaf_hash("", 0, h);
	ok(hexeq(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
	   "leaf hash of the empty leaf (RFC 6962 test tree)");
	merkle_leaf_hash("\x10", 1, l);
	merkle_leaf_hash("\x20\x21", 2, r);
	merkle_node_hash(l, r, h);
	ok(hexeq(h, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
	   "node hash of leaves 2 and 3");
	for (int i = 0; i < 8; i++)
		merkle_leaf_hash(ct_leaves[i].data, ct_leaves[i].len, t->leaf[i]);
	t->size = 8;
	ok(merkle_root(&src, 8, root) == 0 &&
	   hexeq(root, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
	   "MTH of the 8-leaf test tree");
	ok(merkle_root(&src, 5, root) == 0 &&
	   hexeq(root, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
	   "MTH of its first 5 leaves");
	ok(merkle_root(&src, 0, root) == 0 &&
	   hexeq(root, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	   "MTH of no leaves");
	is_int(merkle_subtree_hash(&src, 5, 3, root), TC_EINVALID, "reversed range refused");
	t->fail_at = 6;
	{
		unsigned char p[MERKLE_PROOF_MAX][H];
		size_t n = 99;

		is_int(merkle_root(&src, 8, root), TC_EDB, "a leaf read error comes back");
		is_int(merkle_inclusion_proof(&src, 0, 8, p, &n), TC_EDB,
		       "... from a proof too");
		is_int(n, 0, "... with an empty proof");
		n = 99;
		is_int(merkle_consistency_proof(&src, 3, 8, p, &n), TC_EDB,
		       "... and from a consistency proof");
		is_int(n, 0, "... likewise empty");
		t->fail_at = UINT64_MAX;
		is_int(merkle_inclusion_proof(&src, 8, 8, p, &n), TC_EINVALID, "index == size refused");
		is_int(merkle_consistency_proof(&src, 0, 8, p, &n), TC_EINVALID, "first 0 refused");
		is_int(merkle_consistency_proof(&src, 9, 8, p, &n), TC_EINVALID,
		       "first > second refused");
		ok(merkle_consistency_proof(&src, 8, 8, p, &n) == 0 && n == 0,
		   "first == second: the empty proof");
	}
	tree_free(t);
}

/* ---- the public vectors ---- */

/* Decodes base64 S (a JSON string, "" or null) into BUF; 0 or -1. */
static int
decode(json_t *s, unsigned char *buf, size_t size, struct merkle_bytes *out)
{
	size_t len = 0;

	out->data = buf;
	out->len = 0;
	if (s == NULL || json_is_null(s))
		return 0;
	if (!json_is_string(s) || b64_decode(json_string_value(s), buf, size, &len) != 0)
		return -1;
	out->len = len;
	return 0;
}

static unsigned char proofbuf[128][128];

/* The proof array of V into P; its count, or -1 when it is undecodable. */
static int
decode_proof(json_t *v, struct merkle_bytes p[128])
{
	size_t i;
	json_t *e;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 128)
		return -1;
	json_array_foreach(v, i, e)
		if (decode(e, proofbuf[i], sizeof(proofbuf[i]), &p[i]) != 0)
			return -1;
	return (int)json_array_size(v);
}

/*
 * Loads the vector at PATH. Its sizes and indexes are uint64 (some are
 * 2^64 - 1, beyond jansson's json_int_t): the values of KEYS are read from
 * the text into OUT and replaced by 0 before parsing.
 */
static json_t *
load_vector(const char *path, const char *const keys[2], uint64_t out[2])
{
	char text[16384], pat[32];
	FILE *f = fopen(path, "r");
	size_t len;
	json_t *v;

	if (f == NULL)
		return NULL;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (int k = 0; k < 2; k++) {
		char *p, *end;

		snprintf(pat, sizeof(pat), "\"%s\":", keys[k]);
		if ((p = strstr(text, pat)) == NULL)
			return NULL;
		p += strlen(pat);
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		out[k] = strtoull(p, &end, 10);
		*p++ = '0';
		while (p < end)
			*p++ = ' ';
	}
	v = json_loads(text, 0, NULL);
	return v;
}

/* 1 when the vector at PATH behaved as its wantErr says, -1 unreadable. */
static int
run_vector(const char *path, int consistency, int *want_err)
{
	static const char *const incl_keys[2] = { "leafIdx", "treeSize" };
	static const char *const cons_keys[2] = { "size1", "size2" };
	unsigned char a[128], b[128], c[128];
	struct merkle_bytes x, y, z, p[128];
	uint64_t num[2];
	json_t *v = load_vector(path, consistency ? cons_keys : incl_keys, num);
	int n, rc = -1;

	if (v == NULL)
		return -1;
	*want_err = json_is_true(json_object_get(v, "wantErr"));
	n = decode_proof(json_object_get(v, "proof"), p);
	if (consistency) {
		if (n < 0 || decode(json_object_get(v, "root1"), a, sizeof(a), &x) != 0 ||
		    decode(json_object_get(v, "root2"), b, sizeof(b), &y) != 0)
			rc = -100;
		else
			rc = merkle_verify_consistency(num[0], num[1], x, y, p, (size_t)n);
	} else {
		if (n < 0 || decode(json_object_get(v, "root"), a, sizeof(a), &x) != 0 ||
		    decode(json_object_get(v, "leafHash"), c, sizeof(c), &z) != 0)
			rc = -100;
		else
			rc = merkle_verify_inclusion(num[0], num[1], z, p, (size_t)n, x);
	}
	json_decref(v);
	if (rc != 0 && rc != TC_EINVALID)
		return 0;
	return (*want_err ? rc == TC_EINVALID : rc == 0);
}

/* Runs every *.json under DIR (one level of subfolders). */
static void
run_dir(const char *dir, int consistency, int *files, int *ok_count, int *errs)
{
	char path[4096];
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		int want_err = 0, r;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (name[0] == '.') {
			free(ents[i]);
			continue;
		}
		if (len > 5 && strcmp(name + len - 5, ".json") == 0) {
			r = run_vector(path, consistency, &want_err);
			(*files)++;
			*errs += want_err;
			if (r == 1)
				(*ok_count)++;
			else
				printf("# %s: %s\n", want_err ? "accepted" : "refused", path);
		} else {
			run_dir(path, consistency, files, ok_count, errs);
		}
		free(ents[i]);
	}
	free(ents);
}

static void
test_vectors(void)
{
	char dir[4096];
	const char *top = getenv("TOP_SRCDIR");
	const char *kinds[2] = { "inclusion", "consistency" };

	for (int k = 0; k < 2; k++) {
		int files = 0, good = 0, errs = 0;
		char name[128];

		snprintf(dir, sizeof(dir), "%s" VECTORS "%s", top ? top : ".", kinds[k]);
		run_dir(dir, k, &files, &good, &errs);
		if (files == 0) {
			snprintf(name, sizeof(name), "%s vectors # SKIP shared/ absent", kinds[k]);
			ok(1, name);
			continue;
		}
		snprintf(name, sizeof(name), "%s vectors: %d files, %d must fail, all as expected",
			 kinds[k], files, errs);
		is_int(good, files, name);
		ok(errs > 0 && errs < files, "vectors hold both accepted and refused cases");
	}
}

/* ---- generated trees ---- */

/* Fills T with N leaves ("leaf i"), appending each to a compact range
 * that keeps its nodes in T; 1 when the range's root equals the reference
 * MTH at every size 0..N. */
static int
grow(struct tree *t, uint64_t n, struct merkle_compact *c)
{
	unsigned char want[H], got[H];
	char data[32];
	int same = 1;

	merkle_compact_init(c);
	t->size = 0;
	merkle_compact_root(c, got);
	ref_mth(t, 0, 0, want);
	same &= memcmp(got, want, H) == 0;
	for (uint64_t i = 0; i < n; i++) {
		int len = snprintf(data, sizeof(data), "leaf %llu", (unsigned long long)i);

		merkle_leaf_hash(data, (size_t)len, t->leaf[i]);
		if (merkle_compact_append(c, t->leaf[i], tree_keep, t) != 0)
			return 0;
		t->size = i + 1;
		if (n <= MAXN) {
			merkle_compact_root(c, got);
			ref_mth(t, 0, i + 1, want);
			same &= memcmp(got, want, H) == 0;
		}
	}
	return same;
}


/*
 * The shape of a proof: which side each sibling is on, top down (bit set:
 * on the left), and how many. A proof for one (index, size) verifies for
 * another exactly when the shapes agree: the verifier sees nothing else.
 * For consistency proofs the shape also says whether the old root opens
 * the path (the old size is a power of two).
 */
struct shape {
	uint64_t left;
	unsigned len;
	int pow2;
};

static struct shape
inclusion_shape(uint64_t i, uint64_t n)
{
	struct shape s = { 0, 0, 0 };
	uint64_t k;

	while (n > 1) {
		for (k = 1; k * 2 < n; k *= 2)
			;
		s.left <<= 1;
		if (i >= k) {
			s.left |= 1;
			i -= k;
			n -= k;
		} else {
			n = k;
		}
		s.len++;
	}
	return s;
}

static struct shape
consistency_shape(uint64_t m, uint64_t n)
{
	struct shape s = { 0, 0, (m & (m - 1)) == 0 };
	uint64_t k;

	while (m != n) {
		for (k = 1; k * 2 < n; k *= 2)
			;
		s.left <<= 1;
		if (m > k) {
			s.left |= 1;
			m -= k;
			n -= k;
		} else {
			n = k;
		}
		s.len++;
	}
	return s;
}

static int
same_shape(struct shape a, struct shape b)
{
	return a.left == b.left && a.len == b.len && a.pow2 == b.pow2;
}

/* What verifying with another index or size must give. */
#define EXPECT_INCL(i2, n2) \
	(same_shape(inclusion_shape(i2, n2), inclusion_shape(i, n)) ? 0 : TC_EINVALID)
#define EXPECT_CONS(m2, n2) \
	(m2 > 0 && m2 <= n2 && \
	 same_shape(consistency_shape(m2, n2), consistency_shape(m, n)) ? 0 : TC_EINVALID)

/* Flips bit B of byte B/8 of H. */
static void
flip(unsigned char *h, unsigned b)
{
	h[(b / 8) % H] ^= (unsigned char)(1u << (b % 8));
}

/* Checks an inclusion proof and every corruption of it that must fail. */
static int
inclusion_holds(const unsigned char leaf[H], uint64_t i, uint64_t n,
		unsigned char proof[][H], size_t len, const unsigned char root[H], int all_bits)
{
	unsigned char l[H], r[H], extra[MERKLE_PROOF_MAX + 1][H];
	int good = merkle_check_inclusion(i, n, leaf, proof, len, root) == 0;

	memcpy(l, leaf, H);
	memcpy(r, root, H);
	for (unsigned b = 0; b < 8 * H; b += all_bits ? 1 : 37) {
		flip(l, b);
		good &= merkle_check_inclusion(i, n, l, proof, len, root) == TC_EINVALID;
		flip(l, b);
		flip(r, b);
		good &= merkle_check_inclusion(i, n, leaf, proof, len, r) == TC_EINVALID;
		flip(r, b);
	}
	for (size_t e = 0; e < len; e++)
		for (unsigned b = all_bits ? 0 : (unsigned)(e * 53 + i) % 256; b < 8 * H;
		     b += all_bits ? 1 : 8 * H) {
			flip(proof[e], b);
			good &= merkle_check_inclusion(i, n, leaf, proof, len, root) == TC_EINVALID;
			flip(proof[e], b);
		}
	if (i > 0)
		good &= merkle_check_inclusion(i - 1, n, leaf, proof, len, root) ==
			EXPECT_INCL(i - 1, n);
	if (i + 1 < n)
		good &= merkle_check_inclusion(i + 1, n, leaf, proof, len, root) ==
			EXPECT_INCL(i + 1, n);
	good &= merkle_check_inclusion(i, n + 1, leaf, proof, len, root) == EXPECT_INCL(i, n + 1);
	if (i < n - 1)
		good &= merkle_check_inclusion(i, n - 1, leaf, proof, len, root) ==
			EXPECT_INCL(i, n - 1);
	good &= merkle_check_inclusion(i, n * 2, leaf, proof, len, root) == EXPECT_INCL(i, n * 2);
	good &= merkle_check_inclusion(i, n, leaf, proof, len, root) == EXPECT_INCL(i, n);
	good &= merkle_check_inclusion(n, n, leaf, proof, len, root) == TC_EINVALID;
	if (len > 0)
		good &= merkle_check_inclusion(i, n, leaf, proof, len - 1, root) == TC_EINVALID;
	memcpy(extra, proof, len * H);
	memcpy(extra[len], root, H);
	good &= merkle_check_inclusion(i, n, leaf, extra, len + 1, root) == TC_EINVALID;
	if (len >= 2) {
		memcpy(extra[0], proof[1], H);
		memcpy(extra[1], proof[0], H);
		good &= merkle_check_inclusion(i, n, leaf, extra, len, root) == TC_EINVALID;
	}
	return good;
}

static int
consistency_holds(uint64_t m, uint64_t n, const unsigned char r1[H], const unsigned char r2[H],
		  unsigned char proof[][H], size_t len, int all_bits)
{
	unsigned char a[H], b2[H], extra[MERKLE_PROOF_MAX + 1][H];
	int good = merkle_check_consistency(m, n, r1, r2, proof, len) == 0;

	memcpy(a, r1, H);
	memcpy(b2, r2, H);
	for (unsigned b = 0; b < 8 * H; b += all_bits ? 1 : 41) {
		flip(a, b);
		good &= merkle_check_consistency(m, n, a, r2, proof, len) == TC_EINVALID;
		flip(a, b);
		flip(b2, b);
		good &= merkle_check_consistency(m, n, r1, b2, proof, len) == TC_EINVALID;
		flip(b2, b);
	}
	for (size_t e = 0; e < len; e++)
		for (unsigned b = all_bits ? 0 : (unsigned)(e * 59 + m + n) % 256; b < 8 * H;
		     b += all_bits ? 1 : 8 * H) {
			flip(proof[e], b);
			good &= merkle_check_consistency(m, n, r1, r2, proof, len) == TC_EINVALID;
			flip(proof[e], b);
		}
	if (m == n)
		return good;
	good &= merkle_check_consistency(m, n, r2, r1, proof, len) == TC_EINVALID;
	good &= merkle_check_consistency(m + 1, n, r1, r2, proof, len) == EXPECT_CONS(m + 1, n);
	if (m > 1)
		good &= merkle_check_consistency(m - 1, n, r1, r2, proof, len) ==
			EXPECT_CONS(m - 1, n);
	good &= merkle_check_consistency(m, n + 1, r1, r2, proof, len) == EXPECT_CONS(m, n + 1);
	good &= merkle_check_consistency(m, n - 1, r1, r2, proof, len) == EXPECT_CONS(m, n - 1);
	good &= merkle_check_consistency(0, n, r1, r2, proof, len) == TC_EINVALID;
	good &= merkle_check_consistency(m, n, r1, r2, proof, len - 1) == TC_EINVALID;
	memcpy(extra, proof, len * H);
	memcpy(extra[len], r2, H);
	good &= merkle_check_consistency(m, n, r1, r2, extra, len + 1) == TC_EINVALID;
	memcpy(extra + 1, proof, len * H);
	memcpy(extra[0], r1, H);
	good &= merkle_check_consistency(m, n, r1, r2, extra, len + 1) == TC_EINVALID;
	if (len >= 2) {
		memcpy(extra, proof, len * H);
		memcpy(extra[0], proof[1], H);
		memcpy(extra[1], proof[0], H);
		good &= merkle_check_consistency(m, n, r1, r2, extra, len) == TC_EINVALID;
	}
	return good;
}

static void
test_generated(void)
{
	struct tree *t = tree_new();
	struct merkle_source plain = { tree_leaf, NULL, t }, cached = { tree_leaf, tree_node, t };
	struct merkle_compact c, loaded;
	unsigned char proof[MERKLE_PROOF_MAX][H], other[MERKLE_PROOF_MAX][H];
	static unsigned char roots[MAXN + 1][H];
	int mth = 1, compact = 1, incl = 1, same = 1, cons = 1, lens = 1, load = 1;
	long proofs = 0, pairs = 0;

	ok(grow(t, MAXN, &c), "compact range root equals MTH at every size 0..300");
	t->use_nodes = 1;
	for (uint64_t n = 0; n <= MAXN; n++) {
		unsigned char want[H];

		ref_mth(t, 0, n, want);
		mth &= merkle_root(&plain, n, roots[n]) == 0 && memcmp(roots[n], want, H) == 0;
		mth &= merkle_root(&cached, n, want) == 0 && memcmp(roots[n], want, H) == 0;
		compact &= merkle_compact_load(&loaded, &cached, n) == 0 && loaded.size == n;
		merkle_compact_root(&loaded, want);
		load &= memcmp(want, roots[n], H) == 0;
		compact &= merkle_compact_load(&loaded, &plain, n) == 0;
		merkle_compact_root(&loaded, want);
		load &= memcmp(want, roots[n], H) == 0;
	}
	ok(mth, "merkle_root equals the reference MTH for sizes 0..300, with and without kept nodes");
	ok(compact && load, "a compact range loaded from the leaves or nodes has the same root");
	{
		/* Appending to a loaded range continues the same tree. */
		unsigned char r[H];

		merkle_compact_load(&loaded, &cached, 200);
		for (uint64_t i = 200; i < MAXN; i++)
			merkle_compact_append(&loaded, t->leaf[i], NULL, NULL);
		merkle_compact_root(&loaded, r);
		ok(memcmp(r, roots[MAXN], H) == 0, "appending to a loaded range reaches the same root");
	}

	for (uint64_t n = 1; n <= MAXN; n++)
		for (uint64_t i = 0; i < n; i++) {
			size_t len = 0, len2 = 0;
			int rc = merkle_inclusion_proof(&cached, i, n, proof, &len);

			if (n <= 64 || i % 7 == 0 || i + 1 == n) {
				rc |= merkle_inclusion_proof(&plain, i, n, other, &len2);
				same &= len == len2 && memcmp(proof, other, len * H) == 0;
			}
			lens &= len <= MERKLE_PROOF_MAX;
			incl &= rc == 0 && inclusion_holds(t->leaf[i], i, n, proof, len, roots[n],
							   n <= 16);
			proofs++;
		}
	ok(incl, "every inclusion proof in trees of 1..300 leaves verifies; corrupted ones fail");
	ok(same, "inclusion proofs from kept nodes equal those from the leaves");
	diag("inclusion proofs checked:");
	printf("# %ld\n", proofs);

	same = 1;
	for (uint64_t n = 1; n <= MAXN; n++)
		for (uint64_t m = 1; m <= n; m++) {
			size_t len = 0, len2 = 0;
			int rc;

			if (n > 64 && !(m <= 3 || m + 3 >= n || (m & (m - 1)) == 0 || m % 17 == 0))
				continue;
			rc = merkle_consistency_proof(&cached, m, n, proof, &len);
			rc |= merkle_consistency_proof(&plain, m, n, other, &len2);
			same &= len == len2 && memcmp(proof, other, len * H) == 0;
			lens &= len <= MERKLE_PROOF_MAX && (m != n || len == 0);
			cons &= rc == 0 && consistency_holds(m, n, roots[m], roots[n], proof, len,
							     n <= 16);
			pairs++;
		}
	ok(cons, "every consistency proof (all m <= n <= 64, sampled to 300) verifies; "
		 "corrupted ones fail");
	ok(same, "consistency proofs from kept nodes equal those from the leaves");
	ok(lens, "no proof is longer than MERKLE_PROOF_MAX");
	printf("# consistency pairs checked: %ld\n", pairs);
	tree_free(t);
}

/* The vectors' happy paths regenerated: the 8-leaf test tree's proofs. */
static void
test_known_proofs(void)
{
	struct tree *t = tree_new();
	struct merkle_source src = { tree_leaf, NULL, t };
	unsigned char proof[MERKLE_PROOF_MAX][H];
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		merkle_leaf_hash(ct_leaves[i].data, ct_leaves[i].len, t->leaf[i]);
	t->size = 8;
	ok(merkle_inclusion_proof(&src, 0, 8, proof, &n) == 0 && n == 3 &&
	   hexeq(proof[0], "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7") &&
	   hexeq(proof[1], "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e") &&
	   hexeq(proof[2], "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
	   "inclusion proof of leaf 0 in 8 is RFC 6962's");
	ok(merkle_consistency_proof(&src, 2, 5, proof, &n) == 0 && n == 2 &&
	   hexeq(proof[0], "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e") &&
	   hexeq(proof[1], "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
	   "consistency proof 2 -> 5 is RFC 6962's");
	tree_free(t);
}

/* A large log: roots and proofs from kept nodes read O(log n) hashes. */
static void
test_large(void)
{
	struct tree *t = tree_new();
	struct merkle_source cached = { tree_leaf, tree_node, t };
	struct merkle_compact c;
	unsigned char root[H], want[H], proof[MERKLE_PROOF_MAX][H];
	uint64_t n = (UINT64_C(1) << 17) - 3;
	size_t len = 0;
	int good = 1;

	grow(t, n, &c);
	t->use_nodes = 1;
	merkle_compact_root(&c, want);
	t->leaf_reads = t->node_reads = 0;
	ok(merkle_root(&cached, n, root) == 0 && memcmp(root, want, H) == 0,
	   "root of 131069 leaves from kept nodes equals the compact range's");
	ok(t->leaf_reads + t->node_reads <= 2 * 17, "... reading at most 2 log2(n) hashes");
	for (uint64_t i = 0; i < n; i += 4099) {
		t->leaf_reads = t->node_reads = 0;
		good &= merkle_inclusion_proof(&cached, i, n, proof, &len) == 0 &&
			merkle_check_inclusion(i, n, t->leaf[i], proof, len, want) == 0 &&
			t->leaf_reads + t->node_reads <= 2 * 17 + 2;
	}
	ok(good, "inclusion proofs in the large tree verify, each from O(log n) reads");
	{
		unsigned char r1[H];
		uint64_t m = 100003;

		ok(merkle_root(&cached, m, r1) == 0 &&
		   merkle_consistency_proof(&cached, m, n, proof, &len) == 0 &&
		   merkle_check_consistency(m, n, r1, want, proof, len) == 0,
		   "a consistency proof in the large tree verifies");
	}
	tree_free(t);
}

/* The node cache: the same proofs as without it; subtrees of level 6 and
 * up read from the source once, then from memory; lower ones still read. */
static void
test_node_cache(void)
{
	struct tree *t = tree_new();
	struct merkle_source direct = { tree_leaf, tree_node, t };
	struct merkle_node_cache *nc = NULL;
	struct merkle_cached_source cs, none;
	struct merkle_compact c;
	unsigned char want[H], p1[MERKLE_PROOF_MAX][H], p2[MERKLE_PROOF_MAX][H];
	uint64_t n = 50001;
	size_t l1 = 0, l2 = 0;
	long upper[2] = { 0, 0 }, lower[2] = { 0, 0 }, plain = 0;
	int same = 1;

	grow(t, n, &c);
	t->use_nodes = 1;
	merkle_compact_root(&c, want);
	ok(merkle_node_cache_new(6, 1 << 16, &nc) == 0 && nc, "a node cache is made");
	merkle_cached_source_init(&cs, nc, &direct);
	merkle_cached_source_init(&none, NULL, &direct);
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < n; i += 997) {
			t->node_reads = t->upper_reads = 0;
			same &= merkle_inclusion_proof(&cs.src, i, n, p1, &l1) == 0 &&
				merkle_check_inclusion(i, n, t->leaf[i], p1, l1, want) == 0;
			upper[round] += t->upper_reads;
			lower[round] += t->node_reads - t->upper_reads;
			t->node_reads = t->upper_reads = 0;
			same &= merkle_inclusion_proof(&none.src, i, n, p2, &l2) == 0 &&
				l1 == l2 && memcmp(p1, p2, l1 * H) == 0;
			plain += round ? t->upper_reads : 0;
		}
	ok(same, "proofs through the node cache are the source's, and verify");
	{
		char line[160];

		snprintf(line, sizeof(line), "upper reads %ld, %ld, plain %ld; lower %ld %ld", upper[0], upper[1], plain, lower[0], lower[1]);
		diag(line);
	}
	ok(plain > 0 && upper[0] > 0 && upper[0] < plain && upper[1] == 0,
	   "subtrees of level 6 and up are read from the source once, then from the cache");
	ok(lower[0] > 0 && lower[0] == lower[1], "lower subtrees are read from the source");
	merkle_node_cache_free(nc);
	merkle_node_cache_free(NULL);
	tree_free(t);
}

/* The block cache: a block's inner nodes are the tree's subtrees; a kept
 * block comes back byte for byte, others miss; at most SLOTS blocks kept. */
static void
test_block_cache(void)
{
	struct tree *t = tree_new();
	struct merkle_block_cache *bc = NULL;
	struct merkle_block b[8], got;
	struct merkle_compact c;
	unsigned char h[H];
	int nodes_ok = 1, hits = 0, misses = 0;

	grow(t, 8 * MERKLE_BLOCK + 5, &c);
	t->use_nodes = 1;
	for (unsigned k = 0; k < 8; k++) {
		memcpy(b[k].leaf, t->leaf[k * MERKLE_BLOCK], sizeof(b[k].leaf));
		merkle_block_fill(&b[k]);
		for (unsigned l = 1; l < MERKLE_BLOCK_LEVELS; l++)
			for (uint64_t i = 0; i < (MERKLE_BLOCK >> l); i++)
				nodes_ok &= tree_node(t, l, ((uint64_t)k * MERKLE_BLOCK >> l) + i,
						      h) == 0 &&
					    memcmp(merkle_block_node(&b[k], l, i), h, H) == 0;
	}
	ok(nodes_ok, "a block's inner nodes (levels 1 to 3) are the tree's subtrees");
	ok(!merkle_block_node(&b[0], 0, 0) && !merkle_block_node(&b[0], MERKLE_BLOCK_LEVELS, 0) &&
	   !merkle_block_node(&b[0], 1, MERKLE_BLOCK / 2) && merkle_block_node(&b[0], 3, 1),
	   "merkle_block_node: levels 1 to 3 only, indexes within the block");

	ok(merkle_block_cache_new(3, &bc) == 0 && bc, "a block cache of 3 slots is made");
	ok(merkle_block_cache_bytes(bc) >= 4 * sizeof(struct merkle_block) &&
	   merkle_block_cache_bytes(bc) <= 4 * (sizeof(struct merkle_block) + 8) + 256,
	   "... rounded up to 4 slots: 4 blocks and little more");
	is_int(merkle_block_cache_get(bc, 2, &got), 0, "an empty cache: a miss");
	merkle_block_cache_put(bc, 2, &b[2]);
	ok(merkle_block_cache_get(bc, 2, &got) == 1 && memcmp(&got, &b[2], sizeof(got)) == 0,
	   "a kept block: a hit, byte for byte");
	is_int(merkle_block_cache_get(bc, 6, &got), 0, "another block (same slot): a miss");
	is_int(merkle_block_cache_get(bc, 3, &got), 0, "another block (other slot): a miss");
	for (unsigned k = 0; k < 8; k++)
		merkle_block_cache_put(bc, k, &b[k]);
	for (unsigned k = 0; k < 8; k++) {
		if (merkle_block_cache_get(bc, k, &got) == 0)
			misses++;
		else if (memcmp(&got, &b[k], sizeof(got)) == 0)
			hits++;
	}
	ok(hits == 4 && misses == 4, "8 blocks put in 4 slots: the last 4 kept, the first 4 not");
	is_int(merkle_block_cache_get(bc, UINT64_MAX, &got), 0, "block UINT64_MAX: a miss");
	merkle_block_cache_free(bc);
	merkle_block_cache_put(NULL, 1, &b[1]);
	is_int(merkle_block_cache_get(NULL, 1, &got), 0, "no cache: a miss");
	is_int((int)merkle_block_cache_bytes(NULL), 0, "no cache: 0 bytes");
	merkle_block_cache_free(NULL);
	tree_free(t);
}

int
main(void)
{
	test_hashes();
	test_vectors();
	test_known_proofs();
	test_generated();
	test_large();
	test_node_cache();
	test_block_cache();
	return done_testing();
}
