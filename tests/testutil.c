/* testutil.c — helpers shared by the test programs. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_tempdir(void) {
  const char *base = getenv("TMPDIR");
  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof tmpl, "%s/kbtest.XXXXXX", base && *base ? base : "/tmp");
  char *d = mkdtemp(tmpl);
  if (!d) {
    perror("mkdtemp");
    abort();
  }
  return strdup(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

void tu_rmtree(const char *path) {
  if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs_for(const char *path) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(tmp, 0755);
    *p = '/';
  }
}

void tu_write_file(const char *path, const char *data, size_t len) {
  mkdirs_for(path);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

void tu_write_str(const char *path, const char *text) { tu_write_file(path, text, strlen(text)); }

int tu_read_file(const char *path, kb_buf *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) kb_buf_append(out, chunk, n);
  fclose(f);
  if (!out->data) kb_buf_append(out, "", 0);
  return 0;
}

const char *tu_bin(const char *name) {
  static char path[PATH_MAX];
  const char *build = getenv("BUILD");
  snprintf(path, sizeof path, "%s/%s", build && *build ? build : "build", name);
  return path;
}

int tu_run(char *const argv[], kb_buf *out, kb_buf *err) {
  int po[2], pe[2];
  if (pipe(po) || pipe(pe)) abort();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(po[1]), close(pe[1]);
  struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  kb_buf *bufs[2] = {out, err};
  int open_fds = 2;
  while (open_fds) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char chunk[8192];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      } else if (bufs[i]) {
        kb_buf_append(bufs[i], chunk, (size_t)n);
      }
    }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out && !out->data) kb_buf_append(out, "", 0);
  if (err && !err->data) kb_buf_append(err, "", 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int tu_contains(const char *haystack, const char *needle) {
  return haystack && strstr(haystack, needle) != NULL;
}

/* -------------------------------------------------------------- servers */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

int tu_start_server(char *const argv[], pid_t *pid) {
  int po[2];
  if (pipe(po)) abort();
  pid_t p = fork();
  if (p == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(po[1], 1);
    close(po[0]);
    close(po[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(po[1]);
  *pid = p;
  char line[1024];
  size_t n = 0;
  int port = 0;
  struct pollfd fd = {po[0], POLLIN, 0};
  while (n < sizeof line - 1 && poll(&fd, 1, 10000) > 0) {
    ssize_t r = read(po[0], line + n, 1);
    if (r <= 0) break;
    if (line[n] == '\n') {
      line[n] = '\0';
      const char *at = strstr(line, "http://127.0.0.1:");
      if (at) port = atoi(at + strlen("http://127.0.0.1:"));
      break;
    }
    n++;
  }
  close(po[0]); /* the server's later output goes nowhere (SIGPIPE is ignored there) */
  return port;
}

int tu_stop_server(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tu_connect(int port) { return tu_connect_from(NULL, port); }

int tu_connect_from(const char *src, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (src) {
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &from.sin_addr);
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) {
      close(fd);
      return -1;
    }
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
  close(fd);
  return -1;
}

int tu_http(int port, const char *method, const char *path, const char *headers,
            const char *body, kb_buf *resp_body) {
  int fd = tu_connect(port);
  if (fd < 0) return 0;
  kb_buf req = {0};
  kb_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method, path,
                headers ? headers : "");
  if (body) kb_buf_printf(&req, "Content-Length: %zu\r\n", strlen(body));
  kb_buf_puts(&req, "\r\n");
  if (body) kb_buf_puts(&req, body);
  for (size_t off = 0; off < req.len;) {
    ssize_t w = write(fd, req.data + off, req.len - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  kb_buf_free(&req);
  kb_buf resp = {0};
  char chunk[8192];
  ssize_t r;
  while ((r = read(fd, chunk, sizeof chunk)) > 0) kb_buf_append(&resp, chunk, (size_t)r);
  close(fd);
  int status = 0;
  if (resp.len > 12) status = atoi(resp.data + 9);
  const char *sep = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
  if (resp_body && sep) kb_buf_puts(resp_body, sep + 4);
  if (resp_body && !resp_body->data) kb_buf_append(resp_body, "", 0);
  kb_buf_free(&resp);
  return status;
}

void tu_urlencode(const char *s, kb_buf *out) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~')
      kb_buf_putc(out, (char)*p);
    else
      kb_buf_printf(out, "%%%02X", *p);
  }
  if (!out->data) kb_buf_append(out, "", 0);
}

/* -------------------------------------------------------- crash safety */

#include <dirent.h>
#include <jansson.h>
#include <time.h>

#include "kb/analyze.h"

void tu_write_tickets(const char *path, int first, int n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = first; i < first + n; i++)
    fprintf(f, "{\"id\":\"c%d\",\"title\":\"工单 %d 服务器响应慢 kbrec%d\",\"problem\":\"客户反映系统"
               "在高峰期响应变慢，页面加载超过十秒，数据库连接数接近上限 %d\",\"resolution\":"
               "\"调整连接池参数并扩容应用节点 %d\",\"priority\":\"P%d\"}\n",
            i, i, i, i, i, 1 + i % 4);
  fclose(f);
}

long tu_doc_count(const char *db) {
  char bin[PATH_MAX];
  snprintf(bin, sizeof bin, "%s", tu_bin("kb-index"));
  char *argv[] = {bin, "--db", (char *)db, "stats", "--json", NULL};
  kb_buf out = {0};
  long n = -1;
  if (tu_run(argv, &out, NULL) == 0) {
    json_t *j = json_loads(out.data, 0, NULL);
    json_t *d = json_object_get(j, "documents");
    if (json_is_integer(d)) n = (long)json_integer_value(d);
    json_decref(j);
  }
  kb_buf_free(&out);
  return n;
}

static int count_twice(const char *term, size_t len, uint32_t freq, void *ctx) {
  (void)term, (void)len;
  if (freq > 1) *(long *)ctx += freq - 1;
  return 0;
}

long tu_ids_stored_twice(const char *db) {
  kb_index *idx = NULL;
  kb_error err = {0};
  if (kb_index_open(db, KB_INDEX_READ, &idx, &err) != KB_OK) return -1;
  long twice = 0;
  if (kb_index_each_term(idx, KB_PREFIX_ID, count_twice, &twice, &err) != KB_OK) twice = -1;
  kb_index_free(idx);
  return twice;
}

/* Every folder holding a glass database (its version file, iamglass) at
 * dir or up to two levels below it. */
static void find_databases(const char *dir, int depth, kb_buf *paths) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/iamglass", dir);
  if (access(p, F_OK) == 0) kb_buf_append(paths, dir, strlen(dir) + 1);
  DIR *d = depth < 2 ? opendir(dir) : NULL;
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) find_databases(p, depth + 1, paths);
  }
  if (d) closedir(d);
}

