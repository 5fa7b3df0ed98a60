// SPDX-License-Identifier: GPL-2.0-or-later
/* Records of observations, their comparison and their transport. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void rec_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->sink = -1;
}

void rec_free(struct record *r)
{
	free(r->lines);
	rec_init(r);
}

void rec_set_sink(struct record *r, int fd)
{
	r->sink = fd;
}

void rec_mark_next(struct record *r, const char *id, const char *value,
		   bool rest)
{
	memset(&r->pending, 0, sizeof(r->pending));
	snprintf(r->pending.value, sizeof(r->pending.value), "%s", value);
	snprintf(r->pending.id, sizeof(r->pending.id), "%s", id);
	r->pending.rest = rest;
	r->marking = true;
}

const char *rec_want(const struct record *r, const struct rec_line *l)
{
	return r->emu && l->known.value[0] ? l->known.value : l->expect;
}

/* Copies src into a field, replacing the separators of the stream format. */
static void put_field(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = (src[i] == '\t' || src[i] == '\n') ? ' ' : src[i];
	dst[i] = '\0';
}

static void sink_line(int fd, const struct rec_line *l)
{
	char buf[sizeof(*l) + 8];
	int len;

	len = snprintf(buf, sizeof(buf), "%s\t%s\t%s\t%s\t%s\t%d\n", l->label,
		       l->value, l->expect, l->known.value, l->known.id,
		       l->known.rest);
	/* One write per line: lines stay whole even if the writer dies. */
	if (write(fd, buf, (size_t)len) < 0)
		return;
}

static struct rec_line *new_line(struct record *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct rec_line *l = realloc(r->lines, cap * sizeof(*l));

		if (!l)
			abort();
		r->lines = l;
		r->cap = cap;
	}
	memset(&r->lines[r->n], 0, sizeof(r->lines[0]));
	return &r->lines[r->n++];
}

bool rec_add(struct record *r, const char *label, const char *expect,
	     const char *value)
{
	struct rec_line *l = new_line(r);

	put_field(l->label, sizeof(l->label), label);
	put_field(l->value, sizeof(l->value), value);
	put_field(l->expect, sizeof(l->expect), expect ? expect : "");
	if (r->marking) {
		l->known = r->pending;
		put_field(l->known.value, sizeof(l->known.value),
			  r->pending.value);
		put_field(l->known.id, sizeof(l->known.id), r->pending.id);
		r->marking = false;
	}
	if (r->sink >= 0)
		sink_line(r->sink, l);
	return !rec_want(r, l)[0] || !strcmp(l->value, rec_want(r, l));
}

bool rec_str(struct record *r, const char *label, const char *value)
{
	return rec_add(r, label, NULL, value);
}

bool rec_str_is(struct record *r, const char *label, const char *value,
		const char *expect)
{
	return rec_add(r, label, expect, value);
}

bool rec_int(struct record *r, const char *label, long long value)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", value);
	return rec_add(r, label, NULL, v);
}

bool rec_int_is(struct record *r, const char *label, long long value,
		long long expect)
{
	char v[32], e[32];

	snprintf(v, sizeof(v), "%lld", value);
	snprintf(e, sizeof(e), "%lld", expect);
	return rec_add(r, label, e, v);
}

bool rec_hex(struct record *r, const char *label, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%#llx", (unsigned long long)value);
	return rec_add(r, label, NULL, v);
}

bool rec_hex_is(struct record *r, const char *label, uint64_t value,
		uint64_t expect)
{
	char v[32], e[32];

	snprintf(v, sizeof(v), "%#llx", (unsigned long long)value);
	snprintf(e, sizeof(e), "%#llx", (unsigned long long)expect);
	return rec_add(r, label, e, v);
}

