/* ticket_format.c — ticket fields, known export formats and the assembly of
 * one record (ticket_format.h). */
#include "kb/ticket_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/text.h"

extern const char _binary_ticket_formats_txt_start[], _binary_ticket_formats_txt_end[];
extern const char _binary_priority_scales_txt_start[], _binary_priority_scales_txt_end[];

#define MAX_ROLES 4

/* --------------------------------------------------------------- fields */

static const kb_tfield_info fields[KB_TF_COUNT] = {
#define KB_TFIELD_INFO(e, name, field, max, check, content) {name, field, max, check, content},
    KB_TICKET_FIELDS(KB_TFIELD_INFO)
#undef KB_TFIELD_INFO
};

const kb_tfield_info *kb_tfield_get(kb_tfield f) {
  return (unsigned)f < KB_TF_COUNT ? &fields[f] : NULL;
}

int kb_tfield_from_name(const char *name, size_t len) {
  for (int i = 0; i < KB_TF_COUNT; i++)
    if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0) return i;
  return -1;
}

int kb_tformat_normalise(const char *s, size_t len, kb_buf *out) {
  kb_buf folded = {0};
  if (kb_utf8_valid(s, len, NULL) && kb_text_fold(s, len, &folded, NULL) == KB_OK) {
    s = folded.data;
    len = folded.len;
  }
  int rc = KB_OK;
  for (size_t i = 0; i < len && rc == KB_OK; i++)
    if (s[i] != ' ' && s[i] != '_' && s[i] != '-' && s[i] != '\t' && s[i] != '\r')
      rc = kb_buf_putc(out, s[i]);
  if (rc == KB_OK && !out->data) rc = kb_buf_append(out, "", 0);
  kb_buf_free(&folded);
  return rc;
}

/* -------------------------------------------------------------- formats */

typedef struct strlist {
  char **v;
  size_t n;
} strlist;

static int strlist_add(strlist *l, const char *s, size_t len) {
  char **v = realloc(l->v, (l->n + 1) * sizeof *v);
  if (!v) return KB_ENOMEM;
  l->v = v;
  l->v[l->n] = strndup(s, len);
  return l->v[l->n++] ? KB_OK : KB_ENOMEM;
}

static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  *l = (strlist){0};
}

static bool strlist_has(const strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0) return true;
  return false;
}

/* by kb_tfix and kb_tpart */
static const char *const fix_names[] = {"field", "last comment before closed",
                                        "last public agent comment"};
static const char *const part_names[] = {"date", "author", "text"};

typedef struct column_entry {
  char *norm;
  kb_tcol_kind kind;
  int field;
  unsigned rank;
} column_entry;

struct kb_tformat {
  char *name, *title;
  column_entry *cols;
  size_t ncols;
  strlist signature, html, wiki, strip, empty, comment_keys;
  /* "status values: 6=Resolved": a field's codes and what they stand for */
  strlist value_codes, value_names;
  int *value_fields;
  bool jira_dates;
  kb_tfix fix[3];
  size_t nfix;
  kb_tpart parts[3];
  size_t nparts;
  strlist scale_values; /* folded values … */
  char (*scale_levels)[3]; /* … and their levels, "P1" */
};

struct kb_tformats {
  kb_tformat *v;
  size_t n;
};

static void format_free(kb_tformat *f) {
  free(f->name);
  free(f->title);
  for (size_t i = 0; i < f->ncols; i++) free(f->cols[i].norm);
  free(f->cols);
  strlist_free(&f->signature);
  strlist_free(&f->html);
  strlist_free(&f->wiki);
  strlist_free(&f->strip);
  strlist_free(&f->empty);
  strlist_free(&f->value_codes);
  strlist_free(&f->value_names);
  free(f->value_fields);
  strlist_free(&f->comment_keys);
  strlist_free(&f->scale_values);
  free(f->scale_levels);
}

void kb_tformats_free(kb_tformats *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; i++) format_free(&t->v[i]);
  free(t->v);
  free(t);
}

static const char *trim(const char *s, const char *e, const char **end) {
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
  *end = e;
  return s;
}

static int add_normalised(strlist *l, const char *s, size_t len) {
  kb_buf b = {0};
  int rc = kb_tformat_normalise(s, len, &b);
  if (rc == KB_OK) rc = strlist_add(l, b.data, b.len);
  kb_buf_free(&b);
  return rc;
}

static int add_column(kb_tformat *f, const char *s, size_t len, kb_tcol_kind kind, int field,
                      unsigned rank) {
  column_entry *c = realloc(f->cols, (f->ncols + 1) * sizeof *c);
  if (!c) return KB_ENOMEM;
  f->cols = c;
  kb_buf b = {0};
  int rc = kb_tformat_normalise(s, len, &b);
  f->cols[f->ncols] = (column_entry){kb_buf_detach(&b), kind, field, rank};
  if (rc == KB_OK && !f->cols[f->ncols].norm) rc = KB_ENOMEM;
  f->ncols++;
  return rc;
}

