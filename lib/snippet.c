/* snippet.c — passages with the query's words marked. */
#include "kb/snippet.h"

#include <stdlib.h>
#include <string.h>

#include "kb/analyze.h"

#define MAX_SPANS 4096
#define LEAD_CHARS 16 /* context kept before the first match */
#define PIECE_BYTES 600 /* text tokenized at a time, without a sentence end */

const kb_snippet_style KB_SNIPPET_HTML = {"<mark>", "</mark>", true, 120};
const kb_snippet_style KB_SNIPPET_TERMINAL = {"\033[1m", "\033[0m", false, 100};
const kb_snippet_style KB_SNIPPET_PLAIN = {"**", "**", false, 100};

typedef struct span {
  size_t start, end;
  uint64_t key; /* which term matched, to count distinct ones */
} span;

typedef struct span_ctx {
  const kb_lexicon *hl;
  span *v;
  size_t n;
  kb_buf key;
} span_ctx;

static int collect_span(const kb_token *t, void *vctx) {
  span_ctx *c = vctx;
  kb_buf_reset(&c->key);
  if (t->kind == KB_TOKEN_BIGRAM) kb_buf_puts(&c->key, KB_PREFIX_BIGRAM);
  kb_buf_append(&c->key, t->term, t->term_len);
  if (!kb_lexicon_contains(c->hl, c->key.data, c->key.len)) return 0;
  if (c->n == MAX_SPANS) return 1;
  c->v[c->n++] = (span){t->start, t->end, kb_fnv1a(c->key.data, c->key.len)};
  return 0;
}

static int by_start(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->end < y->end ? 1 : (x->end > y->end ? -1 : 0);
}

/* Byte offset max_chars characters after from (or len). */
static size_t advance_chars(const char *s, size_t len, size_t from, size_t chars) {
  size_t i = from;
  while (i < len && chars--) kb_utf8_next(s, len, &i);
  return i;
}

/* Byte offset up to chars characters before from, not before a line start. */
static size_t back_chars(const char *s, size_t from, size_t chars) {
  size_t i = from;
  while (i > 0 && chars) {
    size_t p = i - 1;
    while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
    if (s[p] == '\n') break;
    i = p;
    chars--;
  }
  return i;
}

/* Picks the window start (a span index) holding the most distinct terms. */
static size_t best_window(const char *text, size_t len, const span *v, size_t n, size_t chars) {
  size_t best = 0;
  int best_score = -1;
  for (size_t i = 0; i < n; i++) {
    size_t end = advance_chars(text, len, v[i].start, chars - LEAD_CHARS);
    int distinct = 0, total = 0;
    for (size_t k = i; k < n && v[k].end <= end; k++) {
      bool seen = false;
      for (size_t j = i; j < k && !seen; j++) seen = v[j].key == v[k].key;
      distinct += !seen;
      total++;
    }
    int score = distinct * 16 + total;
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

int kb_html_escape(const char *s, size_t len, kb_buf *out) {
  int rc = KB_OK;
  for (size_t i = 0; i < len && rc == KB_OK; i++) {
    switch (s[i]) {
      case '&': rc = kb_buf_puts(out, "&amp;"); break;
      case '<': rc = kb_buf_puts(out, "&lt;"); break;
      case '>': rc = kb_buf_puts(out, "&gt;"); break;
      case '"': rc = kb_buf_puts(out, "&quot;"); break;
      case '\'': rc = kb_buf_puts(out, "&#39;"); break;
      default: rc = kb_buf_putc(out, s[i]);
    }
  }
  return rc;
}

/* Appends text[s..e) on one line: whitespace runs become one space. */
static void put_text(const char *text, size_t s, size_t e, const kb_snippet_style *st,
                     kb_buf *out, bool *last_space) {
  for (size_t i = s; i < e; i++) {
    char c = text[i];
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      if (!*last_space) kb_buf_putc(out, ' ');
      *last_space = true;
      continue;
    }
    unsigned char u = (unsigned char)c;
    if (!st->html_escape) {
      /* a terminal gets no control character but ours: not C0, not DEL,
       * not C1 (U+0080–U+009F, where U+009B is CSI to some terminals) */
      bool c1 = u == 0xC2 && i + 1 < e && (unsigned char)text[i + 1] <= 0x9F;
      if (c1 || u < 0x20 || u == 0x7F) {
        i += c1;
        continue;
      }
    }
    *last_space = false;
    if (st->html_escape) kb_html_escape(&c, 1, out);
    else kb_buf_putc(out, c);
  }
}

/* ------------------------------------------------ which pieces to read */

/* Substrings that a piece of text must hold to be worth tokenizing: a bigram's two
 * characters, a term (a pair's longer part), or a Latin stem without its
 * last letter (stems end where words differ: happi/happy). */
typedef struct probes {
  char **v;
  size_t n;
} probes;

static int add_probe(const char *w, size_t len, void *ctx) {
  probes *p = ctx;
  size_t skip = strncmp(w, KB_PREFIX_BIGRAM, strlen(KB_PREFIX_BIGRAM)) == 0 ? strlen(KB_PREFIX_BIGRAM) : 0;
  w += skip;
  len -= skip;
  /* a pair (ora 12170) is probed by its longer part: texts write ORA-12170 */
  const char *sp = memchr(w, ' ', len);
  if (sp) {
    size_t first = (size_t)(sp - w);
    if (len - first - 1 > first) {
      w = sp + 1;
      len -= first + 1;
    } else {
      len = first;
    }
  }
  bool latin = true;
  for (size_t i = 0; i < len; i++) latin &= w[i] >= 'a' && w[i] <= 'z';
  if (latin && len >= 4) len--;
  char **v = realloc(p->v, (p->n + 1) * sizeof *v);
  if (!v) return KB_ENOMEM;
  p->v = v;
  p->v[p->n] = malloc(len + 1);
  if (!p->v[p->n]) return KB_ENOMEM;
  memcpy(p->v[p->n], w, len);
  p->v[p->n][len] = '\0';
  p->n++;
  return 0;
}

/* Latin-1 and Latin Extended letters (lead bytes C3–C9), ligatures and
 * full-width forms (EF AC, EF BC, EF BD) change under NFKC_Casefold. */
static bool needs_fold(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0xC3 && c <= 0xC9) return true;
    if (c == 0xEF && i + 1 < len) {
      unsigned char d = (unsigned char)s[i + 1];
      if (d == 0xAC || d == 0xBC || d == 0xBD) return true;
    }
  }
  return false;
}

