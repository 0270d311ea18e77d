/* kb-index.c — the indexer: add and sync Markdown articles, delete by id,
 * show statistics. Exit status: 0 all went in, 3 some input was skipped,
 * 1 fatal error, 2 usage error. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kb/analyze.h"
#include "kb/import.h"
#include <time.h>
#include <unistd.h>
#include "kb/index.h"
#include "kb/markdown.h"
#include "kb/text.h"
#include "kb/ticket.h"
#include "kb/tokenize.h"

#define EXIT_SKIPPED 3
#define EXIT_USAGE 2
#define COMMIT_EVERY 1000
#define ARTICLE_MAX (8u << 20) /* bytes: bigger files are skipped */
#define ROOTS_KEY "kb:article_roots"

static const char usage[] =
    "用法 (usage): kb-index [--db DIR] [--lexicon FILE] [--synonyms FILE] COMMAND ...\n"
    "\n"
    "  add PATH...      添加或更新 Markdown 文章 (files or folders, recursive; upsert by id)\n"
    "  sync DIR         使索引中来自 DIR 的文章与 DIR 完全一致 (add, update, remove)\n"
    "  delete ID...     按 id 删除文档 (e.g. a/db/ora-12170, t/10023)\n"
    "  stats [--json]   索引统计 (documents by type, visibility, product; terms; size)\n"
    "  import [OPTIONS] FILE...|-\n"
    "                   导入已关闭工单 (import closed tickets, JSONL or CSV, gzip ok);\n"
    "                   识别 ServiceNow、Jira、Zendesk、禅道、Redmine 的导出 (their exports are\n"
    "                   recognised by their columns: no --map needed)\n"
    "      --format jsonl|csv        默认按扩展名 (default: by file name; .csv → CSV)\n"
    "      --encoding auto|utf-8|gbk|gb18030|big5|...   默认自动检测 (default: detect)\n"
    "      --map FIELD=COLUMN,...    列名映射 (column names), e.g. --map id=工单号,title=主题\n"
    "      --rejects FILE            被拒记录原样写入 (rejected records, verbatim)\n"
    "      --batch N                 每 N 条提交一次 (records per commit; default 5000)\n"
    "      --progress auto|always|never  进度显示 (progress; auto = a bar on a terminal)\n"
    "      --restart                 忽略检查点，从头读取 (ignore the checkpoint, read from the start)\n"
    "      --dry-run                 只读前几条记录：显示识别的格式、列的用途、编码和三条\n"
    "                                记录，不写入任何内容 (read the first records: show the\n"
    "                                format recognised, what each column fills, the charset\n"
    "                                and three records as stored; write nothing)\n"
    "      --shards N|auto           N 个分片并行写入，最后合并 (write N staging shards in\n"
    "                                parallel, merged at the end; auto = one per core, up\n"
    "                                to 4, when the input is over 64 MB and at least as\n"
    "                                big as the index; else 1)\n"
    "\n"
    "  --db DIR         索引目录 (index folder); default $KB_DB, else data/kb.db\n"
    "  --lexicon FILE   额外的领域词典 (extra lexicon words, one per line)\n"
    "  --synonyms FILE  用户同义词 (your synonym groups, \"蓝屏 = BSOD = blue screen\" a line),\n"
    "                   存入索引，查询时生效，无需重建 (kept in the index, used at query\n"
    "                   time, no re-index); an empty file removes them\n"
    "\n"
    "文章 id 为 a/ 加上相对于所给文件夹的路径（去掉 .md），front matter 中的 id 优先。\n"
    "Article id: a/ + path relative to the folder given, without .md, unless the\n"
    "front matter sets id. A file given alone is relative to the folder it was\n"
    "added with before, else to its own folder.\n"
    "\n"
    "退出状态 (exit status): 0 全部成功 (all went in); 3 部分输入被跳过 (some input\n"
    "skipped, see messages); 1 严重错误 (fatal error); 2 用法错误 (usage error).\n";

typedef struct indexer {
  kb_index *idx;
  kb_lexicon *lex;
  kb_tokenizer *tok;
  size_t added, updated, unchanged, skipped, deleted, pending;
  int fatal;
  /* sync bookkeeping: every file seen, and the id each parsed file gave */
  char **seen_paths;
  char **seen_ids; /* NULL for a file that failed to parse */
  size_t nseen, seen_cap;
  bool track;
} indexer;

/* One skipped input, named with its reason. */
static void report_skip(indexer *ix, const char *what, const char *why) {
  fprintf(stderr, "kb-index: 跳过 (skipped) %s: %s\n", what, why);
  ix->skipped++;
}

static void remember(indexer *ix, const char *abs_path, const char *id) {
  if (!ix->track) return;
  if (ix->nseen == ix->seen_cap) {
    size_t cap = ix->seen_cap ? ix->seen_cap * 2 : 256;
    char **p = realloc(ix->seen_paths, cap * sizeof *p);
    if (p) ix->seen_paths = p;
    char **i = realloc(ix->seen_ids, cap * sizeof *i);
    if (i) ix->seen_ids = i;
    if (!p || !i) return;
    ix->seen_cap = cap;
  }
  ix->seen_paths[ix->nseen] = strdup(abs_path);
  ix->seen_ids[ix->nseen] = id ? strdup(id) : NULL;
  ix->nseen++;
}