static int index_of(const char *const *names, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return (int)i;
  return -1;
}

/* One "code=name" of a "FIELD values:" line. */
static int add_value(kb_tformat *f, const char *field, size_t flen, const char *v, size_t n) {
  int fi = kb_tfield_from_name(field, flen);
  const char *eq = memchr(v, '=', n);
  if (fi < 0 || !eq || eq == v || eq + 1 == v + n) return KB_EINVAL;
  int *fields = realloc(f->value_fields, (f->value_codes.n + 1) * sizeof *fields);
  if (!fields) return KB_ENOMEM;
  f->value_fields = fields;
  fields[f->value_codes.n] = fi;
  int rc = strlist_add(&f->value_codes, v, (size_t)(eq - v));
  if (rc == KB_OK) rc = strlist_add(&f->value_names, eq + 1, (size_t)(v + n - eq - 1));
  return rc;
}

/* The scale's "P1: a, b" lines into f. */
static int load_scale(kb_tformat *f, const char *name, size_t nlen, kb_error *err) {
  const char *s = _binary_priority_scales_txt_start, *end = _binary_priority_scales_txt_end;
  bool in = false, found = false;
  for (; s < end;) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) e = end;
    if (*s == '[') {
      const char *close = memchr(s, ']', (size_t)(e - s));
      in = close && (size_t)(close - s - 1) == nlen && memcmp(s + 1, name, nlen) == 0;
      found |= in;
    } else if (in && *s != '#' && e - s > 3 && s[0] == 'P' && s[1] >= '1' && s[1] <= '4' &&
               s[2] == ':') {
      for (const char *a = s + 3; a < e;) {
        const char *c = memchr(a, ',', (size_t)(e - a));
        if (!c) c = e;
        const char *ve, *v = trim(a, c, &ve);
        kb_buf folded = {0};
        if (v < ve) {
          if (kb_text_fold(v, (size_t)(ve - v), &folded, NULL) != KB_OK ||
              strlist_add(&f->scale_values, folded.data, folded.len) != KB_OK) {
            kb_buf_free(&folded);
            return kb_error_set(err, KB_ENOMEM, "out of memory");
          }
          char(*lv)[3] = realloc(f->scale_levels, f->scale_values.n * sizeof *lv);
          if (!lv) {
            kb_buf_free(&folded);
            return kb_error_set(err, KB_ENOMEM, "out of memory");
          }
          f->scale_levels = lv;
          memcpy(lv[f->scale_values.n - 1], s, 2);
          lv[f->scale_values.n - 1][2] = '\0';
        }
        kb_buf_free(&folded);
        a = c + 1;
      }
    }
    s = e + 1;
  }
  return found ? KB_OK
               : kb_error_set(err, KB_EINVAL, "priority_scales.txt: 没有刻度 (no scale) [%.*s]",
                              (int)nlen, name);
}

/* One "key: values" line of a format. */
static int format_line(kb_tformat *f, const char *key, size_t klen, const char *vals,
                       const char *vend, size_t line, kb_error *err) {
  int rc = KB_OK;
  unsigned rank = 0;
  int field = kb_tfield_from_name(key, klen);
#define KEY(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)
  for (const char *a = vals; a < vend && rc == KB_OK; rank++) {
    const char *c = memchr(a, ',', (size_t)(vend - a));
    if (!c) c = vend;
    const char *ve, *v = trim(a, c, &ve);
    size_t n = (size_t)(ve - v);
    a = c + 1;
    if (!n) continue;
    if (field >= 0) rc = add_column(f, v, n, KB_TCOL_FIELD, field, rank);
    else if (KEY("outcome")) rc = add_column(f, v, n, KB_TCOL_OUTCOME, -1, rank);
    else if (KEY("comments")) rc = add_column(f, v, n, KB_TCOL_COMMENTS, -1, rank);
    else if (KEY("requester")) rc = add_column(f, v, n, KB_TCOL_REQUESTER, -1, rank);
    else if (KEY("signature")) rc = add_normalised(&f->signature, v, n);
    else if (KEY("html")) rc = add_normalised(&f->html, v, n);
    else if (KEY("wiki")) rc = add_normalised(&f->wiki, v, n);
    else if (KEY("strip ids")) rc = add_normalised(&f->strip, v, n);
    else if (KEY("empty")) rc = strlist_add(&f->empty, v, n);
    else if (klen > 7 && memcmp(key + klen - 7, " values", 7) == 0)
      rc = add_value(f, key, klen - 7, v, n);
    else if (KEY("comment keys")) rc = strlist_add(&f->comment_keys, v, n);
    else if (KEY("dates") && n == 4 && memcmp(v, "jira", 4) == 0) f->jira_dates = true;
    else if (KEY("scale")) rc = load_scale(f, v, n, err);
    else if (KEY("fix") && f->nfix < 3 && index_of(fix_names, 3, v, n) >= 0)
      f->fix[f->nfix++] = (kb_tfix)index_of(fix_names, 3, v, n);
    else if (KEY("comment")) {
      for (const char *p = v; p < ve && f->nparts < 3;) {
        const char *semi = memchr(p, ';', (size_t)(ve - p));
        if (!semi) semi = ve;
        int k = index_of(part_names, 3, p, (size_t)(semi - p));
        if (k < 0) break;
        f->parts[f->nparts++] = (kb_tpart)k;
        p = semi + 1;
      }
      if (f->nparts != 3) rc = KB_EINVAL;
    } else {
      rc = KB_EINVAL;
    }
  }
#undef KEY
  if (rc == KB_EINVAL && !err->message[0])
    kb_error_set(err, rc, "ticket_formats.txt:%zu: 无法识别的一行 (bad line) [%s] %.*s", line,
                 f->name, (int)klen, key);
  else if (rc == KB_ENOMEM)
    kb_error_set(err, rc, "out of memory");
  return rc;
}

