// SPDX-License-Identifier: GPL-2.0
/*
 * classify-test - run the plugin's instruction classifier (icount-classify.h)
 * on instructions given as bytes, for tests/icount/test-classify.sh.
 *
 *   classify-test [--thunk LO HI]...  < lines "ADDR HEXBYTES"
 *   classify-test --length             < lines "ADDR HEXBYTES"
 *
 * prints "ADDR CLASSES" per line, CLASSES a comma list of branch, call,
 * indirect, atomic, or "-" for none (addresses hexadecimal); with --length
 * "ADDR LENGTH" (icls_length of the bytes), or "ADDR LENGTH truncated=K"
 * when the first K bytes alone were not reported as too short (-1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icount-classify.h"

static unsigned long long thunk_lo[16], thunk_hi[16];
static int n_thunks;

static int in_thunk(uint64_t a)
{
	int i;

	for (i = 0; i < n_thunks; i++)
		if (a >= thunk_lo[i] && a < thunk_hi[i])
			return 1;
	return 0;
}

static int parse_hex(const char *s, uint8_t *b, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (s[0] && s[1] && n < max && sscanf(s, "%2x", &v) == 1) {
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	char line[256], hex[128];
	unsigned long long addr;
	int i, length = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--length")) {
			length = 1;
		} else if (!strcmp(argv[i], "--thunk") && i + 2 < argc && n_thunks < 16) {
			thunk_lo[n_thunks] = strtoull(argv[i + 1], NULL, 16);
			thunk_hi[n_thunks++] = strtoull(argv[i + 2], NULL, 16);
			i += 2;
		} else {
			fprintf(stderr, "usage: classify-test [--length | --thunk LO HI...] < 'ADDR HEXBYTES' lines\n");
			return 2;
		}
	}
	while (fgets(line, sizeof(line), stdin)) {
		uint8_t b[16];
		unsigned int c;
		int n;

		if (sscanf(line, "%llx %127s", &addr, hex) != 2)
			continue;
		n = parse_hex(hex, b, sizeof(b));
		if (length) {
			int k, bad = 0;

			for (k = 0; k < n && !bad; k++)
				if (icls_length(b, k) != -1)
					bad = k;
			printf("%llx %d", addr, icls_length(b, n));
			if (bad)
				printf(" truncated=%d", bad);
			printf("\n");
			continue;
		}
		c = icls_classify(b, n, addr, n_thunks ? in_thunk : NULL);
		snprintf(hex, sizeof(hex), "%s%s%s%s", c & ICLS_BRANCH ? ",branch" : "",
			 c & ICLS_CALL ? ",call" : "", c & ICLS_INDIRECT ? ",indirect" : "",
			 c & ICLS_ATOMIC ? ",atomic" : "");
		printf("%llx %s\n", addr, c ? hex + 1 : "-");
	}
	return 0;
}
