/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table, and the same figures as CSV and JSON.
 *
 * Every figure is the median over the repetitions of one number per
 * repetition (a run's median latency, its throughput), with the 10th and
 * 90th percentiles over the repetitions as its spread.  The ratio is taken
 * pair by pair, emulator over kernel for the repetitions that ran next to
 * each other, and summarised the same way.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct spread {
	int n;
	double med, p10, p90;
};

struct row {
	const struct case_data *d;
	const struct metric *m;
	struct spread be[2]; /* kernel, emulator */
	struct spread ratio;
	char goal[24];
	const char *verdict;
};

static const char *const side[2] = {"kernel", "emulator"};

static struct spread spread_of(const double *v, int n)
{
	struct spread s = {0};
	double *ok = malloc(sizeof(*ok) * (size_t)(n ? n : 1));

	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			ok[s.n++] = v[i];
	if (s.n) {
		sort_doubles(ok, (size_t)s.n);
		s.med = percentile(ok, (size_t)s.n, 0.5);
		s.p10 = percentile(ok, (size_t)s.n, 0.1);
		s.p90 = percentile(ok, (size_t)s.n, 0.9);
	}
	free(ok);
	return s;
}

static struct spread paired_ratio(const struct case_data *d, int mi)
{
	int n = d->runs[0] < d->runs[1] ? d->runs[0] : d->runs[1];
	double *v = malloc(sizeof(*v) * (size_t)(n ? n : 1));
	struct spread s;

	for (int i = 0; i < n; i++) {
		double k = d->values[0][mi][i], e = d->values[1][mi][i];

		v[i] = k > 0 ? e / k : NAN;
	}
	s = spread_of(v, n);
	free(v);
	return s;
}

static const char *judge(const struct row *r)
{
	const struct metric *m = r->m;

	switch (m->goal_kind) {
	case GOAL_RATIO_MAX:
		if (!r->ratio.n)
			return "";
		return r->ratio.med <= m->goal ? "met" : "NOT MET";
	case GOAL_RATIO_MIN:
		if (!r->ratio.n)
			return "";
		return r->ratio.med >= m->goal ? "met" : "NOT MET";
	case GOAL_EMU_MAX:
		if (!r->be[1].n)
			return "";
		return r->be[1].med <= m->goal ? "met" : "NOT MET";
	default:
		return "";
	}
}

static void make_row(const struct case_data *d, int mi, struct row *r)
{
	const struct metric *m = &d->c->metric[mi];

	memset(r, 0, sizeof(*r));
	r->d = d;
	r->m = m;
	for (int b = 0; b < 2; b++)
		r->be[b] = spread_of(d->values[b][mi], d->runs[b]);
	if (!m->no_ratio)
		r->ratio = paired_ratio(d, mi);
	if (m->goal_kind == GOAL_RATIO_MAX)
		snprintf(r->goal, sizeof(r->goal), "<= %.1fx", m->goal);
	else if (m->goal_kind == GOAL_RATIO_MIN)
		snprintf(r->goal, sizeof(r->goal), ">= %.1fx", m->goal);
	else if (m->goal_kind == GOAL_EMU_MAX)
		snprintf(r->goal, sizeof(r->goal), "<= %g", m->goal);
	r->verdict = judge(r);
}

static int digits_for(const char *unit, double v)
{
	if (!strcmp(unit, "faults/s") || !strcmp(unit, "ns") ||
	    !strcmp(unit, "regions") || !strcmp(unit, "pages"))
		return 0;
	return fabs(v) >= 100 ? 1 : 2;
}

static void fmt_value(char *buf, size_t n, const char *unit, double v)
{
	snprintf(buf, n, "%.*f", digits_for(unit, v), v);
}

static void fmt_spread(char *buf, size_t n, const struct spread *s,
		       const char *unit)
{
	char a[16], b[16], c[16];

	if (!s->n) {
		snprintf(buf, n, "n/a");
		return;
	}
	fmt_value(a, sizeof(a), unit, s->med);
	if (s->n == 1) {
		snprintf(buf, n, "%s", a);
		return;
	}
	fmt_value(b, sizeof(b), unit, s->p10);
	fmt_value(c, sizeof(c), unit, s->p90);
	snprintf(buf, n, "%s [%s-%s]", a, b, c);
}

static void fmt_ratio(char *buf, size_t n, const struct spread *s)
{
	if (!s->n)
		snprintf(buf, n, "-");
	else if (s->n == 1)
		snprintf(buf, n, "%.2fx", s->med);
	else
		snprintf(buf, n, "%.2fx [%.2f-%.2f]", s->med, s->p10, s->p90);
}

static void row_label(char *buf, size_t n, const struct row *r)
{
	const struct bench_case *c = r->d->c;

	if (r->m->name && *r->m->name)
		snprintf(buf, n, "%s: %s", c->title, r->m->name);
	else
		snprintf(buf, n, "%s", c->title);
}

#define TABLE_FMT "%-44s %-10s %-8s %-22s %-22s %-19s %-7s %s\n"

static void print_row(const struct row *r)
{
	char label[160], k[64], e[64], q[64];

	row_label(label, sizeof(label), r);
	fmt_spread(k, sizeof(k), &r->be[0], r->m->unit);
	fmt_spread(e, sizeof(e), &r->be[1], r->m->unit);
	fmt_ratio(q, sizeof(q), &r->ratio);
	printf(TABLE_FMT, label, r->d->c->where, r->m->unit, k, e, q, r->goal,
	       r->verdict);
}

static void print_case(const struct case_data *d)
{
	struct row r;

	if (!d->c->run) {
		printf("%-44s %-10s %-8s %s\n", d->c->title, d->c->where, "",
		       d->c->na);
		return;
	}
	for (int mi = 0; mi < d->c->nmetrics; mi++) {
		make_row(d, mi, &r);
		print_row(&r);
	}
}

static void print_distribution(const struct case_data *d)
{
	double q[2][4];

	for (int b = 0; b < 2; b++) {
		const double *s = d->samples[b];
		size_t n = d->nsamples[b];

		if (!n)
			return;
		q[b][0] = percentile(s, n, 0.10);
		q[b][1] = percentile(s, n, 0.50);
		q[b][2] = percentile(s, n, 0.90);
		q[b][3] = percentile(s, n, 0.99);
	}
	printf("%-44s %-10s %7.2f %7.2f %7.2f %8.2f    %7.2f %7.2f %7.2f "
	       "%8.2f\n",
	       d->c->title, d->c->where, q[0][0], q[0][1], q[0][2], q[0][3],
	       q[1][0], q[1][1], q[1][2], q[1][3]);
}

static void print_notes(const struct case_data *d, int n)
{
	for (int i = 0; i < n; i++)
		if (d[i].c->no_kernel && d[i].c->run)
			printf("  note: %s: the kernel column is %s, the "
			       "emulator column %s\n",
			       d[i].c->title, d[i].c->columns[0],
			       d[i].c->columns[1]);
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 2; b++)
			if (d[i].error[b][0])
				printf("  note: %s %s, %s: %s\n", d[i].c->title,
				       d[i].c->where, side[b], d[i].error[b]);
}