static int maybe_commit(indexer *ix) {
  if (++ix->pending < COMMIT_EVERY) return KB_OK;
  kb_error err = {0};
  ix->pending = 0;
  if (kb_index_commit(ix->idx, &err) != KB_OK) {
    fprintf(stderr, "kb-index: %s\n", err.message);
    ix->fatal = 1;
    return err.code;
  }
  return KB_OK;
}

/* Indexes one article; rel is its path relative to the root for its id. */
static void add_article(indexer *ix, const char *path, const char *abs_path, const char *rel) {
  kb_error err = {0};
  kb_buf src = {0}, id = {0}, id_term = {0};
  kb_doc *doc = NULL;
  kb_xdoc *xd = NULL;
  if (kb_buf_read_file(&src, path, ARTICLE_MAX, &err) != KB_OK ||
      kb_markdown_parse(src.data ? src.data : "", src.len, path, &doc, &err) != KB_OK) {
    fprintf(stderr, "kb-index: 跳过 (skipped) %s\n", err.message);
    ix->skipped++;
    remember(ix, abs_path, NULL);
    goto out;
  }
  if (kb_doc_get(doc, KB_FIELD_ID)) kb_buf_puts(&id, kb_doc_get(doc, KB_FIELD_ID));
  else kb_markdown_article_id(rel, &id);
  /* an id from a file name: a name with a control or bidirectional
   * character would make a link that does not work or lies */
  const char *id_why = id.data ? kb_doc_id_problem(id.data) : "out of memory";
  if (id_why) {
    fprintf(stderr, "kb-index: 跳过 (skipped) %s: id: %s\n", path, id_why);
    ix->skipped++;
    remember(ix, abs_path, NULL);
    goto out;
  }
  kb_doc_set_str(doc, KB_FIELD_ID, id.data);
  kb_doc_set_str(doc, KB_FIELD_SOURCE, abs_path);
  remember(ix, abs_path, id.data);

  /* the content hash covers the analyzer, the id and the bytes */
  kb_buf h = {0};
  kb_buf_puts(&h, KB_ANALYZER_VERSION "\n");
  kb_buf_puts(&h, id.data);
  kb_buf_putc(&h, '\n');
  kb_buf_puts(&h, abs_path);
  kb_buf_putc(&h, '\n');
  kb_buf_append(&h, src.data ? src.data : "", src.len);
  char hex[17];
  kb_hash_hex(h.data, h.len, hex);
  kb_buf_free(&h);
  kb_doc_set_str(doc, KB_FIELD_HASH, hex);

  kb_id_term(id.data, &id_term);
  /* stored in each audience's database whose version changed */
  bool changed = false, present = false;
  if (kb_analyze_doc(ix->tok, doc, &xd, &err) != KB_OK ||
      kb_index_update(ix->idx, id_term.data, xd, KB_SLOT_HASH, &changed, &present, &err) !=
          KB_OK) {
    fprintf(stderr, "kb-index: %s: %s\n", path, err.message);
    ix->fatal = 1;
    goto out;
  }
  if (!changed) {
    ix->unchanged++;
    goto out;
  }
  if (present) ix->updated++;
  else ix->added++;
  maybe_commit(ix);
out:
  kb_xdoc_free(xd);
  kb_doc_free(doc);
  kb_buf_free(&src);
  kb_buf_free(&id);
  kb_buf_free(&id_term);
}

typedef struct tree_ctx {
  indexer *ix;
  const char *abs_dir;
} tree_ctx;

static int add_tree_file(const char *path, const char *rel, const char *why, void *vctx) {
  tree_ctx *c = vctx;
  if (why) {
    report_skip(c->ix, path, why);
    return 0;
  }
  kb_buf abs = {0};
  kb_buf_printf(&abs, "%s/%s", c->abs_dir, rel);
  add_article(c->ix, path, abs.data, rel);
  kb_buf_free(&abs);
  return c->ix->fatal;
}

/* Every article under dir (abs_dir is its real path). */
static void add_tree(indexer *ix, const char *dir, const char *abs_dir) {
  tree_ctx c = {ix, abs_dir};
  kb_markdown_each_file(dir, add_tree_file, &c);
}

/* The folders articles were added from, newline-separated, in metadata. */
static void note_root(indexer *ix, const char *abs_dir) {
  char *roots = NULL;
  if (kb_index_get_meta(ix->idx, ROOTS_KEY, &roots, NULL) != KB_OK) return;
  kb_buf b = {0};
  kb_buf_puts(&b, roots);
  bool present = false;
  for (char *line = roots, *save = NULL; (line = strtok_r(line, "\n", &save)); line = NULL)
    present |= strcmp(line, abs_dir) == 0;
  if (!present) {
    if (b.len) kb_buf_putc(&b, '\n');
    kb_buf_puts(&b, abs_dir);
    kb_index_set_writer_meta(ix->idx, ROOTS_KEY, b.data, NULL);
  }
  kb_buf_free(&b);
  free(roots);
}

