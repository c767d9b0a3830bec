/*
 * jcs_node_test.c - jcs_number() against ECMAScript itself: hundreds of
 * thousands of doubles (random bit patterns, subnormals, powers of two and
 * ten and their neighbours, integers near 2^53, the 1e21 and 1e-6/1e-7
 * boundaries, short decimals) are written by one node process with
 * JSON.stringify and compared byte for byte. Skipped (a "1..0 # SKIP" plan) without node.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "courses/errors.h"
#include "courses/jcs.h"
#include "tests/tap.h"

#define MIN_NUMBERS 100000

static const char node_script[] =
	"const lines = require('fs').readFileSync(0, 'utf8').split('\\n');\n"
	"const b = Buffer.alloc(8), out = [];\n"
	"for (const l of lines) {\n"
	"  if (!l) continue;\n"
	"  b.writeBigUInt64BE(BigInt('0x' + l));\n"
	"  out.push(JSON.stringify(b.readDoubleBE(0)));\n"
	"}\n"
	"process.stdout.write(out.join('\\n') + '\\n');\n";

static double *nums;
static size_t count, alloc;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static double
from_bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void
add(double d)
{
	if (!isfinite(d))
		return;
	if (count == alloc) {
		alloc = alloc ? alloc * 2 : 1 << 16;
		nums = realloc(nums, alloc * sizeof(*nums));
		if (nums == NULL)
			exit(99);
	}
	nums[count++] = d;
}

/* D, its two neighbours and their negations. */
static void
add_around(double d)
{
	double up = nextafter(d, INFINITY), down = nextafter(d, -INFINITY);

	add(d); add(-d);
	add(up); add(-up);
	add(down); add(-down);
}

static void
generate(void)
{
	char text[64];

	/* Random bit patterns: every exponent, both signs. */
	for (int i = 0; i < 100000; i++)
		add(from_bits(rng()));
	/* Subnormals. */
	for (int i = 0; i < 20000; i++)
		add(from_bits(rng() & 0x800FFFFFFFFFFFFFull));
	for (uint64_t u = 1; u < 2000; u++)
		add(from_bits(u));
	add_around(DBL_MIN);
	add_around(DBL_MAX);
	/* Powers of two (the asymmetric rounding interval) and neighbours. */
	for (int e = -1074; e <= 1023; e++)
		add_around(ldexp(1.0, e));
	/* Powers of ten as the decimal literal reads, and neighbours. */
	for (int e = -325; e <= 308; e++) {
		snprintf(text, sizeof(text), "1e%d", e);
		add_around(strtod(text, NULL));
		snprintf(text, sizeof(text), "9.999999999999999e%d", e);
		add_around(strtod(text, NULL));
		snprintf(text, sizeof(text), "5e%d", e);
		add_around(strtod(text, NULL));
	}
	/* The layout boundaries: 1e21, 1e-6, 1e-7. */
	for (int i = 0; i < 200; i++) {
		static const double edges[] = { 1e21, 1e-6, 1e-7, 1e20 };

		for (size_t j = 0; j < sizeof(edges) / sizeof(edges[0]); j++) {
			double up = edges[j], down = edges[j];

			for (int k = 0; k < i; k++) {
				up = nextafter(up, INFINITY);
				down = nextafter(down, 0);
			}
			add(up); add(down); add(-up); add(-down);
		}
	}
	/* Integers near 2^53 and 2^64, random large integers. */
	for (int i = -2000; i <= 2000; i++) {
		add(9007199254740992.0 + i);
		add(-9007199254740992.0 + i);
		add(18446744073709551616.0 + i * 4096.0);
	}
	for (int i = 0; i < 20000; i++)
		add((double)(rng() >> (rng() % 64)));
	/* Short decimals with random digits and exponents: shortest digits
	 * matter most here. */
	for (int i = 0; i < 60000; i++) {
		int digits = 1 + (int)(rng() % 17), exp = (int)(rng() % 640) - 330;
		uint64_t m = rng() % 100000000000000000ull;
		char mant[24];

		snprintf(mant, sizeof(mant), "%017llu", (unsigned long long)m);
		mant[digits] = '\0';
		snprintf(text, sizeof(text), "%c.%se%d", '1' + (int)(rng() % 9), mant, exp);
		add(strtod(text, NULL));
	}
	/* Fractions of every size around the plain-notation range. */
	for (int i = 0; i < 30000; i++) {
		double d = (double)(rng() >> 11) / 9007199254740992.0;	/* [0, 1) */

		add(ldexp(d, (int)(rng() % 120) - 40));
	}
}

int
main(void)
{
	char dir[] = "/tmp/jcs_node_test.XXXXXX";
	char in_path[64], out_path[64], js_path[64], cmd[512], line[128];
	const char *node = getenv("NODE");
	size_t mismatches = 0, compared = 0, i;
	FILE *f;
	int rc;

	if (node == NULL)
		node = "node";
	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", node);
	if (system(cmd) != 0) {
		printf("1..0 # SKIP node is not installed\n");
		return 0;	/* a TAP skip: the plan says it (tap-driver takes 77 for an error) */
	}
	generate();
	if (mkdtemp(dir) == NULL) {
		printf("1..0 # SKIP cannot make a temporary folder\n");
		return 0;	/* a TAP skip: the plan says it (tap-driver takes 77 for an error) */
	}
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(js_path, sizeof(js_path), "%s/fmt.js", dir);
	f = fopen(js_path, "w");
	ok(f != NULL && fputs(node_script, f) >= 0, "node script written");
	if (f)
		fclose(f);
	f = fopen(in_path, "w");
	for (i = 0; f != NULL && i < count; i++) {
		uint64_t u;

		memcpy(&u, &nums[i], sizeof(u));
		fprintf(f, "%016llx\n", (unsigned long long)u);
	}
	ok(f != NULL && fclose(f) == 0, "bit patterns written");
	snprintf(cmd, sizeof(cmd), "'%s' '%s' < '%s' > '%s'", node, js_path, in_path, out_path);
	rc = system(cmd);
	is_int(rc, 0, "one node process formatted every number");
	f = fopen(out_path, "r");
	for (i = 0; f != NULL && i < count && fgets(line, sizeof(line), f) != NULL; i++) {
		char mine[JCS_NUMBER_MAX];

		line[strcspn(line, "\n")] = '\0';
		if (jcs_number(nums[i], mine) != 0 || strcmp(mine, line) != 0) {
			if (mismatches++ < 20)
				printf("# %.17g: jcs '%s', node '%s'\n", nums[i], mine, line);
		}
		compared++;
	}
	if (f)
		fclose(f);
	printf("# %zu doubles compared with node's JSON.stringify\n", compared);
	ok(compared == count && count >= MIN_NUMBERS, "node answered for every number (100,000 or more)");
	is_int(mismatches, 0, "jcs_number matches JSON.stringify for every one");
	unlink(in_path);
	unlink(out_path);
	unlink(js_path);
	ok(rmdir(dir) == 0, "temporary folder removed");
	free(nums);
	return done_testing();
}