/* A piece of the text (a line or a sentence) and how many distinct probes
 * it holds. */
typedef struct piece {
  size_t start, end;
  size_t probes;
  bool read; /* tokenized */
} piece;

/* How many of p's probes text holds, compared in its folded form when it
 * has characters that fold (full-width, accented, ligatures), else with
 * ASCII letters lowered (probes are folded). */
static size_t probes_in(const probes *p, const char *text, size_t len, kb_buf *tmp) {
  kb_buf_reset(tmp);
  if (needs_fold(text, len)) {
    if (kb_text_fold(text, len, tmp, NULL) != KB_OK) return 0;
  } else if (kb_buf_append(tmp, text, len) == KB_OK) {
    for (size_t i = 0; i < tmp->len; i++)
      if (tmp->data[i] >= 'A' && tmp->data[i] <= 'Z') tmp->data[i] = (char)(tmp->data[i] + 32);
  } else {
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < p->n; i++)
    n += p->v[i][0] && memmem(tmp->data, tmp->len, p->v[i], strlen(p->v[i])) != NULL;
  return n;
}

/* Tokenizes piece l, adding its spans. */
static int read_piece(kb_tokenizer *t, span_ctx *c, const char *text, piece *l, kb_error *err) {
  size_t first = c->n;
  uint32_t pos = 1;
  l->read = true;
  int rc = kb_tokenizer_run(t, text + l->start, l->end - l->start, &pos, collect_span, c, err);
  if (rc > 0) rc = KB_OK; /* MAX_SPANS reached */
  for (size_t k = first; k < c->n; k++) {
    c->v[k].start += l->start;
    c->v[k].end += l->start;
  }
  return rc;
}

/* Where the piece of text from s ends: at its line's end, a sentence's end
 * (。！？；, or . ! ? before a space) or, in a longer run, the character
 * boundary after PIECE_BYTES. */
static size_t piece_end(const char *text, size_t len, size_t s) {
  size_t i = s;
  for (; i < len && text[i] != '\n'; i++) {
    const unsigned char *u = (const unsigned char *)text + i;
    if (i - s >= PIECE_BYTES && (u[0] & 0xC0) != 0x80) return i;
    if ((u[0] == '.' || u[0] == '!' || u[0] == '?') && (i + 1 == len || u[1] == ' '))
      return i + 1;
    if (i + 2 < len && ((u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x82) ||
                        (u[0] == 0xEF && u[1] == 0xBC && (u[2] == 0x81 || u[2] == 0x9F || u[2] == 0x9B))))
      return i + 3;
  }
  return i;
}

