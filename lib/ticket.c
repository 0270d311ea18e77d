/* ticket.c — ticket exports (JSONL, CSV; gzip; any charset) into kb_doc. */
#include "kb/ticket.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "kb/charset.h"
#include "kb/text.h"
#include "kb/ticket_format.h"
#include "kb/ticket_record.h"

extern const char _binary_ticket_fields_txt_start[], _binary_ticket_fields_txt_end[];
extern const char _binary_priorities_txt_start[], _binary_priorities_txt_end[];

#define DEFAULT_MAX_RECORD (1u << 20)
#define CHUNK 65536
#define MAX_COLUMNS 256

/* ------------------------------------------------------------ field names */

/* The ticket fields (KB_TICKET_FIELDS, ticket_format.h) by position. */
#define NFIELDS KB_TF_COUNT
#define FIELD(i) kb_tfield_get((kb_tfield)(i))

static void normalise_name(const char *s, size_t len, kb_buf *out) {
  kb_tformat_normalise(s, len, out);
}

/* name → ticket field, from --map first, then the defaults. */
typedef struct name_map {
  char **names;
  int *fields;
  size_t n;
  size_t nuser; /* the first nuser entries come from --map */
} name_map;

static int map_add(name_map *m, const char *name, size_t len, int field) {
  char **names = realloc(m->names, (m->n + 1) * sizeof *names);
  if (names) m->names = names;
  int *fields = realloc(m->fields, (m->n + 1) * sizeof *fields);
  if (fields) m->fields = fields;
  if (!names || !fields) return KB_ENOMEM;
  kb_buf b = {0};
  normalise_name(name, len, &b);
  m->names[m->n] = kb_buf_detach(&b);
  m->fields[m->n] = field;
  m->n++;
  return KB_OK;
}

static void map_free(name_map *m) {
  for (size_t i = 0; i < m->n; i++) free(m->names[i]);
  free(m->names);
  free(m->fields);
  *m = (name_map){0};
}

/* The field a normalised column name has in the map, or -1; *user says
 * whether --map named it. */
static int map_lookup_norm(const name_map *m, const char *norm, bool *user) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->names[i], norm) == 0) {
      *user = i < m->nuser;
      return m->fields[i];
    }
  return -1;
}

#define MAX_ROLES 4

/* A column (CSV) or key (JSON): its name and what it fills. */
typedef struct column_info {
  char *name;
  kb_tcol roles[MAX_ROLES];
  size_t nroles;
} column_info;

/* What the column name is for: --map, else the format's roles, else its
 * default name when the format does not name that field. index ranks the
 * columns of one field from --map or the defaults: the first one wins. */
static size_t column_roles(const name_map *m, const kb_tformat *f, const char *norm,
                           unsigned index, kb_tcol out[MAX_ROLES]) {
  bool user = false;
  int field = map_lookup_norm(m, norm, &user);
  if (field >= 0 && user) {
    out[0] = (kb_tcol){KB_TCOL_FIELD, field, 0, KB_TCOL_USER, index};
    return 1;
  }
  size_t n = kb_tformat_columns(f, norm, out, MAX_ROLES);
  if (!n && field >= 0 && !kb_tformat_names_field(f, field))
    out[n++] = (kb_tcol){KB_TCOL_FIELD, field, 0, KB_TCOL_DEFAULT, index};
  return n;
}

/* Calls fn(key, value) for each "key: a, b, c" line of a data text. */
typedef int (*alias_fn)(const char *key, size_t klen, const char *alias, size_t alen, void *ctx);
static int each_alias(const char *text, const char *end, alias_fn fn, void *ctx) {
  for (const char *s = text; s < end;) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) e = end;
    const char *colon = memchr(s, ':', (size_t)(e - s));
    if (*s != '#' && colon) {
      for (const char *a = colon + 1; a < e;) {
        while (a < e && (*a == ' ' || *a == ',')) a++;
        const char *ae = a;
        while (ae < e && *ae != ',') ae++;
        const char *te = ae;
        while (te > a && (te[-1] == ' ' || te[-1] == '\r')) te--;
        if (te > a) {
          int rc = fn(s, (size_t)(colon - s), a, (size_t)(te - a), ctx);
          if (rc) return rc;
        }
        a = ae;
      }
    }
    s = e + 1;
  }
  return 0;
}

static int add_default_alias(const char *key, size_t klen, const char *alias, size_t alen,
                             void *ctx) {
  int f = kb_tfield_from_name(key, klen);
  return f < 0 ? 0 : map_add(ctx, alias, alen, f);
}

/* Builds the name map: --map entries, then the built-in table. */
static int build_map(const char *map, name_map *m, kb_error *err) {
  for (const char *p = map; p && *p;) {
    const char *e = strchr(p, ',');
    if (!e) e = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(e - p));
    int f = eq ? kb_tfield_from_name(p, (size_t)(eq - p)) : -1;
    if (f < 0 || eq + 1 >= e)
      return kb_error_set(err, KB_EINVAL,
                          "--map: '%.*s' 应为 字段=列名，字段为 id title problem resolution product "
                          "category priority status created closed tags visibility customer "
                          "(expected FIELD=COLUMN)", (int)(e - p), p);
    if (map_add(m, eq + 1, (size_t)(e - eq - 1), f) != KB_OK)
      return kb_error_set(err, KB_ENOMEM, "out of memory");
    p = *e ? e + 1 : e;
  }
  m->nuser = m->n;
  if (each_alias(_binary_ticket_fields_txt_start, _binary_ticket_fields_txt_end,
                 add_default_alias, m))
    return kb_error_set(err, KB_ENOMEM, "out of memory");
  return KB_OK;
}

/* -------------------------------------------------------------- values */

typedef struct priority_ctx {
  const char *value; /* folded */
  const char *level;
  char level_buf[8];
} priority_ctx;

static int match_priority(const char *key, size_t klen, const char *alias, size_t alen,
                          void *vctx) {
  priority_ctx *c = vctx;
  if (strlen(c->value) != alen || memcmp(c->value, alias, alen) != 0 || klen >= 8) return 0;
  memcpy(c->level_buf, key, klen);
  c->level_buf[klen] = '\0';
  return 1;
}

const char *kb_ticket_priority(const char *value) {
  static const char *const levels[] = {"P1", "P2", "P3", "P4"};
  kb_buf folded = {0};
  const char *v = value;
  while (*v == ' ') v++;
  size_t n = strlen(v);
  while (n && v[n - 1] == ' ') n--;
  if (!n || !kb_utf8_valid(v, n, NULL) || kb_text_fold(v, n, &folded, NULL) != KB_OK) {
    kb_buf_free(&folded);
    return NULL;
  }
  priority_ctx c = {.value = folded.data};
  const char *level = NULL;
  if (each_alias(_binary_priorities_txt_start, _binary_priorities_txt_end, match_priority, &c))
    for (int i = 0; i < 4; i++)
      if (strcmp(c.level_buf, levels[i]) == 0) level = levels[i];
  kb_buf_free(&folded);
  return level;
}

/* Two digits at s, as a number no greater than max; -1 otherwise. */
static int two_digits(const char *s, int max) {
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
  int v = (s[0] - '0') * 10 + (s[1] - '0');
  return v <= max ? v : -1;
}

