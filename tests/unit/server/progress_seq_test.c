/* progress_seq_test.c - tests for server/progress_seq.c */
#include "server/progress_seq.h"
#include "tests/tap.h"

#define APPLY PROGRESS_SEQ_APPLY
#define REACK PROGRESS_SEQ_REACK
#define STALE PROGRESS_SEQ_STALE

static void
test_in_order(void)
{
	struct progress_seqs s;

	progress_seqs_init(&s);
	ok(progress_seq_take(&s, 0) == APPLY, "the first seq applies");
	ok(progress_seq_take(&s, 1) == APPLY, "the next applies");
	ok(progress_seq_take(&s, 1) == REACK, "a repeat is acked again");
	ok(progress_seq_take(&s, 0) == REACK, "an older one too");
	ok(progress_seq_take(&s, 5) == APPLY, "gaps are allowed");
	ok(progress_seq_take(&s, 3) == REACK, "a seq skipped over is taken as seen");
	is_int(s.last, 5, "last: the highest taken");
}

static void
test_failed_then_later(void)
{
	struct progress_seqs s;

	progress_seqs_init(&s);
	ok(progress_seq_take(&s, 7) == APPLY && progress_seq_take(&s, 8) == APPLY, "7 and 8 taken");
	progress_seq_failed(&s, 7);	/* 7 busy, 8 applied (in either order) */
	ok(progress_seq_peek(&s, 7) == APPLY, "peek: 7 is open");
	ok(progress_seq_take(&s, 8) == REACK, "8 resent: acked again");
	ok(progress_seq_take(&s, 7) == APPLY, "7 resent after 8: applied");
	ok(progress_seq_take(&s, 7) == REACK, "7 once more: acked again, not applied twice");
	progress_seq_failed(&s, 7);
	ok(progress_seq_take(&s, 7) == APPLY, "failed again: the next resend applies");
	progress_seq_failed(&s, 7);
	progress_seq_failed(&s, 7);
	is_int(s.n, 1, "a seq is open once");
	is_int(s.last, 8, "last unchanged by failures");
}

static void
test_refused(void)
{
	struct progress_seqs s;

	progress_seqs_init(&s);
	ok(progress_seq_take(&s, 1) == APPLY, "1 taken");
	progress_seq_refused(&s, 2);	/* the rate: 2 never taken */
	ok(progress_seq_take(&s, 3) == APPLY, "3 taken");
	ok(progress_seq_take(&s, 2) == APPLY, "2 refused, resent after 3: applied");
	progress_seq_refused(&s, 1);	/* a resend of 1 (applied) hit the rate */
	ok(progress_seq_take(&s, 1) == REACK, "1 stays applied: acked again");
	is_int(s.n, 0, "nothing open");
}

static void
test_cap(void)
{
	struct progress_seqs s;
	int all = 1;

	progress_seqs_init(&s);
	for (int64_t q = 0; q < 100; q++)
		all &= progress_seq_take(&s, q) == APPLY;
	ok(all, "100 seqs taken");
	for (int64_t q = 10; q < 10 + PROGRESS_SEQ_OPEN; q++)
		progress_seq_failed(&s, q);
	is_int(s.n, PROGRESS_SEQ_OPEN, "the open set full");
	is_int(s.floor, -1, "nothing forgotten yet");
	progress_seq_failed(&s, 90);
	is_int(s.n, PROGRESS_SEQ_OPEN, "the open set stays bounded");
	is_int(s.floor, 10, "the lowest open seq forgotten: the floor rises to it");
	ok(progress_seq_take(&s, 10) == STALE, "the forgotten seq: stale (send with a new seq)");
	ok(progress_seq_take(&s, 5) == STALE, "an applied seq below the floor: stale too");
	ok(progress_seq_take(&s, 11) == APPLY, "the next open one still applies");
	ok(progress_seq_take(&s, 90) == APPLY, "so does the newest failure");
	ok(progress_seq_take(&s, 95) == REACK, "an applied seq above the floor: acked again");
	progress_seq_failed(&s, 3);
	ok(progress_seq_take(&s, 3) == STALE, "a failure at or below the floor is not kept");
	for (int64_t q = 12; q < 10 + PROGRESS_SEQ_OPEN; q++)
		progress_seq_take(&s, q);
	is_int(s.n, 0, "all resent: nothing open");
	progress_seq_failed(&s, 200);	/* refused above last: open */
	ok(progress_seq_take(&s, 150) == APPLY, "a seq above last applies");
	ok(progress_seq_take(&s, 200) == APPLY, "the open one above it too");
	for (int64_t q = 160; q < 160 + PROGRESS_SEQ_OPEN; q++)
		progress_seq_failed(&s, q);
	progress_seq_failed(&s, 155);
	is_int(s.floor, 155, "full, the new failure the lowest of all: it is forgotten itself");
	ok(progress_seq_take(&s, 155) == STALE && progress_seq_take(&s, 160) == APPLY,
	   "... and the open ones kept");
}

int
main(void)
{
	test_in_order();
	test_failed_then_later();
	test_refused();
	test_cap();
	return done_testing();
}
