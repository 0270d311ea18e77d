/* analyze.c — documents into index terms, filter terms, values and data. */
#include "kb/analyze.h"
#include "kb/markdown.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Positions between segments, so that a phrase never spans two of them. */
#define SEGMENT_GAP 8

typedef struct analyze_ctx {
  kb_xdoc *xd;
  kb_audiences who; /* the versions the segment goes to: the audiences that may read it */
  /* by audience: the positions of the segments before that it may not
   * read, taken off its positions, so that its version is as if they were
   * not there (a NEAR across a hidden section must not depend on its length) */
  uint32_t shift[KB_AUDIENCE_COUNT];
  bool shifted; /* some shift is not 0 */
  kb_buf term;
  const char *word_prefix;
  const char *bigram_prefix;
  const char *compound_prefix;
  const char *pair_prefix;
  uint32_t weight;
  bool title;
  kb_buf title_key; /* the title's primary terms, for its exact-title term */
  bool public_doc; /* only a public document's words may be suggested */
  int rc;
} analyze_ctx;

/* A posting in every version the segment goes to, at each one's position. */
static int add_posting(analyze_ctx *c, uint32_t pos, uint32_t wdf) {
  if (!c->shifted) return kb_xdoc_add_posting_for(c->xd, c->who, c->term.data, c->term.len, pos, wdf);
  int rc = KB_OK;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT && rc == KB_OK; a++)
    if (c->who & (1u << a))
      rc = kb_xdoc_add_posting_for(c->xd, 1u << a, c->term.data, c->term.len,
                                   pos ? pos - c->shift[a] : 0, wdf);
  return rc;
}

static int add_token(const kb_token *tok, void *vctx) {
  analyze_ctx *c = vctx;
  kb_buf_reset(&c->term);
  if (tok->kind == KB_TOKEN_COMPOUND || tok->kind == KB_TOKEN_PAIR) {
    /* a compound is matched whole, never in a phrase; pairs keep positions
     * (a token of three parts is a phrase of its pairs) */
    bool pair = tok->kind == KB_TOKEN_PAIR;
    kb_buf_puts(&c->term, pair ? c->pair_prefix : c->compound_prefix);
    kb_buf_append(&c->term, tok->term, tok->term_len);
    return c->rc = add_posting(c, pair ? tok->pos : 0, c->weight);
  }
  bool bigram = tok->kind == KB_TOKEN_BIGRAM;
  kb_buf_puts(&c->term, bigram ? c->bigram_prefix : c->word_prefix);
  kb_buf_append(&c->term, tok->term, tok->term_len);
  c->rc = add_posting(c, bigram ? 0 : tok->pos, c->weight);
  /* surface forms of public Latin words, for completions (stems are not words) */
  if (c->rc == KB_OK && tok->kind == KB_TOKEN_WORD && !*c->word_prefix) {
    kb_buf_reset(&c->term);
    kb_buf_puts(&c->term, KB_PREFIX_SURFACE);
    kb_buf_append(&c->term, tok->surface, tok->surface_len);
    c->rc = add_posting(c, 0, 0);
    if (c->rc == KB_OK && c->public_doc && tok->surface_len >= 3 && tok->surface_len <= 30)
      c->rc = kb_xdoc_add_spelling_for(c->xd, c->who, tok->surface, tok->surface_len);
  }
  if (c->rc == KB_OK && c->title && !bigram) {
    kb_buf_reset(&c->term);
    kb_buf_puts(&c->term, KB_PREFIX_TITLE);
    kb_buf_append(&c->term, tok->term, tok->term_len);
    c->rc = add_posting(c, tok->pos, 1);
  }
  if (c->rc == KB_OK && c->title && !tok->alt)
    c->rc = kb_exact_title_key_add(&c->title_key, tok->term, tok->term_len);
  return c->rc;
}