/* HH:MM[:SS[.fraction]][Z|±HH[:]MM], trailing blanks allowed: hours to 23,
 * minutes to 59, seconds to 60 (a leap second, which ISO 8601 and RFC 3339
 * allow; only the date is kept). 25:61:61 is a typo or garbage, not a time. */
static bool valid_time(const char *t) {
  if (two_digits(t, 23) < 0 || t[2] != ':' || two_digits(t + 3, 59) < 0) return false;
  t += 5;
  if (*t == ':') {
    if (two_digits(t + 1, 60) < 0) return false;
    t += 3;
    if (*t == '.' || *t == ',') {
      if (t[1] < '0' || t[1] > '9') return false;
      for (t++; *t >= '0' && *t <= '9'; t++) {
      }
    }
  }
  if (*t == 'Z') {
    t++;
  } else if (*t == '+' || *t == '-') {
    if (two_digits(t + 1, 23) < 0) return false;
    t += 3;
    if (*t == ':') t++;
    if (two_digits(t, 59) < 0) return false;
    t += 2;
  }
  while (*t == ' ') t++;
  return *t == '\0';
}

/* YYYY-MM-DD of an ISO 8601 or "YYYY-MM-DD HH:MM:SS" or YYYY/MM/DD date. */
static bool date_part(const char *v, char out[11]) {
  while (*v == ' ') v++;
  if (strlen(v) < 10) return false;
  memcpy(out, v, 10);
  out[10] = '\0';
  if (out[4] == '/' && out[7] == '/') out[4] = out[7] = '-';
  if (!kb_text_is_date(out)) return false;
  const char *rest = v + 10;
  if (!rest[strspn(rest, " ")]) return true; /* the date alone */
  if (*rest != 'T' && *rest != ' ') return false;
  return valid_time(rest + 1);
}

static void reject(kb_ticket_reject *rej, size_t line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(kb_ticket_reject *rej, size_t line, const char *field, const char *fmt, ...) {
  if (!rej) return;
  rej->line = line;
  snprintf(rej->field, sizeof rej->field, "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rej->reason, sizeof rej->reason, fmt, ap);
  va_end(ap);
  /* a value quoted in part ('%.40s') or a reason cut at the buffer's end
   * can end inside a character: keep the whole ones (the reason goes into
   * JSON answers, which take UTF-8 only) */
  kb_utf8_drop_invalid(rej->reason, strlen(rej->reason));
}

/* Whether one of the fields a ticket needs (title, problem, resolution)
 * has a value. */
static bool has_content(char *const values[NFIELDS], const size_t lens[NFIELDS]) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (FIELD(i)->content && values[i] && lens[i]) return true;
  return false;
}

/* Checks and normalises the values of one record (by ticket field) into a
 * doc. Returns KB_OK, or KB_EPARSE / KB_ETOOBIG with rej filled. */
static int build_ticket(char *const values[NFIELDS], const size_t lens[NFIELDS], size_t line,
                        kb_doc **out, kb_ticket_reject *rej) {
  *out = NULL;
  for (size_t i = 0; i < NFIELDS; i++) {
    if (values[i] && lens[i] > FIELD(i)->max) {
      reject(rej, line, FIELD(i)->name, "字段过长：%zu 字节，上限 %zu (field over its size limit)",
             lens[i], FIELD(i)->max);
      return KB_ETOOBIG;
    }
    if (values[i] && !kb_utf8_valid(values[i], lens[i], NULL)) {
      reject(rej, line, FIELD(i)->name, "不是有效的 UTF-8 (invalid UTF-8)");
      return KB_EENCODING;
    }
    /* a CSV field may hold a NUL byte (JSON cannot): the stored text would
     * end there, silently */
    if (values[i] && memchr(values[i], '\0', lens[i])) {
      reject(rej, line, FIELD(i)->name, "字段包含 NUL 字节 (NUL byte in field)");
      return KB_EENCODING;
    }
  }
#define V(i) (values[i] && lens[i] ? values[i] : NULL)
  char idbuf[256] = "";
  if (V(KB_TF_ID)) {
    const char *a = values[KB_TF_ID], *e = values[KB_TF_ID] + lens[KB_TF_ID];
    /* a byte-order mark before the id (an export pasted after another)
     * is not part of it: else a later clean export duplicates the case */
    while (a < e && (*a == ' ' || *a == '\t' ||
                     (e - a >= 3 && memcmp(a, "\xEF\xBB\xBF", 3) == 0)))
      a += *a == ' ' || *a == '\t' ? 1 : 3;
    while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    snprintf(idbuf, sizeof idbuf, "%.*s", (int)(e - a), a);
  }
  const char *id = idbuf;
  if (!*id) {
    reject(rej, line, "id", "缺少工单号 (missing id)");
    return KB_EPARSE;
  }
  for (const char *p = id; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == '/') {
      reject(rej, line, "id", "工单号不能包含 / 或控制字符 (id with / or a control character)");
      return KB_EPARSE;
    }
  const char *id_why = kb_doc_id_problem(id);
  if (id_why) {
    reject(rej, line, "id", "%s", id_why);
    return KB_EPARSE;
  }
  if (!has_content(values, lens)) {
    reject(rej, line, "", "标题、问题和解决方案都为空 (no title, problem or resolution)");
    return KB_EPARSE;
  }
  const char *priority = NULL;
  if (V(KB_TF_PRIORITY) && !(priority = kb_ticket_priority(V(KB_TF_PRIORITY)))) {
    reject(rej, line, "priority", "未知的优先级 '%.40s' (unknown priority; P1–P4)", V(KB_TF_PRIORITY));
    return KB_EPARSE;
  }
  char created[11] = "", closed[11] = "";
  if (V(KB_TF_CREATED) && !date_part(V(KB_TF_CREATED), created)) {
    reject(rej, line, "created", "日期无效 '%.40s' (invalid date)", V(KB_TF_CREATED));
    return KB_EPARSE;
  }
  if (V(KB_TF_CLOSED) && !date_part(V(KB_TF_CLOSED), closed)) {
    reject(rej, line, "closed", "日期无效 '%.40s' (invalid date)", V(KB_TF_CLOSED));
    return KB_EPARSE;
  }
  const char *vis = "internal";
  if (V(KB_TF_VISIBILITY)) {
    kb_buf f = {0};
    kb_text_fold(values[KB_TF_VISIBILITY], lens[KB_TF_VISIBILITY], &f, NULL);
    if (f.data && (!strcmp(f.data, "public") || !strcmp(f.data, "公开"))) vis = "public";
    else if (!f.data || (strcmp(f.data, "internal") && strcmp(f.data, "内部"))) {
      kb_buf_free(&f);
      reject(rej, line, "visibility", "应为 public 或 internal (public or internal)");
      return KB_EPARSE;
    }
    kb_buf_free(&f);
  }
  kb_doc *doc = kb_doc_new();
  if (!doc) return KB_ENOMEM;
  kb_buf docid = {0};
  kb_buf_printf(&docid, "t/%s", id);
  kb_doc_set_str(doc, KB_FIELD_ID, docid.data);
  kb_buf_free(&docid);
  kb_doc_set_str(doc, KB_FIELD_TYPE, "ticket");
  for (size_t i = 0; i < NFIELDS; i++)
    if (V(i) && FIELD(i)->check == KB_TCHECK_TEXT)
      kb_doc_set(doc, FIELD(i)->field, values[i], lens[i]);
  if (priority) kb_doc_set_str(doc, KB_FIELD_PRIORITY, priority);
  if (*created) kb_doc_set_str(doc, KB_FIELD_CREATED, created);
  if (*closed || *created) kb_doc_set_str(doc, KB_FIELD_UPDATED, *closed ? closed : created);
  kb_doc_set_str(doc, KB_FIELD_VISIBILITY, vis);
  const char *title = V(KB_TF_TITLE);
  if (!title) {
    /* a ticket without a subject is titled by the start of its problem */
    const char *src = V(KB_TF_PROBLEM) ? V(KB_TF_PROBLEM) : V(KB_TF_RESOLUTION);
    while (*src == '\n' || *src == '\r' || *src == ' ' || *src == '\t') src++;
    size_t n = 0, chars = 0, len = strlen(src);
    while (src[n] && src[n] != '\n' && src[n] != '\r' && chars < 40) {
      kb_utf8_next(src, len, &n);
      chars++;
    }
    while (n && (src[n - 1] == ' ' || src[n - 1] == '\t')) n--;
    if (n) kb_doc_set(doc, KB_FIELD_TITLE, src, n);
    else kb_doc_set_str(doc, KB_FIELD_TITLE, id);
  }
  kb_doc_add_segment(doc, KB_SEG_TITLE, false, kb_doc_get(doc, KB_FIELD_TITLE),
                     strlen(kb_doc_get(doc, KB_FIELD_TITLE)));
  if (V(KB_TF_PROBLEM)) kb_doc_add_segment(doc, KB_SEG_PROBLEM, false, values[KB_TF_PROBLEM], lens[KB_TF_PROBLEM]);
  if (V(KB_TF_RESOLUTION)) kb_doc_add_segment(doc, KB_SEG_RESOLUTION, false, values[KB_TF_RESOLUTION], lens[KB_TF_RESOLUTION]);
  if (V(KB_TF_TAGS)) kb_doc_add_segment(doc, KB_SEG_TAGS, false, values[KB_TF_TAGS], lens[KB_TF_TAGS]);
  kb_doc_set_str(doc, KB_FIELD_LANGUAGE, kb_doc_guess_language(doc));
#undef V
  *out = doc;
  return KB_OK;
}

/* ---------------------------------------------------------------- JSON */

/* A JSON value as text: strings as they are, numbers printed, arrays of
 * strings joined with ", ". NULL for null and objects. */
static char *json_text(json_t *v) {
  if (json_is_string(v)) return strndup(json_string_value(v), json_string_length(v));
  if (json_is_integer(v)) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
    return strdup(b);
  }
  if (json_is_real(v)) {
    char b[64];
    snprintf(b, sizeof b, "%g", json_real_value(v));
    return strdup(b);
  }
  if (json_is_array(v)) {
    kb_buf b = {0};
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
      if (!json_is_string(x)) continue;
      if (b.len) kb_buf_puts(&b, ", ");
      kb_buf_puts(&b, json_string_value(x));
    }
    return kb_buf_detach(&b);
  }
  return NULL;
}