/* The longest known root holding abs_file, else its own folder. */
static void root_of_file(indexer *ix, const char *abs_file, kb_buf *root) {
  char *roots = NULL;
  size_t best = 0;
  if (kb_index_get_meta(ix->idx, ROOTS_KEY, &roots, NULL) == KB_OK) {
    for (char *line = roots, *save = NULL; (line = strtok_r(line, "\n", &save)); line = NULL) {
      size_t n = strlen(line);
      if (n > best && strncmp(abs_file, line, n) == 0 && abs_file[n] == '/') {
        kb_buf_reset(root);
        kb_buf_puts(root, line);
        best = n;
      }
    }
  }
  free(roots);
  if (best) return;
  const char *slash = strrchr(abs_file, '/');
  kb_buf_reset(root);
  kb_buf_append(root, abs_file, slash ? (size_t)(slash - abs_file) : 0);
}

static void add_path(indexer *ix, const char *path) {
  char abs[PATH_MAX];
  struct stat st;
  if (stat(path, &st) != 0 || !realpath(path, abs)) {
    report_skip(ix, path, strerror(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    note_root(ix, abs);
    add_tree(ix, path, abs);
    return;
  }
  kb_buf root = {0};
  root_of_file(ix, abs, &root);
  add_article(ix, path, abs, abs + root.len + 1);
  kb_buf_free(&root);
}

static int finish(indexer *ix) {
  kb_error err = {0};
  if (!ix->fatal && kb_index_commit(ix->idx, &err) != KB_OK) {
    fprintf(stderr, "kb-index: %s\n", err.message);
    ix->fatal = 1;
  }
  fprintf(stderr, "kb-index: 新增 %zu, 更新 %zu, 未变 %zu, 删除 %zu, 跳过 %zu "
          "(added, updated, unchanged, deleted, skipped)\n",
          ix->added, ix->updated, ix->unchanged, ix->deleted, ix->skipped);
  if (ix->fatal) return 1;
  return ix->skipped ? EXIT_SKIPPED : 0;
}

typedef struct stale_ctx {
  indexer *ix;
  const char *dir; /* absolute, no trailing slash */
  char **stale;
  size_t n, cap;
} stale_ctx;

/* Articles whose source is under dir but which the walk did not produce. */
static int find_stale(const char *term, size_t len, uint32_t freq, void *vctx) {
  (void)freq;
  stale_ctx *c = vctx;
  char *src = NULL;
  kb_buf id_term = {0};
  kb_buf_append(&id_term, term, len);
  kb_index_get_value(c->ix->idx, id_term.data, KB_SLOT_SOURCE, &src, NULL);
  size_t dl = strlen(c->dir);
  bool under = src && strncmp(src, c->dir, dl) == 0 && src[dl] == '/';
  bool keep = !under;
  for (size_t i = 0; under && i < c->ix->nseen && !keep; i++) {
    if (strcmp(c->ix->seen_paths[i], src) != 0) continue;
    /* a file that failed to parse keeps what was stored for it */
    keep = !c->ix->seen_ids[i] || strcmp(c->ix->seen_ids[i], id_term.data + 1) == 0;
  }
  if (!keep && c->n < 1u << 20) {
    if (c->n == c->cap) {
      c->cap = c->cap ? c->cap * 2 : 64;
      char **p = realloc(c->stale, c->cap * sizeof *p);
      if (p) c->stale = p;
      else c->cap = c->n;
    }
    if (c->n < c->cap) c->stale[c->n++] = strdup(id_term.data);
  }
  free(src);
  kb_buf_free(&id_term);
  return 0;
}

static void sync_dir(indexer *ix, const char *dir) {
  char abs[PATH_MAX];
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(dir, abs)) {
    fprintf(stderr, "kb-index: %s: 不是文件夹 (not a folder)\n", dir);
    ix->fatal = 1;
    return;
  }
  ix->track = true;
  note_root(ix, abs);
  add_tree(ix, dir, abs);
  if (ix->fatal) return;
  stale_ctx c = {.ix = ix, .dir = abs};
  kb_error err = {0};
  if (kb_index_each_term(ix->idx, KB_PREFIX_ID "a/", find_stale, &c, &err) < 0) {
    fprintf(stderr, "kb-index: %s\n", err.message);
    ix->fatal = 1;
  }
  for (size_t i = 0; i < c.n; i++) {
    bool found = false;
    if (!ix->fatal && kb_index_delete(ix->idx, c.stale[i], &found, &err) != KB_OK) {
      fprintf(stderr, "kb-index: %s\n", err.message);
      ix->fatal = 1;
    }
    if (found) ix->deleted++;
    free(c.stale[i]);
  }
  free(c.stale);
}

static int cmd_delete(indexer *ix, int argc, char **argv) {
  for (int i = 0; i < argc && !ix->fatal; i++) {
    kb_buf term = {0};
    kb_error err = {0};
    bool found = false;
    kb_id_term(argv[i], &term);
    if (kb_index_delete(ix->idx, term.data, &found, &err) != KB_OK) {
      fprintf(stderr, "kb-index: %s\n", err.message);
      ix->fatal = 1;
    } else if (!found) {
      report_skip(ix, argv[i], "索引中没有此 id (no such id)");
    } else {
      ix->deleted++;
    }
    kb_buf_free(&term);
  }
  return finish(ix);
}

/* ---------------------------------------------------------------- stats */

typedef struct count_ctx {
  json_t *obj;
  size_t skip; /* prefix length */
} count_ctx;

static int count_term(const char *term, size_t len, uint32_t freq, void *vctx) {
  count_ctx *c = vctx;
  kb_buf k = {0};
  kb_buf_append(&k, term + c->skip, len - c->skip);
  json_object_set_new(c->obj, k.data, json_integer(freq));
  kb_buf_free(&k);
  return 0;
}

static json_t *counts(kb_index *idx, const char *prefix, const char *const *always) {
  count_ctx c = {json_object(), strlen(prefix)};
  for (; always && *always; always++) json_object_set_new(c.obj, *always, json_integer(0));
  kb_index_each_term(idx, prefix, count_term, &c, NULL);
  return c.obj;
}

static int cmd_stats(kb_index *idx, bool as_json) {
  static const char *const types[] = {"article", "ticket", NULL};
  static const char *const vis[] = {"public", "internal", NULL};
  char *last = NULL;
  kb_index_get_meta(idx, "last_commit", &last, NULL);
  json_t *o = json_object();
  json_object_set_new(o, "documents", json_integer(kb_index_doc_count(idx)));
  json_object_set_new(o, "by_type", counts(idx, KB_PREFIX_TYPE, types));
  json_object_set_new(o, "by_visibility", counts(idx, KB_PREFIX_VISIBILITY, vis));
  json_object_set_new(o, "by_product", counts(idx, KB_PREFIX_PRODUCT, NULL));
  json_t *aud = json_object(); /* each audience's database: what its readers can find */
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
    json_object_set_new(aud, kb_audience_name((kb_audience)a),
                        json_integer(kb_index_doc_count_for(idx, (kb_audience)a)));
  json_object_set_new(o, "by_audience", aud);
  json_object_set_new(o, "terms", json_integer((json_int_t)kb_index_unique_terms(idx)));
  json_object_set_new(o, "size_bytes", json_integer((json_int_t)kb_index_size_bytes(idx)));
  json_object_set_new(o, "last_commit", last && *last ? json_string(last) : json_null());
  json_object_set_new(o, "path", json_string(kb_index_path(idx)));
  if (as_json) {
    json_dumpf(o, stdout, JSON_INDENT(2));
    putchar('\n');
  } else {
    printf("索引 (index):        %s\n", kb_index_path(idx));
    printf("文档 (documents):    %u\n", kb_index_doc_count(idx));
    const char *key;
    json_t *v;
    printf("类型 (by type):     ");
    json_object_foreach(json_object_get(o, "by_type"), key, v)
        printf(" %s %lld", key, (long long)json_integer_value(v));
    printf("\n可见性 (visibility):");
    json_object_foreach(json_object_get(o, "by_visibility"), key, v)
        printf(" %s %lld", key, (long long)json_integer_value(v));
    printf("\n读者 (by audience): ");
    json_object_foreach(json_object_get(o, "by_audience"), key, v)
        printf(" %s %lld", key, (long long)json_integer_value(v));
    printf("\n产品 (by product):  ");
    json_object_foreach(json_object_get(o, "by_product"), key, v)
        printf(" %s %lld", key, (long long)json_integer_value(v));
    printf("\n词项 (terms):        %llu\n", (unsigned long long)kb_index_unique_terms(idx));
    printf("大小 (size):         %.1f MiB\n", (double)kb_index_size_bytes(idx) / 1048576.0);
    printf("最后提交 (last commit): %s\n", last && *last ? last : "-");
  }
  json_decref(o);
  free(last);
  return 0;
}

/* Keeps the user's lexicon in the index, so that every reader segments
 * queries with it too. Words already indexed are re-segmented on re-index. */
static int save_lexicon(kb_index *idx, const char *path, kb_error *err) {
  kb_lexicon *check = kb_lexicon_new();
  if (!check) return kb_error_set(err, KB_ENOMEM, "out of memory");
  int rc = kb_lexicon_add_file(check, path, err); /* validates the file */
  kb_lexicon_free(check);
  kb_buf text = {0};
  if (rc == KB_OK) rc = kb_buf_read_file(&text, path, 0, err);
  if (rc == KB_OK) rc = kb_index_set_meta(idx, KB_META_LEXICON, text.data ? text.data : "", err);
  kb_buf_free(&text);
  return rc;
}

/* The user's synonym groups go to the index as they are: searchers apply
 * them at query time, so nothing needs re-indexing. */
static int save_synonyms(kb_index *idx, const char *path, kb_error *err) {
  kb_buf text = {0};
  int rc = kb_buf_read_file(&text, path, 1u << 20, err);
  size_t bad = 0;
  if (rc == KB_OK && text.len && !kb_utf8_valid(text.data, text.len, &bad))
    rc = kb_error_set(err, KB_EENCODING, "%s: 不是 UTF-8 (not UTF-8) at byte %zu", path, bad);
  if (rc == KB_OK && text.len && memchr(text.data, '\0', text.len))
    rc = kb_error_set(err, KB_EPARSE, "%s: 含有 NUL 字节 (holds a NUL byte)", path);
  if (rc == KB_OK) rc = kb_index_set_meta(idx, KB_META_SYNONYMS, text.data ? text.data : "", err);
  if (rc == KB_OK) rc = kb_index_commit(idx, err);
  kb_buf_free(&text);
  return rc;
}

/* --------------------------------------------------------------- import */

typedef struct import_ui {
  FILE *rejects;
  char *header_for; /* the input whose CSV header the rejects file has */
  const char *rejects_path;
  bool bar;          /* a progress bar on a terminal */
  bool lines;        /* a progress line every few seconds */
  double last_line;
  bool bar_shown;
  char charsets[128]; /* the charsets the inputs were read in, for the summary */
} import_ui;

static void clear_bar(import_ui *ui) {
  if (ui->bar_shown) fputs("\r\033[K", stderr);
  ui->bar_shown = false;
}

static void on_reject(const char *path, const char *header, size_t header_len,
                      const kb_ticket_reject *rej, void *ctx) {
  import_ui *ui = ctx;
  /* a CSV rejects file starts with its header, so that it can be fixed and
   * imported again */
  if (ui->rejects && header && (!ui->header_for || strcmp(ui->header_for, path) != 0)) {
    fwrite(header, 1, header_len, ui->rejects);
    free(ui->header_for);
    ui->header_for = strdup(path);
  }
  clear_bar(ui);
  fprintf(stderr, "kb-index: 拒绝 (rejected) %s:%zu:%s%s %s\n", strcmp(path, "-") ? path : "(stdin)",
          rej->line, rej->field[0] ? " 字段 (field) " : "", rej->field, rej->reason);
  if (ui->rejects && rej->raw) {
    fwrite(rej->raw, 1, rej->raw_len, ui->rejects);
    if (rej->raw_len && rej->raw[rej->raw_len - 1] != '\n') fputc('\n', ui->rejects);
  }
}

/* Every input says which charset it is read in, and how that was decided. */
static void on_charset(const char *path, const kb_charset_choice *c, void *ctx) {
  import_ui *ui = ctx;
  char how[320];
  kb_charset_describe(c, how, sizeof how);
  clear_bar(ui);
  fprintf(stderr, "kb-index: %s: 编码 (charset) %s\n", strcmp(path, "-") ? path : "(stdin)", how);
  if (!strstr(ui->charsets, c->name) && strlen(ui->charsets) + strlen(c->name) + 3 < sizeof ui->charsets) {
    if (*ui->charsets) strcat(ui->charsets, ", ");
    strcat(ui->charsets, c->name);
  }
}

static void on_resume(const char *path, size_t records, uint64_t offset, void *ctx) {
  import_ui *ui = ctx;
  clear_bar(ui);
  fprintf(stderr, "kb-index: %s: 从检查点继续，跳过已提交的 %zu 条记录 (%llu 字节) "
          "(resuming after %zu committed records)\n",
          path, records, (unsigned long long)offset, records);
}

/* auto: shards pay off for a big import into a smaller index, since the
 * merge rewrites the whole index; an unfinished sharded import is resumed
 * as one. */
static unsigned choose_shards(kb_index *idx, long asked, char **files, int nfiles) {
  size_t staged = kb_import_staged(idx);
  if (staged > 1) return (unsigned)staged;
  if (asked > 0) return (unsigned)asked;
  uint64_t input = 0;
  for (int i = 0; i < nfiles; i++) {
    struct stat st;
    if (strcmp(files[i], "-") == 0 || stat(files[i], &st) != 0) continue;
    input += (uint64_t)st.st_size;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (input < (64u << 20) || input < kb_index_size_bytes(idx) || cores < 2) return 1;
  return cores > 4 ? 4 : (unsigned)cores;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(double b, char *out, size_t n) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, u++;
  snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void on_progress(const char *path, const kb_import_stats *st, void *ctx) {
  import_ui *ui = ctx;
  size_t records = st->imported + st->updated + st->unchanged + st->rejected;
  double rate = st->seconds > 0 ? (double)records / st->seconds : 0;
  char bytes[32];
  human_bytes((double)st->bytes, bytes, sizeof bytes);
  if (ui->bar) {
    char eta[32] = "?";
    double frac = st->raw_total ? (double)st->raw_bytes / (double)st->raw_total : 0;
    if (frac > 0.001 && frac <= 1) {
      long left = (long)(st->seconds / frac - st->seconds);
      snprintf(eta, sizeof eta, "%ldm%02lds", left / 60, left % 60);
    }
    char bar[21];
    int filled = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r\033[K[%s] %3.0f%% %zu 条 · %s · %.0f 条/秒 · 剩余 %s · 拒绝 %zu", bar,
            frac * 100, records, bytes, rate, eta, st->rejected);
    ui->bar_shown = true;
  } else if (ui->lines) {
    double now = now_seconds();
    if (now - ui->last_line < 10) return;
    ui->last_line = now;
    fprintf(stderr, "kb-index: %s: %zu 条 (records), %s, %.0f 条/秒 (records/s), 拒绝 %zu (rejected)\n",
            path, records, bytes, rate, st->rejected);
  }
  fflush(stderr);
}

/* What `kb-index import` was asked: its options, then its inputs. */
typedef struct import_args {
  kb_ticket_opts ticket;
  const char *rejects_path;
  const char *progress; /* auto, always or never */
  size_t batch;         /* 0: the default */
  long shards;          /* 0: auto */
  bool restart, dry_run;
  char **files;
  int nfiles;
} import_args;

/* Reads import's options and inputs; EXIT_USAGE, said on standard error,
 * before anything is opened. */
static int parse_import_args(int argc, char **argv, import_args *out) {
  *out = (import_args){.progress = "auto"};
  int i = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
    if (!strcmp(a, "--format") && has) {
      const char *f = argv[++i];
      if (!strcmp(f, "jsonl") || !strcmp(f, "json")) out->ticket.format = KB_TICKET_JSONL;
      else if (!strcmp(f, "csv")) out->ticket.format = KB_TICKET_CSV;
      else goto bad;
    } else if (!strcmp(a, "--encoding") && has) {
      out->ticket.encoding = argv[++i];
    } else if (!strcmp(a, "--map") && has) {
      out->ticket.map = argv[++i];
    } else if (!strcmp(a, "--rejects") && has) {
      out->rejects_path = argv[++i];
    } else if (!strcmp(a, "--batch") && has) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 10000000) goto bad;
      out->batch = (size_t)n;
    } else if (!strcmp(a, "--progress") && has) {
      const char *p = out->progress = argv[++i];
      if (strcmp(p, "auto") && strcmp(p, "always") && strcmp(p, "never")) goto bad;
    } else if (!strcmp(a, "--restart")) {
      out->restart = true;
    } else if (!strcmp(a, "--dry-run")) {
      out->dry_run = true;
    } else if (!strcmp(a, "--shards") && has) {
      char *end;
      const char *v = argv[++i];
      out->shards = strcmp(v, "auto") == 0 ? 0 : strtol(v, &end, 10);
      if (strcmp(v, "auto") && (*end || out->shards < 1 || out->shards > 16)) goto bad;
    } else {
      goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "kb-index: import: 参数无效 (invalid argument) %s\n\n%s", a, usage);
    return EXIT_USAGE;
  }
  if (i >= argc) {
    fprintf(stderr, "kb-index: import: 需要输入文件或 - (a FILE or - is required)\n");
    return EXIT_USAGE;
  }
  out->files = argv + i;
  out->nfiles = argc - i;
  return 0;
}

