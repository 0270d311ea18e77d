/* query.c — the query syntax and the engine query built from it. */
#include "kb/query.h"

#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "kb/analyze.h"

/* Bigrams back up the words at this fraction of a word's weight. */
#define BIGRAM_SCALE 0.5
/* The words of a technical token (of four letters or more) back up the
 * token at this fraction of a word's weight (make eval: tidb 0.4234 →
 * 0.4258, 0.3 gives 0.4237, 0.7 0.4259; the rest unchanged; 1.7% more
 * instructions for an engineer's search). */
#define PART_SCALE 0.5
/* A longer query (a pasted ticket title or log line) is matched on this
 * many of its terms, those that can weigh most: the rest, common words and
 * bigrams, cost most of the matching and change little (callgrind, an
 * engineer's search: 11% fewer instructions at 100,000 tickets, 13% at
 * 1,000,000; make eval: bq 0.1143 → 0.1142, atec 0.0629 → 0.0624, tidb
 * 0.4242 → 0.4237, med and the articles unchanged; 16 terms cost bq
 * 0.003). */
#define ELITE_TERMS 24
/* The match set of free words (two or more): documents scoring at least
 * this fraction of the best match. Below it a document shares a stray word
 * or a bigram with the query and little else. */
#define MATCH_FRACTION 0.25
#define MAX_ITEMS 64
/* A document whose whole title is the query's free words gains this many
 * words' weight (its exact-title term). */
#define EXACT_TITLE_SCALE 2.0

/* ------------------------------------------------------------------ nodes */

kb_qnode *kb_qnode_new(kb_qop op, const char *term, size_t len) {
  kb_qnode *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->op = op;
  n->scale = 1.0;
  if (term) {
    n->term = malloc(len + 1);
    if (!n->term) {
      free(n);
      return NULL;
    }
    memcpy(n->term, term, len);
    n->term[len] = '\0';
  }
  return n;
}

int kb_qnode_add(kb_qnode *parent, kb_qnode *kid) {
  if (!kid) return KB_ENOMEM;
  if (kb_grow(&parent->kids, &parent->cap, parent->nkids + 1, sizeof *parent->kids) != KB_OK) {
    kb_qnode_free(kid);
    return KB_ENOMEM;
  }
  parent->kids[parent->nkids++] = kid;
  return KB_OK;
}

void kb_qnode_free(kb_qnode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->nkids; i++) kb_qnode_free(n->kids[i]);
  free(n->kids);
  free(n->term);
  free(n->term2);
  free(n);
}

/* --------------------------------------------------------------- synonyms */

/* A member: its primary terms in order (one term, or a phrase), and the
 * tokenizer's compound term for them when it has one. */
typedef struct syn_member {
  char **terms;
  size_t nterms;
  char *compound;
  size_t group;
} syn_member;

struct kb_synonyms {
  syn_member *m;
  size_t n, ngroups;
};

static int collect_terms(const kb_token *t, void *ctx) {
  syn_member *m = ctx;
  if (t->kind == KB_TOKEN_COMPOUND) {
    free(m->compound);
    return (m->compound = strndup(t->term, t->term_len)) ? 0 : KB_ENOMEM;
  }
  if (t->alt) return 0;
  char **v = realloc(m->terms, (m->nterms + 1) * sizeof *v);
  if (!v) return KB_ENOMEM;
  m->terms = v;
  if (!(m->terms[m->nterms] = strndup(t->term, t->term_len))) return KB_ENOMEM;
  m->nterms++;
  return 0;
}

static void free_member(syn_member *m) {
  for (size_t i = 0; i < m->nterms; i++) free(m->terms[i]);
  free(m->terms);
  free(m->compound);
}

/* The compound stands for the member only when it spans all its terms. */
static bool compound_spans(const syn_member *m) {
  if (!m->compound || m->nterms < 2) return false;
  const char *c = m->compound;
  for (size_t i = 0; i < m->nterms; i++) {
    size_t n = strlen(m->terms[i]);
    if (strncmp(c, m->terms[i], n) != 0) return false;
    c += n;
    if (i + 1 < m->nterms && *c++ != ' ') return false;
  }
  return *c == '\0';
}

typedef struct add_ctx {
  kb_synonyms *s;
  kb_tokenizer *t;
} add_ctx;

static int add_member(const char *text, size_t len, size_t group, void *vctx) {
  add_ctx *a = vctx;
  kb_synonyms *s = a->s;
  syn_member m = {.group = group};
  uint32_t pos = 1;
  int rc = kb_tokenizer_run(a->t, text, len, &pos, collect_terms, &m, NULL);
  if (rc == KB_OK && !compound_spans(&m)) {
    free(m.compound);
    m.compound = NULL;
  }
  if (rc == KB_OK && m.nterms) {
    syn_member *v = realloc(s->m, (s->n + 1) * sizeof *v);
    if (!v) rc = KB_ENOMEM;
    else {
      s->m = v;
      s->m[s->n++] = m;
      return KB_OK;
    }
  }
  free_member(&m);
  return rc > 0 ? KB_OK : rc;
}

int kb_synonyms_new_builtin(kb_tokenizer *t, const char *extra, kb_synonyms **out,
                            kb_error *err) {
  kb_synonyms *s = calloc(1, sizeof *s);
  if (!s) return kb_error_set(err, KB_ENOMEM, "out of memory");
  add_ctx a = {s, t};
  int rc = kb_synonyms_each(KB_DATA(synonyms), KB_DATA_LEN(synonyms), &s->ngroups, add_member, &a);
  if (rc == KB_OK && extra) rc = kb_synonyms_each(extra, strlen(extra), &s->ngroups, add_member, &a);
  if (rc != KB_OK) {
    kb_synonyms_free(s);
    return kb_error_set(err, rc, "synonyms: out of memory");
  }
  *out = s;
  return KB_OK;
}

void kb_synonyms_free(kb_synonyms *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free_member(&s->m[i]);
  free(s->m);
  free(s);
}

