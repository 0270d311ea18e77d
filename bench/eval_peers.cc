// eval_peers.cc — kb's peers on the same documents and judged queries as
// eval_kb, with the same figures (success@1, success@3, MRR@10, Recall@10,
// query latency), one line per engine:
//
//   xapian-ngram  Xapian's own TermGenerator + QueryParser with
//                 FLAG_CJK_NGRAM, English stemmer, default BM25, default
//                 operator (OR)
//   bigram-or     BM25 (Xapian) over CJK character unigrams + bigrams and
//                 lower-cased ASCII words; the query is the OR of its terms
//   fts5-trigram  SQLite FTS5 with the trigram tokenizer; the query is the
//                 OR of the query's trigrams, ranked by bm25()
//
//   eval_peers --work DIR [--limit-queries N] [--query-field F]
//              [--title-field F] [--engines a,b,c] [--trace] DOCS.jsonl QUERIES.jsonl|.tsv
//
// --trace prints, per query on stderr: engine, rank of the first relevant
// hit (0 = none), query, first relevant id, top hit.
// Formats as in eval_kb.c; a document's title, when it has one, is indexed
// before its text.
#include <jansson.h>
#include <sqlite3.h>
#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

constexpr size_t kTopK = 10;

struct Doc {
  std::string id, title, text;
};

struct Query {
  std::string text;
  std::vector<std::string> relevant;
};

struct Options {
  std::string work, docs, queries;
  std::string query_field = "text", title_field = "title";
  size_t limit_queries = 0;
  bool trace = false;  // one line per query on stderr
  std::string engines = "xapian-ngram,bigram-or,fts5-trigram";
};

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string json_str(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : "";
}

// ------------------------------------------------------------------ input

// Documents by id; a repeated id replaces the earlier one, as in kb.
bool load_docs(const Options &o, std::vector<Doc> &docs) {
  std::ifstream in(o.docs);
  if (!in) {
    std::fprintf(stderr, "eval_peers: cannot open %s\n", o.docs.c_str());
    return false;
  }
  std::unordered_map<std::string, size_t> seen;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); lineno++) {
    if (line.empty()) continue;
    json_error_t jerr;
    json_t *j = json_loads(line.c_str(), 0, &jerr);
    json_t *id = json_object_get(j, "id");
    if (!json_is_string(id) || !json_is_string(json_object_get(j, "text"))) {
      std::fprintf(stderr, "eval_peers: %s:%zu: no \"id\" or \"text\", skipped\n", o.docs.c_str(),
                   lineno);
      json_decref(j);
      continue;
    }
    Doc d{json_string_value(id), json_str(j, o.title_field.c_str()), json_str(j, "text")};
    json_decref(j);
    auto it = seen.find(d.id);
    if (it != seen.end()) {
      docs[it->second] = std::move(d);
      continue;
    }
    seen.emplace(d.id, docs.size());
    docs.push_back(std::move(d));
  }
  return true;
}

bool load_queries(const Options &o, std::vector<Query> &qs) {
  std::ifstream in(o.queries);
  if (!in) {
    std::fprintf(stderr, "eval_peers: cannot open %s\n", o.queries.c_str());
    return false;
  }
  bool tsv = ends_with(o.queries, ".tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (o.limit_queries && qs.size() == o.limit_queries) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (tsv) {
      size_t tab = line.find('\t');
      if (tab != std::string::npos) qs.push_back({line.substr(0, tab), {line.substr(tab + 1)}});
      continue;
    }
    json_error_t jerr;
    json_t *j = json_loads(line.c_str(), 0, &jerr);
    json_t *text = json_object_get(j, o.query_field.c_str());
    json_t *rel = json_object_get(j, "relevant");
    if (json_is_string(text) && json_is_array(rel)) {
      Query q{json_string_value(text), {}};
      size_t k;
      json_t *id;
      json_array_foreach(rel, k, id) {
        if (json_is_string(id)) q.relevant.push_back(json_string_value(id));
      }
      qs.push_back(std::move(q));
    }
    json_decref(j);
  }
  return true;
}

// ---------------------------------------------------------------- engines

// An engine indexes the documents once, then answers queries with the
// positions (in docs) of its top hits.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char *name() const = 0;
  virtual void index(const std::vector<Doc> &docs, const std::string &dir) = 0;
  // Top kTopK hits; false when the engine rejected the query.
  virtual bool search(const std::string &q, std::vector<size_t> &hits) = 0;
};