static int cmd_import(indexer *ix, const import_args *args) {
  kb_import_opts o = {.lexicon = ix->lex, .on_reject = on_reject, .on_progress = on_progress,
                      .on_resume = on_resume, .on_charset = on_charset, .ticket = args->ticket,
                      .batch = args->batch, .no_resume = args->restart};
  import_ui ui = {.rejects_path = args->rejects_path};
  const char *progress = args->progress;
  ui.bar = !strcmp(progress, "auto") && isatty(STDERR_FILENO);
  ui.lines = !strcmp(progress, "always");
  if (ui.rejects_path && !(ui.rejects = fopen(ui.rejects_path, "w"))) {
    fprintf(stderr, "kb-index: %s: %s\n", ui.rejects_path, strerror(errno));
    return 1;
  }
  o.ctx = &ui;
  o.shards = choose_shards(ix->idx, args->shards, args->files, args->nfiles);
  if (o.shards > 1 && kb_import_staged(ix->idx) > 1)
    fprintf(stderr, "kb-index: 继续未完成的分片导入 (resuming an unfinished sharded import, "
            "%u shards)\n", o.shards);
  kb_import_stats st = {0};
  int status = 0;
  for (int i = 0; i < args->nfiles; i++) {
    kb_error err = {0};
    if (kb_import_file(ix->idx, args->files[i], &o, &st, &err) != KB_OK) {
      clear_bar(&ui);
      fprintf(stderr, "kb-index: %s\n", err.message);
      if (err.code == KB_ENOSPC)
        fprintf(stderr, "kb-index: 已提交的批次完好，释放空间后重新运行同一导入即可从检查点继续 "
                "(every batch committed is intact; free some space and run the same import "
                "again to resume after it)\n");
      status = 1;
      break;
    }
  }
  clear_bar(&ui);
  if (o.shards > 1 && status == 0) {
    kb_error err = {0};
    double t0 = now_seconds();
    if (kb_import_merge(&ix->idx, &err) != KB_OK) {
      fprintf(stderr, "kb-index: 合并分片失败 (merging the shards failed): %s; "
              "重新运行同一导入即可继续 (run the same import again to finish)\n", err.message);
      status = 1;
    } else {
      st.seconds += now_seconds() - t0;
    }
  } else if (o.shards > 1) {
    fprintf(stderr, "kb-index: 已提交的分片保留在索引目录中，重新运行同一导入即可继续 "
            "(the committed shards are kept; run the same import again to finish)\n");
  }
  if (ui.rejects) fclose(ui.rejects);
  free(ui.header_for);
  size_t records = st.imported + st.updated + st.unchanged + st.rejected;
  char bytes[32];
  human_bytes((double)st.bytes, bytes, sizeof bytes);
  /* shards not merged: their records are not in the index (not searchable) yet */
  bool staged = o.shards > 1 && status != 0;
  fprintf(stderr, "kb-index: %s: %s %zu, 更新 %zu, 未变 %zu, 拒绝 %zu "
          "(%s, updated, unchanged, rejected); 检查点跳过 %zu (skipped by checkpoint); "
          "%zu 条 (records), %s, %.1f 秒 (s), %.0f 条/秒 (records/s); 编码 (charset) %s\n",
          staged ? "已暂存在分片中，尚未导入 (staged in shards, NOT imported yet)" : "导入 (import)",
          staged ? "暂存" : "新增", st.imported, st.updated, st.unchanged, st.rejected,
          staged ? "staged" : "imported", st.resumed, records, bytes, st.seconds,
          st.seconds > 0 ? (double)records / st.seconds : 0.0, *ui.charsets ? ui.charsets : "-");
  if (status) return status;
  return st.rejected ? EXIT_SKIPPED : 0;
}

