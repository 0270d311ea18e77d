/* testutil.h — helpers shared by the test programs: temporary folders,
 * running the real binaries, reading files. */
#ifndef KB_TESTUTIL_H
#define KB_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kb/text.h"

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

#endif