size_t kb_synonyms_count(const kb_synonyms *s) { return s ? s->ngroups : 0; }

/* ------------------------------------------------------------------ items */

typedef enum item_kind { ITEM_WORDS, ITEM_PHRASE, ITEM_TITLE, ITEM_FILTER } item_kind;

typedef struct item {
  item_kind kind;
  bool negate;
  bool or_prev; /* joined to the previous item by OR */
  char *text;   /* words or phrase text, or the filter value */
  const char *prefix; /* ITEM_FILTER */
} item;

struct kb_query {
  item items[MAX_ITEMS];
  size_t nitems;
  kb_query_opts opts;
  kb_qnode *tree;
  kb_lexicon *highlights;
  kb_buf explain;
  size_t units;
  size_t word_units; /* of them, free words */
  bool part_words;   /* a technical token is backed up by its words */
  /* built once by kb_query_parse */
  kb_qnode *words;    /* OR of optional word units, or NULL */
  kb_qnode *required; /* AND of required clauses, or NULL */
  kb_qnode *excluded; /* OR of excluded clauses, or NULL */
  char *title_term;   /* the free words' exact-title term, or NULL */
  struct {
    const char *prefix;
    char *value;
  } filters[MAX_ITEMS];
  size_t nfilters;
  kb_qnode *ranges; /* AND of value ranges, or NULL */
};

static const struct {
  const char *name;
  const char *prefix; /* NULL: title words */
} field_names[] = {
    {"type", KB_PREFIX_TYPE},         {"类型", KB_PREFIX_TYPE},
    {"product", KB_PREFIX_PRODUCT},   {"产品", KB_PREFIX_PRODUCT},
    {"category", KB_PREFIX_CATEGORY}, {"分类", KB_PREFIX_CATEGORY},
    {"类别", KB_PREFIX_CATEGORY},     {"priority", KB_PREFIX_PRIORITY},
    {"优先级", KB_PREFIX_PRIORITY},   {"tag", KB_PREFIX_TAG},
    {"标签", KB_PREFIX_TAG},          {"title", NULL},
    {"标题", NULL},
};

static bool is_space_at(const char *s, size_t len, size_t i, size_t *next) {
  size_t n = i;
  int32_t c = kb_utf8_next(s, len, &n);
  *next = n;
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000;
}

/* The closing quote for an opening one, or 0. */
static int32_t closing_quote(int32_t c) {
  switch (c) {
    case '"':
      return '"';
    case 0x201C:
      return 0x201D; /* “ ” */
    case 0x300C:
      return 0x300D; /* 「 」 */
    default:
      return 0;
  }
}

static char *dup_range(const char *s, size_t len) {
  char *p = malloc(len + 1);
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

static item *push_item(kb_query *q, item_kind kind, const char *s, size_t len) {
  if (q->nitems == MAX_ITEMS) return NULL;
  item *it = &q->items[q->nitems];
  *it = (item){.kind = kind, .text = dup_range(s, len)};
  if (!it->text) return NULL;
  q->nitems++;
  return it;
}

/* A chunk "field:value" with a known field becomes a filter or title item. */
static item *field_item(kb_query *q, const char *s, size_t len) {
  for (size_t f = 0; f < sizeof field_names / sizeof field_names[0]; f++) {
    size_t fl = strlen(field_names[f].name);
    if (len <= fl + 1 || strncasecmp(s, field_names[f].name, fl) != 0) continue;
    size_t vs;
    if (s[fl] == ':') vs = fl + 1;
    else if (len > fl + 3 && memcmp(s + fl, "\xEF\xBC\x9A", 3) == 0) vs = fl + 3; /* ： */
    else continue;
    if (vs >= len) return NULL;
    item *it = push_item(q, field_names[f].prefix ? ITEM_FILTER : ITEM_TITLE, s + vs, len - vs);
    if (it) it->prefix = field_names[f].prefix;
    return it;
  }
  return NULL;
}

/* "-word" excludes; "-h", "-9" and "--force" are command flags, not
 * exclusions: a digit, or a single character, after the dash. The word
 * after the dash runs over letters, digits, ideographs and the signs a
 * technical word keeps (c++, c#, e-mail, x.y); space or other punctuation
 * ends it (a pasted "`df -h`", "-h，" are flags). */
static bool is_exclusion(const char *s, size_t len, size_t i) {
  size_t next;
  if (i + 1 >= len || s[i + 1] == '-' || (s[i + 1] >= '0' && s[i + 1] <= '9')) return false;
  if (is_space_at(s, len, i + 1, &next)) return false;
  if ((unsigned char)s[i + 1] >= 0x80 || s[i + 1] == '"') return true;
  size_t chars = 0;
  for (size_t j = i + 1; j < len;) {
    size_t at = j;
    int32_t c = kb_utf8_next(s, len, &j);
    if (c == '+' || c == '#') return chars > 0; /* c++, c# */
    if (c == '.' || c == '-' || c == '_') continue;
    bool word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= 0x80 && !is_space_at(s, len, at, &next) && !kb_is_punct(c));
    if (!word) break;
    if (++chars > 1) return true;
  }
  return false;
}

/* Appends a chunk of plain words to the item before when it is plain words
 * too: they are analysed together anyway, and a pasted log line must not
 * use up the items (false when there is none to join). */
static bool join_words(kb_query *q, const char *s, size_t len) {
  item *last = q->nitems ? &q->items[q->nitems - 1] : NULL;
  if (!last || last->kind != ITEM_WORDS || last->negate) return false;
  size_t n = strlen(last->text);
  char *text = realloc(last->text, n + 1 + len + 1);
  if (!text) return false; /* then an item of its own */
  text[n] = ' ';
  memcpy(text + n + 1, s, len);
  text[n + 1 + len] = '\0';
  last->text = text;
  return true;
}

/* Splits the text into items. Never fails on odd input: an unbalanced quote
 * or a stray operator is plain text. */
