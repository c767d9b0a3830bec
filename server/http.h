/*
 * http.h - the libwebsockets transport: context, vhost, the HTTP protocol
 * callback, the service loop and graceful shutdown.
 *
 * The callback stays thin: it copies the request into a struct
 * http_request, hands it to api_dispatch (server/api.c), and streams the
 * struct http_response back from WRITEABLE, in 256 KiB pieces for files.
 */
#ifndef TINCHI_HTTP_H
#define TINCHI_HTTP_H

#include <signal.h>

struct app;

/*
 * Creates the lws context for APP (APP->cfg says where to listen and how),
 * and binds the listening socket. Writes the bound port to cfg->port_file
 * when set, and logs the URL. Returns 0, or TC_EIO (could not listen) /
 * TC_ENOMEM; on success APP->http and APP->ws are set.
 */
int http_server_create(struct app *app);

/* 1 once shutdown has begun (new connections and upgrades are refused). */
int http_server_draining(const struct app *app);

/* Port actually bound (useful with port 0). */
int http_server_port(const struct app *app);

/*
 * Serves until *STOP becomes non-zero (set from a signal handler, which
 * should also call http_server_wake). Then stops taking new connections and
 * requests, lets in-flight responses finish for up to DRAIN_SECONDS,
 * closes WebSockets with 1001 and returns 0.
 */
int http_server_run(struct app *app, volatile sig_atomic_t *stop, int drain_seconds);

/* Async-signal-safe: wakes the service loop so it sees *stop. */
void http_server_wake(struct app *app);

/* Destroys the context (closing every connection). Accepts a NULL server. */
void http_server_destroy(struct app *app);

#endif