const char *rec_errname(int err)
{
	static __thread char buf[24];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

void rec_fmt_rv(char *out, size_t n, long value)
{
	if (value >= 0)
		snprintf(out, n, "%ld", value);
	else
		snprintf(out, n, "%s", rec_errname((int)-value));
}

static void fmt_fd(char *out, size_t n, long value)
{
	if (value >= 0)
		snprintf(out, n, "fd");
	else
		rec_fmt_rv(out, n, value);
}

bool rec_rv(struct record *r, const char *label, long value)
{
	char v[32];

	rec_fmt_rv(v, sizeof(v), value);
	return rec_add(r, label, NULL, v);
}

bool rec_rv_is(struct record *r, const char *label, long value, long expect)
{
	char v[32], e[32];

	rec_fmt_rv(v, sizeof(v), value);
	rec_fmt_rv(e, sizeof(e), expect);
	return rec_add(r, label, e, v);
}

bool rec_fd(struct record *r, const char *label, long value)
{
	char v[32];

	fmt_fd(v, sizeof(v), value);
	return rec_add(r, label, NULL, v);
}

bool rec_fd_is(struct record *r, const char *label, long value, long expect)
{
	char v[32], e[32];

	fmt_fd(v, sizeof(v), value);
	fmt_fd(e, sizeof(e), expect);
	return rec_add(r, label, e, v);
}

void rec_fmt_mem(char *out, size_t n, const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	bool uniform = true;

	for (i = 0; i < len; i++) {
		h = (h ^ c[i]) * 0x100000001b3ULL;
		uniform = uniform && c[i] == c[0];
	}
	if (len && uniform)
		snprintf(out, n, "uniform %#04x", c[0]);
	else
		snprintf(out, n, "mixed, first %#04x, fnv1a %#llx",
			 len ? c[0] : 0, (unsigned long long)h);
}

bool rec_mem(struct record *r, const char *label, const void *p, size_t len)
{
	char v[REC_VALUE_MAX];

	rec_fmt_mem(v, sizeof(v), p, len);
	return rec_add(r, label, NULL, v);
}

long rec_check(const struct record *r, const char *name, char *msg, size_t n)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct rec_line *l = &r->lines[i];
		const char *want = rec_want(r, l);

		if (!want[0] || !strcmp(l->value, want))
			continue;
		if (want == l->expect)
			snprintf(msg, n, "%s: '%s' is %s, the spec says %s",
				 name, l->label, l->value, want);
		else
			snprintf(msg, n,
				 "%s: '%s' is %s, where the known difference "
				 "'%s' says %s (the spec says %s)",
				 name, l->label, l->value, l->known.id, want,
				 l->expect[0] ? l->expect : "nothing");
		return (long)i;
	}
	return -1;
}

/* Lines at the same index that differ, from i on (labels or values). */
static size_t count_differences(const struct record *a, const struct record *b,
				size_t i)
{
	size_t n = 0;

	for (; i < a->n && i < b->n; i++)
		n += strcmp(a->lines[i].label, b->lines[i].label) ||
		     strcmp(a->lines[i].value, b->lines[i].value);
	return n;
}

/* Adds id to the comma-separated list of ids met, once. */
static void add_id(struct rec_diff *d, const char *id)
{
	size_t len = strlen(d->ids), n = strlen(id);
	const char *p = d->ids;

	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == n && !strncmp(p, id, n))
			return;
		p += k;
		if (*p)
			p += 2; /* ", " */
	}
	snprintf(d->ids + len, sizeof(d->ids) - len, "%s%s", len ? ", " : "",
		 id);
}

static bool same_mark(const struct rec_mark *a, const struct rec_mark *b)
{
	return !strcmp(a->value, b->value) && !strcmp(a->id, b->id) &&
	       a->rest == b->rest;
}

static void differs(struct rec_diff *d, const struct record *k,
		    const struct record *e, size_t i, enum rec_outcome o)
{
	size_t more = count_differences(k, e, i + 1);
	size_t len;

	d->outcome = o;
	d->line = (long)i;
	snprintf(d->label, sizeof(d->label), "%s",
		 i < k->n ? k->lines[i].label : e->lines[i].label);
	len = strlen(d->msg);
	if (o == REC_DIFFERS && more && len < sizeof(d->msg))
		snprintf(d->msg + len, sizeof(d->msg) - len,
			 " (and %zu more line%s)", more,
			 more == 1 ? " differs" : "s differ");
}

/* One line of each record at the same index; false when that decides. */
static bool diff_line(const struct record *k, const struct record *e, size_t i,
		      struct rec_diff *d, bool *stop)
{
	const struct rec_line *x = &k->lines[i], *y = &e->lines[i];
	const struct rec_mark *m = &y->known;

