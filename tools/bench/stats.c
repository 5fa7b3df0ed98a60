/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Medians and percentiles. */
#include <stdlib.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

/* p in [0, 1], linear between the two nearest ranks. */
double percentile(const double *sorted, size_t n, double p)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return 0;
	pos = p * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

/* Sorts v in place. */
double median_of(double *v, size_t n)
{
	sort_doubles(v, n);
	return percentile(v, n, 0.5);
}
