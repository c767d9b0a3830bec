/*
 * progress_seq.h - which "seq" of a WebSocket connection's progress
 * messages were applied, so that every ack is for a message applied exactly
 * once (README "Learning progress").
 *
 * A client sends increasing seqs and may send one again: after a "busy" it
 * must be applied then, after an ack (or while it waits in the writer's
 * queue) it must only be acked again. What is kept per connection is
 * bounded: LAST, the highest seq taken to be applied, and OPEN, the seqs
 * answered without being applied (busy, invalid...) and not sent again
 * since, at most PROGRESS_SEQ_OPEN of them. Every seq at or below LAST that
 * is not open was applied (or is queued) - except at or below FLOOR: when
 * OPEN is full, its lowest seq is forgotten and FLOOR rises to it, and a
 * seq at or below FLOOR that is not open can no longer be told apart; it
 * is answered PROGRESS_SEQ_STALE (send it again with a new seq; the union
 * of watched ranges makes that harmless).
 */
#ifndef TINCHI_PROGRESS_SEQ_H
#define TINCHI_PROGRESS_SEQ_H

#include <stdint.h>

#define PROGRESS_SEQ_OPEN 32	/* unapplied seqs a connection's resends may apply */

struct progress_seqs {
	int64_t last;			/* highest seq taken to apply; -1: none */
	int64_t floor;			/* at or below, a seq not open is unknown; -1 */
	int64_t open[PROGRESS_SEQ_OPEN];	/* answered, not applied: a resend applies */
	int n;
};

enum progress_seq_verdict {
	PROGRESS_SEQ_APPLY,		/* new, or open: apply it */
	PROGRESS_SEQ_REACK,		/* applied or queued: ack again, apply nothing */
	PROGRESS_SEQ_STALE		/* at or below FLOOR: cannot tell; a new seq */
};

void progress_seqs_init(struct progress_seqs *s);

/* A message with SEQ (>= 0) arrives: what to do with it. APPLY takes it
 * (no longer open; LAST at least SEQ); call progress_seq_failed if it is
 * then not applied after all. */
enum progress_seq_verdict progress_seq_take(struct progress_seqs *s, int64_t seq);

/* What progress_seq_take would answer for SEQ, changing nothing. */
enum progress_seq_verdict progress_seq_peek(const struct progress_seqs *s, int64_t seq);

/* SEQ, taken, was not applied (its batch failed, it was refused): a resend
 * applies it. Forgets the lowest open seq when OPEN is full. */
void progress_seq_failed(struct progress_seqs *s, int64_t seq);

/* A message with SEQ was refused before progress_seq_take (the rate): if
 * it was not applied before, a resend applies it. */
void progress_seq_refused(struct progress_seqs *s, int64_t seq);

#endif