static void lex_items(kb_query *q, const char *s, size_t len) {
  size_t i = 0, next;
  bool or_pending = false;
  while (i < len && q->nitems < MAX_ITEMS) {
    if (is_space_at(s, len, i, &next)) {
      i = next;
      continue;
    }
    /* the OR operator, between two items */
    if (len - i >= 2 && memcmp(s + i, "OR", 2) == 0 && q->nitems &&
        (i + 2 == len || is_space_at(s, len, i + 2, &next))) {
      or_pending = true;
      i += 2;
      continue;
    }
    bool negate = false;
    if (s[i] == '-' && is_exclusion(s, len, i)) {
      negate = true;
      i++;
    }
    size_t after = i;
    int32_t close = closing_quote(kb_utf8_next(s, len, &after));
    size_t end = 0, past = 0;
    for (size_t j = after; close && j < len;) {
      size_t at = j;
      if (kb_utf8_next(s, len, &j) == close) {
        end = at;
        past = j;
        break;
      }
    }
    item *it = NULL;
    if (past) {
      it = push_item(q, ITEM_PHRASE, s + after, end - after);
      i = past;
    } else {
      if (close) i = after; /* unbalanced: the quote is dropped, the rest is words */
      size_t j = i;
      while (j < len && !is_space_at(s, len, j, &next)) j = next;
      if (j == i) continue;
      it = field_item(q, s + i, j - i);
      if (!it && !negate && !or_pending && join_words(q, s + i, j - i)) {
        i = j;
        continue;
      }
      if (!it) it = push_item(q, ITEM_WORDS, s + i, j - i);
      i = j;
    }
    if (!it) break;
    it->negate = negate;
    it->or_prev = or_pending;
    or_pending = false;
  }
}

/* ------------------------------------------------------------ analysis */

typedef struct tok {
  char *term;
  char *surface;
  kb_token_kind kind;
  bool alt;
  uint32_t pos;
  size_t start, end;
} tok;

typedef struct tok_list {
  tok *v;
  size_t n, cap;
} tok_list;

static int collect_tok(const kb_token *t, void *ctx) {
  tok_list *l = ctx;
  /* synonym members ask for their compounds; part pairs are made from parts;
   * a variant is there for documents to be found by (the query has it as
   * the word it is) */
  if (t->kind == KB_TOKEN_COMPOUND || t->kind == KB_TOKEN_PAIR || t->kind == KB_TOKEN_VARIANT)
    return 0;
  if (kb_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v) != KB_OK) return KB_ENOMEM;
  tok *o = &l->v[l->n];
  o->term = dup_range(t->term, t->term_len);
  o->surface = dup_range(t->surface, t->surface_len);
  if (!o->term || !o->surface) {
    free(o->term);
    free(o->surface);
    return KB_ENOMEM;
  }
  o->kind = t->kind;
  o->alt = t->alt;
  o->pos = t->pos;
  o->start = t->start;
  o->end = t->end;
  l->n++;
  return 0;
}

static void free_toks(tok_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].term);
    free(l->v[i].surface);
  }
  free(l->v);
  *l = (tok_list){0};
}

/* A term in the visible term spaces: public, or public + internal. */
static kb_qnode *term_node(const kb_query *q, const char *pub_prefix, const char *int_prefix,
                           const char *term) {
  kb_buf b = {0};
  kb_buf_puts(&b, pub_prefix);
  kb_buf_puts(&b, term);
  kb_qnode *n = kb_qnode_new(KB_Q_TERM, b.data, b.len);
  if (n && q->opts.include_internal) {
    kb_qnode *syn = kb_qnode_new(KB_Q_SYNONYM, NULL, 0);
    kb_buf_reset(&b);
    kb_buf_puts(&b, int_prefix);
    kb_buf_puts(&b, term);
    if (syn && kb_qnode_add(syn, n) == KB_OK &&
        kb_qnode_add(syn, kb_qnode_new(KB_Q_TERM, b.data, b.len)) == KB_OK) {
      n = syn;
    } else {
      if (syn) kb_qnode_free(syn); /* n with it, or freed by the failed add */
      else kb_qnode_free(n);
      n = NULL;
    }
  }
  kb_buf_free(&b);
  return n;
}

static kb_qnode *word_node(const kb_query *q, const char *term) {
  return term_node(q, "", KB_PREFIX_INTERNAL, term);
}

/* A phrase over the primaries toks[from..to) in one term space. */
static kb_qnode *phrase_in(const tok_list *l, size_t from, size_t to, const char *prefix) {
  kb_qnode *ph = kb_qnode_new(KB_Q_PHRASE, NULL, 0);
  kb_buf b = {0};
  for (size_t i = from; i < to && ph; i++) {
    if (l->v[i].alt) continue;
    kb_buf_reset(&b);
    kb_buf_puts(&b, prefix);
    kb_buf_puts(&b, l->v[i].term);
    if (kb_qnode_add(ph, kb_qnode_new(KB_Q_TERM, b.data, b.len)) != KB_OK) {
      kb_qnode_free(ph);
      ph = NULL;
    }
  }
  kb_buf_free(&b);
  return ph;
}

/* The phrase of primaries toks[from..to), in every visible term space (the
 * public one's prefix pub, the internal one's internal); a single term when
 * there is only one. */
static kb_qnode *phrase_of(const kb_query *q, const tok_list *l, size_t from, size_t to,
                           const char *pub, const char *internal) {
  size_t primaries = 0, only = from;
  for (size_t i = from; i < to; i++)
    if (!l->v[i].alt) {
      primaries++;
      only = i;
    }
  if (primaries == 0) return NULL;
  if (primaries == 1) return term_node(q, pub, internal, l->v[only].term);
  kb_qnode *p = phrase_in(l, from, to, pub);
  if (!q->opts.include_internal || !p) return p;
  kb_qnode *any = kb_qnode_new(KB_Q_OR, NULL, 0);
  if (!any) {
    kb_qnode_free(p);
    return NULL;
  }
  if (kb_qnode_add(any, p) != KB_OK || kb_qnode_add(any, phrase_in(l, from, to, internal)) != KB_OK) {
    kb_qnode_free(any);
    return NULL;
  }
  return any;
}

