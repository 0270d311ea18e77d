/* charset.h — which charset an input is in, and conversion of its lines to
 * UTF-8.
 *
 * Deciding a charset is a judgement over the whole input, not over its
 * first bytes: an export that is ASCII for megabytes and then Chinese, or
 * UTF-8 with one record pasted from a Windows program, must not be read in
 * a charset guessed from its start. So a kb_charset_scan is fed every line
 * of the input, then decides once:
 *
 *   - every line valid UTF-8                       → UTF-8, certain;
 *   - more lines of valid non-ASCII UTF-8 than
 *     lines that are not UTF-8                     → UTF-8; the lines that are
 *                                                    not are the input's bad
 *                                                    records, rejected one by
 *                                                    one, never decoded by a
 *                                                    guess;
 *   - otherwise                                    → ICU's detector over the
 *                                                    non-UTF-8 lines: a guess,
 *                                                    taken only at
 *                                                    KB_CHARSET_MIN_CONFIDENCE
 *                                                    or above, else an error
 *                                                    asking for --encoding.
 *
 * A guess is marked as one (KB_CHARSET_GUESSED): what is decoded by it must
 * not replace what is already stored (see import.h). It decodes only the
 * lines that are not valid UTF-8: a reader of the input keeps a valid
 * UTF-8 line as it is (lib/ticket.c).
 */
#ifndef KB_CHARSET_H
#define KB_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "kb/error.h"
#include "kb/text.h"

/* ICU's confidence (0–100) a detected charset needs to be used. */
#define KB_CHARSET_MIN_CONFIDENCE 50

typedef enum kb_charset_origin {
  KB_CHARSET_GIVEN,       /* named by the user (--encoding) */
  KB_CHARSET_UTF8,        /* auto: every line is valid UTF-8 */
  KB_CHARSET_UTF8_MOSTLY, /* auto: UTF-8, some lines are not (their records are rejected) */
  KB_CHARSET_GUESSED,     /* auto: not UTF-8; ICU's detector picked it */
} kb_charset_origin;

/* What a scan decided. */
typedef struct kb_charset_choice {
  char name[48];              /* "UTF-8", "GB18030", "windows-1252", … */
  kb_charset_origin origin;
  int confidence;             /* ICU's, for KB_CHARSET_GUESSED; 100 otherwise */
  size_t lines;               /* lines scanned */
  size_t utf8_lines;          /* lines with non-ASCII bytes that are valid UTF-8 */
  size_t bad_lines;           /* lines that are not valid UTF-8 */
} kb_charset_choice;

/* ## Scanning an input */

typedef struct kb_charset_scan kb_charset_scan;

/* max_line: bytes of a line looked at (longer lines are judged on their
 * start; an import rejects them anyway). Caller frees. */
int kb_charset_scan_new(size_t max_line, kb_charset_scan **out);
void kb_charset_scan_free(kb_charset_scan *s);
/* Feeds the next bytes of the input; lines may span calls. */
int kb_charset_scan_feed(kb_charset_scan *s, const char *data, size_t len);
/* Decides, after the last feed. name is the input's name for the error:
 * KB_EENCODING when the input is not UTF-8 and no charset is detected with
 * enough confidence, or the best guess is one lines cannot be split in
 * (UTF-16, UTF-32). */
int kb_charset_scan_decide(kb_charset_scan *s, const char *name, kb_charset_choice *out,
                           kb_error *err);

/* A short description of a choice for summaries, in Chinese then English:
 * "UTF-8 (自动检测 detected)", "GB18030 (猜测 guessed, 可信度 confidence 87%)". */
void kb_charset_describe(const kb_charset_choice *c, char *out, size_t n);

/* ## Converting */

typedef struct kb_charset_conv kb_charset_conv;

/* A converter from charset name (any ICU name; "UTF-8" validates only).
 * KB_EINVAL names an unknown charset. Caller frees. */
int kb_charset_conv_new(const char *name, kb_charset_conv **out, kb_error *err);
void kb_charset_conv_free(kb_charset_conv *c);
/* Sets out to s[0..len) in UTF-8. False when s holds a sequence that is
 * invalid in the charset: nothing is ever replaced silently. */
bool kb_charset_conv_to_utf8(kb_charset_conv *c, const char *s, size_t len, kb_buf *out);

#endif
