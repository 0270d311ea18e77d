/* test_markdown.c — articles: front matter, title fallback, sections and
 * internal marks, error messages with line numbers, article ids and safe
 * HTML. The sample article is tests/data/unit/article.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/markdown.h"
#include "testutil.h"

#define ARTICLE "tests/data/unit/article.md"

/* Parses src; asserts success. */
static kb_doc *parse_ok(const char *src, const char *path) {
  kb_doc *d = NULL;
  kb_error err = {0};
  int rc = kb_markdown_parse(src, strlen(src), path, &d, &err);
  if (rc != KB_OK) fail_msg("%s: rc %d: %s", path, rc, err.message);
  assert_non_null(d);
  return d;
}

/* Parses src; asserts failure with code and a message starting "path:line:". */
static void parse_fails(const char *src, size_t len, int code, const char *path, size_t line,
                        const char *also) {
  kb_doc *d = (kb_doc *)1;
  kb_error err = {0};
  int rc = kb_markdown_parse(src, len, path, &d, &err);
  if (rc == KB_OK) kb_doc_free(d);
  if (rc != code) fail_msg("%s: rc %d, expected %d (%s)", path, rc, code, err.message);
  assert_null(d);
  assert_int_equal(err.code, code);
  char want[256];
  snprintf(want, sizeof want, "%s:%zu:", path, line);
  if (strncmp(err.message, want, strlen(want)) != 0)
    fail_msg("message '%s' does not start with '%s'", err.message, want);
  if (also && !tu_contains(err.message, also))
    fail_msg("message '%s' does not mention '%s'", err.message, also);
}

/* The i-th segment of a kind, or NULL. */
static const kb_segment *nth_segment(const kb_doc *d, kb_segment_kind kind, size_t nth) {
  for (size_t i = 0; i < kb_doc_segment_count(d); i++) {
    const kb_segment *s = kb_doc_segment(d, i);
    if (s->kind == kind && nth-- == 0) return s;
  }
  return NULL;
}

/* The segment whose text contains needle, or NULL. */
static const kb_segment *segment_with(const kb_doc *d, const char *needle) {
  for (size_t i = 0; i < kb_doc_segment_count(d); i++) {
    const kb_segment *s = kb_doc_segment(d, i);
    if (tu_contains(s->text, needle)) return s;
  }
  return NULL;
}

/* ----------------------------------------------------------- front matter */

static void test_front_matter_all_keys(void **state) {
  (void)state;
  kb_buf src = {0};
  assert_int_equal(tu_read_file(ARTICLE, &src), 0);
  kb_doc *d = parse_ok(src.data, ARTICLE);
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "a/db/ora-12170");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TYPE), "article");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "ORA-12170: TNS 连接超时"); /* unquoted */
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRODUCT), "Database");
  assert_string_equal(kb_doc_get(d, KB_FIELD_CATEGORY), "网络");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TAGS), "oracle, 超时, tns"); /* [a, b] form */
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "public");
  assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2026-03-15");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRIORITY), "P2");
  assert_string_equal(kb_doc_get(d, KB_FIELD_SOURCE), ARTICLE);
  assert_string_equal(kb_doc_get(d, KB_FIELD_LANGUAGE), "zh");
  /* BODY is the Markdown after the front matter */
  const char *body = kb_doc_get(d, KB_FIELD_BODY);
  assert_non_null(body);
  assert_false(tu_contains(body, "visibility:"));
  assert_true(strncmp(body, "# 这个标题不是 title", strlen("# 这个标题不是 title")) == 0);
  /* the title and the tags are segments too */
  const kb_segment *t = nth_segment(d, KB_SEG_TITLE, 0);
  assert_non_null(t);
  assert_string_equal(t->text, "ORA-12170: TNS 连接超时");
  const kb_segment *g = nth_segment(d, KB_SEG_TAGS, 0);
  assert_non_null(g);
  assert_string_equal(g->text, "oracle, 超时, tns");
  /* neither the comment nor the unknown key leaks into the text */
  assert_null(segment_with(d, "someone"));
  assert_null(segment_with(d, "comment line"));
  kb_doc_free(d);
  kb_buf_free(&src);
}

