/* tokenize.c — ICU word segmentation, technical tokens, lexicon re-merge and
 * CJK bigrams: the analyzer shared by documents and queries. */
#include "kb/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <opencc/opencc.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include "data.h"
#include "kb/index.h"
#include "kb/text.h"

/* ------------------------------------------------------------------ lexicon */

/* A word and how often it occurs in the list's source corpus (0 = not
 * given: a domain word). */
typedef struct lex_entry {
  uint32_t freq;
  char *canon; /* the word indexed in its place (a regional variant's mainland word), or NULL */
  char word[];
} lex_entry;

struct kb_lexicon {
  lex_entry **slots; /* open addressing */
  size_t cap;
  size_t n;
  uint64_t total; /* sum of the given frequencies; 0 = a plain word set */
};

static int lexicon_grow(kb_lexicon *lex) {
  size_t cap = lex->cap ? lex->cap * 2 : 1024;
  lex_entry **slots = calloc(cap, sizeof *slots);
  if (!slots) return KB_ENOMEM;
  for (size_t i = 0; i < lex->cap; i++) {
    lex_entry *e = lex->slots[i];
    if (!e) continue;
    size_t j = kb_fnv1a(e->word, strlen(e->word)) & (cap - 1);
    while (slots[j]) j = (j + 1) & (cap - 1);
    slots[j] = e;
  }
  free(lex->slots);
  lex->slots = slots;
  lex->cap = cap;
  return KB_OK;
}

static lex_entry *lexicon_find(const kb_lexicon *lex, const char *word, size_t len) {
  if (!lex || !lex->n) return NULL;
  size_t j = kb_fnv1a(word, len) & (lex->cap - 1);
  for (lex_entry *e; (e = lex->slots[j]); j = (j + 1) & (lex->cap - 1))
    if (strncmp(e->word, word, len) == 0 && e->word[len] == '\0') return e;
  return NULL;
}

bool kb_lexicon_contains(const kb_lexicon *lex, const char *word, size_t len) {
  return lexicon_find(lex, word, len) != NULL;
}

/* Adds word with a frequency (0 = none given); a word already there keeps
 * the larger frequency. */
static int lexicon_add_freq(kb_lexicon *lex, const char *word, size_t len, uint32_t freq,
                            const char *canon, size_t canon_len) {
  if (len == 0 || len > KB_TERM_MAX || canon_len > KB_TERM_MAX) return KB_EINVAL;
  lex_entry *old = lexicon_find(lex, word, len);
  if (old && canon_len) {
    char *c = strndup(canon, canon_len);
    if (!c) return KB_ENOMEM;
    free(old->canon);
    old->canon = c;
  }
  if (old) {
    if (freq > old->freq) {
      lex->total += freq - old->freq;
      old->freq = freq;
    }
    return KB_OK;
  }
  if ((lex->n + 1) * 2 > lex->cap && lexicon_grow(lex) != KB_OK) return KB_ENOMEM;
  lex_entry *e = malloc(sizeof *e + len + 1);
  if (!e) return KB_ENOMEM;
  e->freq = freq;
  e->canon = canon_len ? strndup(canon, canon_len) : NULL;
  if (canon_len && !e->canon) {
    free(e);
    return KB_ENOMEM;
  }
  memcpy(e->word, word, len);
  e->word[len] = '\0';
  size_t j = kb_fnv1a(word, len) & (lex->cap - 1);
  while (lex->slots[j]) j = (j + 1) & (lex->cap - 1);
  lex->slots[j] = e;
  lex->n++;
  lex->total += freq;
  return KB_OK;
}

int kb_lexicon_add(kb_lexicon *lex, const char *word, size_t len) {
  return lexicon_add_freq(lex, word, len, 0, NULL, 0);
}


/* Adds the lines of a word list: "word [frequency | canonical word]
 * [anything]", '#' comments and blank lines skipped. A canonical word (not
 * a number) is indexed in the word's place: regional variants. */
static int lexicon_add_lines(kb_lexicon *lex, const char *text, size_t len) {
  for (size_t i = 0; i < len;) {
    size_t eol = i;
    while (eol < len && text[eol] != '\n') eol++;
    size_t s = i;
    while (s < eol && (text[s] == ' ' || text[s] == '\t')) s++;
    size_t e = s;
    while (e < eol && text[e] != ' ' && text[e] != '\t' && text[e] != '\r') e++;
    if (e > s && text[s] != '#') {
      size_t f = e;
      while (f < eol && (text[f] == ' ' || text[f] == '\t')) f++;
      size_t fe = f;
      while (fe < eol && text[fe] != ' ' && text[fe] != '\t' && text[fe] != '\r') fe++;
      unsigned long freq = 0;
      bool number = fe > f;
      for (size_t k = f; k < fe && number; k++) number = text[k] >= '0' && text[k] <= '9';
      for (size_t k = f; k < fe && number && freq < 100000000UL; k++)
        freq = freq * 10 + (unsigned long)(text[k] - '0');
      int rc = lexicon_add_freq(lex, text + s, e - s, (uint32_t)freq, number ? NULL : text + f,
                                number ? 0 : fe - f);
      if (rc == KB_ENOMEM) return rc;
    }
    i = eol + 1;
  }
  return KB_OK;
}

