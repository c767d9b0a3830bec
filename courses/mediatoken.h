/*
 * mediatoken.h - signed, expiring tokens for streaming a material, which a
 * CDN edge can check without the database:
 *
 *   v1.<expires>.<viewer>.<mac>
 *
 * EXPIRES is unix seconds in decimal (no sign, no leading zeros), VIEWER
 * the viewer's person uid (a UUID, 36 characters) or "-" for none, and MAC
 * the base64url (no padding, 43 characters) of
 *
 *   HMAC-SHA-256(KEY, "v1\n" MATERIAL "\n" VIEWER "\n" EXPIRES)
 *
 * The material is not in the token: it is bound by the MAC, so a token for
 * one material does not open another. Every character of a token is safe
 * in a URL query without escaping.
 */
#ifndef TINCHI_MEDIATOKEN_H
#define TINCHI_MEDIATOKEN_H

#include <stddef.h>
#include <stdint.h>

#define MEDIA_TOKEN_MAX 160		/* bytes of a token, including the NUL */
#define MEDIA_MATERIAL_MAX 64		/* bytes of a material uid */

/*
 * The key used for media tokens, derived from the platform secret:
 * HMAC-SHA-256(SECRET, "tinchi media token v1"). Giving a CDN this key
 * lets it check tokens without being able to forge sessions or CSRF
 * tokens. Should OpenSSL fail, the failure is logged and KEY is all zero,
 * a key that media_token_make and media_token_check refuse (TC_EIO).
 */
void media_token_key(const unsigned char secret[32], unsigned char key[32]);

/*
 * Writes the token for MATERIAL_UID, VIEWER_UID and EXPIRES to OUT
 * (OUTSIZE bytes; MEDIA_TOKEN_MAX is always enough). Returns 0;
 * TC_EINVALID when MATERIAL_UID is empty, longer than MEDIA_MATERIAL_MAX
 * or holds '.' or '\n', when VIEWER_UID is neither a UUID (hex digits,
 * 8-4-4-4-12) nor "-", or when EXPIRES is negative; TC_ETOOBIG when OUTSIZE
 * is too small; TC_EIO when the key is all zero or OpenSSL failed. On
 * failure OUT holds "" (when OUTSIZE > 0).
 */
int media_token_make(const unsigned char key[32], const char *material_uid,
		     const char *viewer_uid, int64_t expires, char *out, size_t outsize);

/*
 * Checks TOKEN for MATERIAL_UID at time NOW (unix seconds). Returns 0 and
 * fills VIEWER ("-" or a UUID) and *EXPIRES (either may be NULL);
 * TC_EINVALID when TOKEN or MATERIAL_UID is malformed; TC_EFORBIDDEN when
 * the MAC does not match (compared in constant time) or the token has
 * expired (EXPIRES < NOW); TC_EIO as for media_token_make. On failure
 * VIEWER is "" and *EXPIRES 0, except for a genuine token that has
 * expired: then *EXPIRES is its (past) expiry.
 */
int media_token_check(const unsigned char key[32], const char *material_uid,
		      const char *token, int64_t now, char viewer[37], int64_t *expires);

#endif