/* Marks a built ticket with whether it has a fix and where it came from. */
static int mark_fix(kb_doc *doc, const char *fix_from) {
  int rc = kb_doc_set_str(doc, KB_FIELD_FIX, fix_from ? "yes" : "no");
  if (rc == KB_OK && fix_from) rc = kb_doc_set_str(doc, KB_FIELD_RESOLUTION_FROM, fix_from);
  return rc;
}

/* The record's assembled values, checked and built into a doc. */
static int finish_ticket(kb_trecord *rec, size_t line, kb_doc **doc, kb_ticket_reject *rej) {
  char *values[NFIELDS];
  size_t lens[NFIELDS];
  const char *fix_from;
  if (kb_trecord_finish(rec, values, lens, &fix_from) != KB_OK) return KB_ENOMEM;
  int rc = build_ticket(values, lens, line, doc, rej);
  if (rc == KB_OK && mark_fix(*doc, fix_from) != KB_OK) {
    kb_doc_free(*doc);
    *doc = NULL;
    rc = KB_ENOMEM;
  }
  return rc;
}

/* What a JSON ticket needs besides its text: the names, the formats, and
 * optionally where to note the keys of the first record (for --dry-run). */
typedef struct json_ctx {
  const name_map *names;
  const kb_tformats *formats;
  kb_trecord *rec;          /* reused between records */
  const kb_tformat **format; /* out: the format of the record, or NULL */
  column_info **cols;       /* out, when *cols is NULL: the keys and their roles */
  size_t *ncols;
} json_ctx;

/* A comment's public flag: absent says nothing (public); present, only a
 * true (true, "true", 1) makes it public, so that a private note written
 * as 0 or "false" never becomes a ticket's fix. */
static bool comment_is_public(json_t *flag) {
  if (!flag) return true;
  if (json_is_boolean(flag)) return json_is_true(flag);
  if (json_is_integer(flag)) return json_integer_value(flag) == 1;
  if (json_is_string(flag)) return strcasecmp(json_string_value(flag), "true") == 0;
  return false;
}

/* A JSON comment array (Zendesk): each object's date, author, public flag
 * and text by the format's comment keys. */
static int json_comments(kb_trecord *rec, const kb_tformat *f, const char *key, json_t *arr) {
  kb_tcol col = {KB_TCOL_COMMENTS, -1, 0, KB_TCOL_FORMAT, 0};
  int rc = kb_trecord_add(rec, &col, key, "", 0); /* names the comments' column */
  const char *kdate = kb_tformat_comment_key(f, 0), *kauthor = kb_tformat_comment_key(f, 1),
             *kpublic = kb_tformat_comment_key(f, 2);
  size_t i;
  json_t *c;
  json_array_foreach(arr, i, c) {
    if (rc != KB_OK) break;
    if (!json_is_object(c)) continue;
    char *date = kdate ? json_text(json_object_get(c, kdate)) : NULL;
    char *author = kauthor ? json_text(json_object_get(c, kauthor)) : NULL;
    bool pub = comment_is_public(kpublic ? json_object_get(c, kpublic) : NULL);
    const char *text = NULL, *tkey = NULL;
    for (size_t k = 3; !text && kb_tformat_comment_key(f, k); k++) {
      tkey = kb_tformat_comment_key(f, k);
      json_t *t = json_object_get(c, tkey);
      if (json_is_string(t) && json_string_length(t)) text = json_string_value(t);
    }
    if (text) {
      kb_buf norm = {0};
      normalise_name(tkey, strlen(tkey), &norm);
      rc = kb_trecord_comment(rec, date, author, pub, text, strlen(text),
                              kb_tformat_is_html(f, norm.data));
      kb_buf_free(&norm);
    }
    free(date);
    free(author);
  }
  return rc;
}

/* The normalised names of a JSON object's keys, in order (caller frees
 * each and the array), or NULL when out of memory. */
static char **json_key_names(json_t *o, size_t *n) {
  *n = 0;
  char **names = calloc(json_object_size(o) + 1, sizeof *names);
  const char *key;
  json_t *v;
  if (names) json_object_foreach(o, key, v) {
      kb_buf b = {0};
      normalise_name(key, strlen(key), &b);
      names[(*n)++] = kb_buf_detach(&b);
    }
  return names;
}

