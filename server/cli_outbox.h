/*
 * cli_outbox.h - `tinchi outbox prune [--older-than DAYS] [--data DIR]`:
 * deletes once, now, the outbox events consumed more than DAYS days ago
 * (default: 30, the server's outbox-retention default), in the server's
 * small batches (server/outbox_pruner.h); a running server may keep
 * serving meanwhile. Exit 0 when done, 1 when the database failed, 2 for
 * bad usage or input.
 */
#ifndef TINCHI_CLI_OUTBOX_H
#define TINCHI_CLI_OUTBOX_H

/* ARGV[0] is "outbox". */
int cli_outbox_main(int argc, char **argv);

#endif
