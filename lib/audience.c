/* audience.c — the audiences of the index and what each may see. */
#include "kb/audience.h"

#include <string.h>

typedef struct audience_def {
  const char *name;
  const char *visibilities; /* comma-separated, NULL = every document */
  bool sections;            /* reads internal sections */
} audience_def;

static const audience_def audiences[KB_AUDIENCE_COUNT] = {
#define KB_AUDIENCE_DEF(name, folder, visibilities, sections) {folder, visibilities, sections},
    KB_AUDIENCE_LIST(KB_AUDIENCE_DEF)
#undef KB_AUDIENCE_DEF
};

const char *kb_audience_name(kb_audience a) {
  return (unsigned)a < KB_AUDIENCE_COUNT ? audiences[a].name : "?";
}

int kb_audience_from_name(const char *name) {
  for (int a = 0; name && a < KB_AUDIENCE_COUNT; a++)
    if (strcmp(audiences[a].name, name) == 0) return a;
  return -1;
}

/* Whether the comma-separated list holds word whole. */
static bool list_has(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && memcmp(p, word, n) == 0) return true;
    if (!e) break;
    p = e + 1;
  }
  return false;
}

kb_audiences kb_audiences_of(const kb_doc *doc) {
  const char *vis = kb_doc_get(doc, KB_FIELD_VISIBILITY);
  kb_audiences who = 0;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
    if (!audiences[a].visibilities || (vis && list_has(audiences[a].visibilities, vis)))
      who |= 1u << a;
  return who;
}

kb_audiences kb_audiences_internal_sections(void) {
  kb_audiences who = 0;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
    if (audiences[a].sections) who |= 1u << a;
  return who;
}