static uint32_t segment_weight(kb_segment_kind k) {
  switch (k) {
    case KB_SEG_TITLE:
      return 5;
    case KB_SEG_HEADING:
    case KB_SEG_TAGS:
      return 3;
    case KB_SEG_PROBLEM:
      return 2;
    default:
      return 1;
  }
}

int kb_filter_term(const char *prefix, const char *value, kb_buf *out) {
  while (*value == ' ' || *value == '\t') value++;
  size_t n = strlen(value);
  while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
  if (kb_buf_puts(out, prefix) != KB_OK) return KB_ENOMEM;
  return kb_text_fold(value, n, out, NULL);
}

int kb_id_term(const char *id, kb_buf *out) {
  if (kb_buf_puts(out, KB_PREFIX_ID) != KB_OK) return KB_ENOMEM;
  return kb_buf_puts(out, id);
}

static int add_filter(kb_xdoc *xd, const char *prefix, const char *value, kb_buf *tmp) {
  if (!value || !*value) return KB_OK;
  kb_buf_reset(tmp);
  int rc = kb_filter_term(prefix, value, tmp);
  if (rc != KB_OK || tmp->len > 200) return rc;
  return kb_xdoc_add_term(xd, tmp->data, tmp->len, 0);
}

static int set_value(kb_xdoc *xd, unsigned slot, const char *v) {
  return v ? kb_xdoc_set_value(xd, slot, v, strlen(v)) : KB_OK;
}

/* KB_SLOT_FACETS: the four facet slots' values in one. */
static int add_joined_facets(const kb_doc *doc, kb_xdoc *xd, kb_buf *tmp) {
  static const kb_field fields[] = {KB_FIELD_TYPE, KB_FIELD_PRODUCT, KB_FIELD_CATEGORY,
                                    KB_FIELD_PRIORITY};
  kb_buf_reset(tmp);
  int rc = KB_OK;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == KB_OK; i++) {
    if (i) rc = kb_buf_putc(tmp, KB_FACET_SEP);
    size_t from = tmp->len;
    const char *v = kb_doc_get(doc, fields[i]);
    if (rc == KB_OK && v) rc = kb_filter_term("", v, tmp);
    for (size_t k = from; k < tmp->len; k++)
      if (tmp->data[k] == KB_FACET_SEP) tmp->data[k] = ' ';
  }
  return rc == KB_OK ? kb_xdoc_set_value(xd, KB_SLOT_FACETS, tmp->data, tmp->len) : rc;
}

/* Filter terms and value slots. */
static int add_facets(const kb_doc *doc, kb_xdoc *xd) {
  kb_buf tmp = {0};
  int rc = add_joined_facets(doc, xd, &tmp);
  static const struct {
    kb_field field;
    const char *prefix;
    int slot;
  } map[] = {
      {KB_FIELD_TYPE, KB_PREFIX_TYPE, KB_SLOT_TYPE},
      {KB_FIELD_PRODUCT, KB_PREFIX_PRODUCT, KB_SLOT_PRODUCT},
      {KB_FIELD_CATEGORY, KB_PREFIX_CATEGORY, KB_SLOT_CATEGORY},
      {KB_FIELD_PRIORITY, KB_PREFIX_PRIORITY, KB_SLOT_PRIORITY},
      {KB_FIELD_VISIBILITY, KB_PREFIX_VISIBILITY, KB_SLOT_VISIBILITY},
      {KB_FIELD_LANGUAGE, KB_PREFIX_LANGUAGE, -1},
      {KB_FIELD_FIX, KB_PREFIX_FIX, -1},
      {KB_FIELD_UPDATED, NULL, KB_SLOT_UPDATED},
      {KB_FIELD_SOURCE, NULL, KB_SLOT_SOURCE},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0] && rc == KB_OK; i++) {
    const char *v = kb_doc_get(doc, map[i].field);
    if (map[i].prefix) rc = add_filter(xd, map[i].prefix, v, &tmp);
    if (rc == KB_OK && map[i].slot >= 0) {
      /* facet values are the same folded form as the filter terms */
      if (map[i].prefix && v) {
        kb_buf_reset(&tmp);
        rc = kb_filter_term("", v, &tmp);
        if (rc == KB_OK) rc = kb_xdoc_set_value(xd, (unsigned)map[i].slot, tmp.data, tmp.len);
      } else {
        rc = set_value(xd, (unsigned)map[i].slot, v);
      }
    }
  }
  const char *tags = kb_doc_get(doc, KB_FIELD_TAGS);
  for (const char *t = tags; t && *t && rc == KB_OK;) {
    size_t sep_len = 0;
    const char *e = kb_list_next_sep(t, &sep_len);
    char one[256];
    size_t n = (size_t)(e - t) < sizeof one - 1 ? (size_t)(e - t) : sizeof one - 1;
    memcpy(one, t, n);
    one[n] = '\0';
    if (kb_utf8_valid(one, n, NULL)) rc = add_filter(xd, KB_PREFIX_TAG, one, &tmp);
    if (!sep_len) break;
    t = e + sep_len;
  }
  kb_buf_free(&tmp);
  return rc;
}