// Hits of an MSet whose documents carry their position as data.
void mset_hits(const Xapian::MSet &ms, std::vector<size_t> &hits) {
  for (Xapian::MSetIterator m = ms.begin(); m != ms.end(); ++m)
    hits.push_back(std::strtoul(m.get_document().get_data().c_str(), nullptr, 10));
}

class XapianNgram : public Engine {
 public:
  const char *name() const override { return "xapian-ngram"; }

  void index(const std::vector<Doc> &docs, const std::string &dir) override {
    {
      Xapian::WritableDatabase wdb(dir, Xapian::DB_CREATE_OR_OVERWRITE);
      Xapian::TermGenerator tg;
      tg.set_stemmer(Xapian::Stem("english"));
      tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
      tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
      for (size_t i = 0; i < docs.size(); i++) {
        Xapian::Document d;
        tg.set_document(d);
        if (!docs[i].title.empty()) {
          tg.index_text(docs[i].title);
          tg.increase_termpos();
        }
        tg.index_text(docs[i].text);
        d.set_data(std::to_string(i));
        wdb.add_document(d);
      }
      wdb.commit();
    }
    db_ = std::make_unique<Xapian::Database>(dir);
    enq_ = std::make_unique<Xapian::Enquire>(*db_);
    qp_.set_stemmer(Xapian::Stem("english"));
    qp_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp_.set_database(*db_);
  }

  bool search(const std::string &q, std::vector<size_t> &hits) override {
    Xapian::Query query;
    try {
      query = qp_.parse_query(q, Xapian::QueryParser::FLAG_DEFAULT |
                                     Xapian::QueryParser::FLAG_CJK_NGRAM);
    } catch (const Xapian::QueryParserError &) {
      return false;
    }
    enq_->set_query(query);
    mset_hits(enq_->get_mset(0, kTopK), hits);
    return true;
  }

 private:
  std::unique_ptr<Xapian::Database> db_;
  std::unique_ptr<Xapian::Enquire> enq_;
  Xapian::QueryParser qp_;
};

// Decodes the UTF-8 code point at s[i], advancing i; U+FFFD when malformed.
uint32_t next_cp(const std::string &s, size_t &i) {
  unsigned char c = static_cast<unsigned char>(s[i++]);
  int extra = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  uint32_t cp = extra ? c & (0x3F >> extra) : c;
  for (int k = 0; k < extra; k++) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

bool is_cjk(uint32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) ||   // kana
         (c >= 0x3400 && c <= 0x4DBF) ||   // extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||   // unified ideographs
         (c >= 0xAC00 && c <= 0xD7AF) ||   // hangul
         (c >= 0xF900 && c <= 0xFAFF) ||   // compatibility
         (c >= 0x20000 && c <= 0x3FFFF);   // extensions B…
}

// CJK characters and adjacent pairs within a run; lower-cased ASCII words.
void bigram_terms(const std::string &s, std::vector<std::string> &out) {
  std::string word, prev;  // prev: the previous character of a CJK run
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    uint32_t c = next_cp(s, i);
    bool alnum = c < 0x80 && std::isalnum(static_cast<int>(c));
    if (alnum) {
      word += static_cast<char>(std::tolower(static_cast<int>(c)));
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
    if (is_cjk(c)) {
      std::string ch = s.substr(at, i - at);
      out.push_back(ch);
      if (!prev.empty()) out.push_back(prev + ch);
      prev = ch;
    } else {
      prev.clear();
    }
  }
  if (!word.empty()) out.push_back(word);
}

class BigramOr : public Engine {
 public:
  const char *name() const override { return "bigram-or"; }

  void index(const std::vector<Doc> &docs, const std::string &dir) override {
    {
      Xapian::WritableDatabase wdb(dir, Xapian::DB_CREATE_OR_OVERWRITE);
      std::vector<std::string> terms;
      for (size_t i = 0; i < docs.size(); i++) {
        terms.clear();
        bigram_terms(docs[i].title, terms);
        bigram_terms(docs[i].text, terms);
        Xapian::Document d;
        for (const std::string &t : terms)
          if (t.size() <= 200) d.add_term(t);
        d.set_data(std::to_string(i));
        wdb.add_document(d);
      }
      wdb.commit();
    }
    db_ = std::make_unique<Xapian::Database>(dir);
    enq_ = std::make_unique<Xapian::Enquire>(*db_);
  }

