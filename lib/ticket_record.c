/* ticket_record.c — one ticket record put together from its columns by its
 * export format's rules (ticket_record.h). */
#include "kb/ticket_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/richtext.h"
#include "kb/text.h"

static const char *trim(const char *s, const char *e, const char **end) {
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
  *end = e;
  return s;
}

typedef struct slot {
  kb_buf value, column;
  bool set;
  kb_tcol_source source;
  unsigned rank;
} slot;

typedef struct comment {
  kb_buf date, author, text;
  bool is_public;
} comment;

struct kb_trecord {
  const kb_tformat *f;
  slot slots[KB_TF_COUNT];
  kb_buf outcome, requester, comments_column, fix_from, tmp;
  comment *comments;
  size_t ncomments, cap;
};

int kb_trecord_new(const kb_tformat *f, kb_trecord **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return KB_ENOMEM;
  (*out)->f = f;
  return KB_OK;
}

void kb_trecord_reset(kb_trecord *r) {
  for (int i = 0; i < KB_TF_COUNT; i++) {
    kb_buf_reset(&r->slots[i].value);
    kb_buf_reset(&r->slots[i].column);
    r->slots[i].set = false;
  }
  kb_buf_reset(&r->outcome);
  kb_buf_reset(&r->requester);
  kb_buf_reset(&r->comments_column);
  kb_buf_reset(&r->fix_from);
  r->ncomments = 0;
}

void kb_trecord_set_format(kb_trecord *r, const kb_tformat *f) {
  kb_trecord_reset(r);
  r->f = f;
}

void kb_trecord_free(kb_trecord *r) {
  if (!r) return;
  for (int i = 0; i < KB_TF_COUNT; i++) {
    kb_buf_free(&r->slots[i].value);
    kb_buf_free(&r->slots[i].column);
  }
  for (size_t i = 0; i < r->cap; i++) {
    kb_buf_free(&r->comments[i].date);
    kb_buf_free(&r->comments[i].author);
    kb_buf_free(&r->comments[i].text);
  }
  free(r->comments);
  kb_buf_free(&r->outcome);
  kb_buf_free(&r->requester);
  kb_buf_free(&r->comments_column);
  kb_buf_free(&r->fix_from);
  kb_buf_free(&r->tmp);
  free(r);
}


/* The value as the record keeps it: rich text made plain, a system's
 * dates and priorities read, an id suffix cut. Into r->tmp. */
static int transform(kb_trecord *r, const kb_tcol *col, const char *v, size_t len) {
  kb_buf *t = &r->tmp;
  kb_buf_reset(t);
  int rc = KB_OK;
  if ((col->flags & KB_TCOL_HTML) && kb_richtext_looks_html(v, len)) rc = kb_richtext_html(v, len, t);
  else if (col->flags & KB_TCOL_WIKI) rc = kb_richtext_jira(v, len, t);
  else rc = kb_buf_append(t, v, len);
  if (rc != KB_OK) return rc;
  if (col->flags & KB_TCOL_STRIP_ID) {
    /* ZenTao: "Oracle 数据库(#3)" */
    char *open = t->len && t->data[t->len - 1] == ')' ? strstr(t->data, "(#") : NULL;
    bool digits = open != NULL;
    for (char *p = open ? open + 2 : NULL; p && p < t->data + t->len - 1; p++)
      digits &= *p >= '0' && *p <= '9';
    if (digits) {
      t->len = (size_t)(open - t->data);
      while (t->len && t->data[t->len - 1] == ' ') t->len--;
      t->data[t->len] = '\0';
    }
    /* a module is a path, "/备份恢复": its leading slash says nothing */
    if (t->len && t->data[0] == '/') {
      memmove(t->data, t->data + 1, t->len);
      t->len--;
    }
  }
  const kb_tformat *f = r->f;
  bool field = col->kind == KB_TCOL_FIELD;
  const char *named = field ? kb_tformat_value(f, col->field, t->data, t->len) : NULL;
  if (named) {
    kb_buf_reset(t);
    rc = kb_buf_puts(t, named);
  }
  if (f && field && (col->field == KB_TF_CREATED || col->field == KB_TF_CLOSED)) {
    kb_buf d = {0};
    if (kb_tformat_date(f, t->data, t->len, &d)) {
      kb_buf_reset(t);
      rc = kb_buf_append(t, d.data, d.len);
    }
    kb_buf_free(&d);
  }
  if (f && field && col->field == KB_TF_PRIORITY && kb_utf8_valid(t->data, t->len, NULL)) {
    kb_buf folded = {0};
    const char *e, *s = trim(t->data, t->data + t->len, &e);
    const char *level = kb_text_fold(s, (size_t)(e - s), &folded, NULL) == KB_OK && folded.data
                            ? kb_tformat_priority(f, folded.data)
                            : NULL;
    if (level) {
      kb_buf_reset(t);
      rc = kb_buf_puts(t, level);
    }
    kb_buf_free(&folded);
  }
  return rc;
}

