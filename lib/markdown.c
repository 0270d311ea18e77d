/* markdown.c — front matter and cmark: articles into kb_doc, Markdown into
 * safe HTML. */
#include "kb/markdown.h"

#include <cmark.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERNAL_MARK "{internal}"
#define FIELD_MAX 1024 /* bytes, for any front matter value */

/* ------------------------------------------------------------ front matter */

static const char *skip_ws(const char *s, const char *e) {
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  return s;
}

static const char *trim_end(const char *s, const char *e) {
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
  return e;
}

static bool line_is_fence(const char *s, const char *e) {
  e = trim_end(s, e);
  return e - s == 3 && memcmp(s, "---", 3) == 0;
}

static bool valid_id(const char *v) {
  if (!*v || *v == '/' || strstr(v, "..")) return false;
  for (const char *p = v; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '/' || c == '_' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

static const char *const known_keys[] = {"id", "title", "product", "category", "tags",
                                         "visibility", "updated", "date", "priority"};

static bool known_key(const char *k, size_t len) {
  for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
    if (strlen(known_keys[i]) == len && memcmp(known_keys[i], k, len) == 0) return true;
  return false;
}

/* Sets one front matter key on doc; returns a reason on a bad value. */
static const char *set_front_field(kb_doc *doc, const char *key, char *val) {
  size_t vlen = strlen(val);
  /* tags may be written as a YAML flow list: [a, b] */
  if (strcmp(key, "tags") == 0 && vlen >= 2 && val[0] == '[' && val[vlen - 1] == ']') {
    memmove(val, val + 1, vlen - 2);
    val[vlen - 2] = '\0';
  }
  if (strcmp(key, "visibility") == 0) {
    if (strcmp(val, "public") && strcmp(val, "internal"))
      return "visibility 必须是 public 或 internal (must be public or internal)";
    kb_doc_set_str(doc, KB_FIELD_VISIBILITY, val);
  } else if (strcmp(key, "updated") == 0 || strcmp(key, "date") == 0) {
    if (!kb_text_is_date(val)) return "日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD)";
    kb_doc_set_str(doc, KB_FIELD_UPDATED, val);
  } else if (strcmp(key, "id") == 0) {
    /* "a/" is the prefix every article id gets: what follows it is the id,
     * and "a/" alone or "a//x" would be none */
    if (!valid_id(strncmp(val, "a/", 2) == 0 ? val + 2 : val))
      return "id 只能包含字母、数字和 / _ - . (invalid id)";
    char buf[FIELD_MAX + 3];
    snprintf(buf, sizeof buf, "%s%s", strncmp(val, "a/", 2) == 0 ? "" : "a/", val);
    kb_doc_set_str(doc, KB_FIELD_ID, buf);
  } else if (strcmp(key, "title") == 0) {
    if (!*val) return "标题为空 (empty title)";
    kb_doc_set_str(doc, KB_FIELD_TITLE, val);
  } else if (strcmp(key, "product") == 0) {
    kb_doc_set_str(doc, KB_FIELD_PRODUCT, val);
  } else if (strcmp(key, "category") == 0) {
    kb_doc_set_str(doc, KB_FIELD_CATEGORY, val);
  } else if (strcmp(key, "tags") == 0) {
    kb_doc_set_str(doc, KB_FIELD_TAGS, val);
  } else if (strcmp(key, "priority") == 0) {
    kb_doc_set_str(doc, KB_FIELD_PRIORITY, val);
  }
  /* other keys (author, draft, …) are accepted and ignored */
  return NULL;
}

/* Parses the front matter at src (which starts with a "---" line). On
 * success *body_off is where the Markdown starts. */
static int parse_front_matter(const char *src, size_t len, const char *path, kb_doc *doc,
                              size_t *body_off, kb_error *err) {
  const char *p = memchr(src, '\n', len);
  if (!p) return kb_error_set(err, KB_EPARSE, "%s:1: front matter 没有结束的 --- (unterminated front matter)", path);
  const char *end = src + len;
  bool closed = false;
  for (const char *s = p + 1; s < end && !closed;) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) e = end;
    closed = line_is_fence(s, e);
    s = e + 1;
  }
  if (!closed)
    return kb_error_set(err, KB_EPARSE, "%s:1: front matter 没有结束的 --- (unterminated front matter)", path);
  size_t line = 1;
  bool in_tags = false;
  for (const char *s = p + 1; s < end;) {
    line++;
    const char *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) e = end;
    if (line_is_fence(s, e)) {
      *body_off = (size_t)((e < end ? e + 1 : e) - src);
      return KB_OK;
    }
    const char *ks = skip_ws(s, e), *le = trim_end(s, e);
    if (ks >= le || *ks == '#') {
      s = e + 1;
      continue;
    }
    /* an indented line or a "- item" continues the previous key (a YAML
     * list or folded value): items of tags are tags, the rest is ignored */
    if (ks > s || *ks == '-') {
      if (in_tags && *ks == '-') {
        const char *item = skip_ws(ks + 1, le);
        const char *tags = kb_doc_get(doc, KB_FIELD_TAGS);
        kb_buf t = {0};
        if (tags && *tags) kb_buf_printf(&t, "%s, ", tags);
        kb_buf_append(&t, item, (size_t)(le - item));
        if (t.len <= FIELD_MAX) kb_doc_set(doc, KB_FIELD_TAGS, t.data, t.len);
        kb_buf_free(&t);
      }
      s = e + 1;
      continue;
    }
    in_tags = false;
    const char *colon = memchr(ks, ':', (size_t)(le - ks));
    if (!colon)
      return kb_error_set(err, KB_EPARSE, "%s:%zu: front matter 行缺少冒号 (expected key: value)",
                          path, line);
    const char *ke = trim_end(ks, colon);
    const char *vs = skip_ws(colon + 1, le);
    if (ke == ks)
      return kb_error_set(err, KB_EPARSE, "%s:%zu: front matter 字段名为空 (empty key)", path, line);
    /* keys we do not know (summary, aliases…) may hold anything */
    if ((size_t)(ke - ks) > 64 || !known_key(ks, (size_t)(ke - ks))) {
      s = e + 1;
      continue;
    }
    char key[65], val[FIELD_MAX + 1];
    memcpy(key, ks, (size_t)(ke - ks));
    key[ke - ks] = '\0';
    if ((size_t)(le - vs) > FIELD_MAX)
      return kb_error_set(err, KB_ETOOBIG, "%s:%zu: 字段 %s 的值过长 (value over %d bytes)", path,
                          line, key, FIELD_MAX);
    size_t vlen = (size_t)(le - vs);
    if (vlen >= 2 && (vs[0] == '"' || vs[0] == '\'') && vs[vlen - 1] == vs[0]) {
      vs++;
      vlen -= 2;
    }
    memcpy(val, vs, vlen);
    val[vlen] = '\0';
    in_tags = strcmp(key, "tags") == 0;
    const char *why = set_front_field(doc, key, val);
    if (why) return kb_error_set(err, KB_EPARSE, "%s:%zu: 字段 %s: %s", path, line, key, why);
    s = e + 1;
  }
  return kb_error_set(err, KB_EPARSE, "%s:1: front matter 没有结束的 --- (unterminated front matter)", path);
}