int kb_tformats_new(kb_tformats **out, kb_error *err) {
  kb_error local = {0};
  if (!err) err = &local;
  *out = NULL;
  kb_tformats *t = calloc(1, sizeof *t);
  if (!t) return kb_error_set(err, KB_ENOMEM, "out of memory");
  const char *s = _binary_ticket_formats_txt_start, *end = _binary_ticket_formats_txt_end;
  int rc = KB_OK;
  for (size_t line = 1; s < end && rc == KB_OK; line++) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) e = end;
    const char *te, *ts = trim(s, e, &te);
    if (ts < te && *ts == '[') {
      const char *close = memchr(ts, ']', (size_t)(te - ts));
      kb_tformat *v = realloc(t->v, (t->n + 1) * sizeof *v);
      if (!v || !close) {
        rc = !v ? kb_error_set(err, KB_ENOMEM, "out of memory")
                : kb_error_set(err, KB_EINVAL, "ticket_formats.txt:%zu: ']'", line);
      } else {
        t->v = v;
        kb_tformat *f = &t->v[t->n++];
        *f = (kb_tformat){0};
        const char *de, *d = trim(close + 1, te, &de);
        f->name = strndup(ts + 1, (size_t)(close - ts - 1));
        f->title = strndup(d, (size_t)(de - d));
        if (!f->name || !f->title) rc = kb_error_set(err, KB_ENOMEM, "out of memory");
      }
    } else if (ts < te && *ts != '#') {
      const char *colon = memchr(ts, ':', (size_t)(te - ts));
      if (!colon || !t->n)
        rc = kb_error_set(err, KB_EINVAL, "ticket_formats.txt:%zu: 应为 key: values (expected "
                          "key: values inside a [format])", line);
      else
        rc = format_line(&t->v[t->n - 1], ts, (size_t)(colon - ts), colon + 1, te, line, err);
    }
    s = e + 1;
  }
  if (rc != KB_OK) {
    kb_tformats_free(t);
    return rc;
  }
  *out = t;
  return KB_OK;
}

const kb_tformat *kb_tformats_detect(const kb_tformats *t, char *const *names, size_t n) {
  for (size_t i = 0; t && i < t->n; i++) {
    const kb_tformat *f = &t->v[i];
    bool all = f->signature.n > 0;
    for (size_t s = 0; s < f->signature.n && all; s++) {
      bool found = false;
      for (size_t k = 0; k < n && !found; k++) found = strcmp(names[k], f->signature.v[s]) == 0;
      all = found;
    }
    if (all) return f;
  }
  return NULL;
}

const char *kb_tformat_name(const kb_tformat *f) { return f->name; }
const char *kb_tformat_title(const kb_tformat *f) { return f->title; }

size_t kb_tformat_columns(const kb_tformat *f, const char *norm, kb_tcol *out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; f && i < f->ncols && n < max; i++) {
    if (strcmp(f->cols[i].norm, norm)) continue;
    unsigned flags = 0;
    if (strlist_has(&f->html, norm)) flags |= KB_TCOL_HTML;
    if (strlist_has(&f->wiki, norm)) flags |= KB_TCOL_WIKI;
    if (strlist_has(&f->strip, norm)) flags |= KB_TCOL_STRIP_ID;
    out[n++] = (kb_tcol){f->cols[i].kind, f->cols[i].field, flags, KB_TCOL_FORMAT, f->cols[i].rank};
  }
  return n;
}

bool kb_tformat_names_field(const kb_tformat *f, int field) {
  for (size_t i = 0; f && i < f->ncols; i++)
    if (f->cols[i].kind == KB_TCOL_FIELD && f->cols[i].field == field) return true;
  return false;
}