static void test_front_matter_quotes_and_comments(void **state) {
  (void)state;
  const char *src =
      "---\n"
      "# comment: with a colon\n"
      "\n"
      "title: 'single: quoted'\n"
      "product: \"with spaces\"  \n"
      "category:   padded   \n"
      "tags: a, b\n"
      "draft: true\n"
      "---\n"
      "text\n";
  kb_doc *d = parse_ok(src, "q.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "single: quoted");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRODUCT), "with spaces");
  assert_string_equal(kb_doc_get(d, KB_FIELD_CATEGORY), "padded");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TAGS), "a, b");
  assert_null(kb_doc_get(d, KB_FIELD_ID)); /* only set by the front matter */
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "public"); /* the default */
  kb_doc_free(d);
}

/* YAML lists and nested values: "- item" lines of tags are tags; indented
 * lines under other keys (aliases, summary: >) are ignored, long or not. */
static void test_front_matter_yaml_lists(void **state) {
  (void)state;
  kb_buf src = {0};
  kb_buf_puts(&src, "---\ntitle: t\ntags:\n  - nginx\n  - 负载均衡\naliases:\n  - /docs/x/\n"
                    "summary: >\n  ");
  for (int i = 0; i < 3000; i++) kb_buf_putc(&src, 'x');
  kb_buf_puts(&src, "\nseo:\n  title: not the title\n---\nbody\n");
  kb_doc *d = parse_ok(src.data, "y.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TAGS), "nginx, 负载均衡");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "t");
  kb_doc_free(d);
  kb_buf_free(&src);
}

static void test_front_matter_internal_visibility(void **state) {
  (void)state;
  kb_doc *d = parse_ok("---\nvisibility: internal\n---\nbody\n", "i.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_VISIBILITY), "internal");
  assert_true(kb_doc_is_internal(d));
  kb_doc_free(d);
}

static void test_bom_and_crlf(void **state) {
  (void)state;
  const char *src = "\xEF\xBB\xBF---\r\ntitle: BOM 标题\r\nproduct: net\r\n---\r\n正文内容\r\n";
  kb_doc *d = parse_ok(src, "bom.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "BOM 标题");
  assert_string_equal(kb_doc_get(d, KB_FIELD_PRODUCT), "net");
  assert_non_null(segment_with(d, "正文内容"));
  kb_doc_free(d);
  /* a BOM without front matter is not part of the text */
  d = parse_ok("\xEF\xBB\xBF# 标题\n\n正文\n", "bom2.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "标题");
  kb_doc_free(d);
}

/* ------------------------------------------------------------------ title */

static void test_title_front_matter_wins(void **state) {
  (void)state;
  kb_doc *d = parse_ok("---\ntitle: FM\n---\n# H1\n\ntext\n", "dir/name.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "FM");
  kb_doc_free(d);
}

static void test_title_from_first_h1(void **state) {
  (void)state;
  kb_doc *d = parse_ok("intro\n\n# First *H1*\n\n# Second\n", "dir/name.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "First H1");
  /* the second H1 is an ordinary heading */
  const kb_segment *h = nth_segment(d, KB_SEG_HEADING, 0);
  assert_non_null(h);
  assert_string_equal(h->text, "Second");
  kb_doc_free(d);
}

static void test_title_from_file_name(void **state) {
  (void)state;
  kb_doc *d = parse_ok("## not an h1\n\ntext\n", "articles/net/My Note.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "My Note");
  const kb_segment *t = nth_segment(d, KB_SEG_TITLE, 0);
  assert_non_null(t);
  assert_string_equal(t->text, "My Note");
  kb_doc_free(d);
  d = parse_ok("", "plain");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "plain");
  kb_doc_free(d);
}

static void test_internal_h1_is_not_the_title(void **state) {
  (void)state;
  kb_doc *d = parse_ok("# Secret {internal}\n\nhidden\n", "x/fallback.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_TITLE), "fallback");
  kb_doc_free(d);
}

/* ------------------------------------------------------------- sections */

static void test_internal_section_bounds(void **state) {
  (void)state;
  kb_buf src = {0};
  assert_int_equal(tu_read_file(ARTICLE, &src), 0);
  kb_doc *d = parse_ok(src.data, ARTICLE);
  const kb_segment *s;
  s = segment_with(d, "客户端连接数据库");
  assert_non_null(s);
  assert_false(s->internal);
  assert_int_equal(s->kind, KB_SEG_BODY);
  /* the marked heading: internal, without its mark */
  s = segment_with(d, "内部处理记录");
  assert_non_null(s);
  assert_true(s->internal);
  assert_int_equal(s->kind, KB_SEG_HEADING);
  assert_string_equal(s->text, "内部处理记录");
  s = segment_with(d, "客户名单");
  assert_non_null(s);
  assert_true(s->internal);
  /* a deeper heading inside stays internal, and so does its text */
  s = segment_with(d, "升级路径");
  assert_non_null(s);
  assert_true(s->internal);
  s = segment_with(d, "二线");
  assert_non_null(s);
  assert_true(s->internal);
  /* the next heading of the same level ends the section */
  s = segment_with(d, "相关文章");
  assert_non_null(s);
  assert_false(s->internal);
  s = segment_with(d, "nginx 502");
  assert_non_null(s);
  assert_false(s->internal);
  /* no segment carries the mark */
  assert_null(segment_with(d, "{internal}"));
  kb_doc_free(d);
  kb_buf_free(&src);
}

static void test_higher_heading_ends_internal_section(void **state) {
  (void)state;
  const char *src =
      "## A {internal}\n\nsecret one\n\n"
      "### B\n\nsecret two\n\n"
      "# C\n\nvisible three\n";
  kb_doc *d = parse_ok(src, "h.md");
  assert_true(segment_with(d, "secret one")->internal);
  assert_true(segment_with(d, "secret two")->internal);
  assert_false(segment_with(d, "visible three")->internal);
  kb_doc_free(d);
}

static void test_code_blocks_are_code_segments(void **state) {
  (void)state;
  const char *src =
      "text\n\n```sh\ntnsping orcl\n```\n\n"
      "- item\n\n      indented code\n\n"
      "## Notes {internal}\n\n```\nsecret_cmd --force\n```\n";
  kb_doc *d = parse_ok(src, "c.md");
  const kb_segment *s = segment_with(d, "tnsping orcl");
  assert_non_null(s);
  assert_int_equal(s->kind, KB_SEG_CODE);
  assert_false(s->internal);
  s = segment_with(d, "secret_cmd");
  assert_non_null(s);
  assert_int_equal(s->kind, KB_SEG_CODE);
  assert_true(s->internal);
  s = segment_with(d, "item");
  assert_non_null(s);
  assert_int_equal(s->kind, KB_SEG_BODY);
  kb_doc_free(d);
}

static void test_inline_code_is_body_text(void **state) {
  (void)state;
  kb_doc *d = parse_ok("Run `lsnrctl status` and **check** the [log](x.html).\n", "i.md");
  const kb_segment *s = nth_segment(d, KB_SEG_BODY, 0);
  assert_non_null(s);
  assert_string_equal(s->text, "Run lsnrctl status and check the log.");
  kb_doc_free(d);
}

static void test_language_english_article(void **state) {
  (void)state;
  kb_doc *d = parse_ok("# Nginx returns 502\n\nThe upstream server closed the connection.\n",
                       "n.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_LANGUAGE), "en");
  kb_doc_free(d);
}

/* --------------------------------------------------------------- errors */

static void test_error_line_without_colon(void **state) {
  (void)state;
  const char *src = "---\ntitle: a\nproduct: b\nno colon here\n---\nbody\n";
  parse_fails(src, strlen(src), KB_EPARSE, "articles/x.md", 4, NULL);
  /* blank and comment lines still count */
  const char *src2 = "---\n\n# note\ntitle: a\n\n\nbroken\n---\n";
  parse_fails(src2, strlen(src2), KB_EPARSE, "y.md", 7, NULL);
}

/* found by fuzz/fuzz_front_matter.c: "id: a/" gave the article the id
 * "a/", nothing after the prefix every article id has */
static void test_error_id_empty_after_prefix(void **state) {
  (void)state;
  const char *src = "---\ntitle: a\nid: a/\n---\nbody\n";
  parse_fails(src, strlen(src), KB_EPARSE, "x.md", 3, "invalid id");
  const char *src2 = "---\nid: a//x\n---\nbody\n";
  parse_fails(src2, strlen(src2), KB_EPARSE, "x.md", 2, "invalid id");
  kb_doc *d = parse_ok("---\nid: a/x\n---\nbody\n", "x.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_ID), "a/x");
  kb_doc_free(d);
}

static void test_error_unterminated_front_matter(void **state) {
  (void)state;
  const char *src = "---\ntitle: a\nproduct: b\n";
  parse_fails(src, strlen(src), KB_EPARSE, "u.md", 1, "---");
  parse_fails("---", 3, KB_EPARSE, "u2.md", 1, NULL);
}

static void test_error_bad_visibility(void **state) {
  (void)state;
  const char *src = "---\ntitle: a\nvisibility: secret\n---\n";
  parse_fails(src, strlen(src), KB_EPARSE, "v.md", 3, "visibility");
}

static void test_error_bad_dates(void **state) {
  (void)state;
  static const char *dates[] = {"2026-13-01", "2026-00-10", "2026-02-30", "2026-04-31",
                                "26-01-01",   "2026/01/01", "2026-1-1",   "yesterday",
                                "2026-01-01x", ""};
  for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
    char src[128];
    snprintf(src, sizeof src, "---\ntitle: a\nupdated: %s\n---\n", dates[i]);
    parse_fails(src, strlen(src), KB_EPARSE, "d.md", 3, "YYYY-MM-DD");
  }
  kb_doc *d = parse_ok("---\nupdated: 2024-02-29\n---\n", "leap.md");
  assert_string_equal(kb_doc_get(d, KB_FIELD_UPDATED), "2024-02-29");
  kb_doc_free(d);
}

/* Dates are strict YYYY-MM-DD calendar dates: no signs or blanks in the
 * digits, and February 29 only in leap years. */
static void test_error_dates_with_signs_blanks_and_false_leap_days(void **state) {
  (void)state;
  static const char *dates[] = {"2026-01-+1", "2026-+1-01", "2026-01- 1", "2025-02-29"};
  for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
    char src[128];
    char path[64];
    snprintf(src, sizeof src, "---\nupdated: %s\n---\n", dates[i]);
    snprintf(path, sizeof path, "updated %s.md", dates[i]);
    parse_fails(src, strlen(src), KB_EPARSE, path, 2, "YYYY-MM-DD");
  }
}

static void test_error_bad_ids(void **state) {
  (void)state;
  static const char *ids[] = {"../x", "/etc/passwd", "a/../../b", "has space", "引号"};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    char src[128];
    snprintf(src, sizeof src, "---\nid: %s\n---\n", ids[i]);
    parse_fails(src, strlen(src), KB_EPARSE, "id.md", 2, "id");
  }
}

static void test_error_empty_title_and_key(void **state) {
  (void)state;
  const char *src = "---\ntitle:\n---\n";
  parse_fails(src, strlen(src), KB_EPARSE, "t.md", 2, "title");
  const char *src2 = "---\ntitle: x\n: value\n---\n";
  parse_fails(src2, strlen(src2), KB_EPARSE, "k.md", 3, NULL);
}

static void test_error_value_too_long(void **state) {
  (void)state;
  kb_buf src = {0};
  kb_buf_puts(&src, "---\ntitle: ");
  for (int i = 0; i < 2000; i++) kb_buf_putc(&src, 'x');
  kb_buf_puts(&src, "\n---\n");
  kb_doc *d = (kb_doc *)1;
  kb_error err = {0};
  int rc = kb_markdown_parse(src.data, src.len, "long.md", &d, &err);
  assert_int_not_equal(rc, KB_OK);
  assert_null(d);
  assert_true(tu_contains(err.message, "long.md:2:"));
  kb_buf_free(&src);
}

static void test_error_invalid_utf8_line(void **state) {
  (void)state;
  const char *src = "# title\n\nfine line\nbro\xC0\xAFken\n";
  parse_fails(src, strlen(src), KB_EENCODING, "enc.md", 4, NULL);
  const char *src2 = "\xFF\n";
  parse_fails(src2, strlen(src2), KB_EENCODING, "enc2.md", 1, NULL);
  /* inside the front matter too */
  const char *src3 = "---\ntitle: ok\nproduct: \xED\xA0\x80\n---\n";
  parse_fails(src3, strlen(src3), KB_EENCODING, "enc3.md", 3, NULL);
}

static void test_error_nul_byte(void **state) {
  (void)state;
  const char src[] = "line one\nline\0two\n";
  parse_fails(src, sizeof src - 1, KB_EENCODING, "nul.md", 2, NULL);
}

/* ------------------------------------------------------------ article id */

static void test_article_id(void **state) {
  (void)state;
  static const char *cases[][2] = {
      {"db/ora-12170.md", "a/db/ora-12170"},
      {"./net/nginx-502.md", "a/net/nginx-502"},
      {"top.md", "a/top"},
      {"no-extension", "a/no-extension"},
      {"打印机/脱机.md", "a/打印机/脱机"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kb_buf b = {0};
    assert_int_equal(kb_markdown_article_id(cases[i][0], &b), KB_OK);
    assert_string_equal(b.data, cases[i][1]);
    kb_buf_free(&b);
  }
  /* appends */
  kb_buf b = {0};
  kb_buf_puts(&b, "Q");
  kb_markdown_article_id("x.md", &b);
  assert_string_equal(b.data, "Qa/x");
  kb_buf_free(&b);
}

/* ------------------------------------------------------------------ HTML */

static const char *SECTIONS_MD =
    "# Title\n\n"
    "intro text\n\n"
    "## 内部处理记录 {internal}\n\n"
    "secret words\n\n"
    "### deeper\n\n"
    "still secret\n\n"
    "## Public again\n\n"
    "visible\n";

static void test_html_drops_internal_sections(void **state) {
  (void)state;
  kb_buf html = {0};
  kb_error err = {0};
  assert_int_equal(kb_markdown_to_html(SECTIONS_MD, strlen(SECTIONS_MD), false, &html, &err),
                   KB_OK);
  assert_true(tu_contains(html.data, "<h1>Title</h1>"));
  assert_true(tu_contains(html.data, "intro text"));
  assert_true(tu_contains(html.data, "<h2>Public again</h2>"));
  assert_true(tu_contains(html.data, "visible"));
  assert_false(tu_contains(html.data, "内部处理记录"));
  assert_false(tu_contains(html.data, "secret"));
  assert_false(tu_contains(html.data, "deeper"));
  assert_false(tu_contains(html.data, "{internal}"));
  kb_buf_free(&html);
}

static void test_html_keeps_internal_without_mark(void **state) {
  (void)state;
  kb_buf html = {0};
  assert_int_equal(kb_markdown_to_html(SECTIONS_MD, strlen(SECTIONS_MD), true, &html, NULL),
                   KB_OK);
  assert_true(tu_contains(html.data, "<h2>内部处理记录</h2>"));
  assert_true(tu_contains(html.data, "secret words"));
  assert_true(tu_contains(html.data, "<h3>deeper</h3>"));
  assert_true(tu_contains(html.data, "visible"));
  assert_false(tu_contains(html.data, "{internal}"));
  kb_buf_free(&html);
}

static void test_html_is_safe(void **state) {
  (void)state;
  const char *md =
      "Intro <script>alert(1)</script> text.\n\n"
      "<script>alert(2)</script>\n\n"
      "<img src=x onerror=alert(3)>\n\n"
      "[x](javascript:alert(1)) [y](JAVASCRIPT:alert(4)) [ok](https://example.com/?a=1&b=2)\n";
  kb_buf html = {0};
  assert_int_equal(kb_markdown_to_html(md, strlen(md), true, &html, NULL), KB_OK);
  assert_false(tu_contains(html.data, "<script"));
  assert_false(tu_contains(html.data, "<img"));
  assert_false(tu_contains(html.data, "onerror"));
  assert_true(tu_contains(html.data, "<!-- raw HTML omitted -->"));
  assert_false(tu_contains(html.data, "javascript:"));
  assert_false(tu_contains(html.data, "JAVASCRIPT:"));
  assert_true(tu_contains(html.data, "href=\"https://example.com/?a=1&amp;b=2\""));
  kb_buf_free(&html);
}

static void test_html_escapes_text(void **state) {
  (void)state;
  const char *md = "a < b & \"c\"\n\n`<b>` code\n";
  kb_buf html = {0};
  assert_int_equal(kb_markdown_to_html(md, strlen(md), false, &html, NULL), KB_OK);
  assert_true(tu_contains(html.data, "a &lt; b &amp; &quot;c&quot;"));
  assert_true(tu_contains(html.data, "<code>&lt;b&gt;</code>"));
  kb_buf_free(&html);
}

static void test_html_appends(void **state) {
  (void)state;
  kb_buf html = {0};
  kb_buf_puts(&html, "<div>");
  assert_int_equal(kb_markdown_to_html("hi", 2, false, &html, NULL), KB_OK);
  assert_true(strncmp(html.data, "<div><p>hi</p>", 14) == 0);
  kb_buf_free(&html);
}

/* The public's Markdown: the internal sections' lines left out, the rest
 * as it was, and the same page as the public is shown of the whole. */
static void test_public_markdown(void **state) {
  (void)state;
  const char *md =
      "# Title\n\nintro\n\n## Steps\n\n1. one\n2. two\n\n"
      "## Escalation {internal}\n\ncall zebrafish\n\n### Deeper\n\n```\nsecret code\n```\n\n"
      "## After\n\nok\n\n# Notes {internal}\n\nlast secret\n";
  kb_buf pub = {0}, a = {0}, b = {0};
  assert_int_equal(kb_markdown_public(md, strlen(md), &pub), KB_OK);
  assert_string_equal(pub.data, "# Title\n\nintro\n\n## Steps\n\n1. one\n2. two\n\n## After\n\nok\n\n");
  assert_int_equal(kb_markdown_to_html(md, strlen(md), false, &a, NULL), KB_OK);
  assert_int_equal(kb_markdown_to_html(pub.data, pub.len, false, &b, NULL), KB_OK);
  assert_string_equal(a.data, b.data);
  /* without internal sections: unchanged */
  kb_buf_reset(&pub);
  assert_int_equal(kb_markdown_public("a\r\n\r\nb", 6, &pub), KB_OK);
  assert_string_equal(pub.data, "a\r\n\r\nb");
  kb_buf_free(&pub);
  kb_buf_free(&a);
  kb_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_front_matter_all_keys),
      cmocka_unit_test(test_public_markdown),
      cmocka_unit_test(test_front_matter_quotes_and_comments),
      cmocka_unit_test(test_front_matter_yaml_lists),
      cmocka_unit_test(test_front_matter_internal_visibility),
      cmocka_unit_test(test_bom_and_crlf),
      cmocka_unit_test(test_title_front_matter_wins),
      cmocka_unit_test(test_title_from_first_h1),
      cmocka_unit_test(test_title_from_file_name),
      cmocka_unit_test(test_internal_h1_is_not_the_title),
      cmocka_unit_test(test_internal_section_bounds),
      cmocka_unit_test(test_higher_heading_ends_internal_section),
      cmocka_unit_test(test_code_blocks_are_code_segments),
      cmocka_unit_test(test_inline_code_is_body_text),
      cmocka_unit_test(test_language_english_article),
      cmocka_unit_test(test_error_line_without_colon),
      cmocka_unit_test(test_error_id_empty_after_prefix),
      cmocka_unit_test(test_error_unterminated_front_matter),
      cmocka_unit_test(test_error_bad_visibility),
      cmocka_unit_test(test_error_bad_dates),
      cmocka_unit_test(test_error_dates_with_signs_blanks_and_false_leap_days),
      cmocka_unit_test(test_error_bad_ids),
      cmocka_unit_test(test_error_empty_title_and_key),
      cmocka_unit_test(test_error_value_too_long),
      cmocka_unit_test(test_error_invalid_utf8_line),
      cmocka_unit_test(test_error_nul_byte),
      cmocka_unit_test(test_article_id),
      cmocka_unit_test(test_html_drops_internal_sections),
      cmocka_unit_test(test_html_keeps_internal_without_mark),
      cmocka_unit_test(test_html_is_safe),
      cmocka_unit_test(test_html_escapes_text),
      cmocka_unit_test(test_html_appends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
