/* english.h — English words, so that "did you mean" leaves a real word
 * alone (exit is not a typo of ext, frozen not one of broken) when the
 * knowledge base happens not to hold it.
 *
 * The list is the wamerican package's lowercase words (about 64,000; its
 * capitalised names are left out, so pinter is still a typo of printer),
 * extracted at build time; no runtime dependency.
 */
#ifndef KB_ENGLISH_H
#define KB_ENGLISH_H

#include <stdbool.h>
#include <stddef.h>

/* Whether word (lowercase ASCII letters) is an English word of the list.
 * Thread-safe; the list is indexed once per process, on first use. */
bool kb_english_word(const char *word, size_t len);

#endif
