// xapian_ngram.cc — the peer: Xapian's own indexing of the same Markdown
// files (TermGenerator with FLAG_CJK_NGRAM, English stemmer), one document
// per file, commit at the end. The engine's floor cost, for kb_bench.
#include <xapian.h>

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

static size_t docs = 0, bytes = 0;

static void index_file(Xapian::WritableDatabase &db, Xapian::TermGenerator &tg,
                       const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  Xapian::Document doc;
  tg.set_document(doc);
  tg.index_text(text);
  doc.set_data(text);
  std::string id = "Q" + path;
  doc.add_boolean_term(id);
  db.replace_document(id, doc);
  docs++;
  bytes += text.size();
}

static void walk(Xapian::WritableDatabase &db, Xapian::TermGenerator &tg, const std::string &dir) {
  DIR *d = opendir(dir.c_str());
  if (!d) return;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) continue;
    size_t len = strlen(e->d_name);
    if (S_ISDIR(st.st_mode)) walk(db, tg, path);
    else if (len > 3 && strcmp(e->d_name + len - 3, ".md") == 0) index_file(db, tg, path);
  }
  closedir(d);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: xapian_ngram DIR DB\n");
    return 2;
  }
  try {
    Xapian::WritableDatabase db(argv[2], Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    auto t0 = std::chrono::steady_clock::now();
    walk(db, tg, argv[1]);
    db.commit();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::printf("engine=xapian-ngram docs=%zu mb=%.2f seconds=%.3f docs_per_s=%.0f mb_per_s=%.2f "
                "peak_rss_mb=%.1f\n",
                docs, bytes / 1e6, secs, docs / secs, bytes / 1e6 / secs, ru.ru_maxrss / 1024.0);
  } catch (const Xapian::Error &e) {
    std::fprintf(stderr, "xapian_ngram: %s\n", e.get_description().c_str());
    return 1;
  }
  return 0;
}