const char *kb_tformat_comment_key(const kb_tformat *f, size_t i) {
  return f && i < f->comment_keys.n ? f->comment_keys.v[i] : NULL;
}

bool kb_tformat_is_html(const kb_tformat *f, const char *norm) {
  return f && strlist_has(&f->html, norm);
}

/* ----------------------------------------------------------- its rules */

/* "04/Mar/24 10:15 AM" (Jira's default) → "2024-03-04 10:15"; false when
 * the value is not in that form (it is then left as it is). */
static bool jira_date(const char *s, size_t len, kb_buf *out) {
  static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
  char buf[40];
  if (len >= sizeof buf) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  int d, y, h = 0, m = 0, used = 0;
  char mon[4] = "", ampm[3] = "";
  int k = sscanf(buf, "%2d/%3[A-Za-z]/%4d%n %2d:%2d %n", &d, mon, &y, &used, &h, &m, &used);
  if (k < 3) return false;
  if (k == 5 && used < (int)len) sscanf(buf + used, "%2[AaPpMm]", ampm);
  for (char *p = mon; *p; p++) *p = (char)(*p | 0x20);
  const char *at = strlen(mon) == 3 ? strstr(months, mon) : NULL;
  if (!at || (at - months) % 3 || d < 1 || d > 31 || h > 23 || m > 59) return false;
  if (y < 100) y += 2000;
  if ((ampm[0] | 0x20) == 'p' && h < 12) h += 12;
  if ((ampm[0] | 0x20) == 'a' && h == 12) h = 0;
  kb_buf_reset(out);
  if (k == 5) kb_buf_printf(out, "%04d-%02d-%02d %02d:%02d", y, (int)(at - months) / 3 + 1, d, h, m);
  else kb_buf_printf(out, "%04d-%02d-%02d", y, (int)(at - months) / 3 + 1, d);
  return true;
}

bool kb_tformat_date(const kb_tformat *f, const char *v, size_t len, kb_buf *out) {
  return f && f->jira_dates && jira_date(v, len, out);
}

const char *kb_tformat_priority(const kb_tformat *f, const char *folded) {
  for (size_t i = 0; f && i < f->scale_values.n; i++)
    if (strcmp(f->scale_values.v[i], folded) == 0) return f->scale_levels[i];
  return NULL;
}

const char *kb_tformat_value(const kb_tformat *f, int field, const char *v, size_t len) {
  for (size_t i = 0; f && i < f->value_codes.n && i < f->value_names.n; i++)
    if (f->value_fields[i] == field && strlen(f->value_codes.v[i]) == len &&
        memcmp(f->value_codes.v[i], v, len) == 0)
      return f->value_names.v[i];
  return NULL;
}

bool kb_tformat_is_empty(const kb_tformat *f, const char *v, size_t len) {
  const char *e, *s = trim(v, v + len, &e);
  for (size_t i = 0; f && i < f->empty.n; i++)
    if (strlen(f->empty.v[i]) == (size_t)(e - s) && memcmp(f->empty.v[i], s, (size_t)(e - s)) == 0)
      return true;
  return false;
}

size_t kb_tformat_comment_parts(const kb_tformat *f, kb_tpart parts[3]) {
  if (!f || f->nparts != 3) return 0;
  memcpy(parts, f->parts, sizeof f->parts);
  return 3;
}

size_t kb_tformat_fix(const kb_tformat *f, const kb_tfix **methods) {
  *methods = f ? f->fix : NULL;
  return f ? f->nfix : 0;
}

/* One role in words, for --dry-run. */
void kb_tcol_describe(const kb_tcol *c, kb_buf *out) {
  if (out->len) kb_buf_puts(out, "; ");
  if (c->kind == KB_TCOL_OUTCOME)
    kb_buf_puts(out, "status (解决结果名称 the resolution's name)");
  else if (c->kind == KB_TCOL_COMMENTS)
    kb_buf_puts(out, "resolution (评论，按格式取解决方案 comments: the fix by the format's rule)");
  else if (c->kind == KB_TCOL_REQUESTER)
    kb_buf_puts(out, "(申请人，其评论不作解决方案 the requester: not the fix)");
  else if (c->kind == KB_TCOL_FIELD && kb_tfield_get((kb_tfield)c->field))
    kb_buf_printf(out, "%s%s%s%s", kb_tfield_get((kb_tfield)c->field)->name,
                  c->source == KB_TCOL_USER      ? " (--map)"
                  : c->source == KB_TCOL_DEFAULT ? " (默认列名 default name)"
                                                 : "",
                  c->flags & KB_TCOL_HTML ? " (HTML → 文本 text)" : "",
                  c->flags & KB_TCOL_WIKI ? " (Jira wiki → 文本 text)" : "");
}