	if (strcmp(x->label, y->label)) {
		snprintf(d->msg, sizeof(d->msg),
			 "line %zu: kernel has '%s' = %s where emu has "
			 "'%s' = %s",
			 i, x->label, x->value, y->label, y->value);
		differs(d, k, e, i, REC_DIFFERS);
		return false;
	}
	if (!same_mark(&x->known, m)) {
		snprintf(d->msg, sizeof(d->msg),
			 "'%s': the kernel's run and the emulator's run mark "
			 "it differently ('%s' and '%s')",
			 x->label, x->known.id, m->id);
		differs(d, k, e, i, REC_DIFFERS);
		return false;
	}
	if (!m->value[0]) {
		if (!strcmp(x->value, y->value))
			return true;
		snprintf(d->msg, sizeof(d->msg), "'%s': kernel %s, emu %s",
			 x->label, x->value, y->value);
		differs(d, k, e, i, REC_DIFFERS);
		return false;
	}
	if (!strcmp(x->value, y->value)) {
		snprintf(d->msg, sizeof(d->msg),
			 "'%s': the emulator now gives the kernel's value %s, "
			 "not %s: the known difference '%s' is stale here "
			 "(remove the mark)",
			 x->label, x->value, m->value, m->id);
		differs(d, k, e, i, REC_STALE);
		return false;
	}
	if (strcmp(y->value, m->value)) {
		snprintf(d->msg, sizeof(d->msg),
			 "'%s': kernel %s, emu %s, where the known difference "
			 "'%s' says the emulator gives %s",
			 x->label, x->value, y->value, m->id, m->value);
		differs(d, k, e, i, REC_DIFFERS);
		return false;
	}
	add_id(d, m->id);
	d->outcome = REC_KNOWN;
	if (d->line < 0) {
		d->line = (long)i;
		snprintf(d->label, sizeof(d->label), "%s", x->label);
	}
	*stop = m->rest;
	return true;
}

void rec_diff(const struct record *k, const struct record *e,
	      struct rec_diff *d)
{
	size_t i, common = k->n < e->n ? k->n : e->n;
	const struct record *longer = k->n > e->n ? k : e;
	bool stop = false;

	memset(d, 0, sizeof(*d));
	d->outcome = REC_EQUAL;
	d->line = -1;
	for (i = 0; i < common && !stop; i++)
		if (!diff_line(k, e, i, d, &stop))
			return;
	if (stop || k->n == e->n)
		return;
	snprintf(d->msg, sizeof(d->msg),
		 "%s stops after %zu lines; %s goes on with '%s' = %s",
		 longer == k ? "emu" : "kernel", common,
		 longer == k ? "kernel" : "emu", longer->lines[common].label,
		 longer->lines[common].value);
	differs(d, k, e, common, REC_DIFFERS);
}

void rec_print(FILE *f, const struct record *r, const char *name, size_t from,
	       size_t to)
{
	size_t i;

	for (i = from; i < to && i < r->n; i++) {
		const struct rec_line *l = &r->lines[i];

		fprintf(f, "  %-6s %3zu  %-44s %s", name, i, l->label,
			l->value);
		if (l->expect[0])
			fprintf(f, "   (spec: %s)", l->expect);
		if (l->known.value[0])
			fprintf(f, "   (known difference %s: emu %s%s)",
				l->known.id, l->known.value,
				l->known.rest ? ", and the rest" : "");
		fputc('\n', f);
	}
}

const char *rec_get(const struct record *r, const char *label)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->lines[i].label, label))
			return r->lines[i].value;
	return NULL;
}

/* One row of the stream format, without its newline. */
static void parse_row(struct record *r, const char *row, size_t len)
{
	struct rec_line *l = new_line(r);
	char rest[4] = "";
	char *fields[] = {l->label,       l->value,    l->expect,
			  l->known.value, l->known.id, rest};
	size_t sizes[] = {sizeof(l->label),    sizeof(l->value),
			  sizeof(l->expect),   sizeof(l->known.value),
			  sizeof(l->known.id), sizeof(rest)};
	size_t f = 0, k = 0, i;

	for (i = 0; i < len; i++) {
		if (row[i] == '\t' && f + 1 < ARRAY_LEN(fields)) {
			fields[f][k] = '\0';
			f++;
			k = 0;
		} else if (k + 1 < sizes[f]) {
			fields[f][k++] = row[i];
		}
	}
	fields[f][k] = '\0';
	l->known.rest = rest[0] == '1';
}

void rec_parse(struct record *r, const char *text, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		parse_row(r, text + start, i - start);
		start = i + 1;
	}
	if (start < len)
		parse_row(r, text + start, len - start);
}