/* ---------------------------------------------------------------- sections */

/* Plain text of a node's inline content. */
static void inline_text(cmark_node *node, kb_buf *out) {
  cmark_iter *it = cmark_iter_new(node);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node *n = cmark_iter_get_node(it);
    switch (cmark_node_get_type(n)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        kb_buf_puts(out, cmark_node_get_literal(n));
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        kb_buf_putc(out, ' ');
        break;
      default:
        break;
    }
  }
  cmark_iter_free(it);
}

/* True (and strips the mark from text) when a heading ends with {internal}. */
static bool strip_internal_mark(kb_buf *text) {
  size_t n = strlen(INTERNAL_MARK);
  while (text->len && (text->data[text->len - 1] == ' ')) text->data[--text->len] = '\0';
  if (text->len < n || memcmp(text->data + text->len - n, INTERNAL_MARK, n) != 0) return false;
  text->len -= n;
  while (text->len && text->data[text->len - 1] == ' ') text->len--;
  text->data[text->len] = '\0';
  return true;
}

/* Tracks which heading opened an internal section. */
typedef struct section_state {
  int internal_level; /* 0 = not in an internal section */
} section_state;

/* Updates the state for a heading; returns whether the heading is internal. */
static bool enter_heading(section_state *st, int level, bool marked) {
  if (st->internal_level && level <= st->internal_level) st->internal_level = 0;
  if (marked && !st->internal_level) st->internal_level = level;
  return st->internal_level != 0;
}