static void print_distributions(const struct case_data *d, int n)
{
	int i = 0;

	while (i < n && !d[i].nsamples[0] && !d[i].nsamples[1])
		i++;
	if (i == n)
		return;
	printf("\nper-fault latency in us, every repetition pooled:\n");
	printf("%-44s %-10s %7s %7s %7s %8s    %7s %7s %7s %8s\n", "", "",
	       "k p10", "k p50", "k p90", "k p99", "e p10", "e p50", "e p90",
	       "e p99");
	for (i = 0; i < n; i++)
		if (d[i].c->latencies)
			print_distribution(&d[i]);
}

void report_table(struct case_data *d, int n)
{
	printf("\n" TABLE_FMT, "workload", "where", "unit", "kernel",
	       "emulator", "emu/kernel", "goal", "");
	for (int i = 0; i < n; i++)
		print_case(&d[i]);
	print_distributions(d, n);
	print_notes(d, n);
}

/* CSV and JSON share the rows. */
static void csv_num(FILE *f, const struct spread *s)
{
	if (s->n)
		fprintf(f, ",%.6g,%.6g,%.6g", s->med, s->p10, s->p90);
	else
		fprintf(f, ",,,");
}

static void csv_latency(FILE *f, const struct case_data *d, int b)
{
	const double *s = d->samples[b];
	size_t n = d->nsamples[b];

	if (!n) {
		fprintf(f, ",,,,");
		return;
	}
	fprintf(f, ",%.4g,%.4g,%.4g,%.4g", percentile(s, n, 0.1),
		percentile(s, n, 0.5), percentile(s, n, 0.9),
		percentile(s, n, 0.99));
}

