/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The round-trip latency distributions as an SVG picture: one panel per
 * round-trip workload and placement, each with the cumulative distribution
 * of the kernel's and the emulator's per-fault latencies over a
 * logarithmic time axis.  A curve further left is faster; a curve that
 * rises steeply is steady.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>

#include "bench.h"

#define PANEL_W 480
#define PANEL_H 270
#define LEFT    56
#define RIGHT   28
#define TOP     40
#define BOTTOM  44
#define STEPS   400

static const char *const colour[2] = {"#1f5fbf", "#d9480f"};
static const char *const label[2] = {"kernel", "emulator"};

struct axis {
	double lo, hi; /* log10 of the microseconds at either end */
	double x0, y0, w, h;
};

/* Clamped to the panel: the slowest tail may lie past the last decade. */
static double px(const struct axis *a, double us)
{
	double l = log10(us > 1e-3 ? us : 1e-3);
	double x = a->x0 + (l - a->lo) / (a->hi - a->lo) * a->w;

	return fmin(fmax(x, a->x0), a->x0 + a->w);
}

static double py(const struct axis *a, double frac)
{
	return a->y0 + a->h - frac * a->h;
}

/* Whole decades from the fastest to the slowest tail of either side. */
static void fit_axis(const struct case_data *d, struct axis *a)
{
	double lo = INFINITY, hi = -INFINITY;

	for (int b = 0; b < 2; b++) {
		size_t n = d->nsamples[b];

		if (!n)
			continue;
		lo = fmin(lo, percentile(d->samples[b], n, 0.0));
		hi = fmax(hi, percentile(d->samples[b], n, 0.999));
	}
	a->lo = floor(log10(lo > 0.01 ? lo : 0.01));
	a->hi = ceil(log10(hi > lo ? hi : lo * 10));
	if (a->hi <= a->lo)
		a->hi = a->lo + 1;
}

static void draw_grid(FILE *f, const struct axis *a)
{
	static const int minor[] = {2, 5};

	for (double e = a->lo; e <= a->hi + 1e-9; e++) {
		double us = pow(10, e), x = px(a, us);

		fprintf(f,
			"<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
			"stroke='#bbb'/>\n",
			x, a->y0, x, a->y0 + a->h);
		fprintf(f,
			"<text x='%.1f' y='%.1f' text-anchor='middle'>%g"
			"</text>\n",
			x, a->y0 + a->h + 16, us);
		for (int i = 0; i < 2 && e < a->hi; i++)
			fprintf(f,
				"<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
				"stroke='#eee'/>\n",
				px(a, us * minor[i]), a->y0,
				px(a, us * minor[i]), a->y0 + a->h);
	}
	for (int i = 0; i <= 4; i++) {
		double y = py(a, i / 4.0);

		fprintf(f,
			"<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
			"stroke='#ddd'/>\n",
			a->x0, y, a->x0 + a->w, y);
		fprintf(f,
			"<text x='%.1f' y='%.1f' text-anchor='end'>%.2f"
			"</text>\n",
			a->x0 - 6, y + 4, i / 4.0);
	}
}

static void draw_curve(FILE *f, const struct axis *a, const double *s, size_t n,
		       int b)
{
	double med = percentile(s, n, 0.5);

	fprintf(f,
		"<polyline fill='none' stroke='%s' stroke-width='1.6' "
		"points='",
		colour[b]);
	for (int i = 0; i <= STEPS; i++) {
		double frac = (double)i / STEPS;

		fprintf(f, "%.1f,%.1f ", px(a, percentile(s, n, frac)),
			py(a, frac));
	}
	fprintf(f, "'/>\n");
	fprintf(f,
		"<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
		"stroke-dasharray='4 3'/>\n",
		px(a, med), a->y0, px(a, med), a->y0 + a->h, colour[b]);
	/* Bottom right, where a cumulative curve never is; the white halo
	 * keeps the text readable over the grid. */
	fprintf(f,
		"<text x='%.1f' y='%.1f' fill='%s' text-anchor='end' "
		"stroke='white' stroke-width='4' paint-order='stroke'>%s: "
		"median %.2f us, p90 %.2f us</text>\n",
		a->x0 + a->w - 8, a->y0 + a->h - 24 + 15 * b, colour[b],
		label[b], med, percentile(s, n, 0.9));
}

static void draw_panel(FILE *f, const struct case_data *d, double ox, double oy)
{
	struct axis a = {.x0 = ox + LEFT,
			 .y0 = oy + TOP,
			 .w = PANEL_W - LEFT - RIGHT,
			 .h = PANEL_H - TOP - BOTTOM};

	fit_axis(d, &a);
	fprintf(f, "<text x='%.1f' y='%.1f' font-weight='bold'>%s, %s</text>\n",
		ox + LEFT, oy + 22, d->c->title, d->c->where);
	draw_grid(f, &a);
	fprintf(f,
		"<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
		"fill='none' stroke='#444'/>\n",
		a.x0, a.y0, a.w, a.h);
	for (int b = 0; b < 2; b++)
		if (d->nsamples[b])
			draw_curve(f, &a, d->samples[b], d->nsamples[b], b);
	fprintf(f,
		"<text x='%.1f' y='%.1f' text-anchor='middle'>latency of one "
		"fault, us (log)</text>\n",
		a.x0 + a.w / 2, oy + PANEL_H - 8);
}

int report_svg(const char *path, struct case_data *d, int n)
{
	FILE *f = fopen(path, "w");
	int panels = 0, k = 0;

	if (!f)
		return -1;
	for (int i = 0; i < n; i++)
		panels += d[i].c->latencies &&
			  (d[i].nsamples[0] || d[i].nsamples[1]);
	fprintf(f,
		"<svg xmlns='http://www.w3.org/2000/svg' width='%d' "
		"height='%d' font-family='sans-serif' font-size='12'>\n",
		2 * PANEL_W, 40 + ((panels + 1) / 2) * PANEL_H);
	fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
	fprintf(f, "<text x='16' y='24' font-size='15'>uffdemu-bench: "
		   "cumulative distribution of round-trip latency, kernel "
		   "vs emulator (fraction of faults at or below)</text>\n");
	for (int i = 0; i < n; i++) {
		if (!d[i].c->latencies ||
		    !(d[i].nsamples[0] || d[i].nsamples[1]))
			continue;
		draw_panel(f, &d[i], (k % 2) * PANEL_W, 40 + (k / 2) * PANEL_H);
		k++;
	}
	fprintf(f, "</svg>\n");
	return fclose(f);
}