static comment *new_comment(kb_trecord *r) {
  if (r->ncomments == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    comment *c = realloc(r->comments, cap * sizeof *c);
    if (!c) return NULL;
    memset(c + r->cap, 0, (cap - r->cap) * sizeof *c);
    r->comments = c;
    r->cap = cap;
  }
  comment *c = &r->comments[r->ncomments++];
  kb_buf_reset(&c->date);
  kb_buf_reset(&c->author);
  kb_buf_reset(&c->text);
  c->is_public = true;
  return c;
}

/* A CSV comment cell, cut by the format's parts ("date;author;text"); a
 * cell that is not in that form is all text. */
static int csv_comment(kb_trecord *r, const kb_tcol *col, const char *v, size_t len) {
  const kb_tformat *f = r->f;
  const char *piece[3] = {v, v, v};
  size_t plen[3] = {0, 0, len};
  kb_tpart roles[3] = {KB_TPART_TEXT, KB_TPART_TEXT, KB_TPART_TEXT}, parts[3];
  size_t np = 1;
  if (kb_tformat_comment_parts(f, parts) == 3) {
    const char *a = memchr(v, ';', len);
    const char *b = a ? memchr(a + 1, ';', len - (size_t)(a + 1 - v)) : NULL;
    if (b) {
      piece[0] = v, plen[0] = (size_t)(a - v);
      piece[1] = a + 1, plen[1] = (size_t)(b - a - 1);
      piece[2] = b + 1, plen[2] = len - (size_t)(b + 1 - v);
      memcpy(roles, parts, sizeof roles);
      np = 3;
    }
  }
  comment *c = new_comment(r);
  if (!c) return KB_ENOMEM;
  int rc = KB_OK;
  for (size_t i = 0; i < 3 && rc == KB_OK; i++) {
    size_t k = np == 1 ? 2 : i;
    if (np == 1 && i) break;
    if (roles[k] == KB_TPART_DATE) {
      const char *e, *s = trim(piece[k], piece[k] + plen[k], &e);
      if (!kb_tformat_date(f, s, (size_t)(e - s), &c->date))
        rc = kb_buf_append(&c->date, s, (size_t)(e - s));
    } else if (roles[k] == KB_TPART_AUTHOR) {
      rc = kb_buf_append(&c->author, piece[k], plen[k]);
    } else {
      rc = transform(r, col, piece[k], plen[k]);
      if (rc == KB_OK) rc = kb_buf_append(&c->text, r->tmp.data, r->tmp.len);
    }
  }
  return rc;
}

int kb_trecord_add(kb_trecord *r, const kb_tcol *col, const char *column, const char *value,
                   size_t len) {
  if (col->kind == KB_TCOL_NONE) return KB_OK;
  if (kb_tformat_is_empty(r->f, value, len)) len = 0;
  bool nonempty = false;
  for (size_t i = 0; i < len && !nonempty; i++)
    nonempty = value[i] != ' ' && value[i] != '\t' && value[i] != '\r' && value[i] != '\n';
  if (col->kind == KB_TCOL_OUTCOME) {
    if (r->outcome.len || !nonempty) return KB_OK;
    int rc = transform(r, col, value, len);
    return rc == KB_OK ? kb_buf_append(&r->outcome, r->tmp.data, r->tmp.len) : rc;
  }
  if (col->kind == KB_TCOL_REQUESTER) {
    kb_buf_reset(&r->requester);
    return kb_buf_append(&r->requester, value, len);
  }
  if (col->kind == KB_TCOL_COMMENTS) {
    if (!r->comments_column.len) kb_buf_puts(&r->comments_column, column);
    return nonempty ? csv_comment(r, col, value, len) : KB_OK;
  }
  if (col->field < 0 || col->field >= KB_TF_COUNT) return KB_OK;
  slot *s = &r->slots[col->field];
  if (col->source == KB_TCOL_FORMAT && !nonempty) return KB_OK;
  bool join = false;
  if (s->set) {
    bool better = col->source < s->source || (col->source == s->source && col->rank < s->rank);
    /* a format's tag columns (Labels, Labels, Component/s) are all kept */
    join = col->field == KB_TF_TAGS && col->source == KB_TCOL_FORMAT &&
           s->source == KB_TCOL_FORMAT;
    if (!better && !join) return KB_OK;
  }
  int rc = transform(r, col, value, len);
  if (rc != KB_OK) return rc;
  if (join) {
    rc = kb_buf_puts(&s->value, ", ");
  } else {
    kb_buf_reset(&s->value);
    kb_buf_reset(&s->column);
    rc = kb_buf_puts(&s->column, column);
    s->set = true;
    s->source = col->source;
    s->rank = col->rank;
  }
  if (rc == KB_OK) rc = kb_buf_append(&s->value, r->tmp.data, r->tmp.len);
  if (rc == KB_OK && !s->value.data) rc = kb_buf_append(&s->value, "", 0);
  return rc;
}