/* Notes the keys of a JSON record and their roles (the first record's, for
 * --dry-run). */
static void note_column(json_ctx *c, const char *key, const kb_tcol *roles, size_t n) {
  column_info *cols = realloc(*c->cols, (*c->ncols + 1) * sizeof *cols);
  if (!cols) return;
  *c->cols = cols;
  column_info *ci = &cols[(*c->ncols)++];
  ci->name = strdup(key);
  ci->nroles = ci->name ? n : 0;
  memcpy(ci->roles, roles, n * sizeof *roles);
}

static int ticket_from_json(const char *json, size_t len, size_t line, json_ctx *c, kb_doc **doc,
                            kb_ticket_reject *rej) {
  *doc = NULL;
  /* a line that starts with a byte-order mark: a second export appended
   * to the first */
  while (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) json += 3, len -= 3;
  json_error_t jerr;
  json_t *o = json_loadb(json, len, 0, &jerr);
  if (!o || !json_is_object(o)) {
    reject(rej, line, "", o ? "不是 JSON 对象 (not a JSON object)" : "JSON 无效 (invalid JSON): %s",
           o ? "" : jerr.text);
    json_decref(o);
    return KB_EPARSE;
  }
  size_t nkeys;
  char **norms = json_key_names(o, &nkeys);
  if (!norms) {
    json_decref(o);
    return KB_ENOMEM;
  }
  const kb_tformat *f = kb_tformats_detect(c->formats, norms, nkeys);
  /* the first record's format and keys are the input's, for --dry-run */
  bool note = c->cols && !*c->cols;
  if (c->format && note) *c->format = f;
  kb_trecord_set_format(c->rec, f);
  const char *key;
  json_t *v;
  unsigned index = 0;
  int rc = KB_OK;
  json_object_foreach(o, key, v) {
    kb_tcol roles[MAX_ROLES];
    size_t n = norms[index] ? column_roles(c->names, f, norms[index], index, roles) : 0;
    index++;
    if (note) note_column(c, key, roles, n);
    char *text = NULL;
    for (size_t k = 0; k < n && rc == KB_OK; k++) {
      if (roles[k].kind == KB_TCOL_COMMENTS && json_is_array(v)) {
        rc = json_comments(c->rec, f, key, v);
        continue;
      }
      if (!text && !(text = json_text(v))) break;
      rc = kb_trecord_add(c->rec, &roles[k], key, text, strlen(text));
    }
    free(text);
  }
  rc = rc == KB_OK ? finish_ticket(c->rec, line, doc, rej) : rc;
  for (size_t i = 0; i < nkeys; i++) free(norms[i]);
  free(norms);
  json_decref(o);
  return rc;
}

struct kb_ticket_json {
  name_map names;
  kb_tformats *formats;
};

int kb_ticket_json_new(const char *map, kb_ticket_json **out, kb_error *err) {
  kb_ticket_json *p = calloc(1, sizeof *p);
  if (!p) return kb_error_set(err, KB_ENOMEM, "out of memory");
  int rc = build_map(map, &p->names, err);
  if (rc == KB_OK) rc = kb_tformats_new(&p->formats, err);
  if (rc != KB_OK) {
    kb_ticket_json_free(p);
    return rc;
  }
  *out = p;
  return KB_OK;
}

void kb_ticket_json_free(kb_ticket_json *p) {
  if (!p) return;
  map_free(&p->names);
  kb_tformats_free(p->formats);
  free(p);
}

/* One record with an assembler of its own (a kb_ticket_json is shared
 * read-only). */
static int json_once(const char *json, size_t len, size_t line, const name_map *names,
                     const kb_tformats *formats, kb_doc **doc, kb_ticket_reject *rej) {
  json_ctx c = {.names = names, .formats = formats};
  if (kb_trecord_new(NULL, &c.rec) != KB_OK) return KB_ENOMEM;
  int rc = ticket_from_json(json, len, line, &c, doc, rej);
  kb_trecord_free(c.rec);
  return rc;
}

int kb_ticket_json_parse(const kb_ticket_json *p, const char *json, size_t len, size_t line,
                         kb_doc **doc, kb_ticket_reject *rej) {
  return json_once(json, len, line, &p->names, p->formats, doc, rej);
}

int kb_ticket_from_json(const char *json, size_t len, size_t line, const char *map,
                        kb_doc **doc, kb_ticket_reject *rej) {
  kb_ticket_json *p = NULL;
  kb_error err = {0};
  int rc = kb_ticket_json_new(map, &p, &err);
  if (rc == KB_OK) rc = kb_ticket_json_parse(p, json, len, line, doc, rej);
  else reject(rej, line, "", "%s", err.message);
  kb_ticket_json_free(p);
  return rc;
}

/* -------------------------------------------------------------- reader */

struct kb_ticket_reader {
  char *path;
  gzFile gz;
  kb_ticket_format format;
  size_t max_record;
  name_map names;
  kb_tformats *formats;
  bool json_array;           /* one JSON document: an array of records (json_array_next) */
  const kb_tformat *tformat; /* the format recognised (CSV header, first JSON record) */
  kb_trecord *rec;
  column_info *cols; /* CSV columns or the first JSON record's keys, and their roles */
  size_t ncols;
  /* input buffer over gzread */
  char *buf;
  size_t buf_len, buf_pos;
  bool eof;
  uint64_t offset;     /* bytes consumed through the end of the last line */
  size_t line_bytes;   /* length of the line just read, kept or not */
  char delim;          /* ',' or '\t' (.tsv) */
  int bad_code;        /* the status of the last bad CSV record */
  uint64_t rec_offset; /* … through the end of the last finished record */
  size_t line;         /* lines consumed */
  /* charset */
  kb_charset_conv *conv;
  kb_charset_choice charset;
  bool record_guessed; /* the last record had bytes decoded by a guessed charset */
  int spool_fd;        /* standard input copied to a temporary file, for the scan; or -1 */
  char why[256];       /* why the last record failed to convert */
  bool first_line;
  kb_buf raw, utf8;
  /* CSV */
  struct csv_parser csv;
  bool csv_open;
  size_t ncolumns;
  char *fields[MAX_COLUMNS];
  size_t field_lens[MAX_COLUMNS];
  size_t nfields;
  bool record_done;
  bool record_bad;        /* a line of it failed to convert */
  size_t record_line;     /* where it starts */
  size_t record_bytes;
  size_t record_quotes;   /* '"' bytes seen in it: odd = inside a quoted field */
  kb_buf record_raw;      /* its text, for a rejects file */
  bool header_done;
  kb_buf header_raw; /* a CSV header row as it was, for a rejects file */
};

/* Fills the buffer; returns bytes available. */
static size_t fill(kb_ticket_reader *r) {
  if (r->buf_pos < r->buf_len || r->eof) return r->buf_len - r->buf_pos;
  int n = gzread(r->gz, r->buf, CHUNK);
  r->buf_pos = 0;
  r->buf_len = n > 0 ? (size_t)n : 0;
  if (n <= 0) r->eof = true;
  return r->buf_len;
}

/* Reads one line (with its '\n') into r->raw. Returns false at the end.
 * A line longer than max_record is truncated and *too_long set. */