static kb_qnode *phrase_node(const kb_query *q, const tok_list *l, size_t from, size_t to) {
  return phrase_of(q, l, from, to, "", KB_PREFIX_INTERNAL);
}

/* The parts toks[from..to) of a technical token, in order: with part pairs
 * in the index, the pair of two parts or the phrase of the pairs of more,
 * which Xapian checks in far fewer documents than the phrase of the parts
 * (192 168 1 10: numbers every log holds); else that phrase. */
static kb_qnode *parts_node(const kb_query *q, const tok_list *l, size_t from, size_t to) {
  if (!q->opts.current_analysis) return phrase_node(q, l, from, to);
  tok_list pairs = {0};
  const char *prev = NULL;
  int rc = KB_OK;
  for (size_t i = from; i < to && rc == KB_OK; i++) {
    if (l->v[i].alt) continue;
    if (prev) {
      rc = kb_grow(&pairs.v, &pairs.cap, pairs.n + 1, sizeof *pairs.v);
      kb_buf b = {0};
      if (rc == KB_OK) rc = kb_buf_printf(&b, "%s %s", prev, l->v[i].term);
      if (rc == KB_OK) pairs.v[pairs.n++] = (tok){.term = kb_buf_detach(&b)};
      else kb_buf_free(&b);
    }
    prev = l->v[i].term;
  }
  kb_qnode *n = rc == KB_OK ? phrase_of(q, &pairs, 0, pairs.n, KB_PREFIX_PAIR,
                                        KB_PREFIX_INTERNAL_PAIR)
                            : NULL;
  free_toks(&pairs);
  return n;
}

/* The synonym group of a one-term member term, or (size_t)-1. */
static size_t group_of_word(const kb_synonyms *s, const char *term) {
  for (size_t i = 0; i < s->n; i++)
    if (s->m[i].nterms == 1 && strcmp(s->m[i].terms[0], term) == 0) return s->m[i].group;
  return (size_t)-1;
}

/* Whether member m's terms are the primaries of l from index i on, one
 * after another. */
static bool member_at(const syn_member *m, const tok_list *l, size_t i) {
  uint32_t pos = l->v[i].pos;
  for (size_t k = 0; k < m->nterms; i++) {
    if (i == l->n) return false;
    if (l->v[i].alt) continue;
    if (l->v[i].pos != pos + k || strcmp(l->v[i].term, m->terms[k]) != 0) return false;
    k++;
  }
  return true;
}

/* Marks member m in snippets: its term, or its compound (a phrase of your
 * own is not marked: its words alone would mark too much). */
static void highlight_member(const kb_query *q, const syn_member *m) {
  const char *mark = m->nterms == 1 ? m->terms[0] : m->compound;
  if (mark) kb_lexicon_add(q->highlights, mark, strlen(mark));
}

/* A member of a synonym group as a query: a term, its compound term when
 * every document has compounds, else a phrase (which Xapian checks against
 * positions in every document holding its words: at 1,000,000 tickets it
 * made 打印机 or 登录, whose groups have one, 5–18 times slower). */
static kb_qnode *member_node(const kb_query *q, const syn_member *m) {
  if (m->nterms == 1) return word_node(q, m->terms[0]);
  if (m->compound && q->opts.current_analysis)
    return term_node(q, KB_PREFIX_COMPOUND, KB_PREFIX_INTERNAL_COMPOUND, m->compound);
  kb_qnode *ph = kb_qnode_new(KB_Q_PHRASE, NULL, 0);
  for (size_t i = 0; i < m->nterms && ph; i++)
    if (kb_qnode_add(ph, kb_qnode_new(KB_Q_TERM, m->terms[i], strlen(m->terms[i]))) != KB_OK) {
      kb_qnode_free(ph);
      ph = NULL;
    }
  return ph;
}

/* The unit n for term, widened to its synonyms (weighted as one term). */
static kb_qnode *with_synonyms(const kb_query *q, kb_qnode *n, const char *term) {
  const kb_synonyms *s = q->opts.synonyms;
  if (!n || !s) return n;
  size_t group = group_of_word(s, term);
  if (group == (size_t)-1) return n;
  kb_qnode *syn = kb_qnode_new(KB_Q_SYNONYM, NULL, 0);
  if (!syn || kb_qnode_add(syn, n) != KB_OK) {
    kb_qnode_free(syn);
    return NULL;
  }
  for (size_t i = 0; i < s->n; i++) {
    const syn_member *m = &s->m[i];
    if (m->group != group || (m->nterms == 1 && strcmp(m->terms[0], term) == 0)) continue;
    highlight_member(q, m);
    if (kb_qnode_add(syn, member_node(q, m)) != KB_OK) {
      kb_qnode_free(syn);
      return NULL;
    }
  }
  return syn;
}

/* Free words that spell a member of several words (`blue screen`, `print
 * queue`, `打印設備`) add the rest of its group as one more unit, as a word
 * brings its group (蓝屏 = BSOD = blue screen): the words still count on
 * their own, and a document that says it another way (蓝屏, 打印队列) matches
 * too. Not counted as a word; a group one of the words already brings is
 * not added twice. */