int kb_trecord_comment(kb_trecord *r, const char *date, const char *author, bool is_public,
                       const char *text, size_t len, bool html) {
  comment *c = new_comment(r);
  if (!c) return KB_ENOMEM;
  c->is_public = is_public;
  int rc = date ? kb_buf_puts(&c->date, date) : KB_OK;
  if (rc == KB_OK && author) rc = kb_buf_puts(&c->author, author);
  if (rc == KB_OK && html && kb_richtext_looks_html(text, len)) rc = kb_richtext_html(text, len, &c->text);
  else if (rc == KB_OK) rc = kb_buf_append(&c->text, text, len);
  return rc;
}

/* A date's first 16 characters with 'T' as ' ': ISO dates so compare. */
static void date_key(const char *s, size_t len, char out[17]) {
  size_t n = len < 16 ? len : 16;
  memcpy(out, s ? s : "", s ? n : 0);
  out[s ? n : 0] = '\0';
  if (n > 10 && out[10] == 'T') out[10] = ' ';
}

static bool has_text(const kb_buf *b) {
  for (size_t i = 0; i < b->len; i++)
    if (b->data[i] != ' ' && b->data[i] != '\n' && b->data[i] != '\r' && b->data[i] != '\t') return true;
  return false;
}

/* The comment that holds the fix by method m, or -1. */
static long pick_comment(const kb_trecord *r, kb_tfix m) {
  const slot *closed = &r->slots[KB_TF_CLOSED];
  char limit[17];
  date_key(closed->set ? closed->value.data : NULL, closed->value.len, limit);
  for (size_t i = r->ncomments; i-- > 0;) {
    const comment *c = &r->comments[i];
    if (!has_text(&c->text)) continue;
    if (m == KB_TFIX_COMMENT_BEFORE_CLOSED) {
      char when[17];
      date_key(c->date.data, c->date.len, when);
      if (*limit && *when && strcmp(when, limit) > 0) continue;
      return (long)i;
    }
    if (m == KB_TFIX_AGENT_COMMENT && c->is_public &&
        !(r->requester.len && c->author.len && strcmp(c->author.data, r->requester.data) == 0))
      return (long)i;
  }
  return -1;
}

int kb_trecord_finish(kb_trecord *r, char *values[KB_TF_COUNT], size_t lens[KB_TF_COUNT],
                      const char **fix_from) {
  int rc = KB_OK;
  slot *status = &r->slots[KB_TF_STATUS], *res = &r->slots[KB_TF_RESOLUTION];
  if (r->outcome.len) {
    /* "Closed / Fixed": the resolution's name says how it ended, not how */
    if (status->set && status->value.len) rc = kb_buf_printf(&status->value, " / %s", r->outcome.data);
    else {
      kb_buf_reset(&status->value);
      rc = kb_buf_append(&status->value, r->outcome.data, r->outcome.len);
      status->set = true;
    }
  }
  kb_buf_reset(&r->fix_from);
  static const kb_tfix field_only[] = {KB_TFIX_FIELD};
  const kb_tfix *methods;
  size_t nmethods = kb_tformat_fix(r->f, &methods);
  if (!nmethods) {
    methods = field_only;
    nmethods = 1;
  }
  /* a resolution column named with --map is the fix, wherever the format
   * keeps it */
  if (res->set && res->source == KB_TCOL_USER) {
    methods = field_only;
    nmethods = 1;
  }
  for (size_t i = 0; i < nmethods && rc == KB_OK && !r->fix_from.len; i++) {
    if (methods[i] == KB_TFIX_FIELD) {
      if (res->set && has_text(&res->value)) rc = kb_buf_puts(&r->fix_from, res->column.data);
      continue;
    }
    long k = pick_comment(r, methods[i]);
    if (k < 0) continue;
    const comment *c = &r->comments[k];
    kb_buf_reset(&res->value);
    rc = kb_buf_append(&res->value, c->text.data, c->text.len);
    res->set = true;
    if (rc == KB_OK)
      rc = kb_buf_printf(&r->fix_from, "%s %ld (%s, %s)",
                         r->comments_column.len ? r->comments_column.data : "comment", k + 1,
                         c->author.len ? c->author.data : "-", c->date.len ? c->date.data : "-");
  }
  for (int i = 0; i < KB_TF_COUNT; i++) {
    values[i] = r->slots[i].set ? r->slots[i].value.data : NULL;
    lens[i] = r->slots[i].set ? r->slots[i].value.len : 0;
  }
  *fix_from = r->fix_from.len ? r->fix_from.data : NULL;
  return rc;
}