static bool read_line(kb_ticket_reader *r, bool *too_long) {
  kb_buf_reset(&r->raw);
  *too_long = false;
  r->line_bytes = 0;
  bool any = false;
  while (fill(r)) {
    any = true;
    char *start = r->buf + r->buf_pos;
    size_t avail = r->buf_len - r->buf_pos;
    char *nl = memchr(start, '\n', avail);
    size_t take = nl ? (size_t)(nl - start) + 1 : avail;
    /* keep at most max_record bytes of content plus the line end */
    size_t room = r->max_record + 2 > r->raw.len ? r->max_record + 2 - r->raw.len : 0;
    kb_buf_append(&r->raw, start, take < room ? take : room);
    r->line_bytes += take;
    r->buf_pos += take;
    r->offset += take;
    if (nl) break;
  }
  size_t content = r->line_bytes;
  if (content && r->raw.len && r->raw.data[r->raw.len - 1] == '\n') content--;
  if (content && r->raw.len > 1 && r->raw.data[r->raw.len - 2] == '\r') content--;
  *too_long = content > r->max_record;
  if (*too_long && r->raw.len > r->max_record) {
    /* the part kept is a fragment: never parse it as a record */
    r->raw.len = r->max_record;
    r->raw.data[r->raw.len] = '\0';
  }
  if (any) r->line++;
  if (!r->raw.data) kb_buf_append(&r->raw, "", 0);
  return any;
}

/* Converts r->raw to UTF-8 in r->utf8; false on an invalid sequence. */
static bool to_utf8(kb_ticket_reader *r) {
  const char *s = r->raw.data;
  size_t len = r->raw.len;
  if (r->first_line && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
    s += 3;
    len -= 3;
  }
  r->first_line = false;
  if (r->charset.origin == KB_CHARSET_GUESSED) {
    /* a line that is valid UTF-8 is UTF-8 (multi-byte UTF-8 is rare by
     * chance in another charset, charset.h): decoded by the guess it was
     * stored as mojibake ("CafÃ©"), as a new ticket, with exit status 0 */
    if (kb_utf8_valid(s, len, NULL)) {
      kb_buf_reset(&r->utf8);
      return kb_buf_append(&r->utf8, s, len) == KB_OK;
    }
    for (size_t i = 0; i < len && !r->record_guessed; i++) r->record_guessed = (unsigned char)s[i] >= 0x80;
  }
  return kb_charset_conv_to_utf8(r->conv, s, len, &r->utf8);
}

/* Why a line failed to convert: in a file judged UTF-8, the record is one
 * of its damaged ones, and only it is rejected. */
static void charset_reason(const kb_ticket_reader *r, char *out, size_t n) {
  if (strcmp(r->charset.name, "UTF-8") == 0 && r->charset.origin != KB_CHARSET_GIVEN)
    snprintf(out, n, "不是有效的 UTF-8，而文件的其余部分是；请修正这条记录，或用 --encoding "
             "单独导入 (not valid UTF-8 in a UTF-8 file: fix the record, or import it on its "
             "own with --encoding)");
  else
    snprintf(out, n, "编码无效 (invalid byte sequence for %s)", r->charset.name);
}

/* Reads the whole input once to judge its charset (charset.h); the reader
 * proper then starts from the beginning. */
static int scan_charset(kb_ticket_reader *r, const char *path, kb_error *err) {
  gzFile g;
  if (r->spool_fd >= 0) {
    int fd = lseek(r->spool_fd, 0, SEEK_SET) == 0 ? dup(r->spool_fd) : -1;
    g = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!g && fd >= 0) close(fd);
  } else {
    g = gzopen(path, "rb");
  }
  if (!g) return kb_error_set(err, KB_EIO, "%s: 无法打开 (cannot open): %s", r->path, strerror(errno));
  kb_charset_scan *scan = NULL;
  int rc = kb_charset_scan_new(r->max_record, &scan) == KB_OK
               ? KB_OK
               : kb_error_set(err, KB_ENOMEM, "out of memory");
  int n;
  while (rc == KB_OK && (n = gzread(g, r->buf, CHUNK)) > 0)
    if (kb_charset_scan_feed(scan, r->buf, (size_t)n) != KB_OK)
      rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  int gzerr;
  const char *msg = gzerror(g, &gzerr);
  if (rc == KB_OK && gzerr != Z_OK && gzerr != Z_STREAM_END)
    rc = kb_error_set(err, KB_EIO, "%s: 读取失败 (read error): %s", r->path, msg);
  if (rc == KB_OK) rc = kb_charset_scan_decide(scan, r->path, &r->charset, err);
  kb_charset_scan_free(scan);
  gzclose(g);
  if (r->spool_fd >= 0 && rc == KB_OK && lseek(r->spool_fd, 0, SEEK_SET) != 0)
    rc = kb_error_set(err, KB_EIO, "%s: %s", r->path, strerror(errno));
  return rc;
}

/* Standard input can be read only once: for a scan of its charset it is
 * copied to an unlinked temporary file first. */
static int spool_stdin(kb_ticket_reader *r, kb_error *err) {
  FILE *tmp = tmpfile();
  if (!tmp) return kb_error_set(err, KB_EIO, "(stdin): 无法创建临时文件 (cannot create a temporary file): %s", strerror(errno));
  r->spool_fd = dup(fileno(tmp));
  fclose(tmp);
  if (r->spool_fd < 0) return kb_error_set(err, KB_EIO, "(stdin): %s", strerror(errno));
  ssize_t n;
  while ((n = read(STDIN_FILENO, r->buf, CHUNK)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || write(r->spool_fd, r->buf, (size_t)n) != n)
      return kb_error_set(err, KB_EIO, "(stdin): 无法暂存标准输入 (cannot keep standard input "
                          "for the charset scan): %s", strerror(errno));
  }
  return KB_OK;
}

/* Picks the charset: given, or judged over the whole input. */
static int setup_charset(kb_ticket_reader *r, const char *path, const char *encoding,
                         kb_error *err) {
  bool autodetect = !encoding || !*encoding || strcmp(encoding, "auto") == 0;
  int rc = KB_OK;
  if (autodetect) {
    if (strcmp(path, "-") == 0) rc = spool_stdin(r, err);
    if (rc == KB_OK) rc = scan_charset(r, path, err);
  } else {
    r->charset = (kb_charset_choice){.origin = KB_CHARSET_GIVEN, .confidence = 100};
    snprintf(r->charset.name, sizeof r->charset.name, "%s", encoding);
    if (!strcasecmp(encoding, "utf8") || !strcasecmp(encoding, "utf-8"))
      snprintf(r->charset.name, sizeof r->charset.name, "UTF-8");
  }
  if (rc == KB_OK) rc = kb_charset_conv_new(r->charset.name, &r->conv, err);
  if (rc == KB_EINVAL) kb_error_prefix(err, "%s: ", r->path);
  return rc;
}

/* ------------------------------------------------------------------ CSV */

static void csv_field(void *s, size_t len, void *ctx) {
  kb_ticket_reader *r = ctx;
  if (r->nfields >= MAX_COLUMNS) return;
  r->fields[r->nfields] = malloc(len + 1);
  if (!r->fields[r->nfields]) return;
  memcpy(r->fields[r->nfields], s ? s : "", len);
  r->fields[r->nfields][len] = '\0';
  r->field_lens[r->nfields] = len;
  r->nfields++;
}

