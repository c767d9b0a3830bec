/*
 * statuslist.h - W3C Bitstring Status List v1.0 (revocation bits) and the
 * keyed permutation that hands out status list indexes.
 *
 * The bitstring: index 0 is the left-most bit, i.e. the most significant
 * bit of byte 0; index i is bit (7 - i % 8) of byte i / 8 ("the first
 * index, with a value of zero, is located at the left-most bit in the
 * bitstring"). A list holds at least STATUSLIST_MIN_BITS entries (16 KiB),
 * the spec's minimum for group privacy.
 *
 * encodedList = 'u' (multibase base64url) + base64url without padding of
 * the GZIP (RFC 1952) compressed bitstring. Decoding inflates at most the
 * expected size, so a gzip bomb costs nothing.
 *
 *   struct statuslist sl;
 *   statuslist_init(&sl, STATUSLIST_MIN_BITS);
 *   statuslist_set(&sl, 42, 1); statuslist_encode(&sl, &text); ...
 *   statuslist_cleanup(&sl);
 *
 * Index allocation: credential number k (0, 1, 2, ... in issuance order)
 * of an issuer's list goes to segment s = k / STATUSLIST_SEGMENT_BITS and
 * gets index s * STATUSLIST_SEGMENT_BITS + perm_s(k mod
 * STATUSLIST_SEGMENT_BITS) (statuslist_segment_index), perm_s a keyed
 * pseudo-random permutation of the segment (a balanced Feistel network
 * with cycle walking) with a key of its own, so indexes are all distinct,
 * need no free list, and do not reveal the order (or the time) of issuance
 * within a segment to anyone without the issuer's secret. The list grows
 * a segment at a time, up to STATUSLIST_SEGMENTS; segment 0's permutation
 * is the one lists of a single segment always had (statuslist_perm_init
 * over STATUSLIST_MIN_BITS), so indexes issued before keep their place.
 */
#ifndef TINCHI_STATUSLIST_H
#define TINCHI_STATUSLIST_H

#include <stddef.h>
#include <stdint.h>

#define STATUSLIST_MIN_BITS 131072u		/* 16 KiB, the spec's minimum */
#define STATUSLIST_MAX_BITS (128u << 20)	/* 16 MiB: decode's hard cap */

struct statuslist {
	unsigned char *bits;	/* owned; nbits / 8 bytes */
	size_t nbits;
};

/* An all-zero list of NBITS entries: a multiple of 8 between
 * STATUSLIST_MIN_BITS and STATUSLIST_MAX_BITS (else TC_EINVALID).
 * TC_ENOMEM leaves SL empty (cleanup is still safe). */
int statuslist_init(struct statuslist *sl, size_t nbits);
void statuslist_cleanup(struct statuslist *sl);	/* accepts an empty list */

/* Sets bit INDEX to VALUE (0 or non-zero). 0 or TC_EINVALID (past the end). */
int statuslist_set(struct statuslist *sl, size_t index, int value);

/* The bit at INDEX: 0 or 1, or TC_EINVALID past the end. */
int statuslist_get(const struct statuslist *sl, size_t index);

/*
 * The encodedList text ("uH4sI..."), malloc'ed into *out (the caller
 * frees it). 0, TC_ENOMEM or TC_EIO (zlib failed); *out is NULL on failure.
 * Deterministic: the same bits always give the same text (zlib's default
 * level, gzip header with no name and time 0).
 */
int statuslist_encode(const struct statuslist *sl, char **out);

/*
 * Parses an encodedList into OUT (which must not hold a list; on success
 * the caller cleans it up). NBITS is the size the list must have; 0
 * accepts any size allowed by statuslist_init. 0 on success; TC_EINVALID
 * for text that is not 'u' + base64url of one complete gzip member, or a
 * wrong CRC, or trailing bytes; TC_ETOOBIG when it inflates past the
 * expected size (or STATUSLIST_MAX_BITS), TC_EINVALID when it is shorter;
 * TC_ENOMEM. OUT is empty on failure.
 */
int statuslist_decode(const char *encoded, size_t nbits, struct statuslist *out);

/* ---- index allocation ------------------------------------------------ */

#define STATUSLIST_PERM_ROUNDS 8

struct evp_md_ctx_st;

/* The round function is HMAC-SHA-256 under a key derived from the secret;
 * its inner and outer pads are hashed once, here. */
struct statuslist_perm {
	struct evp_md_ctx_st *inner, *outer;	/* owned */
	uint64_t n;		/* the domain [0, n) */
	unsigned half;		/* bits in each Feistel half */
	uint64_t segment;	/* statuslist_segment_init's; 0 otherwise */
};

/*
 * Keys a permutation of [0, N) (1 <= N <= 2^62) with the issuer's SECRET
 * (at least 16 bytes): the round key is HMAC-SHA-256(SECRET, label || N),
 * so lists of different sizes get unrelated permutations. 0, TC_EINVALID,
 * TC_ENOMEM or TC_EIO; on failure P holds nothing (cleanup is safe).
 */
int statuslist_perm_init(struct statuslist_perm *p, const void *secret, size_t len,
			 uint64_t n);

/* Frees and wipes; accepts NULL and a failed init. */
void statuslist_perm_cleanup(struct statuslist_perm *p);

/* *index = perm(K) for K in [0, N). 0, or TC_ETOOBIG when K >= N (the list
 * is full), TC_ENOMEM or TC_EIO when hashing failed. Several threads may
 * use one P at once. */
int statuslist_perm_index(const struct statuslist_perm *p, uint64_t k, uint64_t *index);

/* ---- segments ------------------------------------------------------- */

#define STATUSLIST_SEGMENT_BITS STATUSLIST_MIN_BITS	/* entries per segment */
#define STATUSLIST_SEGMENTS (STATUSLIST_MAX_BITS / STATUSLIST_SEGMENT_BITS)	/* 1,024 */

/* The segment of credential number K. */
static inline uint64_t
statuslist_segment_of(uint64_t k)
{
	return k / STATUSLIST_SEGMENT_BITS;
}

/*
 * Keys the permutation of segment SEGMENT of the issuer with SECRET:
 * segment 0 is exactly statuslist_perm_init(P, SECRET, LEN,
 * STATUSLIST_SEGMENT_BITS); segment s > 0 has the round key
 * HMAC-SHA-256(SECRET, label || N || s). 0; TC_ETOOBIG when SEGMENT >=
 * STATUSLIST_SEGMENTS (the list is full); else as statuslist_perm_init.
 */
int statuslist_segment_init(struct statuslist_perm *p, const void *secret, size_t len,
			    uint64_t segment);

/* *index = the status list index of credential number K, P keyed for K's
 * segment (statuslist_segment_init). 0; TC_ETOOBIG when K >=
 * STATUSLIST_MAX_BITS (the list is full); TC_EINVALID when P is keyed for
 * another segment; TC_ENOMEM or TC_EIO. */
int statuslist_segment_index(const struct statuslist_perm *p, uint64_t k, uint64_t *index);

#endif