static int collect_segments(cmark_node *root, kb_doc *doc, kb_buf *first_h1) {
  section_state st = {0};
  kb_buf text = {0};
  int rc = KB_OK;
  for (cmark_node *n = cmark_node_first_child(root); n && rc == KB_OK;
       n = cmark_node_next(n)) {
    kb_buf_reset(&text);
    cmark_node_type type = cmark_node_get_type(n);
    if (type == CMARK_NODE_HEADING) {
      inline_text(n, &text);
      bool marked = strip_internal_mark(&text);
      int level = cmark_node_get_heading_level(n);
      bool internal = enter_heading(&st, level, marked);
      if (level == 1 && !first_h1->len && !internal) {
        kb_buf_append(first_h1, text.data ? text.data : "", text.len);
        /* the H1 that repeats the title is indexed once, as the title */
        const char *title = kb_doc_get(doc, KB_FIELD_TITLE);
        if (!title || strcmp(title, first_h1->data) == 0) continue;
      }
      rc = kb_doc_add_segment(doc, KB_SEG_HEADING, internal, text.data, text.len);
      continue;
    }
    bool internal = st.internal_level != 0;
    if (type == CMARK_NODE_CODE_BLOCK) {
      const char *lit = cmark_node_get_literal(n);
      rc = kb_doc_add_segment(doc, KB_SEG_CODE, internal, lit, lit ? strlen(lit) : 0);
      continue;
    }
    if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_THEMATIC_BREAK) continue;
    /* paragraphs, lists, block quotes: one segment per paragraph */
    cmark_iter *it = cmark_iter_new(n);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && rc == KB_OK) {
      cmark_node *c = cmark_iter_get_node(it);
      cmark_node_type ct = cmark_node_get_type(c);
      if (ev == CMARK_EVENT_ENTER && (ct == CMARK_NODE_PARAGRAPH || ct == CMARK_NODE_HEADING)) {
        kb_buf_reset(&text);
        inline_text(c, &text);
        rc = kb_doc_add_segment(doc, KB_SEG_BODY, internal, text.data, text.len);
      } else if (ev == CMARK_EVENT_ENTER && ct == CMARK_NODE_CODE_BLOCK) {
        const char *lit = cmark_node_get_literal(c);
        rc = kb_doc_add_segment(doc, KB_SEG_CODE, internal, lit, lit ? strlen(lit) : 0);
      }
    }
    cmark_iter_free(it);
  }
  kb_buf_free(&text);
  return rc;
}

/* ------------------------------------------------------------------- parse */

static const char *base_name(const char *path, size_t *len) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t n = strlen(b);
  if (n > 3 && strcmp(b + n - 3, ".md") == 0) n -= 3;
  *len = n;
  return b;
}