/* The pieces of text (lines, sentences) that hold a probe (*n of them,
 * caller frees). */
static piece *probe_pieces(const probes *p, const char *text, size_t len, size_t *npieces) {
  piece *v = NULL;
  size_t n = 0, cap = 0;
  kb_buf tmp = {0};
  for (size_t s = 0; s < len;) {
    size_t e = piece_end(text, len, s);
    size_t k = probes_in(p, text + s, e - s, &tmp);
    if (k) {
      if (kb_grow(&v, &cap, n + 1, sizeof *v) != KB_OK) break;
      v[n++] = (piece){s, e, k, false};
    }
    s = e < len && text[e] == '\n' ? e + 1 : e;
  }
  kb_buf_free(&tmp);
  *npieces = n;
  return v;
}

/* Sorts c's spans and merges overlaps (a bigram inside a matched word, a
 * whole over its parts). */
static void merge_spans(span_ctx *c) {
  qsort(c->v, c->n, sizeof *c->v, by_start);
  size_t n = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (n && c->v[i].start < c->v[n - 1].end) {
      if (c->v[i].end > c->v[n - 1].end) c->v[n - 1].end = c->v[i].end;
      continue;
    }
    c->v[n++] = c->v[i];
  }
  c->n = n;
}

/* Only the piece holding the most distinct probes is tokenized first (the
 * passage is cut from it), then the other pieces the passage reaches: a
 * long document is not analysed whole for ten words. */
int kb_snippet_make(kb_tokenizer *t, const kb_lexicon *highlights, const char *text, size_t len,
                    const kb_snippet_style *style, kb_buf *out, kb_error *err) {
  span_ctx c = {.hl = highlights, .v = malloc(MAX_SPANS * sizeof(span))};
  probes p = {0};
  size_t npieces = 0;
  piece *pieces = NULL;
  int rc = c.v ? kb_lexicon_each(c.hl, add_probe, &p) : KB_ENOMEM;
  if (rc == KB_OK) pieces = probe_pieces(&p, text, len, &npieces);
  size_t best = 0;
  for (size_t i = 1; i < npieces; i++)
    if (pieces[i].probes > pieces[best].probes) best = i;
  if (rc == KB_OK && npieces) rc = read_piece(t, &c, text, &pieces[best], err);
  merge_spans(&c);
  size_t ws = 0, we;
  if (c.n) {
    size_t first = best_window(text, len, c.v, c.n, style->max_chars);
    ws = back_chars(text, c.v[first].start, LEAD_CHARS);
  }
  while (ws < len && (text[ws] == ' ' || text[ws] == '\n' || text[ws] == '\t')) ws++;
  we = advance_chars(text, len, ws, style->max_chars);
  /* the passage's other pieces get their marks too */
  bool more = false;
  for (size_t i = 0; i < npieces && rc == KB_OK; i++)
    if (!pieces[i].read && pieces[i].start < we && pieces[i].end > ws) {
      rc = read_piece(t, &c, text, &pieces[i], err);
      more = true;
    }
  if (more) merge_spans(&c);
  for (size_t i = 0; i < p.n; i++) free(p.v[i]);
  free(p.v);
  free(pieces);
  kb_buf_free(&c.key);
  if (rc != KB_OK) {
    free(c.v);
    return rc == KB_ENOMEM ? kb_error_set(err, rc, "out of memory") : rc;
  }
  bool last_space = true;
  if (ws > 0) kb_buf_puts(out, "…");
  size_t at = ws;
  for (size_t i = 0; i < c.n; i++) {
    if (c.v[i].end <= ws || c.v[i].start < at) continue;
    if (c.v[i].start >= we) break;
    size_t se = c.v[i].end < we ? c.v[i].end : we;
    put_text(text, at, c.v[i].start, style, out, &last_space);
    kb_buf_puts(out, style->open);
    put_text(text, c.v[i].start, se, style, out, &last_space);
    kb_buf_puts(out, style->close);
    at = se;
  }
  put_text(text, at, we, style, out, &last_space);
  while (out->len && out->data[out->len - 1] == ' ') out->data[--out->len] = '\0';
  if (we < len) kb_buf_puts(out, "…");
  free(c.v);
  return KB_OK;
}