  bool search(const std::string &q, std::vector<size_t> &hits) override {
    std::vector<std::string> terms;
    bigram_terms(q, terms);
    std::vector<Xapian::Query> kids;
    for (const std::string &t : terms)
      if (t.size() <= 200) kids.emplace_back(t);
    enq_->set_query(Xapian::Query(Xapian::Query::OP_OR, kids.begin(), kids.end()));
    mset_hits(enq_->get_mset(0, kTopK), hits);
    return true;
  }

 private:
  std::unique_ptr<Xapian::Database> db_;
  std::unique_ptr<Xapian::Enquire> enq_;
};

class Fts5Trigram : public Engine {
 public:
  ~Fts5Trigram() override {
    sqlite3_finalize(query_);
    sqlite3_close(db_);
  }

  const char *name() const override { return "fts5-trigram"; }

  void index(const std::vector<Doc> &docs, const std::string &dir) override {
    std::string path = dir + ".sqlite";
    std::remove(path.c_str());
    check(sqlite3_open(path.c_str(), &db_));
    exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
         "CREATE VIRTUAL TABLE d USING fts5(body, tokenize='trigram'); BEGIN;");
    sqlite3_stmt *ins = nullptr;
    check(sqlite3_prepare_v2(db_, "INSERT INTO d(rowid, body) VALUES(?1, ?2)", -1, &ins, nullptr));
    std::string body;
    for (size_t i = 0; i < docs.size(); i++) {
      body = docs[i].title.empty() ? docs[i].text : docs[i].title + "\n" + docs[i].text;
      sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(i) + 1);
      sqlite3_bind_text(ins, 2, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
      int rc = sqlite3_step(ins);
      sqlite3_reset(ins);
      if (rc != SQLITE_DONE) check(rc);
    }
    sqlite3_finalize(ins);
    exec("COMMIT;");
    check(sqlite3_prepare_v2(db_, "SELECT rowid FROM d WHERE d MATCH ?1 ORDER BY bm25(d) LIMIT 10",
                             -1, &query_, nullptr));
  }

  bool search(const std::string &q, std::vector<size_t> &hits) override {
    std::vector<size_t> starts;  // byte offset of each code point
    for (size_t i = 0; i < q.size(); next_cp(q, i)) starts.push_back(i);
    starts.push_back(q.size());
    std::set<std::string> seen;
    std::string match;
    for (size_t k = 0; k + 3 < starts.size(); k++) {
      std::string tri = q.substr(starts[k], starts[k + 3] - starts[k]);
      if (tri.find('"') != std::string::npos || !seen.insert(tri).second) continue;
      if (!match.empty()) match += " OR ";
      match += "\"" + tri + "\"";
    }
    if (match.empty()) return true;
    sqlite3_bind_text(query_, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(query_)) == SQLITE_ROW)
      hits.push_back(static_cast<size_t>(sqlite3_column_int64(query_, 0)) - 1);
    sqlite3_reset(query_);
    return rc == SQLITE_DONE;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
      throw std::runtime_error(std::string("sqlite: ") + (db_ ? sqlite3_errmsg(db_) : "open"));
  }
  void exec(const char *sql) { check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr)); }

  sqlite3 *db_ = nullptr;
  sqlite3_stmt *query_ = nullptr;
};

// --------------------------------------------------------------- measuring

struct Scores {
  size_t scored = 0, errors = 0, empty = 0;
  double s1 = 0, s3 = 0, mrr = 0, recall = 0;
  std::vector<double> lat;
};

// Scores one query; returns the rank of its first relevant hit (0 = none).
size_t score_query(Scores &sc, const Query &q, const std::vector<std::string> &ids) {
  std::unordered_set<std::string> rel(q.relevant.begin(), q.relevant.end()), seen;
  size_t first = 0, found = 0;
  for (size_t i = 0; i < ids.size() && i < kTopK; i++) {
    if (!seen.insert(ids[i]).second || !rel.count(ids[i])) continue;
    found++;
    if (!first) first = i + 1;
  }
  sc.scored++;
  if (first == 1) sc.s1++;
  if (first >= 1 && first <= 3) sc.s3++;
  if (first) sc.mrr += 1.0 / static_cast<double>(first);
  sc.recall += static_cast<double>(found) / static_cast<double>(q.relevant.size());
  return first;
}