static int add_member_units(kb_query *q, const tok_list *l, kb_qnode *units) {
  const kb_synonyms *s = q->opts.synonyms;
  if (!s) return KB_OK;
  size_t *seen = calloc(l->n + 1, sizeof *seen);
  if (!seen) return KB_ENOMEM;
  size_t nseen = 0;
  for (size_t i = 0; i < l->n; i++)
    if (!l->v[i].alt) {
      size_t g = group_of_word(s, l->v[i].term);
      if (g != (size_t)-1) seen[nseen++] = g;
    }
  int rc = KB_OK;
  for (size_t i = 0; i < l->n && rc == KB_OK; i++) {
    if (l->v[i].alt) continue;
    for (size_t k = 0; k < s->n && rc == KB_OK; k++) {
      const syn_member *m = &s->m[k];
      if (m->nterms < 2 || !member_at(m, l, i)) continue;
      bool dup = false;
      for (size_t j = 0; j < nseen && !dup; j++) dup = seen[j] == m->group;
      if (dup || nseen > l->n) continue;
      seen[nseen++] = m->group;
      kb_qnode *syn = kb_qnode_new(KB_Q_SYNONYM, NULL, 0);
      rc = syn ? KB_OK : KB_ENOMEM;
      for (size_t j = 0; j < s->n && rc == KB_OK; j++)
        if (s->m[j].group == m->group && j != k) {
          highlight_member(q, &s->m[j]);
          rc = kb_qnode_add(syn, member_node(q, &s->m[j]));
        }
      if (rc == KB_OK && syn->nkids) { /* a group of one member adds nothing */
        rc = kb_qnode_add(units, syn);
        q->units++;
      } else {
        kb_qnode_free(syn);
      }
    }
  }
  free(seen);
  return rc;
}

static void add_highlight(kb_query *q, const tok *t) {
  if (t->kind == KB_TOKEN_BIGRAM) {
    kb_buf b = {0};
    kb_buf_puts(&b, KB_PREFIX_BIGRAM);
    kb_buf_puts(&b, t->term);
    kb_lexicon_add(q->highlights, b.data, b.len);
    kb_buf_free(&b);
  } else {
    kb_lexicon_add(q->highlights, t->term, strlen(t->term));
  }
}

/* Whether every character of w[0..n) is a stop word (都要, 就是, 给我:
 * ICU's words of function characters alone; not 什么时候, whose 什么 and
 * 时候 are stop words but whose characters say when). */
static bool stop_chars_only(const kb_lexicon *stop, const char *w, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t j = i;
    kb_utf8_next(w, n, &j);
    if (!kb_lexicon_contains(stop, w + i, j - i)) return false;
    i = j;
  }
  return n > 0;
}

static bool is_stop(const kb_query *q, const tok *t) {
  if (t->alt || !q->opts.stopwords) return false;
  if (kb_lexicon_contains(q->opts.stopwords, t->surface, strlen(t->surface))) return true;
  return t->kind == KB_TOKEN_CJK && stop_chars_only(q->opts.stopwords, t->term, strlen(t->term));
}

/* The parts of a technical token are the primaries just before its whole
 * (alt TECH) token with a position at or after the whole's. */
static size_t tech_parts_start(const tok_list *l, size_t whole) {
  size_t s = whole;
  while (s > 0 && !l->v[s - 1].alt && l->v[s - 1].pos >= l->v[whole].pos) s--;
  return s;
}

/* The technical token l->v[whole] (its whole, alt TECH): its whole term,
 * or its parts in order. */
static kb_qnode *tech_node(const kb_query *q, const tok_list *l, size_t whole) {
  kb_qnode *either = kb_qnode_new(KB_Q_OR, NULL, 0);
  size_t ps = tech_parts_start(l, whole);
  if (!either || kb_qnode_add(either, word_node(q, l->v[whole].term)) != KB_OK ||
      (whole - ps > 1 && kb_qnode_add(either, parts_node(q, l, ps, whole)) != KB_OK)) {
    kb_qnode_free(either);
    return NULL;
  }
  return either;
}

/* The whole of l when l is one technical token (its parts, then it), else
 * l->n. */
static size_t only_tech(const tok_list *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == KB_TOKEN_TECH) {
      if (tech_parts_start(l, i) != 0) return l->n;
      for (size_t k = i + 1; k < l->n; k++)
        if (!l->v[k].alt) return l->n;
      return i;
    }
  return l->n;
}

/* The technical token l->v[*i] as one unit, its words of four letters or
 * more as a backing (into parts); *i moves past the extra wholes it gave. */
static int add_tech_unit(kb_query *q, const tok_list *l, size_t *i, kb_qnode *units,
                         kb_qnode *parts) {
  const tok *t = &l->v[*i];
  int rc = kb_qnode_add(units, tech_node(q, l, *i));
  size_t ps = tech_parts_start(l, *i);
  /* its words alone back it up, as bigrams back up Chinese words: a text
   * may name OutOfMemoryError without java.lang., or error.log without
   * its folder (numbers and short parts say too little alone) */
  for (size_t k = ps; k < *i && rc == KB_OK; k++)
    if (l->v[k].kind == KB_TOKEN_WORD && strlen(l->v[k].surface) >= 4 && !is_stop(q, &l->v[k])) {
      rc = kb_qnode_add(parts, word_node(q, l->v[k].term));
      q->part_words = true;
    }
  if (rc == KB_OK && *i - ps == 2) {
    /* its pair is marked too: ora12170 in a text with ORA-12170 */
    kb_buf b = {0};
    if (kb_buf_printf(&b, "%s %s", l->v[ps].term, l->v[ps + 1].term) == KB_OK)
      kb_lexicon_add(q->highlights, b.data, b.len);
    kb_buf_free(&b);
  }
  /* v2.4.1 also gives 2.4.1: skip the extra whole */
  while (*i + 1 < l->n && l->v[*i + 1].kind == KB_TOKEN_TECH && l->v[*i + 1].pos == t->pos) {
    add_highlight(q, &l->v[*i + 1]);
    (*i)++;
  }
  return rc;
}

/* Free words: one unit per primary (a technical token is one unit: its
 * whole term or the phrase of its parts), and the bigrams of Chinese runs
 * at a lower weight. Stop words are left out unless nothing else is there. */
