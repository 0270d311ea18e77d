/* fuzz_search.c — fuzz target: a whole search from user text, over a small
 * real index built once in a temporary folder: the query, the engine, the
 * snippets, facets, the "did you mean" (Latin spelling, Chinese homophones,
 * pinyin) and completions, for the public and for engineers. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kb/import.h"
#include "kb/markdown.h"
#include "kb/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ARTICLES[] = {
    "---\nid: printer/offline\ntitle: 网络打印机显示脱机\nproduct: printing\n---\n"
    "打印机脱机时先检查网线和 IP 地址 192.168.1.10，再重启 Print Spooler。\n",
    "---\nid: printer/driver\ntitle: 安装打印机驱动程序\nproduct: printing\n---\n"
    "驱动程序安装失败报 0x80070005 时以管理员身份运行。打印机型号见标签。\n",
    "---\nid: db/ora-12170\ntitle: ORA-12170 连接超时\nproduct: database\n---\n"
    "数据库连接超时：检查监听、防火墙和 sqlnet.ora。\n\n## 内部处理记录 {internal}\n\n"
    "数据库服务器的账号在工单系统里。\n",
    "---\nid: db/internal\ntitle: 数据库连接池内部手册\nvisibility: internal\n---\n"
    "连接池耗尽时打印机也会报错：out of memory。\n",
};

/* The index's folder, made at the first call by mkdtemp (which replaces
 * the template's last six characters) and removed at exit. */
static char dir[] = "/tmp/kb-fuzz-search-XXXXXX";

static void remove_dir(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return;
}

static kb_searcher *searcher(void) {
  static kb_searcher *s;
  if (s) return s;
  kb_lexicon *lex = NULL;
  kb_tokenizer *tok = NULL;
  kb_index *w = NULL;
  char path[64];
  if (!mkdtemp(dir)) abort();
  atexit(remove_dir);
  snprintf(path, sizeof path, "%s/kb.db", dir);
  if (kb_lexicon_new_builtin("lexicon", &lex, NULL) != KB_OK ||
      kb_tokenizer_new(lex, &tok, NULL) != KB_OK ||
      kb_index_open(path, KB_INDEX_WRITE, &w, NULL) != KB_OK)
    abort();
  for (size_t i = 0; i < sizeof ARTICLES / sizeof *ARTICLES; i++) {
    kb_doc *d = NULL;
    kb_upsert up;
    if (kb_markdown_parse(ARTICLES[i], strlen(ARTICLES[i]), "a.md", &d, NULL) != KB_OK ||
        kb_import_doc(w, tok, d, &up, NULL) != KB_OK)
      abort();
    kb_doc_free(d);
  }
  if (kb_index_commit(w, NULL) != KB_OK) abort();
  kb_index_free(w);
  kb_tokenizer_free(tok);
  kb_lexicon_free(lex);
  if (kb_searcher_new(path, &s, NULL) != KB_OK) abort();
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kb_searcher *s = searcher();
  for (int internal = 0; internal < 2; internal++) {
    kb_search_request req = {.query = (const char *)data, .query_len = size,
                             .include_internal = internal, .limit = 10, .facets = true,
                             .explain = true};
    kb_search_response *r = NULL;
    /* user text is never an error */
    if (kb_search(s, &req, &r, NULL) != KB_OK) abort();
    kb_search_response_free(r);
  }
  /* completions take the text as typed: NUL-terminated */
  char *text = malloc(size + 1);
  if (!text) abort();
  memcpy(text, data, size);
  text[size] = '\0';
  char **words = NULL;
  size_t n = 0;
  if (kb_search_suggest(s, text, false, 5, &words, &n, NULL) == KB_OK)
    kb_search_words_free(words, n);
  free(text);
  return 0;
}