/* ------------------------------------------------------------- dry run */

#define DRY_RUN_DOCS 3
#define DRY_RUN_RECORDS 20

/* Columns on a terminal: CJK characters take two. */
static size_t display_width(const char *s) {
  size_t w = 0, i = 0, len = strlen(s);
  while (i < len) {
    int32_t cp = kb_utf8_next(s, len, &i);
    w += cp >= 0x2E80 && cp <= 0xFFEF ? 2 : 1;
  }
  return w;
}

/* A doc's fields as JSON, as kb stores them. */
static void print_doc(const kb_doc *doc) {
  json_t *o = json_object();
  for (int f = 0; f < KB_FIELD_COUNT; f++) {
    const char *v = kb_doc_get(doc, (kb_field)f);
    if (v) json_object_set_new(o, kb_field_name((kb_field)f), json_string(v));
  }
  char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s) printf("%s\n", s);
  free(s);
  json_decref(o);
}

/* One input read as an import would, nothing written. */
static int dry_run_file(const char *path, const kb_ticket_opts *opts) {
  kb_ticket_reader *r = NULL;
  kb_error err = {0};
  printf("== %s\n", path);
  if (kb_ticket_reader_open(path, opts, &r, &err) != KB_OK) {
    printf("无法读取 (cannot read): %s\n", err.message);
    return 1;
  }
  kb_doc *docs[DRY_RUN_DOCS] = {0};
  size_t ndocs = 0, rejected = 0, seen = 0;
  int rc = KB_OK, status = 0;
  kb_buf rejects = {0};
  while (seen < DRY_RUN_RECORDS && ndocs < DRY_RUN_DOCS) {
    kb_doc *doc = NULL;
    kb_ticket_reject rej;
    rc = kb_ticket_reader_next(r, &doc, &rej, &err);
    if (rc == KB_ENOENT) break;
    if (rc != KB_OK && rc != KB_EPARSE && rc != KB_EENCODING && rc != KB_ETOOBIG) {
      printf("读取失败 (read error): %s\n", err.message);
      status = 1;
      break;
    }
    seen++;
    if (rc == KB_OK) {
      docs[ndocs++] = doc;
    } else {
      rejected++;
      kb_buf_printf(&rejects, "  第 %zu 行 (line %zu)%s%s: %s\n", rej.line, rej.line,
                    *rej.field ? " " : "", rej.field, rej.reason);
    }
  }
  const char *fmt = kb_ticket_reader_format_title(r);
  printf("格式 (format): %s\n", fmt ? fmt : "通用列名 (generic column names, lib/data/ticket_fields.txt)");
  char how[320];
  kb_charset_describe(kb_ticket_reader_charset(r), how, sizeof how);
  printf("编码 (charset): %s\n", how);
  printf("列 (columns → fields):\n");
  kb_buf role = {0};
  const char *name;
  for (size_t i = 0; (name = kb_ticket_reader_column(r, i, &role)); i++)
    printf("  %s%*s %s\n", name, (int)(display_width(name) < 24 ? 24 - display_width(name) : 0), "",
           *role.data ? role.data : "忽略 (ignored)");
  kb_buf_free(&role);
  printf("记录 (records as kb would store them): %zu\n", ndocs);
  for (size_t i = 0; i < ndocs; i++) {
    print_doc(docs[i]);
    kb_doc_free(docs[i]);
  }
  if (rejected) {
    printf("拒绝 (rejected) %zu:\n%s", rejected, rejects.data);
    if (!ndocs)
      printf("没有一条记录可用：请用 --map 指定列，例如 --map id=工单号,title=主题 "
             "(no record is usable: name the columns with --map)\n");
  }
  kb_buf_free(&rejects);
  kb_ticket_reader_free(r);
  return status ? status : rejected ? EXIT_SKIPPED : 0;
}

