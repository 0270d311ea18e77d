/* testutil.h — helpers shared by the test programs: temporary folders,
 * running the real binaries, reading files. */
#ifndef KB_TESTUTIL_H
#define KB_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kb/index.h"
#include "kb/text.h"
#include "kb/tokenize.h"

/* A new empty folder under $TMPDIR; caller frees the string and removes the
 * folder with tu_rmtree(). */
char *tu_tempdir(void);
/* rm -rf path. */
void tu_rmtree(const char *path);
/* Writes len bytes to path (creating parent folders). */
void tu_write_file(const char *path, const char *data, size_t len);
void tu_write_str(const char *path, const char *text);
/* Whole file into out; returns 0 or -1. */
int tu_read_file(const char *path, kb_buf *out);

/* Path of a built program ("kb-index" → build/kb-index, from $BUILD). Static
 * storage, overwritten by the next call. */
const char *tu_bin(const char *name);

/* Runs argv (NULL-terminated) with stdin from /dev/null, capturing stdout and
 * stderr. Returns the exit status (or 128 + signal). */
int tu_run(char *const argv[], kb_buf *out, kb_buf *err);

/* True when needle occurs in haystack. */
int tu_contains(const char *haystack, const char *needle);

/* ## A tokenizer and an empty index
 *
 * What the library's tests start from: the built-in lexicon and stop
 * words, a tokenizer over the lexicon, and a writable index in a new
 * temporary folder. tu_index_setup and tu_index_teardown are cmocka setup
 * and teardown functions; *state is the tu_index. */
typedef struct tu_index {
  char *dir;
  kb_lexicon *lex, *stop;
  kb_tokenizer *tk;
  kb_index *idx;
} tu_index;

int tu_index_setup(void **state);
int tu_index_teardown(void **state);


#include <sys/types.h>

/* ## Servers */

/* Starts argv (NULL-terminated) with stdout piped, waits for the line
 * "…http://127.0.0.1:PORT/…" and returns PORT (0 on failure); *pid gets
 * the child's process id. */
int tu_start_server(char *const argv[], pid_t *pid);
/* SIGTERM to pid, then waits for it; returns its exit status. */
int tu_stop_server(pid_t pid);

/* A TCP connection to 127.0.0.1:port: its fd, or -1. */
int tu_connect(int port);
/* The same from the loopback address src (127.x.y.z; NULL: any). */
int tu_connect_from(const char *src, int port);

/* One HTTP/1.1 request to 127.0.0.1:port; headers ("Name: value\r\n"…) and
 * body may be NULL. Returns the status code (0 on a connection error) and
 * appends the response body to body (if not NULL). */
int tu_http(int port, const char *method, const char *path, const char *headers,
            const char *body, kb_buf *resp_body);

/* Percent-encodes s for a URL query. */
void tu_urlencode(const char *s, kb_buf *out);

/* ## Crash safety
 *
 * What the tests that kill, starve or fill up a writer check the index
 * with, through the programs (and the library's reader) rather than the
 * files, so that a new layout of the index folder changes one function. */

/* Writes n ticket records (JSONL), ids c<first> to c<first+n-1>, each with
 * the word "工单" and a word of its own, "kbrec<id>". */
void tu_write_tickets(const char *path, int first, int n);
/* The documents of the index at db (kb-index stats --json), or -1 when it
 * cannot be opened. */
long tu_doc_count(const char *db);
/* How many ids the index at db holds more than once (0 when every id is
 * stored once), or -1 when it cannot be opened. */
long tu_ids_stored_twice(const char *db);
/* Runs xapian-check on every Xapian database of the index at db (the one
 * place that knows where they are: the folder itself today, and staging
 * shards inside it); returns how many reported errors, with their output
 * appended to report (may be NULL). *checked gets how many were checked;
 * -1 is returned when xapian-check cannot be run. */
int tu_xapian_check(const char *db, int *checked, kb_buf *report);
/* A seed for a test's random choices: $KB_SEED if set, else the clock;
 * printed as a TAP comment so that a failure can be replayed. */
unsigned tu_seed(const char *test);

#endif