/* The Markdown source (an article's body, a ticket's problem and
 * resolution) in its value slot: whole for the audiences that may read
 * internal sections (sections), without them for the others (when the
 * document has any), so that what they are shown is made of what they may
 * read. */
static bool has_internal_sections(const kb_doc *doc) {
  for (size_t i = 0; i < kb_doc_segment_count(doc); i++)
    if (kb_doc_segment(doc, i)->internal) return true;
  return false;
}

static int add_sources(const kb_doc *doc, kb_xdoc *xd, kb_audiences sections, kb_buf *view) {
  bool hidden = has_internal_sections(doc);
  static const struct {
    kb_field field;
    unsigned slot;
  } map[] = {{KB_FIELD_BODY, KB_SLOT_BODY}, {KB_FIELD_RESOLUTION, KB_SLOT_RESOLUTION}};
  int rc = KB_OK;
  kb_buf pub = {0};
  for (size_t i = 0; i < sizeof map / sizeof map[0] && rc == KB_OK; i++) {
    const char *v = kb_doc_get(doc, map[i].field);
    if (!v) continue;
    if (!hidden) {
      rc = kb_xdoc_set_value(xd, map[i].slot, v, strlen(v));
      continue;
    }
    rc = kb_xdoc_set_value_for(xd, sections, map[i].slot, v, strlen(v));
    kb_buf_reset(&pub);
    if (rc == KB_OK) rc = kb_markdown_public(v, strlen(v), &pub);
    if (rc == KB_OK)
      rc = kb_xdoc_set_value_for(xd, KB_AUDIENCES_ALL & ~sections, map[i].slot,
                                 pub.data ? pub.data : "", pub.len);
    if (rc == KB_OK) rc = kb_buf_printf(view, "\x1e%u", map[i].slot);
    if (rc == KB_OK) rc = kb_buf_append(view, pub.data ? pub.data : "", pub.len);
  }
  kb_buf_free(&pub);
  return rc;
}

/* KB_SLOT_HASH of each version: the document's content hash for those
 * that read all of it; for those that may not read its internal sections,
 * a hash of what they read (the fields, the public sections and sources in
 * view), so that a change of an internal section leaves their version as
 * it was and the writer does not store it again. */
