/*
 * progress_seq.c - the seqs of a connection's progress messages that were
 * applied (server/progress_seq.h).
 */
#include "server/progress_seq.h"

void
progress_seqs_init(struct progress_seqs *s)
{
	s->last = -1;
	s->floor = -1;
	s->n = 0;
}

static int
open_at(const struct progress_seqs *s, int64_t seq)
{
	for (int i = 0; i < s->n; i++)
		if (s->open[i] == seq)
			return i;
	return -1;
}

enum progress_seq_verdict
progress_seq_peek(const struct progress_seqs *s, int64_t seq)
{
	if (seq > s->last || open_at(s, seq) >= 0)
		return PROGRESS_SEQ_APPLY;
	return seq <= s->floor ? PROGRESS_SEQ_STALE : PROGRESS_SEQ_REACK;
}

enum progress_seq_verdict
progress_seq_take(struct progress_seqs *s, int64_t seq)
{
	enum progress_seq_verdict v = progress_seq_peek(s, seq);
	int i = open_at(s, seq);

	if (v != PROGRESS_SEQ_APPLY)
		return v;
	if (i >= 0)
		s->open[i] = s->open[--s->n];
	if (seq > s->last)
		s->last = seq;
	return v;
}

void
progress_seq_failed(struct progress_seqs *s, int64_t seq)
{
	int low = 0;

	if (seq <= s->floor || open_at(s, seq) >= 0)
		return;
	if (s->n < PROGRESS_SEQ_OPEN) {
		s->open[s->n++] = seq;
		return;
	}
	for (int i = 1; i < s->n; i++)
		if (s->open[i] < s->open[low])
			low = i;
	if (seq < s->open[low]) {
		s->floor = seq;		/* forgotten at once */
		return;
	}
	s->floor = s->open[low];
	s->open[low] = seq;
}

void
progress_seq_refused(struct progress_seqs *s, int64_t seq)
{
	if (seq > s->last)
		progress_seq_failed(s, seq);
}