int kb_markdown_parse(const char *src, size_t len, const char *path, kb_doc **out,
                      kb_error *err) {
  *out = NULL;
  size_t bad;
  if (!kb_utf8_valid(src, len, &bad))
    return kb_error_set(err, KB_EENCODING, "%s:%zu: 不是有效的 UTF-8 编码 (invalid UTF-8 at byte %zu)",
                        path, kb_text_line_of(src, bad), bad);
  if (memchr(src, '\0', len))
    return kb_error_set(err, KB_EENCODING, "%s:%zu: 文件包含 NUL 字节 (binary file?)", path,
                        kb_text_line_of(src, (size_t)((const char *)memchr(src, '\0', len) - src)));
  kb_doc *doc = kb_doc_new();
  if (!doc) return kb_error_set(err, KB_ENOMEM, "out of memory");
  size_t off = 0;
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) off = 3; /* BOM */
  int rc = KB_OK;
  const char *nl = memchr(src + off, '\n', len - off);
  if (line_is_fence(src + off, nl ? nl : src + len)) {
    size_t body = 0;
    rc = parse_front_matter(src + off, len - off, path, doc, &body, err);
    if (rc != KB_OK) goto fail;
    off += body;
  }
  kb_doc_set_str(doc, KB_FIELD_TYPE, "article");
  kb_doc_set(doc, KB_FIELD_BODY, src + off, len - off);
  if (!kb_doc_get(doc, KB_FIELD_VISIBILITY)) kb_doc_set_str(doc, KB_FIELD_VISIBILITY, "public");
  kb_doc_set_str(doc, KB_FIELD_SOURCE, path);

  cmark_node *root = cmark_parse_document(src + off, len - off, CMARK_OPT_DEFAULT);
  if (!root) {
    rc = kb_error_set(err, KB_ENOMEM, "%s: out of memory", path);
    goto fail;
  }
  kb_buf h1 = {0};
  rc = collect_segments(root, doc, &h1);
  cmark_node_free(root);
  if (!kb_doc_get(doc, KB_FIELD_TITLE)) {
    if (h1.len) {
      kb_doc_set(doc, KB_FIELD_TITLE, h1.data, h1.len);
    } else {
      size_t n;
      const char *b = base_name(path, &n);
      kb_doc_set(doc, KB_FIELD_TITLE, b, n);
    }
  }
  kb_buf_free(&h1);
  if (rc != KB_OK) {
    kb_error_set(err, rc, "%s: out of memory", path);
    goto fail;
  }
  const char *title = kb_doc_get(doc, KB_FIELD_TITLE);
  kb_doc_add_segment(doc, KB_SEG_TITLE, false, title, strlen(title));
  const char *tags = kb_doc_get(doc, KB_FIELD_TAGS);
  if (tags) kb_doc_add_segment(doc, KB_SEG_TAGS, false, tags, strlen(tags));
  kb_doc_set_str(doc, KB_FIELD_LANGUAGE, kb_doc_guess_language(doc));
  *out = doc;
  return KB_OK;
fail:
  kb_doc_free(doc);
  return rc;
}

int kb_markdown_article_id(const char *rel_path, kb_buf *out) {
  while (rel_path[0] == '.' && rel_path[1] == '/') rel_path += 2;
  while (*rel_path == '/') rel_path++;
  size_t n = strlen(rel_path);
  if (n > 3 && strcmp(rel_path + n - 3, ".md") == 0) n -= 3;
  if (kb_buf_puts(out, "a/") != KB_OK) return KB_ENOMEM;
  return kb_buf_append(out, rel_path, n);
}

