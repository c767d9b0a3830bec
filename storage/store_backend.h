/*
 * store_backend.h - what a persistence backend provides (private to storage/).
 *
 * Each backend's own struct starts with `const struct store_ops *ops`, so
 * store.c can dispatch on any `struct store *`.
 */
#ifndef TINCHI_STORE_BACKEND_H
#define TINCHI_STORE_BACKEND_H

#include <stdint.h>

struct store;

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	int (*ping)(struct store *s);
	int (*schema_version)(struct store *s, int *out);
	int (*size_bytes)(struct store *s, int64_t *out);
};

struct store {
	const struct store_ops *ops;
};

/* SQLite backend constructor (store_sqlite.c). Same contract as store_open. */
int store_sqlite_open(const char *path, struct store **out);

#endif