int report_csv(const char *path, struct case_data *d, int n)
{
	FILE *f = fopen(path, "w");
	struct row r;

	if (!f)
		return -1;
	fprintf(f, "workload,where,metric,unit,kernel_median,kernel_p10,"
		   "kernel_p90,emulator_median,emulator_p10,emulator_p90,"
		   "ratio_median,ratio_p10,ratio_p90,goal,verdict,"
		   "kernel_reps,emulator_reps,kernel_lat_p10,kernel_lat_p50,"
		   "kernel_lat_p90,kernel_lat_p99,emulator_lat_p10,"
		   "emulator_lat_p50,emulator_lat_p90,emulator_lat_p99\n");
	for (int i = 0; i < n; i++) {
		if (!d[i].c->run)
			continue;
		for (int mi = 0; mi < d[i].c->nmetrics; mi++) {
			make_row(&d[i], mi, &r);
			fprintf(f, "%s,%s,%s,%s", d[i].c->id, d[i].c->where,
				r.m->name, r.m->unit);
			csv_num(f, &r.be[0]);
			csv_num(f, &r.be[1]);
			csv_num(f, &r.ratio);
			fprintf(f, ",%s,%s,%d,%d", r.goal, r.verdict, r.be[0].n,
				r.be[1].n);
			csv_latency(f, &d[i], 0);
			csv_latency(f, &d[i], 1);
			fputc('\n', f);
		}
	}
	return fclose(f);
}

static void json_spread(FILE *f, const char *key, const struct spread *s)
{
	if (!s->n)
		fprintf(f, "\"%s\": null", key);
	else
		fprintf(f,
			"\"%s\": {\"median\": %.6g, \"p10\": %.6g, "
			"\"p90\": %.6g, \"n\": %d}",
			key, s->med, s->p10, s->p90, s->n);
}

static void json_values(FILE *f, const char *key, const double *v, int n)
{
	fprintf(f, "\"%s\": [", key);
	for (int i = 0; i < n; i++)
		fprintf(f, isnan(v[i]) ? "%snull" : "%s%.6g", i ? ", " : "",
			v[i]);
	fprintf(f, "]");
}

static const char *better_name(enum better b)
{
	if (b == BETTER_HIGHER)
		return "higher";
	return b == BETTER_LOWER ? "lower" : "";
}

static void json_row(FILE *f, const struct row *r, int mi, bool first)
{
	const struct case_data *d = r->d;

	fprintf(f, "%s\n    {\"workload\": \"%s\", \"title\": \"%s\", ",
		first ? "" : ",", d->c->id, d->c->title);
	fprintf(f,
		"\"where\": \"%s\", \"metric\": \"%s\", \"unit\": \"%s\", "
		"\"better\": \"%s\",\n",
		d->c->where, r->m->name, r->m->unit, better_name(r->m->better));
	fprintf(f, "     ");
	json_spread(f, "kernel", &r->be[0]);
	fprintf(f, ", ");
	json_spread(f, "emulator", &r->be[1]);
	fprintf(f, ",\n     ");
	json_spread(f, "ratio", &r->ratio);
	fprintf(f, ", \"goal\": \"%s\", \"verdict\": \"%s\",\n     ", r->goal,
		r->verdict);
	json_values(f, "kernel_values", d->values[0][mi], d->runs[0]);
	fprintf(f, ", ");
	json_values(f, "emulator_values", d->values[1][mi], d->runs[1]);
	fprintf(f, "}");
}

int report_json(const char *path, struct case_data *d, int n)
{
	FILE *f = fopen(path, "w");
	bool first = true;
	struct row r;

	if (!f)
		return -1;
	fprintf(f,
		"{\"reps\": %d, \"scale_reps\": %d, \"faults\": %lu, "
		"\"bulk_bytes\": %zu, \"scale_bytes\": %zu,\n \"rows\": [",
		cfg.reps, cfg.scale_reps, cfg.faults, cfg.bulk_bytes,
		cfg.scale_bytes);
	for (int i = 0; i < n; i++) {
		if (!d[i].c->run)
			continue;
		for (int mi = 0; mi < d[i].c->nmetrics; mi++) {
			make_row(&d[i], mi, &r);
			json_row(f, &r, mi, first);
			first = false;
		}
	}
	fprintf(f, "\n ]}\n");
	return fclose(f);
}
