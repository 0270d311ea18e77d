/* test_snippet.c — passages around the query's words: marks on Chinese
 * words, HTML escaping, the window over long texts, styles, and output that
 * is always one line of valid UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/query.h"
#include "kb/snippet.h"
#include "testutil.h"

typedef struct fixture {
  kb_lexicon *lex, *stop;
  kb_tokenizer *tk;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  kb_error err = {0};
  int rc = kb_lexicon_new_builtin("lexicon", &f->lex, &err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("stopwords", &f->stop, &err);
  if (rc == KB_OK) rc = kb_tokenizer_new(f->lex, &f->tk, &err);
  if (rc != KB_OK) {
    fprintf(stderr, "setup: %s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  kb_tokenizer_free(f->tk);
  kb_lexicon_free(f->lex);
  kb_lexicon_free(f->stop);
  free(f);
  return 0;
}

/* The snippet of text for query (caller frees). */
static char *snippet(fixture *f, const char *query, const char *text,
                     const kb_snippet_style *style) {
  kb_query_opts o = {.stopwords = f->stop};
  kb_query *q = NULL;
  kb_error err = {0};
  assert_int_equal(kb_query_parse(f->tk, query, strlen(query), &o, &q, &err), KB_OK);
  kb_buf out = {0};
  int rc = kb_snippet_make(f->tk, kb_query_highlights(q), text, strlen(text), style, &out, &err);
  if (rc != KB_OK) fail_msg("snippet: %s", err.message);
  kb_query_free(q);
  if (!out.data) kb_buf_append(&out, "", 0);
  return kb_buf_detach(&out);
}

static size_t count_of(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + strlen(needle), needle)) n++;
  return n;
}

static size_t utf8_chars(const char *s) {
  size_t n = 0, i = 0, len = strlen(s);
  while (i < len) {
    kb_utf8_next(s, len, &i);
    n++;
  }
  return n;
}

/* s with every occurrence of the marks removed (caller frees). */
static char *unmarked(const char *s, const kb_snippet_style *st) {
  kb_buf b = {0};
  size_t ol = strlen(st->open), cl = strlen(st->close);
  for (const char *p = s; *p;) {
    if (strncmp(p, st->open, ol) == 0) p += ol;
    else if (strncmp(p, st->close, cl) == 0) p += cl;
    else kb_buf_putc(&b, *p++);
  }
  if (!b.data) kb_buf_append(&b, "", 0);
  return kb_buf_detach(&b);
}

static const char *ELLIPSIS = "…";

static bool starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static bool ends_with(const char *s, const char *p) {
  size_t n = strlen(s), m = strlen(p);
  return n >= m && strcmp(s + n - m, p) == 0;
}

/* ---------------------------------------------------------------- marks */

static void test_marks_chinese_words(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "打印机", "办公室的打印机显示脱机，请重启打印机。", &KB_SNIPPET_HTML);
  assert_string_equal(s, "办公室的<mark>打印机</mark>显示脱机，请重启<mark>打印机</mark>。");
  free(s);
}

static void test_marks_whole_technical_token(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "ORA-12170", "报错 ORA-12170: TNS 连接超时", &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>ORA-12170</mark>"));
  assert_int_equal(count_of(s, "<mark>"), 1); /* the whole, not its parts separately */
  free(s);
}

static void test_marks_stemmed_words_as_written(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "connection", "Connections were refused; connecting again.",
                    &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>Connections</mark>"));
  assert_true(tu_contains(s, "<mark>connecting</mark>"));
  assert_false(tu_contains(s, "<mark>refused</mark>"));
  free(s);
}

/* Lines are matched in their folded form, so full-width ＯＲＡ－１２１７０
 * (which the index matches for ORA-12170) and upper-case accented letters
 * (ÉTAT for état) are marked. */