/* kb-index import --dry-run: the import's options, no index opened. */
static int cmd_dry_run(const import_args *args) {
  int status = 0;
  for (int i = 0; i < args->nfiles; i++) {
    int st = dry_run_file(args->files[i], &args->ticket);
    if (status != 1 && (st == 1 || st > status)) status = st; /* a fatal error wins */
  }
  printf("未写入任何内容 (dry run: nothing written)\n");
  return status;
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv) {
  const char *db = getenv("KB_DB");
  const char *lexicon_file = NULL, *synonyms_file = NULL;
  if (!db || !*db) db = "data/kb.db";
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else if (strcmp(argv[i], "--lexicon") == 0 && i + 1 < argc) {
      lexicon_file = argv[++i];
    } else if (strcmp(argv[i], "--synonyms") == 0 && i + 1 < argc) {
      synonyms_file = argv[++i];
    } else {
      fprintf(stderr, "kb-index: 未知选项 (unknown option) %s\n\n%s", argv[i], usage);
      return EXIT_USAGE;
    }
  }
  if (i >= argc && synonyms_file) { /* only the synonyms: stored, nothing else */
    kb_index *idx;
    kb_error err = {0};
    int rc = kb_index_open(db, KB_INDEX_WRITE, &idx, &err);
    if (rc == KB_OK) rc = save_synonyms(idx, synonyms_file, &err);
    kb_index_free(idx);
    if (rc != KB_OK) {
      fprintf(stderr, "kb-index: %s\n", err.message);
      return 1;
    }
    fprintf(stderr, "kb-index: 同义词已保存 (synonyms saved): %s\n", synonyms_file);
    return 0;
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[i++];
  kb_error err = {0};
  if (strcmp(cmd, "stats") == 0) {
    bool as_json = i < argc && strcmp(argv[i], "--json") == 0;
    kb_index *idx;
    if (kb_index_open(db, KB_INDEX_READ, &idx, &err) != KB_OK) {
      fprintf(stderr, "kb-index: 无法打开索引 (cannot open index) %s\n", err.message);
      return 1;
    }
    int rc = cmd_stats(idx, as_json);
    kb_index_free(idx);
    return rc;
  }
  bool is_add = strcmp(cmd, "add") == 0, is_sync = strcmp(cmd, "sync") == 0,
       is_delete = strcmp(cmd, "delete") == 0, is_import = strcmp(cmd, "import") == 0;
  if (!is_add && !is_sync && !is_delete && !is_import) {
    fprintf(stderr, "kb-index: 未知命令 (unknown command) %s\n\n%s", cmd, usage);
    return EXIT_USAGE;
  }
  if (i >= argc || (is_sync && argc - i != 1)) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  /* import's arguments are checked, and a dry run done, before the index
   * is opened: nothing is created or locked for them */
  import_args args = {0};
  if (is_import && parse_import_args(argc - i, argv + i, &args) != 0) return EXIT_USAGE;
  if (is_import && args.dry_run) return cmd_dry_run(&args);
  indexer ix = {0};
  int rc = kb_index_open(db, KB_INDEX_WRITE, &ix.idx, &err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("lexicon", &ix.lex, &err);
  if (rc == KB_OK && lexicon_file) rc = save_lexicon(ix.idx, lexicon_file, &err);
  if (rc == KB_OK && synonyms_file) rc = save_synonyms(ix.idx, synonyms_file, &err);
  char *extra = NULL;
  if (rc == KB_OK) rc = kb_index_get_meta(ix.idx, KB_META_LEXICON, &extra, &err);
  if (rc == KB_OK) rc = kb_lexicon_add_text(ix.lex, extra, strlen(extra));
  free(extra);
  if (rc == KB_OK) rc = kb_tokenizer_new(ix.lex, &ix.tok, &err);
  int status;
  if (rc != KB_OK) {
    fprintf(stderr, "kb-index: %s\n", err.message);
    status = 1;
  } else if (is_delete) {
    status = cmd_delete(&ix, argc - i, argv + i);
  } else if (is_import) {
    status = cmd_import(&ix, &args);
  } else {
    for (; i < argc && !ix.fatal; i++) {
      if (is_sync) sync_dir(&ix, argv[i]);
      else add_path(&ix, argv[i]);
    }
    status = finish(&ix);
  }
  for (size_t k = 0; k < ix.nseen; k++) {
    free(ix.seen_paths[k]);
    free(ix.seen_ids[k]);
  }
  free(ix.seen_paths);
  free(ix.seen_ids);
  kb_tokenizer_free(ix.tok);
  kb_lexicon_free(ix.lex);
  kb_index_free(ix.idx);
  return status;
}