static int add_hashes(const kb_doc *doc, kb_xdoc *xd, kb_audiences sections, kb_buf *view) {
  const char *hash = kb_doc_get(doc, KB_FIELD_HASH);
  if (!hash) return KB_OK;
  if (!has_internal_sections(doc)) return kb_xdoc_set_value(xd, KB_SLOT_HASH, hash, strlen(hash));
  int rc = kb_xdoc_set_value_for(xd, sections, KB_SLOT_HASH, hash, strlen(hash));
  kb_buf b = {0};
  kb_buf_puts(&b, KB_ANALYZER_VERSION);
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    if (f == KB_FIELD_HASH || f == KB_FIELD_BODY || f == KB_FIELD_RESOLUTION) continue;
    kb_buf_printf(&b, "\x1f%d=%s", f, v ? v : "");
  }
  for (size_t i = 0; i < kb_doc_segment_count(doc); i++) {
    const kb_segment *s = kb_doc_segment(doc, i);
    if (s->internal) continue;
    kb_buf_printf(&b, "\x1e%d", (int)s->kind);
    kb_buf_append(&b, s->text, s->len);
  }
  kb_buf_append(&b, view->data ? view->data : "", view->len);
  char hex[17];
  if (!b.data) rc = KB_ENOMEM;
  if (rc == KB_OK) {
    kb_hash_hex(b.data, b.len, hex);
    rc = kb_xdoc_set_value_for(xd, KB_AUDIENCES_ALL & ~sections, KB_SLOT_HASH, hex, 16);
  }
  kb_buf_free(&b);
  return rc;
}

/* The stored data: the fields as JSON; the public and internal plain text
 * that snippets are cut from go to value slots, so that a search reads them
 * without parsing anything. */
static int build_data(const kb_doc *doc, kb_xdoc *xd, kb_audiences sections) {
  json_t *o = json_object();
  kb_buf pub = {0}, internal = {0};
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    /* not the hash: the content of every section, kept in KB_SLOT_HASH
     * of the versions it is true of */
    if (v && f != KB_FIELD_BODY && f != KB_FIELD_RESOLUTION && f != KB_FIELD_HASH)
      json_object_set_new(o, kb_field_name((kb_field)f), json_string(v));
  }
  for (size_t i = 0; i < kb_doc_segment_count(doc); i++) {
    const kb_segment *s = kb_doc_segment(doc, i);
    if (s->kind == KB_SEG_TITLE || s->kind == KB_SEG_TAGS) continue;
    kb_buf *b = s->internal ? &internal : &pub;
    if (b->len) kb_buf_putc(b, '\n');
    kb_buf_append(b, s->text, s->len);
  }
  /* a ticket's text is its problem and resolution, already in their own
   * slots: not stored twice (kb_search joins them). Only a ticket's: an
   * article's body is its Markdown, internal sections and all, and a public
   * text too empty to store must not read as "join them". */
  const char *type = kb_doc_get(doc, KB_FIELD_TYPE);
  bool ticket = type && strcmp(type, "ticket") == 0;
  kb_buf joined = {0};
  const char *body = kb_doc_get(doc, KB_FIELD_BODY), *res = kb_doc_get(doc, KB_FIELD_RESOLUTION);
  if (body) kb_buf_puts(&joined, body);
  if (body && res) kb_buf_putc(&joined, '\n');
  if (res) kb_buf_puts(&joined, res);
  bool derivable = ticket && joined.len == pub.len &&
                   (!pub.len || memcmp(joined.data, pub.data, pub.len) == 0);
  kb_buf_free(&joined);
  int rc = derivable ? KB_OK : kb_xdoc_set_value(xd, KB_SLOT_TEXT, pub.data ? pub.data : "", pub.len);
  if (rc == KB_OK && internal.len)
    rc = kb_xdoc_set_value_for(xd, sections, KB_SLOT_ITEXT, internal.data, internal.len);
  char *s = json_dumps(o, JSON_COMPACT);
  if (rc == KB_OK) rc = s ? kb_xdoc_set_data(xd, s, strlen(s)) : KB_ENOMEM;
  free(s);
  json_decref(o);
  kb_buf_free(&pub);
  kb_buf_free(&internal);
  return rc;
}

int kb_exact_title_key_add(kb_buf *key, const char *term, size_t len) {
  if (key->len && kb_buf_putc(key, ' ') != KB_OK) return KB_ENOMEM;
  return kb_buf_append(key, term, len);
}

int kb_exact_title_term_of(const char *key, size_t len, kb_buf *out) {
  if (!len) return KB_OK;
  return kb_buf_printf(out, "%s%016llx", KB_PREFIX_EXACT_TITLE,
                       (unsigned long long)kb_fnv1a(key, len));
}