static int add_word_units(kb_query *q, const tok_list *l, kb_qnode *units, kb_qnode *bigrams,
                          kb_qnode *parts) {
  bool *drop = calloc(l->n ? l->n : 1, sizeof *drop);
  bool *in_tech = calloc(l->n ? l->n : 1, sizeof *in_tech);
  if (!drop || !in_tech) {
    free(drop);
    free(in_tech);
    return KB_ENOMEM;
  }
  size_t content = 0;
  for (size_t i = 0; i < l->n; i++)
    if (!l->v[i].alt && !is_stop(q, &l->v[i])) content++;
  for (size_t i = 0; i < l->n; i++) drop[i] = content && is_stop(q, &l->v[i]);
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == KB_TOKEN_TECH)
      for (size_t k = tech_parts_start(l, i); k < i; k++) in_tech[k] = true;

  int rc = KB_OK;
  for (size_t i = 0; i < l->n && rc == KB_OK; i++) {
    const tok *t = &l->v[i];
    if (t->kind == KB_TOKEN_BIGRAM) {
      /* a bigram inside a stop word (怎么 of 怎么办) goes with it; one that
       * crosses into a content word (还款 of 还|款) may be what matters */
      bool in_stop = false;
      for (size_t k = 0; k < l->n; k++)
        if (drop[k] && l->v[k].start <= t->start && t->end <= l->v[k].end) in_stop = true;
      if (in_stop) continue;
      add_highlight(q, t);
      rc = kb_qnode_add(bigrams, term_node(q, KB_PREFIX_BIGRAM, KB_PREFIX_INTERNAL_BIGRAM, t->term));
      continue;
    }
    if (t->alt && t->kind != KB_TOKEN_TECH) continue; /* parts of a merged word */
    if (drop[i] || in_tech[i]) continue; /* parts of a technical token mark via its whole */
    add_highlight(q, t);
    q->units++;
    q->word_units++;
    if (t->kind != KB_TOKEN_TECH) {
      rc = kb_qnode_add(units, with_synonyms(q, word_node(q, t->term), t->term));
      continue;
    }
    rc = add_tech_unit(q, l, &i, units, parts);
  }
  free(drop);
  free(in_tech);
  return rc;
}

static int tokenize_into(kb_tokenizer *t, const char *text, tok_list *l, kb_error *err) {
  uint32_t pos = 1;
  int rc = kb_tokenizer_run(t, text, strlen(text), &pos, collect_tok, l, err);
  if (rc > 0 || rc == KB_ENOMEM) return kb_error_set(err, KB_ENOMEM, "out of memory");
  return rc;
}

static void explain_tokens(kb_query *q, const char *text, const tok_list *l) {
  kb_buf *e = &q->explain;
  if (e->len) kb_buf_puts(e, "; ");
  kb_buf_printf(e, "%s →", text);
  for (size_t i = 0; i < l->n; i++)
    if (!l->v[i].alt) kb_buf_printf(e, "%s%s%s", i ? " | " : " ", l->v[i].surface,
                                     is_stop(q, &l->v[i]) ? "(stop)" : "");
  bool any = false;
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i].kind == KB_TOKEN_BIGRAM) {
      kb_buf_printf(e, "%s%s", any ? " " : "  [bigrams: ", l->v[i].term);
      any = true;
    } else if (l->v[i].kind == KB_TOKEN_TECH) {
      kb_buf_printf(e, "  [whole: %s]", l->v[i].term);
    }
  }
  if (any) kb_buf_putc(e, ']');
}

/* The free words (their primaries, in l) as a whole title: one more unit,
 * not counted as a word, weighing EXACT_TITLE_SCALE words. */
static int add_exact_title(kb_query *q, const tok_list *l, kb_qnode *units) {
  kb_buf terms = {0}, term = {0};
  int rc = KB_OK;
  for (size_t i = 0; i < l->n && rc == KB_OK; i++)
    if (!l->v[i].alt) rc = kb_exact_title_key_add(&terms, l->v[i].term, strlen(l->v[i].term));
  if (rc == KB_OK) rc = kb_exact_title_term_of(terms.data, terms.len, &term);
  kb_buf_free(&terms);
  if (rc == KB_OK && term.len) {
    kb_qnode *n = kb_qnode_new(KB_Q_TERM, term.data, term.len);
    if (n) n->scale = EXACT_TITLE_SCALE;
    rc = n ? kb_qnode_add(units, n) : KB_ENOMEM;
    if (rc == KB_OK) q->title_term = kb_buf_detach(&term);
  }
  kb_buf_free(&term);
  return rc;
}

/* A phrase, title or excluded item as one clause in *out: NULL when the
 * item has no words (only punctuation). KB_OK, or the error. */
static int item_clause(kb_query *q, kb_tokenizer *t, const item *it, kb_qnode **out,
                       kb_error *err) {
  *out = NULL;
  tok_list l = {0};
  int rc = tokenize_into(t, it->text, &l, err);
  if (rc != KB_OK) {
    free_toks(&l);
    return rc;
  }
  explain_tokens(q, it->text, &l);
  size_t words = 0;
  for (size_t i = 0; i < l.n; i++) words += !l.v[i].alt;
  kb_qnode *n = NULL;
  if (it->kind == ITEM_TITLE) {
    n = words ? kb_qnode_new(KB_Q_AND, NULL, 0) : NULL;
    kb_buf b = {0};
    for (size_t i = 0; i < l.n && n; i++) {
      if (l.v[i].alt) continue;
      kb_buf_reset(&b);
      kb_buf_puts(&b, KB_PREFIX_TITLE);
      kb_buf_puts(&b, l.v[i].term);
      if (!b.data || kb_qnode_add(n, kb_qnode_new(KB_Q_TERM, b.data, b.len)) != KB_OK) {
        kb_qnode_free(n);
        n = NULL;
      }
      add_highlight(q, &l.v[i]);
    }
    kb_buf_free(&b);
  } else if (words) {
    for (size_t i = 0; i < l.n; i++)
      if (!l.v[i].alt && !it->negate) add_highlight(q, &l.v[i]);
    /* "3-2-1" is that technical token, as the same words unquoted */
    size_t whole = only_tech(&l);
    n = whole < l.n ? tech_node(q, &l, whole) : phrase_node(q, &l, 0, l.n);
  }
  free_toks(&l);
  if (words && !n) return kb_error_set(err, KB_ENOMEM, "query: out of memory");
  *out = n;
  return KB_OK;
}