static void test_full_width_text_matches(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "ora-12170", "错误 ＯＲＡ－１２１７０ 出现", &KB_SNIPPET_HTML);
  bool marked = tu_contains(s, "<mark>ＯＲＡ－１２１７０</mark>");
  free(s);
  assert_true(marked);
  s = snippet(f, "état", "L'ÉTAT du serveur", &KB_SNIPPET_PLAIN);
  marked = tu_contains(s, "**ÉTAT**");
  free(s);
  assert_true(marked);
}

/* --------------------------------------------------------------- escaping */

static void test_html_escaped(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "script", "use <script> & \"quotes\" 'x' here", &KB_SNIPPET_HTML);
  assert_false(tu_contains(s, "<script"));
  assert_true(tu_contains(s, "&lt;<mark>script</mark>&gt;"));
  assert_true(tu_contains(s, "&amp;"));
  assert_true(tu_contains(s, "&quot;quotes&quot;"));
  assert_true(tu_contains(s, "&#39;x&#39;"));
  free(s);
  /* also without any match */
  s = snippet(f, "absent", "<b>bold</b> & more", &KB_SNIPPET_HTML);
  assert_string_equal(s, "&lt;b&gt;bold&lt;/b&gt; &amp; more");
  free(s);
}

static void test_html_escape_function(void **state) {
  (void)state;
  kb_buf b = {0};
  kb_buf_puts(&b, ">");
  const char *in = "a&b<c>d\"e'f 打印机";
  assert_int_equal(kb_html_escape(in, strlen(in), &b), KB_OK);
  assert_string_equal(b.data, ">a&amp;b&lt;c&gt;d&quot;e&#39;f 打印机");
  kb_buf_free(&b);
  assert_int_equal(kb_html_escape("", 0, &b), KB_OK);
  kb_buf_free(&b);
}

static void test_terminal_and_plain_styles(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "nginx", "restart <nginx> now", &KB_SNIPPET_TERMINAL);
  assert_true(tu_contains(s, "\033[1mnginx\033[0m"));
  assert_true(tu_contains(s, "<")); /* no HTML escaping on a terminal */
  assert_false(tu_contains(s, "&lt;"));
  free(s);
  s = snippet(f, "nginx", "restart nginx now", &KB_SNIPPET_PLAIN);
  assert_string_equal(s, "restart **nginx** now");
  free(s);
}

static void test_terminal_drops_control_characters(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "nginx", "bad \033[31m nginx \a\b text", &KB_SNIPPET_TERMINAL);
  assert_int_equal(count_of(s, "\033"), 2); /* only our own bold on/off */
  assert_false(tu_contains(s, "\a"));
  free(s);
}

/* found by fuzz/fuzz_snippet.c: DEL and the C1 controls passed through,
 * and U+009B is CSI to terminals that read C1 in UTF-8 */
static void test_terminal_drops_del_and_c1_controls(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "nginx", "bad \x7f nginx \xc2\x9b" "31m text \xc2\x85 é", &KB_SNIPPET_TERMINAL);
  assert_false(tu_contains(s, "\x7f"));
  assert_false(tu_contains(s, "\xc2\x9b"));
  assert_false(tu_contains(s, "\xc2\x85"));
  assert_true(tu_contains(s, "31m text"));
  assert_true(tu_contains(s, "é")); /* U+00E9 is C3 A9: kept */
  free(s);
  s = snippet(f, "nginx", "a \x7f nginx", &KB_SNIPPET_PLAIN);
  assert_string_equal(s, "a **nginx**");
  free(s);
}

/* ---------------------------------------------------------------- window */

static char *long_text(const char *filler, int before, const char *middle, int after) {
  kb_buf b = {0};
  for (int i = 0; i < before; i++) kb_buf_puts(&b, filler);
  kb_buf_puts(&b, middle);
  for (int i = 0; i < after; i++) kb_buf_puts(&b, filler);
  return kb_buf_detach(&b);
}