// Nearest-rank percentile of sorted v, as in eval_kb.c.
double percentile(const std::vector<double> &v, double p) {
  if (v.empty()) return 0;
  size_t r = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[r ? r - 1 : 0];
}

void evaluate(Engine &e, const std::vector<Doc> &docs, const std::vector<Query> &qs,
              const std::string &dir, bool trace) {
  double t0 = now_ms();
  e.index(docs, dir);
  double index_s = (now_ms() - t0) / 1e3;
  Scores sc;
  std::vector<size_t> hits;
  std::vector<std::string> ids;
  for (const Query &q : qs) {
    if (q.relevant.empty()) continue;
    hits.clear();
    ids.clear();
    double t = now_ms();
    bool ok = e.search(q.text, hits);
    sc.lat.push_back(now_ms() - t);
    if (!ok) sc.errors++;
    else if (hits.empty()) sc.empty++;
    for (size_t h : hits)
      if (h < docs.size()) ids.push_back(docs[h].id);
    size_t first = score_query(sc, q, ids);
    if (trace)
      std::fprintf(stderr, "trace\t%s\t%zu\t%s\t%s\t%s\n", e.name(), first, q.text.c_str(),
                   q.relevant[0].c_str(), ids.empty() ? (ok ? "-" : "ERROR") : ids[0].c_str());
  }
  double mean = 0;
  for (double l : sc.lat) mean += l;
  std::sort(sc.lat.begin(), sc.lat.end());
  double n = sc.scored ? static_cast<double>(sc.scored) : 1;
  std::printf("engine=%s docs=%zu queries=%zu s1=%.4f s3=%.4f mrr10=%.4f r10=%.4f mean_ms=%.3f "
              "p50_ms=%.3f p99_ms=%.3f index_s=%.2f no_result=%zu errors=%zu\n",
              e.name(), docs.size(), sc.scored, sc.s1 / n, sc.s3 / n, sc.mrr / n, sc.recall / n,
              sc.lat.empty() ? 0 : mean / static_cast<double>(sc.lat.size()),
              percentile(sc.lat, 0.50), percentile(sc.lat, 0.99), index_s, sc.empty, sc.errors);
  std::fflush(stdout);
}

int usage() {
  std::fprintf(stderr,
               "usage: eval_peers --work DIR [--limit-queries N] [--query-field F]\n"
               "                  [--title-field F] [--engines a,b,c] [--trace]\n"
               "                  DOCS.jsonl QUERIES.jsonl|.tsv\n");
  return 2;
}

bool parse_args(int argc, char **argv, Options &o) {
  std::vector<std::string> pos;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool has_val = i + 1 < argc;
    if (a == "--work" && has_val) o.work = argv[++i];
    else if (a == "--query-field" && has_val) o.query_field = argv[++i];
    else if (a == "--title-field" && has_val) o.title_field = argv[++i];
    else if (a == "--engines" && has_val) o.engines = argv[++i];
    else if (a == "--trace") o.trace = true;
    else if (a == "--limit-queries" && has_val) o.limit_queries = std::strtoul(argv[++i], nullptr, 10);
    else if (a.size() > 1 && a[0] == '-') return false;
    else pos.push_back(a);
  }
  if (o.work.empty() || pos.size() != 2) return false;
  o.docs = pos[0];
  o.queries = pos[1];
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return usage();
  std::vector<Doc> docs;
  std::vector<Query> qs;
  if (!load_docs(o, docs) || !load_queries(o, qs)) return 1;
  std::vector<std::unique_ptr<Engine>> engines;
  engines.push_back(std::make_unique<XapianNgram>());
  engines.push_back(std::make_unique<BigramOr>());
  engines.push_back(std::make_unique<Fts5Trigram>());
  int status = 0;
  for (auto &e : engines) {
    if (("," + o.engines + ",").find(std::string(",") + e->name() + ",") == std::string::npos)
      continue;
    try {
      evaluate(*e, docs, qs, o.work + "/" + e->name(), o.trace);
    } catch (const Xapian::Error &err) {
      std::fprintf(stderr, "eval_peers: %s: %s\n", e->name(), err.get_description().c_str());
      status = 1;
    } catch (const std::exception &err) {
      std::fprintf(stderr, "eval_peers: %s: %s\n", e->name(), err.what());
      status = 1;
    }
    e.reset();  // close its database before the next engine builds
  }
  return status;
}