static void csv_record(int c, void *ctx) {
  (void)c;
  kb_ticket_reader *r = ctx;
  r->record_done = true;
}

static void clear_fields(kb_ticket_reader *r) {
  for (size_t i = 0; i < r->nfields; i++) free(r->fields[i]);
  r->nfields = 0;
}

/* Starts a fresh CSV parser (at start, or after a malformed record). */
static int csv_restart(kb_ticket_reader *r) {
  if (r->csv_open) csv_free(&r->csv);
  r->csv_open = csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) == 0;
  if (r->csv_open) csv_set_delim(&r->csv, (unsigned char)r->delim);
  return r->csv_open ? KB_OK : KB_ENOMEM;
}

typedef enum csv_step { CSV_RECORD, CSV_BAD, CSV_END } csv_step;

static size_t count_quotes(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += s[i] == '"';
  return n;
}

/* Feeds lines to libcsv until a record is complete, a line is bad, or the
 * input ends. The record's start line and raw text are kept. */
static csv_step csv_next(kb_ticket_reader *r, const char **why) {
  clear_fields(r);
  r->record_done = false;
  r->record_bad = false;
  r->record_line = 0;
  r->record_bytes = 0;
  r->record_quotes = 0;
  kb_buf_reset(&r->record_raw);
  *why = NULL;
  for (;;) {
    bool too_long;
    if (!read_line(r, &too_long)) {
      if (!r->record_line) return CSV_END;
      int rc = csv_fini(&r->csv, csv_field, csv_record, r);
      if (rc != 0 || !r->record_done) {
        *why = "引号没有闭合 (unterminated quoted field at end of input)";
        r->bad_code = KB_EPARSE;
        csv_restart(r);
        return CSV_BAD;
      }
      csv_restart(r);
      return CSV_RECORD;
    }
    if (!r->record_line) {
      /* blank lines between records are not records */
      size_t k = 0;
      while (k < r->raw.len && (r->raw.data[k] == '\r' || r->raw.data[k] == '\n')) k++;
      if (k == r->raw.len) {
        r->rec_offset = r->offset;
        continue;
      }
      r->record_line = r->line;
    }
    r->record_bytes += r->raw.len;
    r->record_quotes += count_quotes(r->raw.data, r->raw.len);
    if (r->record_raw.len < r->max_record) kb_buf_append(&r->record_raw, r->raw.data, r->raw.len);
    if (too_long || r->record_bytes > r->max_record) {
      r->record_bad = true;
      r->bad_code = KB_ETOOBIG;
      *why = "记录超过大小上限 (record over the size limit)";
    }
    if (!r->record_bad && !to_utf8(r)) {
      r->record_bad = true;
      r->bad_code = KB_EENCODING;
      charset_reason(r, r->why, sizeof r->why);
      *why = r->why;
    }
    if (!r->record_bad && csv_parse(&r->csv, r->utf8.data, r->utf8.len, csv_field, csv_record, r) !=
                             r->utf8.len) {
      *why = csv_error(&r->csv) == CSV_EPARSE ? "引号使用不当 (malformed quotes)"
                                               : "CSV 解析错误 (CSV parse error)";
      r->record_bad = true;
      r->bad_code = KB_EPARSE;
    }
    if (r->record_bad) {
      /* skip the rest of the broken record: while an odd number of quotes
       * has been seen, a quoted field is still open (RFC 4180 doubles the
       * quotes inside one); '"' and '\n' are single bytes in every charset
       * read here, so this holds before conversion too */
      while (r->record_quotes % 2 == 1) {
        bool tl;
        if (!read_line(r, &tl)) break;
        r->record_quotes += count_quotes(r->raw.data, r->raw.len);
        if (r->record_raw.len < r->max_record) kb_buf_append(&r->record_raw, r->raw.data, r->raw.len);
      }
      csv_restart(r);
      r->rec_offset = r->offset;
      return CSV_BAD;
    }
    if (r->record_done) {
      r->rec_offset = r->offset;
      return CSV_RECORD;
    }
  }
}

/* The header's columns, the format they are, and what each fills. */
static int plan_columns(kb_ticket_reader *r) {
  char **norms = calloc(r->nfields ? r->nfields : 1, sizeof *norms);
  r->cols = calloc(r->nfields ? r->nfields : 1, sizeof *r->cols);
  if (!norms || !r->cols) {
    free(norms);
    return KB_ENOMEM;
  }
  int rc = KB_OK;
  for (size_t i = 0; i < r->nfields && rc == KB_OK; i++) {
    kb_buf b = {0};
    normalise_name(r->fields[i], r->field_lens[i], &b);
    norms[i] = kb_buf_detach(&b);
    r->cols[i].name = strdup(r->fields[i]);
    if (!norms[i] || !r->cols[i].name) rc = KB_ENOMEM;
  }
  r->ncols = r->nfields;
  if (rc == KB_OK) r->tformat = kb_tformats_detect(r->formats, norms, r->nfields);
  for (size_t i = 0; i < r->nfields && rc == KB_OK; i++)
    r->cols[i].nroles = column_roles(&r->names, r->tformat, norms[i], (unsigned)i, r->cols[i].roles);
  for (size_t i = 0; i < r->nfields; i++) free(norms[i]);
  free(norms);
  if (rc == KB_OK) kb_trecord_set_format(r->rec, r->tformat);
  return rc;
}

static int read_header(kb_ticket_reader *r, kb_error *err) {
  const char *why;
  csv_step st = csv_next(r, &why);
  if (st == CSV_END) return kb_error_set(err, KB_EPARSE, "%s: 文件为空，缺少表头 (no header row)", r->path);
  if (st == CSV_BAD)
    return kb_error_set(err, KB_EPARSE, "%s:%zu: 表头无效 (bad header row): %s", r->path,
                        r->record_line, why);
  r->ncolumns = r->nfields;
  kb_buf_append(&r->header_raw, r->record_raw.data ? r->record_raw.data : "", r->record_raw.len);
  if (plan_columns(r) != KB_OK) return kb_error_set(err, KB_ENOMEM, "out of memory");
  bool has_id = false, has_text = false;
  for (size_t i = 0; i < r->ncols; i++)
    for (size_t k = 0; k < r->cols[i].nroles; k++) {
      const kb_tcol *c = &r->cols[i].roles[k];
      bool field = c->kind == KB_TCOL_FIELD;
      has_id |= field && c->field == KB_TF_ID;
      has_text |= (field && FIELD(c->field)->content) || c->kind == KB_TCOL_COMMENTS;
    }
  if (!has_id || !has_text)
    return kb_error_set(err, KB_EPARSE,
                        "%s:%zu: 表头中找不到%s列，请用 --map 指定，例如 --map id=工单号 "
                        "(no %s column in the header; name it with --map)",
                        r->path, r->record_line, !has_id ? "工单号 (id) " : "标题/问题/解决方案 ",
                        !has_id ? "id" : "title/problem/resolution");
  r->header_done = true;
  return KB_OK;
}

static bool skip_bom(const char **s, size_t *len) {
  if (*len < 3 || memcmp(*s, "\xEF\xBB\xBF", 3) != 0) return false;
  *s += 3;
  *len -= 3;
  return true;
}