/* The exact-title term of the title segment just analysed (its key). */
static int add_exact_title(analyze_ctx *c, const char *id, kb_error *err) {
  kb_buf_reset(&c->term);
  int rc = kb_exact_title_term_of(c->title_key.data, c->title_key.len, &c->term);
  if (rc == KB_OK && c->term.len) rc = add_posting(c, 0, 1);
  return rc == KB_OK ? KB_OK : kb_error_set(err, rc, "%s: out of memory", id);
}

int kb_analyze_doc(kb_tokenizer *t, const kb_doc *doc, kb_xdoc **out, kb_error *err) {
  *out = NULL;
  const char *id = kb_doc_get(doc, KB_FIELD_ID);
  if (!id || !kb_doc_get(doc, KB_FIELD_TYPE))
    return kb_error_set(err, KB_EINVAL, "document without id or type");
  kb_xdoc *xd;
  if (kb_xdoc_new(&xd) != KB_OK) return kb_error_set(err, KB_ENOMEM, "out of memory");
  analyze_ctx c = {.xd = xd, .public_doc = !kb_doc_is_internal(doc)};
  /* a version for each audience that may see it; its internal sections go
   * to those that may read them */
  kb_audiences who = kb_audiences_of(doc), sections = who & kb_audiences_internal_sections();
  kb_xdoc_set_audiences(xd, who);
  uint32_t pos = 1;
  int rc = kb_xdoc_add_term(xd, KB_TERM_ANALYZED, strlen(KB_TERM_ANALYZED), 0);
  for (size_t i = 0; i < kb_doc_segment_count(doc) && rc == KB_OK; i++) {
    const kb_segment *s = kb_doc_segment(doc, i);
    c.who = s->internal ? sections : who;
    uint32_t from = pos;
    c.word_prefix = s->internal ? KB_PREFIX_INTERNAL : "";
    c.bigram_prefix = s->internal ? KB_PREFIX_INTERNAL_BIGRAM : KB_PREFIX_BIGRAM;
    c.compound_prefix = s->internal ? KB_PREFIX_INTERNAL_COMPOUND : KB_PREFIX_COMPOUND;
    c.pair_prefix = s->internal ? KB_PREFIX_INTERNAL_PAIR : KB_PREFIX_PAIR;
    c.weight = segment_weight(s->kind);
    c.title = s->kind == KB_SEG_TITLE;
    rc = kb_tokenizer_run(t, s->text, s->len, &pos, add_token, &c, err);
    if (rc != KB_OK && rc == c.rc) kb_error_set(err, rc, "%s: out of memory", id);
    if (rc == KB_OK && c.title && !s->internal) rc = add_exact_title(&c, id, err);
    kb_buf_reset(&c.title_key);
    pos += SEGMENT_GAP;
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
      if ((who & ~c.who) & (1u << a)) {
        c.shift[a] += pos - from;
        c.shifted = true;
      }
  }
  if (rc == KB_OK && (rc = add_facets(doc, xd)) != KB_OK)
    kb_error_set(err, rc, "%s: out of memory", id);
  kb_buf view = {0}; /* the public sources, for add_hashes */
  if (rc == KB_OK && (rc = add_sources(doc, xd, sections, &view)) != KB_OK)
    kb_error_set(err, rc, "%s: out of memory", id);
  if (rc == KB_OK && (rc = add_hashes(doc, xd, sections, &view)) != KB_OK)
    kb_error_set(err, rc, "%s: out of memory", id);
  kb_buf_free(&view);
  if (rc == KB_OK && (rc = build_data(doc, xd, sections)) != KB_OK)
    kb_error_set(err, rc, "%s: out of memory", id);
  kb_buf_free(&c.term);
  kb_buf_free(&c.title_key);
  if (rc != KB_OK) {
    kb_xdoc_free(xd);
    return rc;
  }
  *out = xd;
  return KB_OK;
}