/* Adds n to the OR group that ends the list, or as a new group. */
static int add_grouped(kb_qnode **list, kb_qop list_op, kb_qnode *n, bool or_prev) {
  if (!*list && !(*list = kb_qnode_new(list_op, NULL, 0))) {
    kb_qnode_free(n);
    return KB_ENOMEM;
  }
  kb_qnode *l = *list;
  if (or_prev && l->nkids) {
    kb_qnode *last = l->kids[l->nkids - 1];
    if (last->op != KB_Q_OR || last->scale != 1.0 || last->term) {
      /* the previous clause moves into a new OR group with n */
      kb_qnode *g = kb_qnode_new(KB_Q_OR, NULL, 0);
      if (!g || kb_grow(&g->kids, &g->cap, 1, sizeof *g->kids) != KB_OK) {
        kb_qnode_free(g);
        kb_qnode_free(n);
        return KB_ENOMEM;
      }
      g->kids[g->nkids++] = last;
      l->kids[l->nkids - 1] = g;
      last = g;
    }
    return kb_qnode_add(last, n);
  }
  return kb_qnode_add(l, n);
}

/* The filter node of a field value; NULL when out of memory. */
static kb_qnode *filter_node(const char *prefix, const char *value) {
  kb_buf term = {0};
  kb_filter_term(prefix, value, &term);
  kb_qnode *n = term.data ? kb_qnode_new(KB_Q_FILTER, term.data, term.len) : NULL;
  kb_buf_free(&term);
  return n;
}

/* -field:value: documents with that value are left out. */
static int exclude_filter(kb_query *q, const item *it) {
  kb_qnode *n = filter_node(it->prefix, it->text);
  if (!n) return KB_ENOMEM;
  q->units++;
  return add_grouped(&q->excluded, KB_Q_OR, n, false);
}

static int build_parts(kb_query *q, kb_tokenizer *t, kb_error *err) {
  kb_qnode *units = kb_qnode_new(KB_Q_OR, NULL, 0);
  kb_qnode *bigrams = kb_qnode_new(KB_Q_OR, NULL, 0);
  kb_qnode *parts = kb_qnode_new(KB_Q_OR, NULL, 0);
  kb_buf words = {0};
  int rc = units && bigrams && parts ? KB_OK : KB_ENOMEM;
  for (size_t i = 0; i < q->nitems && rc == KB_OK; i++) {
    item *it = &q->items[i];
    if (it->kind == ITEM_FILTER) {
      rc = it->negate ? exclude_filter(q, it) : kb_query_add_filter(q, it->prefix, it->text);
      continue;
    }
    if (it->kind == ITEM_WORDS && !it->negate) {
      /* free words are analysed together, so a Chinese run split by a space
       * still forms its bigrams per piece */
      if (words.len) kb_buf_putc(&words, ' ');
      kb_buf_puts(&words, it->text);
      continue;
    }
    kb_qnode *c = NULL;
    rc = item_clause(q, t, it, &c, err);
    if (rc != KB_OK || !c) continue;
    if (it->negate) rc = add_grouped(&q->excluded, KB_Q_OR, c, false);
    else rc = add_grouped(&q->required, KB_Q_AND, c, it->or_prev);
    q->units++;
  }
  if (rc == KB_OK && words.len) {
    tok_list l = {0};
    rc = tokenize_into(t, words.data, &l, err);
    if (rc == KB_OK) {
      explain_tokens(q, words.data, &l);
      rc = add_word_units(q, &l, units, bigrams, parts);
    }
    if (rc == KB_OK) rc = add_member_units(q, &l, units);
    if (rc == KB_OK && units->nkids) rc = add_exact_title(q, &l, units);
    free_toks(&l);
  }
  kb_buf_free(&words);
  if (rc == KB_OK && bigrams->nkids) {
    bigrams->scale = BIGRAM_SCALE;
    rc = kb_qnode_add(units, bigrams);
    bigrams = NULL;
  }
  kb_qnode_free(bigrams);
  if (rc == KB_OK && parts->nkids) {
    parts->scale = PART_SCALE;
    rc = kb_qnode_add(units, parts);
    parts = NULL;
  }
  kb_qnode_free(parts);
  if (units) units->window = ELITE_TERMS;
  if (rc == KB_OK && units->nkids) q->words = units;
  else kb_qnode_free(units);
  if (rc == KB_OK) return KB_OK;
  /* a tokenizer error has said what it was; only a bare status needs words */
  if (err && err->code == rc && err->message[0]) return rc;
  return kb_error_set(err, rc, "query: %s", kb_strerror(rc));
}