/* -------------------------------------------------------------- folders */

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_md(const char *name) {
  size_t n = strlen(name);
  return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

static int walk(const char *dir, const char *rel, kb_markdown_file_fn fn, void *ctx) {
  DIR *d = opendir(dir);
  if (!d) return fn(dir, rel, strerror(errno), ctx);
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue; /* hidden files, . and .. */
    if (kb_grow(&names, &cap, n + 1, sizeof *names) != KB_OK) break;
    if ((names[n] = strdup(e->d_name))) n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_name);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    kb_buf path = {0}, r = {0};
    kb_buf_printf(&path, "%s/%s", dir, names[i]);
    kb_buf_printf(&r, "%s%s%s", rel, *rel ? "/" : "", names[i]);
    struct stat st;
    if (stat(path.data, &st) == 0 && S_ISDIR(st.st_mode)) rc = walk(path.data, r.data, fn, ctx);
    else if (S_ISREG(st.st_mode) && is_md(names[i])) rc = fn(path.data, r.data, NULL, ctx);
    kb_buf_free(&path);
    kb_buf_free(&r);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

int kb_markdown_each_file(const char *dir, kb_markdown_file_fn fn, void *ctx) {
  return walk(dir, "", fn, ctx);
}

/* ------------------------------------------------------------------ render */

/* Removes internal sections (or only their marks) from the tree. */
static void drop_internal(cmark_node *root, bool include_internal) {
  section_state st = {0};
  kb_buf text = {0};
  cmark_node *n = cmark_node_first_child(root);
  while (n) {
    cmark_node *next = cmark_node_next(n);
    bool internal = st.internal_level != 0;
    if (cmark_node_get_type(n) == CMARK_NODE_HEADING) {
      kb_buf_reset(&text);
      inline_text(n, &text);
      bool marked = strip_internal_mark(&text);
      internal = enter_heading(&st, cmark_node_get_heading_level(n), marked);
      if (marked && include_internal) {
        /* show the heading without its mark */
        cmark_node *last = cmark_node_last_child(n);
        if (last && cmark_node_get_type(last) == CMARK_NODE_TEXT) {
          kb_buf lit = {0};
          kb_buf_puts(&lit, cmark_node_get_literal(last));
          strip_internal_mark(&lit);
          cmark_node_set_literal(last, lit.data ? lit.data : "");
          kb_buf_free(&lit);
        }
      }
    }
    if (internal && !include_internal) cmark_node_free(n);
    n = next;
  }
  kb_buf_free(&text);
}

/* Where line number line (1-based, as cmark counts: after "\n", "\r\n" or
 * "\r") starts in md; len when there are fewer lines. */
static size_t line_start(const char *md, size_t len, size_t *at, int *line, int want) {
  while (*line < want && *at < len) {
    char c = md[(*at)++];
    if (c == '\r' && *at < len && md[*at] == '\n') (*at)++;
    if (c == '\n' || c == '\r') (*line)++;
  }
  return *at;
}

int kb_markdown_public(const char *md, size_t len, kb_buf *out) {
  cmark_node *root = cmark_parse_document(md, len, CMARK_OPT_DEFAULT);
  if (!root) return KB_ENOMEM;
  section_state st = {0};
  kb_buf text = {0};
  size_t at = 0, kept = 0; /* md[kept..at) is still to copy */
  int line = 1, rc = KB_OK;
  bool dropping = false;
  for (cmark_node *n = cmark_node_first_child(root); n && rc == KB_OK; n = cmark_node_next(n)) {
    bool internal = st.internal_level != 0;
    if (cmark_node_get_type(n) == CMARK_NODE_HEADING) {
      kb_buf_reset(&text);
      inline_text(n, &text);
      internal = enter_heading(&st, cmark_node_get_heading_level(n), strip_internal_mark(&text));
    }
    if (internal == dropping) continue;
    /* a block starts or ends a run of internal ones: everything from its
     * first line on is dropped, or kept */
    size_t from = line_start(md, len, &at, &line, cmark_node_get_start_line(n));
    if (internal) rc = kb_buf_append(out, md + kept, from - kept);
    kept = from;
    dropping = internal;
  }
  if (rc == KB_OK && !dropping) rc = kb_buf_append(out, md + kept, len - kept);
  kb_buf_free(&text);
  cmark_node_free(root);
  return rc;
}

int kb_markdown_to_html(const char *md, size_t len, bool include_internal, kb_buf *out,
                        kb_error *err) {
  cmark_node *root = cmark_parse_document(md, len, CMARK_OPT_DEFAULT);
  if (!root) return kb_error_set(err, KB_ENOMEM, "out of memory");
  drop_internal(root, include_internal);
  char *html = cmark_render_html(root, CMARK_OPT_DEFAULT);
  cmark_node_free(root);
  if (!html) return kb_error_set(err, KB_ENOMEM, "out of memory");
  int rc = kb_buf_puts(out, html);
  free(html);
  return rc == KB_OK ? KB_OK : kb_error_set(err, rc, "out of memory");
}
