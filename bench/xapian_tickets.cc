// xapian_tickets.cc — the peer for the import benchmark: Xapian's own
// indexing of the same JSONL tickets (TermGenerator with FLAG_CJK_NGRAM over
// title, problem and resolution; the record as data), same batch size.
//   xapian_tickets FILE DB BATCH
#include <jansson.h>
#include <xapian.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static std::string field(json_t *o, const char *k) {
  const char *v = json_string_value(json_object_get(o, k));
  return v ? v : "";
}

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: xapian_tickets FILE DB BATCH\n");
    return 2;
  }
  long batch = std::atol(argv[3]);
  try {
    Xapian::WritableDatabase db(argv[2], Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    FILE *f = std::fopen(argv[1], "r");
    if (!f) return 1;
    char *line = nullptr;
    size_t cap = 0;
    ssize_t n;
    long count = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
      json_t *o = json_loadb(line, (size_t)n, 0, nullptr);
      if (!o) continue;
      Xapian::Document doc;
      tg.set_document(doc);
      tg.index_text(field(o, "title"), 5);
      tg.increase_termpos();
      tg.index_text(field(o, "problem"));
      tg.increase_termpos();
      tg.index_text(field(o, "resolution"));
      doc.set_data(std::string(line, (size_t)n));
      std::string id = "Q" + field(o, "id");
      doc.add_boolean_term(id);
      db.replace_document(id, doc);
      json_decref(o);
      if (++count % batch == 0) db.commit();
    }
    db.commit();
    std::free(line);
    std::fclose(f);
  } catch (const Xapian::Error &e) {
    std::fprintf(stderr, "xapian_tickets: %s\n", e.get_description().c_str());
    return 1;
  }
  return 0;
}