int kb_query_parse(kb_tokenizer *t, const char *text, size_t len, const kb_query_opts *opts,
                   kb_query **out, kb_error *err) {
  *out = NULL;
  kb_query *q = calloc(1, sizeof *q);
  if (!q || !(q->highlights = kb_lexicon_new())) {
    free(q);
    return kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  if (opts) q->opts = *opts;
  /* keep only valid UTF-8: user text is never an error */
  kb_buf clean = {0};
  for (size_t i = 0; i < len;) {
    size_t at = i;
    if (kb_utf8_next(text, len, &i) > 0) kb_buf_append(&clean, text + at, i - at);
  }
  lex_items(q, clean.data ? clean.data : "", clean.len);
  kb_buf_free(&clean);
  int rc = build_parts(q, t, err);
  if (rc != KB_OK) {
    kb_query_free(q);
    return rc;
  }
  *out = q;
  return KB_OK;
}

void kb_query_free(kb_query *q) {
  if (!q) return;
  for (size_t i = 0; i < q->nitems; i++) free(q->items[i].text);
  for (size_t i = 0; i < q->nfilters; i++) free(q->filters[i].value);
  kb_qnode_free(q->tree);
  kb_qnode_free(q->words);
  kb_qnode_free(q->required);
  kb_qnode_free(q->excluded);
  kb_qnode_free(q->ranges);
  kb_lexicon_free(q->highlights);
  kb_buf_free(&q->explain);
  free(q->title_term);
  free(q);
}

int kb_query_add_filter(kb_query *q, const char *prefix, const char *value) {
  if (q->nfilters == MAX_ITEMS) return KB_ETOOBIG;
  char *v = strdup(value);
  if (!v) return KB_ENOMEM;
  q->filters[q->nfilters].prefix = prefix;
  q->filters[q->nfilters].value = v;
  q->nfilters++;
  kb_qnode_free(q->tree);
  q->tree = NULL;
  return KB_OK;
}

int kb_query_add_range(kb_query *q, unsigned slot, const char *from, const char *to) {
  if (!q->ranges && !(q->ranges = kb_qnode_new(KB_Q_AND, NULL, 0))) return KB_ENOMEM;
  kb_qnode *r = kb_qnode_new(KB_Q_VALUE_RANGE, from ? from : "", from ? strlen(from) : 0);
  if (!r) return KB_ENOMEM;
  r->window = slot;
  if (to && !(r->term2 = strdup(to))) {
    kb_qnode_free(r);
    return KB_ENOMEM;
  }
  kb_qnode_free(q->tree);
  q->tree = NULL;
  return kb_qnode_add(q->ranges, r);
}

/* ------------------------------------------------------------ the tree */

/* A deep copy, so that the tree can be rebuilt after more filters. */
static kb_qnode *copy_node(const kb_qnode *n) {
  if (!n) return NULL;
  kb_qnode *c = kb_qnode_new(n->op, n->term, n->term ? strlen(n->term) : 0);
  if (!c) return NULL;
  c->scale = n->scale;
  c->window = n->window;
  if (n->term2 && !(c->term2 = strdup(n->term2))) {
    kb_qnode_free(c);
    return NULL;
  }
  for (size_t i = 0; i < n->nkids; i++)
    if (kb_qnode_add(c, copy_node(n->kids[i])) != KB_OK) {
      kb_qnode_free(c);
      return NULL;
    }
  return c;
}

/* Frees n; NULL, for `n = drop(n)` where building n failed. */
static kb_qnode *drop(kb_qnode *n) {
  kb_qnode_free(n);
  return NULL;
}

static kb_qnode *filter_tree(const kb_query *q) {
  kb_qnode *all = kb_qnode_new(KB_Q_AND, NULL, 0);
  for (size_t i = 0; i < q->nfilters && all; i++) {
    const char *prefix = q->filters[i].prefix;
    bool seen = false;
    for (size_t k = 0; k < i; k++) seen |= q->filters[k].prefix == prefix;
    if (seen) continue;
    kb_qnode *any = kb_qnode_new(KB_Q_OR, NULL, 0);
    for (size_t k = i; k < q->nfilters && any; k++) {
      if (q->filters[k].prefix != prefix) continue;
      if (kb_qnode_add(any, filter_node(prefix, q->filters[k].value)) != KB_OK) {
        kb_qnode_free(any);
        any = NULL;
      }
    }
    if (kb_qnode_add(all, any) != KB_OK) all = drop(all);
  }
  for (size_t i = 0; all && q->ranges && i < q->ranges->nkids; i++)
    if (kb_qnode_add(all, copy_node(q->ranges->kids[i])) != KB_OK) all = drop(all);
  if (all && !q->opts.include_internal &&
      kb_qnode_add(all, filter_node(KB_PREFIX_VISIBILITY, "public")) != KB_OK)
    all = drop(all);
  return all;
}

static kb_qnode *build_tree(const kb_query *q) {
  kb_qnode *main;
  if (q->required && q->words) {
    main = kb_qnode_new(KB_Q_AND_MAYBE, NULL, 0);
    if (main && (kb_qnode_add(main, copy_node(q->required)) != KB_OK ||
                 kb_qnode_add(main, copy_node(q->words)) != KB_OK))
      main = drop(main);
  } else if (q->required) {
    main = copy_node(q->required);
  } else if (q->words) {
    main = copy_node(q->words);
  } else if (q->excluded || q->nfilters || !q->nitems) {
    main = kb_qnode_new(KB_Q_MATCH_ALL, NULL, 0);
  } else {
    main = kb_qnode_new(KB_Q_OR, NULL, 0); /* nothing searchable: matches nothing */
  }
  if (main && q->excluded) {
    kb_qnode *n = kb_qnode_new(KB_Q_AND_NOT, NULL, 0);
    if (!n) main = drop(main);
    else if (kb_qnode_add(n, main) == KB_OK && kb_qnode_add(n, copy_node(q->excluded)) == KB_OK)
      main = n;
    else
      main = drop(n); /* main with it, or freed by the failed add */
  }
  kb_qnode *filters = filter_tree(q);
  if (!main || !filters) {
    kb_qnode_free(main);
    kb_qnode_free(filters);
    return NULL;
  }
  if (!filters->nkids) {
    kb_qnode_free(filters);
    return main;
  }
  kb_qnode *f = kb_qnode_new(KB_Q_FILTERED, NULL, 0);
  if (!f || kb_qnode_add(f, main) != KB_OK) { /* the failed add freed main */
    if (!f) kb_qnode_free(main);
    kb_qnode_free(filters);
    return drop(f);
  }
  return kb_qnode_add(f, filters) == KB_OK ? f : drop(f);
}

kb_qnode *kb_query_filters(const kb_query *q) { return filter_tree(q); }

const kb_qnode *kb_query_tree(kb_query *q) {
  if (!q->tree) q->tree = build_tree(q);
  return q->tree;
}

const kb_lexicon *kb_query_highlights(const kb_query *q) { return q->highlights; }

const char *kb_query_title_term(const kb_query *q) { return q->title_term; }

int kb_query_explain(const kb_query *q, kb_buf *out) {
  return kb_buf_append(out, q->explain.data ? q->explain.data : "", q->explain.len);
}

size_t kb_query_size(const kb_query *q) { return q->units + q->nfilters; }

double kb_query_match_fraction(const kb_query *q) {
  /* a technical token backed up by its words is several words too */
  return (q->word_units >= 2 || q->part_words) && !q->required ? MATCH_FRACTION : 0;
}