int tu_xapian_check(const char *db, int *checked, kb_buf *report) {
  kb_buf paths = {0};
  find_databases(db, 0, &paths);
  int bad = 0;
  *checked = 0;
  for (size_t i = 0; i < paths.len; i += strlen(paths.data + i) + 1) {
    char *argv[] = {"/usr/bin/xapian-check", paths.data + i, NULL};
    kb_buf out = {0};
    int rc = tu_run(argv, &out, &out);
    if (rc == 127) {
      kb_buf_free(&out);
      kb_buf_free(&paths);
      return -1;
    }
    ++*checked;
    if (rc != 0 || !tu_contains(out.data, "No errors found")) {
      bad++;
      if (report) kb_buf_printf(report, "%s:\n%s\n", paths.data + i, out.data);
    }
    kb_buf_free(&out);
  }
  kb_buf_free(&paths);
  return bad;
}

unsigned tu_seed(const char *test) {
  const char *env = getenv("KB_SEED");
  unsigned seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
  printf("# %s: seed %u (KB_SEED=%u replays it)\n", test, seed, seed);
  fflush(stdout);
  return seed;
}

/* ------------------------------------------------------------- fixture */

int tu_index_setup(void **state) {
  tu_index *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *state = f;
  kb_error err = {0};
  f->dir = tu_tempdir();
  kb_buf path = {0};
  kb_buf_printf(&path, "%s/db", f->dir);
  int rc = kb_lexicon_new_builtin("lexicon", &f->lex, &err);
  if (rc == KB_OK) rc = kb_lexicon_new_builtin("stopwords", &f->stop, &err);
  if (rc == KB_OK) rc = kb_tokenizer_new(f->lex, &f->tk, &err);
  if (rc == KB_OK) rc = kb_index_open(path.data, KB_INDEX_WRITE, &f->idx, &err);
  kb_buf_free(&path);
  if (rc != KB_OK) {
    fprintf(stderr, "setup: %s\n", err.message);
    return -1;
  }
  return 0;
}

int tu_index_teardown(void **state) {
  tu_index *f = *state;
  if (!f) return 0;
  kb_index_free(f->idx);
  kb_tokenizer_free(f->tk);
  kb_lexicon_free(f->lex);
  kb_lexicon_free(f->stop);
  tu_rmtree(f->dir);
  free(f->dir);
  free(f);
  return 0;
}