kb_lexicon *kb_lexicon_new(void) { return calloc(1, sizeof(kb_lexicon)); }

int kb_lexicon_new_builtin(const char *name, kb_lexicon **out, kb_error *err) {
  const char *text;
  size_t len;
  bool variants = false;
  if (strcmp(name, "lexicon") == 0) {
    text = KB_DATA(lexicon);
    len = KB_DATA_LEN(lexicon);
    variants = true;
  } else if (strcmp(name, "stopwords") == 0) {
    text = KB_DATA(stopwords);
    len = KB_DATA_LEN(stopwords);
  } else {
    return kb_error_set(err, KB_EINVAL, "no built-in word list named '%s'", name);
  }
  kb_lexicon *lex = kb_lexicon_new();
  if (!lex) return kb_error_set(err, KB_ENOMEM, "out of memory");
  if (lexicon_add_lines(lex, text, len) != KB_OK ||
      (variants && lexicon_add_lines(lex, KB_DATA(variants), KB_DATA_LEN(variants)) != KB_OK)) {
    kb_lexicon_free(lex);
    return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  *out = lex;
  return KB_OK;
}

int kb_lexicon_add_file(kb_lexicon *lex, const char *path, kb_error *err) {
  kb_buf b = {0};
  int rc = kb_buf_read_file(&b, path, 0, err);
  size_t bad;
  if (rc == KB_OK && !kb_utf8_valid(b.data, b.len, &bad))
    rc = kb_error_set(err, KB_EENCODING, "%s:%zu: 不是有效的 UTF-8 (invalid UTF-8)", path,
                      kb_text_line_of(b.data, bad));
  else if (rc == KB_OK && lexicon_add_lines(lex, b.data, b.len) != KB_OK)
    rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  kb_buf_free(&b);
  return rc;
}

int kb_lexicon_add_text(kb_lexicon *lex, const char *text, size_t len) {
  return lexicon_add_lines(lex, text, len);
}

int kb_lexicon_each(const kb_lexicon *lex, kb_lexicon_fn fn, void *ctx) {
  for (size_t i = 0; lex && i < lex->cap; i++) {
    if (!lex->slots[i]) continue;
    int rc = fn(lex->slots[i]->word, strlen(lex->slots[i]->word), ctx);
    if (rc) return rc;
  }
  return 0;
}

size_t kb_lexicon_size(const kb_lexicon *lex) { return lex ? lex->n : 0; }

void kb_lexicon_free(kb_lexicon *lex) {
  if (!lex) return;
  for (size_t i = 0; i < lex->cap; i++) {
    if (!lex->slots[i]) continue;
    free(lex->slots[i]->canon);
    free(lex->slots[i]);
  }
  free(lex->slots);
  free(lex);
}

/* ---------------------------------------------------------------- tokenizer */

/* A compound has at most this many words. */
#define COMPOUND_PARTS 4

/* A primary just emitted, for the compounds ending at the next ones. */
typedef struct recent_word {
  char term[KB_TERM_MAX + 1];
  size_t len;
  uint32_t pos;
  size_t start;
} recent_word;

typedef struct cjk_char {
  size_t start;  /* byte offset in the text */
  bool icu_start; /* an ICU word starts here */
} cjk_char;

struct kb_tokenizer {
  const kb_lexicon *lex;
  UBreakIterator *bi;
  kb_stemmer *stemmer;
  kb_buf term, surface, tmp;
  /* the Chinese run being collected */
  cjk_char *chars;
  size_t nchars, chars_cap;
  size_t run_end;
  /* segmentation of the run: DP arrays */
  int *cost;
  size_t *back;
  size_t dp_cap;
  uint32_t *word_pos; /* position of the word holding each char */
  /* traditional → simplified: OpenCC's Taiwan-phrase and plain converters,
   * and which ideographs are traditional (one bit each, U+3400–U+9FFF) */
  opencc_t tw2sp, t2s;
  uint8_t trad[(0xA000 - 0x3400) / 8];
  kb_buf conv;        /* the current run, converted */
  size_t *conv_off;   /* byte offset of each of its characters in conv */
  size_t conv_cap;
  bool conv_active;
  /* compounds: the built-in synonyms of several words, their terms joined
   * by spaces, and the words they end with; the last primaries emitted */
  kb_lexicon *compounds, *compound_ends;
  kb_lexicon *particle_words; /* not a character and 了 or 的: 为了, 目的 */
  recent_word recent[COMPOUND_PARTS];
  size_t nrecent;
  kb_buf compound;
  kb_buf pair; /* the part pair being emitted */
  /* the current call */
  const char *text;
  size_t len;
  uint32_t *pos;
  kb_token_fn fn;
  void *ctx;
  kb_error *err;
};

/* Opens the converters and marks the traditional ideographs: those plain
 * t2s changes when each stands alone. */
static int open_folding(kb_tokenizer *t, kb_error *err) {
  t->tw2sp = opencc_open("tw2sp.json");
  t->t2s = opencc_open("t2s.json");
  if (t->tw2sp == (opencc_t)-1 || t->t2s == (opencc_t)-1)
    return kb_error_set(err, KB_EINTERNAL, "OpenCC: %s (is libopencc-data installed?)",
                        opencc_error());
  kb_buf all = {0};
  char u[4];
  for (int32_t c = 0x3400; c < 0xA000; c++) {
    kb_buf_append(&all, u, kb_utf8_put(c, u));
    kb_buf_putc(&all, '\n');
  }
  char *conv = opencc_convert_utf8(t->t2s, all.data, all.len);
  if (!conv) {
    kb_buf_free(&all);
    return kb_error_set(err, KB_EINTERNAL, "OpenCC: %s", opencc_error());
  }
  size_t a = 0, b = 0, n = strlen(conv);
  for (int32_t c = 0x3400; c < 0xA000 && a < all.len && b < n; c++) {
    size_t ae = a, be = b;
    while (ae < all.len && all.data[ae] != '\n') ae++;
    while (be < n && conv[be] != '\n') be++;
    if (ae - a != be - b || memcmp(all.data + a, conv + b, ae - a) != 0)
      t->trad[(c - 0x3400) / 8] |= (uint8_t)(1u << ((c - 0x3400) % 8));
    a = ae + 1;
    b = be + 1;
  }
  opencc_convert_utf8_free(conv);
  kb_buf_free(&all);
  return KB_OK;
}

static bool is_traditional(const kb_tokenizer *t, int32_t c) {
  return c >= 0x3400 && c < 0xA000 && (t->trad[(c - 0x3400) / 8] >> ((c - 0x3400) % 8)) & 1;
}

typedef struct member_words {
  kb_buf joined, last;
  size_t n;
} member_words;

static int collect_member_word(const kb_token *tok, void *ctx) {
  member_words *w = ctx;
  if (tok->alt) return 0;
  if (w->n++) kb_buf_putc(&w->joined, ' ');
  kb_buf_reset(&w->last);
  kb_buf_append(&w->last, tok->term, tok->term_len);
  return kb_buf_append(&w->joined, tok->term, tok->term_len);
}

static int add_compound(const char *member, size_t len, size_t group, void *ctx) {
  (void)group;
  kb_tokenizer *t = ctx;
  member_words w = {0};
  uint32_t pos = 1;
  int rc = kb_tokenizer_run(t, member, len, &pos, collect_member_word, &w, NULL);
  if (rc == KB_OK && w.n >= 2 && w.n <= COMPOUND_PARTS && w.joined.len <= KB_TERM_MAX) {
    rc = kb_lexicon_add(t->compounds, w.joined.data, w.joined.len);
    if (rc == KB_OK) rc = kb_lexicon_add(t->compound_ends, w.last.data, w.last.len);
  }
  kb_buf_free(&w.joined);
  kb_buf_free(&w.last);
  return rc;
}

/* The compounds of the built-in synonyms, as this tokenizer splits them
 * (before it knows any: they are found among its own primaries). */
static int load_compounds(kb_tokenizer *t, kb_error *err) {
  kb_lexicon *compounds = kb_lexicon_new(), *ends = kb_lexicon_new();
  size_t groups = 0;
  int rc = compounds && ends ? KB_OK : KB_ENOMEM;
  t->compounds = compounds;
  t->compound_ends = ends;
  if (rc == KB_OK)
    rc = kb_synonyms_each(KB_DATA(synonyms), KB_DATA_LEN(synonyms), &groups, add_compound, t);
  t->compounds = t->compound_ends = NULL;
  if (rc != KB_OK) {
    kb_lexicon_free(compounds);
    kb_lexicon_free(ends);
    return kb_error_set(err, rc < 0 ? rc : KB_ENOMEM, "compounds: out of memory");
  }
  t->compounds = compounds;
  t->compound_ends = ends;
  return KB_OK;
}

int kb_tokenizer_new(const kb_lexicon *lex, kb_tokenizer **out, kb_error *err) {
  kb_tokenizer *t = calloc(1, sizeof *t);
  if (!t) return kb_error_set(err, KB_ENOMEM, "out of memory");
  t->lex = lex;
  UErrorCode st = U_ZERO_ERROR;
  t->bi = ubrk_open(UBRK_WORD, "zh", NULL, 0, &st);
  if (U_FAILURE(st)) {
    kb_tokenizer_free(t);
    return kb_error_set(err, KB_EICU, "ICU word break iterator: %s", u_errorName(st));
  }
  int rc = kb_stemmer_new("english", &t->stemmer, err);
  if (rc == KB_OK) rc = open_folding(t, err);
  if (rc == KB_OK) rc = load_compounds(t, err);
  if (rc == KB_OK && (!(t->particle_words = kb_lexicon_new()) ||
                      lexicon_add_lines(t->particle_words, KB_DATA(particle_words),
                                        KB_DATA_LEN(particle_words)) != KB_OK))
    rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  if (rc != KB_OK) {
    kb_tokenizer_free(t);
    return rc;
  }
  *out = t;
  return KB_OK;
}

void kb_tokenizer_free(kb_tokenizer *t) {
  if (!t) return;
  if (t->bi) ubrk_close(t->bi);
  kb_stemmer_free(t->stemmer);
  kb_buf_free(&t->term);
  kb_buf_free(&t->surface);
  kb_buf_free(&t->tmp);
  free(t->chars);
  free(t->cost);
  free(t->back);
  free(t->word_pos);
  if (t->tw2sp && t->tw2sp != (opencc_t)-1) opencc_close(t->tw2sp);
  if (t->t2s && t->t2s != (opencc_t)-1) opencc_close(t->t2s);
  kb_buf_free(&t->conv);
  free(t->conv_off);
  kb_lexicon_free(t->compounds);
  kb_lexicon_free(t->compound_ends);
  kb_lexicon_free(t->particle_words);
  kb_buf_free(&t->compound);
  kb_buf_free(&t->pair);
  free(t);
}

/* Remembers the primary tok and, when it ends a compound (the words just
 * before it at the positions just before its), emits that compound. */
static int note_primary(kb_tokenizer *t, const kb_token *tok) {
  if (t->nrecent == COMPOUND_PARTS) {
    memmove(t->recent, t->recent + 1, (COMPOUND_PARTS - 1) * sizeof *t->recent);
    t->nrecent--;
  }
  recent_word *r = &t->recent[t->nrecent++];
  memcpy(r->term, tok->term, tok->term_len);
  r->len = tok->term_len;
  r->pos = tok->pos;
  r->start = tok->start;
  if (!kb_lexicon_contains(t->compound_ends, tok->term, tok->term_len)) return 0;
  for (size_t k = 2; k <= t->nrecent; k++) {
    const recent_word *first = &t->recent[t->nrecent - k];
    if (first->pos + (uint32_t)(k - 1) != tok->pos) break; /* not one after another */
    kb_buf_reset(&t->compound);
    for (size_t i = t->nrecent - k; i < t->nrecent; i++)
      if ((i > t->nrecent - k && kb_buf_putc(&t->compound, ' ') != KB_OK) ||
          kb_buf_append(&t->compound, t->recent[i].term, t->recent[i].len) != KB_OK)
        return kb_error_set(t->err, KB_ENOMEM, "out of memory");
    if (t->compound.len > KB_TERM_MAX ||
        !kb_lexicon_contains(t->compounds, t->compound.data, t->compound.len))
      continue;
    kb_token c = {.term = t->compound.data, .term_len = t->compound.len,
                  .surface = t->compound.data, .surface_len = t->compound.len,
                  .kind = KB_TOKEN_COMPOUND, .alt = true, .pos = first->pos,
                  .start = first->start, .end = tok->end};
    int rc = t->fn(&c, t->ctx);
    if (rc) return rc;
  }
  return 0;
}

/* Calls the user's callback with a token built from t->term / t->surface. */
static int emit(kb_tokenizer *t, kb_token_kind kind, bool alt, uint32_t pos, size_t start,
                size_t end) {
  if (t->term.len == 0 || t->term.len > KB_TERM_MAX) return 0;
  kb_token tok = {
      .term = t->term.data,
      .term_len = t->term.len,
      .surface = t->surface.len ? t->surface.data : t->term.data,
      .surface_len = t->surface.len ? t->surface.len : t->term.len,
      .kind = kind,
      .alt = alt,
      .pos = pos,
      .start = start,
      .end = end,
  };
  int rc = t->fn(&tok, t->ctx);
  if (!rc && !alt && t->compounds) rc = note_primary(t, &tok);
  return rc;
}

static bool is_ascii_alnum(int32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Full-width ASCII variants (Ａ, １, －) count as their ASCII selves. */
static int32_t ascii_of(int32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) return c - 0xFEE0;
  return c;
}

static bool is_latin_letter(int32_t c) {
  return (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}

static bool is_alnum_char(int32_t c) {
  c = ascii_of(c);
  /* ligatures (ﬁ ﬂ), which NFKC folds to letters */
  return is_ascii_alnum(c) || is_latin_letter(c) || (c >= 0xFB00 && c <= 0xFB06);
}

/* Connectors that may sit inside a technical token. */
static bool is_connector(int32_t c) {
  c = ascii_of(c);
  return c == '.' || c == '-' || c == '_' || c == '/' || c == '\\' || c == ':' || c == '@' ||
         c == '#' || c == '+' || c == '~' || c == '%' || c == '=';
}

static bool is_tech_char(int32_t c) { return is_alnum_char(c) || is_connector(c); }

/* Folds text[s..e) into t->surface and sets t->term to its stem when it is a
 * word of letters, else to the folded form. Returns the token kind. */
static int fold_word(kb_tokenizer *t, size_t s, size_t e, kb_token_kind *kind) {
  kb_buf_reset(&t->surface);
  kb_buf_reset(&t->term);
  int rc = kb_text_fold(t->text + s, e - s, &t->surface, t->err);
  if (rc != KB_OK) return rc;
  bool has_digit = false, has_alpha = false;
  for (size_t i = 0; i < t->surface.len; i++) {
    unsigned char c = (unsigned char)t->surface.data[i];
    if (c >= '0' && c <= '9') has_digit = true;
    else if (c >= 0x80 || (c >= 'a' && c <= 'z')) has_alpha = true;
  }
  if (has_alpha && !has_digit) {
    *kind = KB_TOKEN_WORD;
    if (kb_stemmer_stem(t->stemmer, t->surface.data, t->surface.len, &t->term) != KB_OK)
      return kb_error_set(t->err, KB_ENOMEM, "out of memory");
  } else {
    *kind = KB_TOKEN_NUMBER;
    if (kb_buf_append(&t->term, t->surface.data, t->surface.len) != KB_OK)
      return kb_error_set(t->err, KB_ENOMEM, "out of memory");
  }
  return KB_OK;
}

static int32_t cp_at(const kb_tokenizer *t, size_t i, size_t *next) {
  *next = i;
  return kb_utf8_next(t->text, t->len, next);
}

/* Offset of the code point before byte offset e (e > s). */
static size_t prev_cp(const char *text, size_t s, size_t e) {
  size_t p = e - 1;
  while (p > s && ((unsigned char)text[p] & 0xC0) == 0x80) p--;
  return p;
}

/* "c++" and "c#" keep their trailing signs. */
static bool trailing_keep(const kb_tokenizer *t, size_t s, size_t e) {
  const char *x = t->text;
  if (e - s >= 3 && x[e - 1] == '+' && x[e - 2] == '+')
    return is_ascii_alnum((unsigned char)x[e - 3]);
  if (e - s >= 2 && x[e - 1] == '#') return is_ascii_alnum((unsigned char)x[e - 2]);
  return false;
}

/* After a part of a technical token, just emitted (its term in t->term,
 * ending at end): the pair of the part before it (t->pair holds that
 * part's term, prev its start) and this one; t->pair then holds this term. */
static int emit_pair(kb_tokenizer *t, size_t prev, size_t end) {
  if (t->term.len == 0 || t->term.len > KB_TERM_MAX) { /* not emitted: no pair across it */
    kb_buf_reset(&t->pair);
    return 0;
  }
  size_t prev_len = t->pair.len;
  int rc = 0;
  if (prev_len && prev_len + 1 + t->term.len <= KB_TERM_MAX) {
    if (kb_buf_putc(&t->pair, ' ') != KB_OK ||
        kb_buf_append(&t->pair, t->term.data, t->term.len) != KB_OK)
      return kb_error_set(t->err, KB_ENOMEM, "out of memory");
    kb_token pair = {.term = t->pair.data, .term_len = t->pair.len,
                     .surface = t->pair.data, .surface_len = t->pair.len,
                     .kind = KB_TOKEN_PAIR, .alt = true, .pos = *t->pos - 2,
                     .start = prev, .end = end};
    rc = t->fn(&pair, t->ctx);
  }
  kb_buf_reset(&t->pair);
  if (!rc && kb_buf_append(&t->pair, t->term.data, t->term.len) != KB_OK)
    rc = kb_error_set(t->err, KB_ENOMEM, "out of memory");
  return rc;
}

static bool is_digit_char(int32_t c) {
  c = ascii_of(c);
  return c >= '0' && c <= '9';
}

/* Where the alphanumeric run text[s..e) turns from letters to digits or back,
 * when it turns exactly once (ora12170, win10, 10gb, x86): the offset of the
 * turn, else 0. Such a run is two parts, as if written ora-12170; runs that
 * turn more often are hashes, ids or hex, and stay whole. */
static size_t letter_digit_turn(const kb_tokenizer *t, size_t s, size_t e) {
  size_t n, turn = 0;
  bool digit = is_digit_char(cp_at(t, s, &n));
  for (size_t i = n; i < e; i = n) {
    bool d = is_digit_char(cp_at(t, i, &n));
    if (d == digit) continue;
    if (turn) return 0;
    turn = i;
    digit = d;
  }
  return turn;
}

/* One part text[s..e) of a technical run: a primary at the next position,
 * paired with the part before it (the first part of a run has none). A hex number
 * (0x80070005) also gives its digits (80070005) at its position, as people
 * often write them without the 0x. */
static int emit_tech_part(kb_tokenizer *t, size_t s, size_t e, size_t prev) {
  kb_token_kind kind;
  int rc = fold_word(t, s, e, &kind);
  uint32_t pos = (*t->pos)++;
  if (rc || (rc = emit(t, kind, false, pos, s, e))) return rc;
  if ((rc = emit_pair(t, prev, e))) return rc;
  const char *x = t->term.data;
  size_t n = t->term.len, h = 2;
  if (n < 3 || x[0] != '0' || x[1] != 'x') return 0;
  while (h < n && ((x[h] >= '0' && x[h] <= '9') || (x[h] >= 'a' && x[h] <= 'f'))) h++;
  if (h < n) return 0;
  memmove(t->term.data, x + 2, n - 1); /* with its NUL */
  t->term.len -= 2;
  kb_buf_reset(&t->surface);
  return emit(t, KB_TOKEN_VARIANT, true, pos, s, e);
}

/* A run of technical characters text[s..e): plain words and numbers, or a
 * technical token kept whole and split into its parts. */
static int tech_run(kb_tokenizer *t, size_t s, size_t e) {
  size_t n;
  /* trim trailing connectors (sentence punctuation, dangling slashes) */
  while (e > s) {
    int32_t c = cp_at(t, prev_cp(t->text, s, e), &n);
    if (is_alnum_char(c) || trailing_keep(t, s, e)) break;
    e = prev_cp(t->text, s, e);
  }
  /* trim leading connectors, except those that mark a flag, path or dotfile */
  while (s < e) {
    int32_t c = ascii_of(cp_at(t, s, &n));
    if (is_alnum_char(c) || c == '-' || c == '/' || c == '\\' || c == '.' || c == '~') break;
    s = n;
  }
  uint32_t first_pos = *t->pos;
  int rc;
  size_t nparts = 0, first_part = e, last_end = e, prev_start = 0;
  /* the alphanumeric parts, as primaries, and each two adjacent ones as a
   * pair */
  kb_buf_reset(&t->pair);
  for (size_t i = s; i < e;) {
    if (!is_alnum_char(cp_at(t, i, &n))) {
      i = n;
      continue;
    }
    if (!nparts) first_part = i;
    size_t ps = i;
    while (i < e && is_alnum_char(cp_at(t, i, &n))) i = n;
    size_t turn = letter_digit_turn(t, ps, i);
    if (turn) {
      if ((rc = emit_tech_part(t, ps, turn, prev_start))) return rc;
      prev_start = ps;
      ps = turn;
      nparts++;
    }
    if ((rc = emit_tech_part(t, ps, i, prev_start))) return rc;
    prev_start = ps;
    last_end = i;
    nparts++;
  }
  if (nparts == 0) return 0;
  if (nparts == 1 && first_part == s && last_end == e) return 0; /* a plain word */

  /* the whole token, as an alternative */
  kb_buf_reset(&t->term);
  kb_buf_reset(&t->surface);
  if ((rc = kb_text_fold(t->text + s, e - s, &t->term, t->err)) != KB_OK) return rc;
  if ((rc = emit(t, KB_TOKEN_TECH, true, first_pos, s, e))) return rc;
  /* v2.4.1 is also 2.4.1 */
  if (t->term.len > 2 && t->term.data[0] == 'v' && t->term.data[1] >= '0' &&
      t->term.data[1] <= '9') {
    memmove(t->term.data, t->term.data + 1, t->term.len);
    t->term.len--;
    if ((rc = emit(t, KB_TOKEN_TECH, true, first_pos, s, e))) return rc;
  }
  return 0;
}

/* ----------------------------------------------------------- Chinese runs */

static int push_char(kb_tokenizer *t, size_t start, bool icu_start) {
  if (kb_grow(&t->chars, &t->chars_cap, t->nchars + 1, sizeof *t->chars) != KB_OK)
    return kb_error_set(t->err, KB_ENOMEM, "out of memory");
  t->chars[t->nchars++] = (cjk_char){start, icu_start};
  return KB_OK;
}

/* Segment cost ×10: an ICU word 10, a lexicon word on ICU boundaries 9, a
 * lexicon word across them 11, a lone character ICU did not give 15. The
 * cheapest path re-merges what ICU split (打印|机 → 打印机) and mends what it
 * cut wrongly (路|由|器重|启 → 路由器|重启) without overriding it elsewhere. */
enum { COST_ICU = 10, COST_LEX_ALIGNED = 9, COST_LEX_ACROSS = 11, COST_CHAR = 15 };
/* With a word list that has frequencies (jieba's dict.txt), the cheapest
 * path is the most probable one under a unigram model: a word costs
 * -log(freq / total). A word ICU found that the list lacks counts as rare
 * but real (a name, a new term); a domain word without a frequency as a
 * common one. */
#define ICU_WORD_FREQ 3.0
#define DOMAIN_WORD_FREQ 2000.0
#define LEX_MAX_CHARS 8

static size_t char_start(const kb_tokenizer *t, size_t c) {
  return c < t->nchars ? t->chars[c].start : t->run_end;
}

static bool boundary(const kb_tokenizer *t, size_t c) {
  return c >= t->nchars || t->chars[c].icu_start;
}

static int ensure_dp(kb_tokenizer *t, size_t m) {
  if (m + 1 <= t->dp_cap) return KB_OK;
  size_t cap = (m + 1) * 2;
  int *cost = realloc(t->cost, cap * sizeof *cost);
  if (cost) t->cost = cost;
  size_t *back = realloc(t->back, cap * sizeof *back);
  if (back) t->back = back;
  uint32_t *wp = realloc(t->word_pos, cap * sizeof *wp);
  if (wp) t->word_pos = wp;
  if (!cost || !back || !wp) return kb_error_set(t->err, KB_ENOMEM, "out of memory");
  t->dp_cap = cap;
  return KB_OK;
}

static void relax(kb_tokenizer *t, size_t from, size_t to, int cost) {
  if (t->cost[from] + cost < t->cost[to]) {
    t->cost[to] = t->cost[from] + cost;
    t->back[to] = from;
  }
}

/* The bytes of characters [c, e) of the run: converted when the run is. */
static void run_bytes(const kb_tokenizer *t, size_t c, size_t e, const char **p, size_t *n) {
  if (t->conv_active) {
    *p = t->conv.data + t->conv_off[c];
    *n = t->conv_off[e] - t->conv_off[c];
  } else {
    *p = t->text + char_start(t, c);
    *n = char_start(t, e) - char_start(t, c);
  }
}

/* Emits characters [k, ke) of the run as an alternative at position p. */
static int emit_part(kb_tokenizer *t, size_t k, size_t ke, uint32_t p) {
  const char *wp;
  size_t wn;
  run_bytes(t, k, ke, &wp, &wn);
  kb_buf_reset(&t->term);
  const lex_entry *w = lexicon_find(t->lex, wp, wn);
  int rc = w && w->canon ? kb_buf_puts(&t->term, w->canon) : kb_text_fold(wp, wn, &t->term, t->err);
  if (rc != KB_OK) return rc;
  return emit(t, KB_TOKEN_CJK, true, p, char_start(t, k), char_start(t, ke));
}

/* A long word also yields its parts as alternatives, so that a shorter
 * query word still finds it: the ICU words of two or more characters it
 * was merged from (打印|机 → 打印机 gives 打印), and the lexicon words inside
 * it (连接超时 gives 超时). */
static int emit_word_parts(kb_tokenizer *t, size_t c, size_t e, uint32_t p) {
  int rc;
  bool aligned = boundary(t, c) && boundary(t, e);
  size_t pieces = 0;
  for (size_t k = c; k < e; k++) pieces += t->chars[k].icu_start;
  for (size_t k = c; aligned && pieces >= 2 && k < e;) {
    size_t ke = k + 1;
    while (!boundary(t, ke)) ke++;
    if (ke - k >= 2 && (rc = emit_part(t, k, ke, p))) return rc;
    k = ke;
  }
  if (e - c < 3) return 0;
  for (size_t k = c; k < e; k++)
    for (size_t l = 2; k + l <= e && l < e - c && l <= LEX_MAX_CHARS; l++) {
      bool icu_piece = aligned && pieces >= 2 && boundary(t, k) && boundary(t, k + l);
      for (size_t x = k + 1; icu_piece && x < k + l; x++) icu_piece = !boundary(t, x);
      if (icu_piece) continue; /* emitted above */
      const char *wp;
      size_t wn;
      run_bytes(t, k, k + l, &wp, &wn);
      if (lexicon_find(t->lex, wp, wn) && (rc = emit_part(t, k, k + l, p))) return rc;
    }
  return 0;
}

/* Converts a run holding traditional characters, phrases first (印表機 →
 * 打印机, 資料庫 → 数据库), keeping the conversion only when it has as many
 * characters as the run, so that every character keeps its place. */
static void convert_run(kb_tokenizer *t) {
  t->conv_active = false;
  size_t m = t->nchars;
  bool any = false;
  for (size_t c = 0; c < m && !any; c++) {
    size_t i = t->chars[c].start;
    any = is_traditional(t, kb_utf8_next(t->text, t->len, &i));
  }
  if (!any) return;
  if (t->conv_cap < m + 1) {
    size_t *off = realloc(t->conv_off, (m + 1) * sizeof *off);
    if (!off) return;
    t->conv_off = off;
    t->conv_cap = m + 1;
  }
  size_t rs = t->chars[0].start;
  opencc_t convs[2] = {t->tw2sp, t->t2s};
  for (int k = 0; k < 2 && !t->conv_active; k++) {
    char *out = opencc_convert_utf8(convs[k], t->text + rs, t->run_end - rs);
    if (!out) continue;
    size_t n = strlen(out), c = 0, i = 0;
    while (i < n && c <= m) {
      if (c < m) t->conv_off[c] = i;
      kb_utf8_next(out, n, &i);
      c++;
    }
    if (c == m && i == n) {
      t->conv_off[m] = n;
      kb_buf_reset(&t->conv);
      kb_buf_append(&t->conv, out, n);
      t->conv_active = true;
    }
    opencc_convert_utf8_free(out);
  }
}

static int flush_cjk(kb_tokenizer *t) {
  size_t m = t->nchars;
  if (!m) return 0;
  int rc = ensure_dp(t, m);
  if (rc != KB_OK) return rc;
  for (size_t c = 0; c <= m; c++) t->cost[c] = 1 << 28;
  t->cost[0] = 0;
  convert_run(t);
  const char *wp;
  size_t wn;
  bool freq = t->lex && t->lex->total > 0;
  double base = freq ? log((double)t->lex->total) : 0;
  for (size_t c = 0; c < m; c++) {
    if (t->chars[c].icu_start) {
      size_t e = c + 1;
      while (!boundary(t, e)) e++;
      relax(t, c, e, freq ? (int)(100 * (base - log(ICU_WORD_FREQ))) : COST_ICU);
    }
    relax(t, c, c + 1, freq ? (int)(100 * (base - log(0.5))) : COST_CHAR);
    for (size_t l = freq ? 1 : 2; l <= LEX_MAX_CHARS && c + l <= m; l++) {
      run_bytes(t, c, c + l, &wp, &wn);
      const lex_entry *w = lexicon_find(t->lex, wp, wn);
      if (!w) continue;
      if (freq)
        relax(t, c, c + l, (int)(100 * (base - log(w->freq ? w->freq : DOMAIN_WORD_FREQ))));
      else
        relax(t, c, c + l, boundary(t, c) && boundary(t, c + l) ? COST_LEX_ALIGNED : COST_LEX_ACROSS);
    }
  }
  /* walk back, leaving in cost[start] the end of the word starting there */
  for (size_t c = m; c > 0; c = t->back[c]) t->cost[t->back[c]] = (int)c;
  for (size_t c = 0; c < m;) {
    size_t e = (size_t)t->cost[c];
    uint32_t p = (*t->pos)++;
    for (size_t k = c; k < e; k++) t->word_pos[k] = p;
    size_t bs = char_start(t, c), be = char_start(t, e);
    kb_buf_reset(&t->term);
    kb_buf_reset(&t->surface);
    run_bytes(t, c, e, &wp, &wn);
    const lex_entry *w = lexicon_find(t->lex, wp, wn);
    if (w && w->canon) rc = kb_buf_puts(&t->term, w->canon);
    else rc = kb_text_fold(wp, wn, &t->term, t->err);
    if (rc != KB_OK) return rc;
    if ((rc = emit(t, KB_TOKEN_CJK, false, p, bs, be))) return rc;
    if ((rc = emit_word_parts(t, c, e, p))) return rc;
    c = e;
  }
  for (size_t c = 0; c + 1 < m; c++) {
    size_t bs = char_start(t, c), be = char_start(t, c + 2);
    kb_buf_reset(&t->term);
    run_bytes(t, c, c + 2, &wp, &wn);
    if ((rc = kb_text_fold(wp, wn, &t->term, t->err)) != KB_OK) return rc;
    if ((rc = emit(t, KB_TOKEN_BIGRAM, true, t->word_pos[c], bs, be))) return rc;
  }
  t->nchars = 0;
  return 0;
}

/* ICU joins some verbs and adjectives to the aspect particle 了 (满了, 忘了,
 * 挂了) and leaves others apart (坏|了, 断|了): a character and 了 is split,
 * so that 磁盘满了 finds 磁盘空间满 as 磁盘坏了 finds 坏; and so is a
 * character and the particle 的 (新的 → 新 的). Not the words of
 * lib/data/particle_words.txt (为了, 目的). */
static bool particle_split(const kb_tokenizer *t, const char *w, size_t n) {
  static const size_t CHAR = 3; /* 了 and 的, and the character before: 3 bytes each */
  if (n != 2 * CHAR) return false;
  if (memcmp(w + CHAR, "了", CHAR) != 0 && memcmp(w + CHAR, "的", CHAR) != 0) return false;
  return !kb_lexicon_contains(t->particle_words, w, n);
}

/* Adds the ICU word text[s..e) to the current Chinese run. */
static int add_cjk_word(kb_tokenizer *t, size_t s, size_t e) {
  int rc;
  if (t->nchars && t->run_end != s && (rc = flush_cjk(t))) return rc;
  bool split = particle_split(t, t->text + s, e - s);
  for (size_t i = s; i < e;) {
    size_t at = i;
    kb_utf8_next(t->text, e, &i);
    if ((rc = push_char(t, at, at == s || (split && i == e))) != KB_OK) return rc;
  }
  t->run_end = e;
  return 0;
}

/* Text between technical runs: Chinese, other scripts, punctuation. */
static int icu_run(kb_tokenizer *t, size_t s, size_t e) {
  size_t i = s;
  while (i < e && (unsigned char)t->text[i] < 0x80) i++;
  if (i == e) return flush_cjk(t); /* spaces and punctuation only */

  UErrorCode st = U_ZERO_ERROR;
  UText ut = UTEXT_INITIALIZER;
  utext_openUTF8(&ut, t->text + s, (int64_t)(e - s), &st);
  ubrk_setUText(t->bi, &ut, &st);
  if (U_FAILURE(st)) {
    utext_close(&ut);
    return kb_error_set(t->err, KB_EICU, "ICU word break: %s", u_errorName(st));
  }
  int rc = 0;
  int32_t a = ubrk_first(t->bi);
  for (int32_t b = ubrk_next(t->bi); b != UBRK_DONE && !rc; a = b, b = ubrk_next(t->bi)) {
    int32_t status = ubrk_getRuleStatus(t->bi);
    size_t ws = s + (size_t)a, we = s + (size_t)b;
    if (status >= UBRK_WORD_IDEO && status < UBRK_WORD_IDEO_LIMIT) {
      rc = add_cjk_word(t, ws, we);
      continue;
    }
    if ((rc = flush_cjk(t))) break;
    if (status < UBRK_WORD_NONE_LIMIT) continue;
    kb_token_kind kind;
    if ((rc = fold_word(t, ws, we, &kind)) != KB_OK) break;
    if (status >= UBRK_WORD_KANA && status < UBRK_WORD_KANA_LIMIT) {
      kb_buf_reset(&t->term);
      kb_buf_append(&t->term, t->surface.data, t->surface.len);
      kind = KB_TOKEN_CJK;
    }
    rc = emit(t, kind, false, (*t->pos)++, ws, we);
  }
  utext_close(&ut);
  return rc;
}

int kb_tokenizer_run(kb_tokenizer *t, const char *text, size_t len, uint32_t *pos,
                     kb_token_fn fn, void *ctx, kb_error *err) {
  t->text = text;
  t->len = len;
  t->pos = pos;
  t->fn = fn;
  t->ctx = ctx;
  t->err = err;
  t->nchars = 0;
  t->nrecent = 0;
  int rc = 0;
  size_t other = 0, i = 0;
  while (i < len && !rc) {
    size_t next = i;
    int32_t c = kb_utf8_next(text, len, &next);
    if (!is_tech_char(c)) {
      i = next;
      continue;
    }
    if (other < i && (rc = icu_run(t, other, i))) break;
    if ((rc = flush_cjk(t))) break;
    size_t e = next;
    while (e < len) {
      size_t n = e;
      if (!is_tech_char(kb_utf8_next(text, len, &n))) break;
      e = n;
    }
    rc = tech_run(t, i, e);
    i = other = e;
  }
  if (!rc && other < len) rc = icu_run(t, other, len);
  if (!rc) rc = flush_cjk(t);
  t->text = NULL;
  return rc;
}