static void test_long_text_window_holds_match(void **state) {
  fixture *f = *state;
  char *text = long_text("前面的文字。", 60, " nginx 返回 502 ", 60);
  char *s = snippet(f, "nginx", text, &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>nginx</mark>"));
  assert_true(starts_with(s, ELLIPSIS)); /* not the start of the text */
  assert_true(ends_with(s, ELLIPSIS));   /* nor its end */
  char *plain = unmarked(s, &KB_SNIPPET_HTML);
  /* the passage is about max_chars long, plus the two ellipses */
  assert_true(utf8_chars(plain) <= KB_SNIPPET_HTML.max_chars + 2);
  assert_true(utf8_chars(plain) >= KB_SNIPPET_HTML.max_chars / 2);
  free(plain);
  free(s);
  free(text);
}

static void test_match_near_start_has_no_leading_ellipsis(void **state) {
  fixture *f = *state;
  char *text = long_text("后面的内容。", 0, "nginx 返回 502 ", 80);
  char *s = snippet(f, "nginx", text, &KB_SNIPPET_HTML);
  assert_true(starts_with(s, "<mark>nginx</mark>"));
  assert_true(ends_with(s, ELLIPSIS));
  free(s);
  free(text);
}

static void test_no_match_gives_start_of_text(void **state) {
  fixture *f = *state;
  char *text = long_text("无关的内容。", 0, "开头第一句。", 80);
  char *s = snippet(f, "nginx", text, &KB_SNIPPET_HTML);
  assert_true(starts_with(s, "开头第一句。"));
  assert_false(tu_contains(s, "<mark>"));
  assert_true(ends_with(s, ELLIPSIS));
  free(s);
  free(text);
  s = snippet(f, "nginx", "short text", &KB_SNIPPET_HTML);
  assert_string_equal(s, "short text");
  free(s);
  s = snippet(f, "nginx", "", &KB_SNIPPET_HTML);
  assert_string_equal(s, "");
  free(s);
}

static void test_window_prefers_more_distinct_terms(void **state) {
  fixture *f = *state;
  kb_buf text = {0};
  kb_buf_puts(&text, "alpha appears alone here. ");
  for (int i = 0; i < 40; i++) kb_buf_puts(&text, "filler words go on. ");
  kb_buf_puts(&text, "here alpha and bravo appear together. ");
  for (int i = 0; i < 40; i++) kb_buf_puts(&text, "filler words go on. ");
  char *s = snippet(f, "alpha bravo", text.data, &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>alpha</mark> and <mark>bravo</mark>"));
  assert_false(tu_contains(s, "alone"));
  free(s);
  kb_buf_free(&text);
}

/* Text is tokenized a sentence (or 600 bytes) at a time, only where the
 * passage is: a match in the next sentence, or past a cut in a long run
 * without punctuation, is still marked inside the passage. */
static void test_marks_across_pieces(void **state) {
  fixture *f = *state;
  kb_buf text = {0};
  for (int i = 0; i < 30; i++) kb_buf_puts(&text, "无关的内容。");
  kb_buf_puts(&text, "打印机脱机了。重启打印机后恢复。");
  for (int i = 0; i < 30; i++) kb_buf_puts(&text, "无关的内容。");
  char *s = snippet(f, "打印机 脱机 重启", text.data, &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>打印机</mark><mark>脱机</mark>了。"));
  assert_true(tu_contains(s, "<mark>重启</mark><mark>打印机</mark>后"));
  free(s);
  kb_buf_reset(&text);
  for (int i = 0; i < 200; i++) kb_buf_puts(&text, "xyz ");
  kb_buf_puts(&text, "nginx reload ");
  for (int i = 0; i < 200; i++) kb_buf_puts(&text, "abc nginx ");
  s = snippet(f, "nginx reload", text.data, &KB_SNIPPET_HTML);
  assert_true(tu_contains(s, "<mark>nginx</mark> <mark>reload</mark> abc <mark>nginx</mark>"));
  assert_false(tu_contains(s, " nginx "));
  free(s);
  kb_buf_free(&text);
}

static void test_one_line(void **state) {
  fixture *f = *state;
  char *s = snippet(f, "打印机", "第一行\n\n  打印机\t脱机\r\n第三行", &KB_SNIPPET_HTML);
  assert_false(tu_contains(s, "\n"));
  assert_false(tu_contains(s, "\t"));
  assert_false(tu_contains(s, "\r"));
  assert_false(tu_contains(s, "  ")); /* whitespace runs become one space */
  assert_true(tu_contains(s, "<mark>打印机</mark> 脱机"));
  free(s);
}

static void test_appends_to_out(void **state) {
  fixture *f = *state;
  kb_query *q = NULL;
  assert_int_equal(kb_query_parse(f->tk, "nginx", 5, NULL, &q, NULL), KB_OK);
  kb_buf out = {0};
  kb_buf_puts(&out, "PREFIX|");
  assert_int_equal(kb_snippet_make(f->tk, kb_query_highlights(q), "nginx ok", 8,
                                   &KB_SNIPPET_PLAIN, &out, NULL),
                   KB_OK);
  assert_string_equal(out.data, "PREFIX|**nginx** ok");
  kb_buf_free(&out);
  kb_query_free(q);
}

/* ------------------------------------------------------------ UTF-8 cuts */

static void test_small_windows_never_cut_characters(void **state) {
  fixture *f = *state;
  kb_snippet_style st = {"[", "]", true, 0};
  char *text = long_text("数据库连接超时😀é", 30, "打印机脱机", 30);
  for (size_t chars = 20; chars < 60; chars += 3) {
    st.max_chars = chars;
    char *s = snippet(f, "打印机", text, &st);
    if (!kb_utf8_valid(s, strlen(s), NULL)) fail_msg("max_chars %zu: invalid UTF-8: %s", chars, s);
    assert_true(tu_contains(s, "[打印机]"));
    free(s);
  }
  free(text);
}

static void test_random_texts_give_valid_utf8(void **state) {
  fixture *f = *state;
  static const char *pieces[] = {"打印机", "脱机", "nginx", " ", "。", "😀", "é", "<", "&",
                                 "\n",     "数据库", "ORA-12170", "x", "ＡＢ", "连接"};
  static const char *queries[] = {"打印机", "nginx 数据库", "ORA-12170", "连接 x", "é"};
  unsigned seed = 7;
  for (int round = 0; round < 200; round++) {
    kb_buf text = {0};
    int n = rand_r(&seed) % 200;
    for (int i = 0; i < n; i++)
      kb_buf_puts(&text, pieces[rand_r(&seed) % (sizeof pieces / sizeof pieces[0])]);
    if (!text.data) kb_buf_append(&text, "", 0);
    kb_snippet_style st = {"<mark>", "</mark>", round % 2 == 0, 20 + (size_t)(rand_r(&seed) % 150)};
    char *s = snippet(f, queries[round % 5], text.data, &st);
    if (!kb_utf8_valid(s, strlen(s), NULL)) fail_msg("round %d: invalid UTF-8", round);
    assert_int_equal(count_of(s, "<mark>"), count_of(s, "</mark>"));
    free(s);
    kb_buf_free(&text);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_marks_chinese_words),
      cmocka_unit_test(test_marks_whole_technical_token),
      cmocka_unit_test(test_marks_stemmed_words_as_written),
      cmocka_unit_test(test_full_width_text_matches),
      cmocka_unit_test(test_html_escaped),
      cmocka_unit_test(test_html_escape_function),
      cmocka_unit_test(test_terminal_and_plain_styles),
      cmocka_unit_test(test_terminal_drops_control_characters),
      cmocka_unit_test(test_terminal_drops_del_and_c1_controls),
      cmocka_unit_test(test_long_text_window_holds_match),
      cmocka_unit_test(test_match_near_start_has_no_leading_ellipsis),
      cmocka_unit_test(test_no_match_gives_start_of_text),
      cmocka_unit_test(test_window_prefers_more_distinct_terms),
      cmocka_unit_test(test_marks_across_pieces),
      cmocka_unit_test(test_one_line),
      cmocka_unit_test(test_appends_to_out),
      cmocka_unit_test(test_small_windows_never_cut_characters),
      cmocka_unit_test(test_random_texts_give_valid_utf8),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