/* The header row again (with or without a byte-order mark): two exports
 * joined into one file. Never a ticket. */
static bool repeated_header(const kb_ticket_reader *r) {
  const char *a = r->record_raw.data, *b = r->header_raw.data;
  size_t na = r->record_raw.len, nb = r->header_raw.len;
  if (!a || !b) return false;
  skip_bom(&a, &na);
  skip_bom(&b, &nb);
  return na == nb && memcmp(a, b, na) == 0;
}

static int csv_ticket(kb_ticket_reader *r, kb_doc **doc, kb_ticket_reject *rej) {
  if (repeated_header(r)) {
    reject(rej, r->record_line, "", "表头重复出现，是否拼接了两个导出文件？(the header row again: "
           "two exports joined?)");
    return KB_EPARSE;
  }
  if (r->nfields > r->ncolumns) {
    reject(rej, r->record_line, "", "列数 %zu 多于表头的 %zu 列 (more fields than the header)",
           r->nfields, r->ncolumns);
    return KB_EPARSE;
  }
  kb_trecord_reset(r->rec);
  int rc = KB_OK;
  for (size_t i = 0; i < r->nfields && rc == KB_OK; i++)
    for (size_t k = 0; k < r->cols[i].nroles && rc == KB_OK; k++)
      rc = kb_trecord_add(r->rec, &r->cols[i].roles[k], r->cols[i].name, r->fields[i],
                          r->field_lens[i]);
  return rc == KB_OK ? finish_ticket(r->rec, r->record_line, doc, rej) : rc;
}

/* --------------------------------------------------------- JSON documents */

/* Exports that are one JSON document rather than a record a line: an array,
 * or an object whose first member is the array of records — ServiceNow's
 * JSONv2 and Table API ("records", "result"), Zendesk's ticket exports
 * ("tickets"), Jira's search ("issues"). */
static const char *const json_wrappers[] = {"records", "result", "tickets", "issues"};

/* Whether the input's first bytes open such a document; if so they are
 * consumed through the array's '[' (peeked in the first buffer only). */
static bool json_document_start(kb_ticket_reader *r) {
  if (!fill(r)) return false;
  const char *b = r->buf + r->buf_pos, *e = r->buf + r->buf_len, *p = b;
  if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  while (p < e && strchr(" \t\r\n", *p)) p++;
  if (p < e && *p == '{') {
    for (p++; p < e && strchr(" \t\r\n", *p); p++) {}
    bool known = false;
    for (size_t i = 0; i < sizeof json_wrappers / sizeof *json_wrappers && !known; i++) {
      size_t n = strlen(json_wrappers[i]);
      known = e - p > (ptrdiff_t)n + 2 && p[0] == '"' && memcmp(p + 1, json_wrappers[i], n) == 0 &&
              p[n + 1] == '"';
      if (known) p += n + 2;
    }
    if (!known) return false;
    while (p < e && strchr(" \t\r\n", *p)) p++;
    if (p >= e || *p != ':') return false;
    for (p++; p < e && strchr(" \t\r\n", *p); p++) {}
  }
  if (p >= e || *p != '[') return false;
  p++;
  for (const char *q = b; q < p; q++) r->line += *q == '\n';
  r->offset += (uint64_t)(p - b);
  r->buf_pos += (size_t)(p - b);
  r->first_line = false;
  r->json_array = true;
  return true;
}

/* The next byte of the input, counting lines; -1 at the end. */
static int next_byte(kb_ticket_reader *r) {
  if (!fill(r)) return -1;
  unsigned char c = (unsigned char)r->buf[r->buf_pos++];
  r->offset++;
  if (c == '\n') r->line++;
  return c;
}

/* The next element of the array: its bytes (up to max_record) into
 * r->record_raw; *too_big when it is longer. false at the array's end. */
static bool next_element(kb_ticket_reader *r, bool *too_big) {
  int c;
  do c = next_byte(r);
  while (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',');
  if (c < 0 || c == ']') return false;
  kb_buf_reset(&r->record_raw);
  r->record_line = r->line + 1;
  *too_big = false;
  int depth = 0;
  bool in_string = false, escaped = false;
  while (c >= 0) {
    if (r->record_raw.len < r->max_record) kb_buf_putc(&r->record_raw, (char)c);
    else *too_big = true;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      depth--;
    }
    if (!in_string && depth <= 0) {
      /* a closed object (the record), a stray bracket, or the end of a
       * scalar (not a record: rejected as one) */
      if (depth < 0 || c == '}' || c == ']') break;
      if (fill(r) && strchr(",] \t\r\n", r->buf[r->buf_pos])) break;
    }
    c = next_byte(r);
  }
  if (!r->record_raw.data) kb_buf_append(&r->record_raw, "", 0);
  return true;
}

/* One record of a JSON document. JSON is UTF-8 (RFC 8259): a document is
 * read only in it, so its bytes are the record's. */
static int json_array_next(kb_ticket_reader *r, kb_doc **doc, kb_ticket_reject *rej) {
  bool too_big;
  if (!next_element(r, &too_big)) return KB_ENOENT;
  r->rec_offset = r->offset;
  rej->raw = r->record_raw.data;
  rej->raw_len = r->record_raw.len;
  if (too_big) {
    reject(rej, r->record_line, "", "记录超过 %zu 字节 (record over the size limit)", r->max_record);
    return KB_ETOOBIG;
  }
  json_ctx c = {.names = &r->names, .formats = r->formats, .rec = r->rec, .format = &r->tformat,
                .cols = &r->cols, .ncols = &r->ncols};
  return ticket_from_json(r->record_raw.data, r->record_raw.len, r->record_line, &c, doc, rej);
}

/* ---------------------------------------------------------------- public */

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int kb_ticket_reader_open(const char *path, const kb_ticket_opts *opts, kb_ticket_reader **out,
                          kb_error *err) {
  *out = NULL;
  kb_ticket_reader *r = calloc(1, sizeof *r);
  if (!r) return kb_error_set(err, KB_ENOMEM, "out of memory");
  r->path = strdup(strcmp(path, "-") == 0 ? "(stdin)" : path);
  r->max_record = opts && opts->max_record ? opts->max_record : DEFAULT_MAX_RECORD;
  r->first_line = true;
  r->spool_fd = -1;
  r->buf = malloc(CHUNK);
  int rc = r->path && r->buf ? KB_OK : kb_error_set(err, KB_ENOMEM, "out of memory");
  if (rc == KB_OK) rc = build_map(opts ? opts->map : NULL, &r->names, err);
  if (rc == KB_OK) rc = kb_tformats_new(&r->formats, err);
  if (rc == KB_OK && kb_trecord_new(NULL, &r->rec) != KB_OK)
    rc = kb_error_set(err, KB_ENOMEM, "out of memory");
  if (rc == KB_OK) rc = setup_charset(r, path, opts ? opts->encoding : NULL, err);
  if (rc == KB_OK) {
    int fd = r->spool_fd >= 0 ? dup(r->spool_fd) : strcmp(path, "-") == 0 ? dup(0) : -1;
    r->gz = fd >= 0 ? gzdopen(fd, "rb") : strcmp(path, "-") ? gzopen(path, "rb") : NULL;
    if (!r->gz && fd >= 0) close(fd);
    if (!r->gz) rc = kb_error_set(err, KB_EIO, "%s: 无法打开 (cannot open): %s", path, strerror(errno));
    else gzbuffer(r->gz, CHUNK);
  }
  kb_ticket_format fmt = opts ? opts->format : KB_TICKET_AUTO;
  if (fmt == KB_TICKET_AUTO)
    fmt = ends_with(path, ".csv") || ends_with(path, ".csv.gz") || ends_with(path, ".tsv") ||
                  ends_with(path, ".tsv.gz")
              ? KB_TICKET_CSV
              : KB_TICKET_JSONL;
  r->format = fmt;
  r->delim = ends_with(path, ".tsv") || ends_with(path, ".tsv.gz") ? '\t' : ',';
  if (rc == KB_OK && fmt == KB_TICKET_CSV) {
    rc = csv_restart(r) == KB_OK ? read_header(r, err) : kb_error_set(err, KB_ENOMEM, "out of memory");
  }
  if (rc == KB_OK && fmt == KB_TICKET_JSONL && json_document_start(r) &&
      strcmp(r->charset.name, "UTF-8") != 0)
    rc = kb_error_set(err, KB_EENCODING, "%s: JSON 文档必须是 UTF-8，而不是 %s (a JSON document "
                      "is UTF-8, not %s)", r->path, r->charset.name, r->charset.name);
  if (rc != KB_OK) {
    kb_ticket_reader_free(r);
    return rc;
  }
  *out = r;
  return KB_OK;
}

