/*
 * api_wallet.h - the learner's wallet over HTTP (api_wallet.c): share
 * links of one credential, the printable page with a QR code, and the
 * public view of a shared credential (JSON and HTML).
 */
#ifndef TINCHI_API_WALLET_H
#define TINCHI_API_WALLET_H

#include <stddef.h>

#include "server/router.h"

extern const struct route api_wallet_routes[];
extern const size_t api_wallet_routes_count;

#endif
