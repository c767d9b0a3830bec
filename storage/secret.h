/*
 * secret.h - the platform secret: 32 random bytes in keys/platform.secret
 * (mode 0600), created on first use. It keys the HMAC of national IDs and
 * the CSRF tokens, so it must survive restarts and be the same on every
 * node of a cluster (copy the file).
 */
#ifndef TINCHI_SECRET_H
#define TINCHI_SECRET_H

#define PLATFORM_SECRET_LEN 32

/* Reads KEYS_DIR/platform.secret into OUT, creating it when absent (random
 * bytes, written to a temporary file, fsynced and renamed). 0, TC_EIO (the
 * file is unreadable or not exactly 32 bytes). */
int platform_secret_load(const char *keys_dir, unsigned char out[PLATFORM_SECRET_LEN]);

#endif