void kb_ticket_reader_free(kb_ticket_reader *r) {
  if (!r) return;
  if (r->gz) gzclose(r->gz);
  kb_charset_conv_free(r->conv);
  if (r->spool_fd >= 0) close(r->spool_fd);
  if (r->csv_open) csv_free(&r->csv);
  clear_fields(r);
  map_free(&r->names);
  kb_tformats_free(r->formats);
  kb_trecord_free(r->rec);
  for (size_t i = 0; i < r->ncols; i++) free(r->cols[i].name);
  free(r->cols);
  kb_buf_free(&r->raw);
  kb_buf_free(&r->utf8);
  kb_buf_free(&r->record_raw);
  kb_buf_free(&r->header_raw);
  free(r->buf);
  free(r->path);
  free(r);
}

static int jsonl_next(kb_ticket_reader *r, kb_doc **doc, kb_ticket_reject *rej) {
  if (r->json_array) return json_array_next(r, doc, rej);
  for (;;) {
    bool too_long;
    if (!read_line(r, &too_long)) return KB_ENOENT;
    r->rec_offset = r->offset;
    kb_buf_reset(&r->record_raw);
    kb_buf_append(&r->record_raw, r->raw.data, r->raw.len);
    rej->raw = r->record_raw.data;
    rej->raw_len = r->record_raw.len;
    if (too_long) {
      reject(rej, r->line, "", "记录超过 %zu 字节 (record over the size limit)", r->max_record);
      return KB_ETOOBIG;
    }
    if (!to_utf8(r)) {
      char why[256];
      charset_reason(r, why, sizeof why);
      reject(rej, r->line, "", "%s", why);
      return KB_EENCODING;
    }
    size_t n = r->utf8.len;
    while (n && (r->utf8.data[n - 1] == '\n' || r->utf8.data[n - 1] == '\r')) n--;
    size_t s = 0;
    while (s < n && (r->utf8.data[s] == ' ' || r->utf8.data[s] == '\t')) s++;
    if (s == n) continue; /* blank line */
    json_ctx c = {.names = &r->names, .formats = r->formats, .rec = r->rec, .format = &r->tformat,
                  .cols = &r->cols, .ncols = &r->ncols};
    return ticket_from_json(r->utf8.data + s, n - s, r->line, &c, doc, rej);
  }
}

int kb_ticket_reader_next(kb_ticket_reader *r, kb_doc **doc, kb_ticket_reject *rej,
                          kb_error *err) {
  *doc = NULL;
  memset(rej, 0, sizeof *rej);
  r->record_guessed = false;
  int rc;
  if (r->format == KB_TICKET_JSONL) {
    rc = jsonl_next(r, doc, rej);
  } else {
    const char *why;
    csv_step st = csv_next(r, &why);
    rej->raw = r->record_raw.data;
    rej->raw_len = r->record_raw.len;
    if (st == CSV_END) rc = KB_ENOENT;
    else if (st == CSV_BAD) {
      reject(rej, r->record_line, "", "%s", why);
      rc = r->bad_code;
    } else {
      rc = csv_ticket(r, doc, rej);
    }
  }
  int gzerr;
  const char *msg = gzerror(r->gz, &gzerr);
  if (gzerr != Z_OK && gzerr != Z_STREAM_END && rc == KB_ENOENT)
    return kb_error_set(err, KB_EIO, "%s: 读取失败 (read error): %s", r->path, msg);
  return rc;
}

const kb_charset_choice *kb_ticket_reader_charset(const kb_ticket_reader *r) {
  return &r->charset;
}

bool kb_ticket_reader_guessed(const kb_ticket_reader *r) { return r->record_guessed; }

const char *kb_ticket_reader_header(const kb_ticket_reader *r, size_t *len) {
  *len = r->header_raw.len;
  return r->header_raw.len ? r->header_raw.data : NULL;
}

const char *kb_ticket_reader_format_title(const kb_ticket_reader *r) {
  return r->tformat ? kb_tformat_title(r->tformat) : NULL;
}

const char *kb_ticket_reader_column(const kb_ticket_reader *r, size_t i, kb_buf *role) {
  kb_buf_reset(role);
  if (i >= r->ncols) return NULL;
  for (size_t k = 0; k < r->cols[i].nroles; k++) kb_tcol_describe(&r->cols[i].roles[k], role);
  if (!role->data) kb_buf_append(role, "", 0);
  return r->cols[i].name ? r->cols[i].name : "";
}

uint64_t kb_ticket_reader_offset(const kb_ticket_reader *r) { return r->rec_offset; }
size_t kb_ticket_reader_line(const kb_ticket_reader *r) { return r->line; }
/* a JSONL record is one line */
size_t kb_ticket_reader_record_line(const kb_ticket_reader *r) {
  return r->format == KB_TICKET_JSONL && !r->json_array ? r->line : r->record_line;
}
const char *kb_ticket_reader_path(const kb_ticket_reader *r) { return r->path; }
uint64_t kb_ticket_reader_raw_offset(const kb_ticket_reader *r) {
  return (uint64_t)gzoffset(r->gz);
}

int kb_ticket_reader_skip_to(kb_ticket_reader *r, uint64_t offset, size_t line, kb_error *err) {
  if (offset < r->offset)
    return kb_error_set(err, KB_EINVAL, "%s: 不能后退到 %llu (cannot seek backwards)", r->path,
                        (unsigned long long)offset);
  while (r->offset < offset) {
    if (!fill(r))
      return kb_error_set(err, KB_EIO, "%s: 输入比记录的检查点短 (input shorter than the checkpoint)",
                          r->path);
    size_t take = r->buf_len - r->buf_pos;
    if (take > offset - r->offset) take = (size_t)(offset - r->offset);
    r->buf_pos += take;
    r->offset += take;
  }
  r->rec_offset = r->offset;
  r->line = line;
  r->first_line = false;
  return KB_OK;
}
