// index.cc — the C wrapper over Xapian; the one C++ file of kb.
//
// Every extern "C" function is one try block whose catch calls fail(),
// which copies Xapian's message into the kb_error before the exception
// dies. No exception crosses into C.
#include "kb/index.h"
#include "kb/audience.h"
#include "kb/text.h"

#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace {

// The errno of a Xapian error, from the text Xapian keeps of it (1.4 has
// no accessor for the number), when it is one of a full disk's: ENOSPC, a
// quota (EDQUOT) or the file size limit (EFBIG, RLIMIT_FSIZE). 0 otherwise.
int full_disk_errno(const Xapian::Error &e) {
  const char *s = e.get_error_string();
  if (!s) return 0;
  for (int n : {ENOSPC, EDQUOT, EFBIG})
    if (std::strcmp(s, std::strerror(n)) == 0) return n;
  return 0;
}

const char *full_disk_reason(int e) {
  return e == EFBIG ? "文件超出大小限制 (file size limit reached)" : "磁盘已满 (disk full)";
}

int fail(kb_error *err, const char *what) {
  try {
    throw;
  } catch (const Xapian::Error &e) {
    if (int n = full_disk_errno(e))
      return kb_error_set(err, KB_ENOSPC, "%s: %s: %s", what, full_disk_reason(n),
                          e.get_description().c_str());
  } catch (const std::system_error &e) {
    int n = e.code().value();
    if (e.code().category() == std::generic_category() &&
        (n == ENOSPC || n == EDQUOT || n == EFBIG))
      return kb_error_set(err, KB_ENOSPC, "%s: %s: %s", what, full_disk_reason(n), e.what());
  } catch (...) {
  }
  try {
    throw;
  } catch (const Xapian::DatabaseLockError &e) {
    return kb_error_set(err, KB_ELOCKED, "%s: %s", what, e.get_description().c_str());
  } catch (const Xapian::DatabaseModifiedError &e) {
    return kb_error_set(err, KB_EMODIFIED, "%s: %s", what, e.get_description().c_str());
  } catch (const Xapian::DatabaseOpeningError &e) {
    return kb_error_set(err, KB_ENOENT, "%s: %s", what, e.get_description().c_str());
  } catch (const Xapian::Error &e) {
    return kb_error_set(err, KB_EINDEX, "%s: %s", what, e.get_description().c_str());
  } catch (const std::bad_alloc &) {
    return kb_error_set(err, KB_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception &e) {
    return kb_error_set(err, KB_EINTERNAL, "%s: %s", what, e.what());
  } catch (...) {
    return kb_error_set(err, KB_EINTERNAL, "%s: unknown exception", what);
  }
}

char *dup_string(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

const char *kLastCommitKey = "kb:last_commit";

int read_only(kb_error *err, const char *what) {
  return kb_error_set(err, KB_EINVAL, "%s: 索引以只读方式打开 (index opened read-only)", what);
}

}  // namespace

// ------------------------------------------------------------------ stemmer

struct kb_stemmer {
  Xapian::Stem stem;
};

extern "C" int kb_stemmer_new(const char *language, kb_stemmer **out, kb_error *err) {
  try {
    *out = new kb_stemmer{Xapian::Stem(language)};
    return KB_OK;
  } catch (...) {
    return fail(err, "stemmer");
  }
}

extern "C" void kb_stemmer_free(kb_stemmer *s) { delete s; }

extern "C" int kb_stemmer_stem(kb_stemmer *s, const char *word, size_t len, kb_buf *out) {
  try {
    std::string r = s->stem(std::string(word, len));
    return kb_buf_append(out, r.data(), r.size());
  } catch (...) {
    return KB_ENOMEM;
  }
}

// -------------------------------------------------------------------- xdoc

// The Xapian::Documents are built as the analyzer goes, on the analyser's
// thread, so that the writer only has to store them: one for each
// audience that may see the document.
struct kb_xdoc {
  Xapian::Document doc[KB_AUDIENCE_COUNT];
  std::vector<std::string> spellings[KB_AUDIENCE_COUNT];
  kb_audiences who = KB_AUDIENCES_ALL;
};

namespace {
// Calls fn(version) for each version of d in who.
template <typename F>
int each_version(kb_xdoc *d, kb_audiences who, F fn) {
  try {
    who &= d->who;
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
      if (who & (1u << a)) fn(a);
    return KB_OK;
  } catch (...) {
    return KB_ENOMEM;
  }
}
}  // namespace

extern "C" int kb_xdoc_new(kb_xdoc **out) {
  try {
    *out = new kb_xdoc();
    return KB_OK;
  } catch (...) {
    *out = nullptr;
    return KB_ENOMEM;
  }
}

extern "C" void kb_xdoc_free(kb_xdoc *d) { delete d; }

extern "C" void kb_xdoc_set_audiences(kb_xdoc *d, kb_audiences who) {
  d->who &= who;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
    if (!(d->who & (1u << a))) {
      d->doc[a] = Xapian::Document();
      d->spellings[a].clear();
    }
}

extern "C" kb_audiences kb_xdoc_audiences(const kb_xdoc *d) { return d->who; }

extern "C" int kb_xdoc_add_posting_for(kb_xdoc *d, kb_audiences who, const char *term,
                                       size_t len, uint32_t pos, uint32_t wdf_inc) {
  std::string t(term, len);
  return each_version(d, who, [&](unsigned a) {
    if (pos)
      d->doc[a].add_posting(t, pos, wdf_inc);
    else
      d->doc[a].add_term(t, wdf_inc);
  });
}

extern "C" int kb_xdoc_add_posting(kb_xdoc *d, const char *term, size_t len, uint32_t pos,
                                   uint32_t wdf_inc) {
  return kb_xdoc_add_posting_for(d, KB_AUDIENCES_ALL, term, len, pos, wdf_inc);
}

extern "C" int kb_xdoc_add_term_for(kb_xdoc *d, kb_audiences who, const char *term, size_t len,
                                    uint32_t wdf_inc) {
  return kb_xdoc_add_posting_for(d, who, term, len, 0, wdf_inc);
}

extern "C" int kb_xdoc_add_term(kb_xdoc *d, const char *term, size_t len, uint32_t wdf_inc) {
  return kb_xdoc_add_posting_for(d, KB_AUDIENCES_ALL, term, len, 0, wdf_inc);
}

extern "C" int kb_xdoc_set_value_for(kb_xdoc *d, kb_audiences who, unsigned slot,
                                     const char *value, size_t len) {
  return each_version(d, who, [&](unsigned a) { d->doc[a].add_value(slot, std::string(value, len)); });
}

extern "C" int kb_xdoc_set_value(kb_xdoc *d, unsigned slot, const char *value, size_t len) {
  return kb_xdoc_set_value_for(d, KB_AUDIENCES_ALL, slot, value, len);
}

extern "C" int kb_xdoc_add_spelling_for(kb_xdoc *d, kb_audiences who, const char *word,
                                        size_t len) {
  return each_version(d, who, [&](unsigned a) { d->spellings[a].emplace_back(word, len); });
}

extern "C" int kb_xdoc_add_spelling(kb_xdoc *d, const char *word, size_t len) {
  return kb_xdoc_add_spelling_for(d, KB_AUDIENCES_ALL, word, len);
}

extern "C" int kb_xdoc_set_data(kb_xdoc *d, const char *data, size_t len) {
  return each_version(d, KB_AUDIENCES_ALL,
                      [&](unsigned a) { d->doc[a].set_data(std::string(data, len)); });
}

extern "C" int kb_xdoc_get_value(const kb_xdoc *d, kb_audience a, unsigned slot, kb_buf *out) {
  try {
    if ((unsigned)a >= KB_AUDIENCE_COUNT || !(d->who & (1u << a))) return KB_OK;
    std::string v = d->doc[a].get_value(slot);
    return kb_buf_append(out, v.data(), v.size());
  } catch (...) {
    return KB_ENOMEM;
  }
}

// ------------------------------------------------------------------- index

namespace {
// Each document's joined facet value (KB_SLOT_FACETS) as a small id, by
// docid, for one revision of a reader: built once from the slot's value
// stream, so that counting a match set costs an array read a document, not
// a value-stream seek, a string copy and a hash lookup (an eighth of an
// engineer's search at 100,000 tickets). 4 bytes a document.
struct FacetTable {
  unsigned slot = 0;
  uint64_t generation = 0;  // the reader's: it moves with every revision and replacement
  std::vector<uint32_t> id_of;     /* by docid; 0: no value */
  std::vector<std::string> names;  /* by id; names[0] is "" */
};
}  // namespace

namespace {
// One audience's database of an index.
struct Part {
  Xapian::Database *db = nullptr;  // == wdb for a writer
  Xapian::WritableDatabase *wdb = nullptr;
  bool dirty = false;
  ino_t ino = 0;     // of its folder: a new one means it was replaced by a merged one
  std::string uuid;  // a reader's: a new one means the folder was replaced
};

// The order in which a writer commits and swaps its databases: the first
// audience's, which holds the import checkpoints, last.
unsigned commit_order(unsigned i) { return (i + 1) % KB_AUDIENCE_COUNT; }
}  // namespace

struct kb_index {
  std::string path;  // the index folder
  Part parts[KB_AUDIENCE_COUNT];  // those opened (a reader of one audience: its own)
  unsigned main = 0;  // the audience whose database answers
  Xapian::Database *db = nullptr;  // parts[main].db
  bool writer = false;
  uint64_t generation = 0;  // reopens that saw a change
  FacetTable *facet_table = nullptr;  // a reader's, built on first use
  int lock_fd = -1;  // a writer's hold on PATH.lock
  std::map<std::string, std::string> writer_meta;  // for the next commit
  bool failed = false;  // a write failed: what it left uncommitted is discarded on free
};

namespace {

std::string part_path(const std::string &path, unsigned a) {
  return path + "/" + kb_audience_name((kb_audience)a);
}

// A replacement (kb_index_replace_by_compaction) writes PART.merge, renames
// PART to PART.old and PART.merge to PART, then removes PART.old (PART: one
// audience's folder).
std::string merge_path(const std::string &p) { return p + ".merge"; }
std::string old_path(const std::string &p) { return p + ".old"; }
// the first compaction when superseded documents are dropped before the last
std::string dedup_path(const std::string &p) { return p + ".merge-dedup"; }

// The folder's inode: a replacement renames another folder to PART, and a
// commit changes files inside it only (glass renames its version file on
// every commit, so that file's inode would see a replacement in each).
ino_t folder_inode(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool is_database(const std::string &path) {
  struct stat st;
  return stat((path + "/iamglass").c_str(), &st) == 0;
}

// Every writer of PATH holds PATH.lock (flock) from open to free. Xapian's
// own lock lives inside each database's folder and so stops guarding it
// once a replacement has renamed it: a second writer could then create an
// empty database between the two renames, and the replacement, failing its
// second rename, would remove the merged copy while the other removed the
// old one. The file stays (removing it would let two writers hold two
// files). -1 when another writer holds it (errno EWOULDBLOCK).
int take_writer_lock(const std::string &path) {
  /* read-only is enough for flock; 0666 lets the umask decide, as Xapian's
   * own lock file does, so that writers sharing a group share it */
  int fd = open((path + ".lock").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// Holding PATH.lock: a replacement of the database at part cut between its
// two renames is finished (PART.merge was complete once PART.old existed).
void finish_cut_replacement(const std::string &part) {
  if (!std::filesystem::exists(part) && is_database(merge_path(part)) &&
      std::filesystem::exists(old_path(part)))
    std::filesystem::rename(merge_path(part), part);
}

// Holding both locks: leftovers of a replacement that finished or died.
void remove_replacement_leftovers(const std::string &part) {
  std::error_code ec;
  std::filesystem::remove_all(old_path(part), ec);
  std::filesystem::remove_all(merge_path(part), ec);
  std::filesystem::remove_all(dedup_path(part), ec);
}

}  // namespace

// ----------------------------------------------------------- write failures

namespace {

// Xapian 1.4 cannot always report a full disk: when a write fails inside
// commit() at some points, its clean-up writes again, that write throws
// from a place that may not throw, and the process is terminated
// ("terminate called after throwing an instance of 'Xapian::DatabaseError'",
// exit 134). No catch can see it. What it leaves on disk is what a crash
// leaves: the last committed revision, whole (glass never overwrites the
// blocks of a committed revision). So the terminate handler says so, for
// the index being written on the dying thread, and exits with status 1 as
// every other fatal error does.
//
// The writer being written by this thread: set by WriteGuard around each
// call into Xapian that writes (thread-local: a sharded import's writers
// each write their own shard).
thread_local const kb_index *tl_writing = nullptr;
std::terminate_handler previous_terminate = nullptr;  // set once, below

// The reason of a write failure seen only by the terminate handler: from
// the exception if there is one, else from errno, else from the file
// system's free space.
std::string dying_reason(const std::string &path) {
  std::string what;
  int n = 0;
  if (std::exception_ptr p = std::current_exception()) {
    try {
      std::rethrow_exception(p);
    } catch (const Xapian::Error &e) {
      what = e.get_description();
      n = full_disk_errno(e);
    } catch (const std::exception &e) {
      what = e.what();
    } catch (...) {
    }
  }
  if (!n && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)) n = errno;
  struct statvfs vfs;
  if (!n && statvfs(path.c_str(), &vfs) == 0 && vfs.f_bavail == 0) n = ENOSPC;
  std::string why = n ? full_disk_reason(n) : "Xapian 内部错误 (Xapian failed)";
  if (n && what.empty()) what = std::strerror(n);
  return what.empty() ? why : why + ": " + what;
}

[[noreturn]] void on_terminate() {
  const kb_index *w = tl_writing;
  if (!w) {
    if (previous_terminate) previous_terminate();
    std::abort();
  }
  std::string why = dying_reason(w->path);
  std::fprintf(stderr,
               "%s: 索引 %s 写入失败 (writing the index failed): %s; 已提交的批次完好，"
               "释放空间后重新运行同一命令即可继续 (every batch committed before is intact; "
               "free some space and run the same command again to go on)\n",
               program_invocation_short_name, w->path.c_str(), why.c_str());
  std::fflush(stderr);
  _exit(1);
}

void install_terminate_handler() {
  static std::once_flag once;
  std::call_once(once, [] { previous_terminate = std::set_terminate(on_terminate); });
}

// Marks idx as the index this thread writes, for the scope of one write.
class WriteGuard {
 public:
  explicit WriteGuard(const kb_index *idx) : saved_(tl_writing) { tl_writing = idx; }
  ~WriteGuard() { tl_writing = saved_; }
  WriteGuard(const WriteGuard &) = delete;
  WriteGuard &operator=(const WriteGuard &) = delete;

 private:
  const kb_index *saved_;
};

// fail() for a write into idx: a full disk names the index, and what the
// write left uncommitted is not committed by kb_index_free.
int fail_write(kb_index *idx, kb_error *err, const char *what) {
  idx->failed = true;
  int rc = fail(err, what);
  if (rc == KB_ENOSPC) kb_error_prefix(err, "索引 (index) %s: ", idx->path.c_str());
  return rc;
}

}  // namespace

extern "C" bool kb_index_exists(const char *path) {
  try {
    return is_database(part_path(path, 0));
  } catch (...) {
    return false;
  }
}

namespace {
// A folder of the layout before audiences: one database for every reader.
int old_layout(kb_error *err, const char *path) {
  return kb_error_set(err, KB_EINDEX,
                      "%s: 旧版索引格式（所有读者共用一个数据库），请删除后重新建立索引 "
                      "(an index of the old layout, one database for every reader: remove it "
                      "and index again with kb-index sync DIR and kb-index import FILE)",
                      path);
}

// Opens the databases of the audiences in who at path, answering from
// main's, with lock_fd (a writer; -1: a reader), which the index then owns.
int open_index(const char *path, int lock_fd, kb_audiences who, unsigned main, kb_index **out,
               kb_error *err) {
  kb_index *idx = nullptr;
  try {
    idx = new kb_index();
    idx->path = path;
    idx->lock_fd = lock_fd;
    idx->writer = lock_fd >= 0;
    lock_fd = -1;
    if (is_database(idx->path)) {
      kb_index_free(idx);
      return old_layout(err, path);
    }
    if (idx->writer) {
      install_terminate_handler();
      std::filesystem::create_directories(idx->path);
    }
    WriteGuard writing(idx->writer ? idx : nullptr);
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++) {
      if (!(who & (1u << a))) continue;
      Part &p = idx->parts[a];
      const std::string dir = part_path(idx->path, a);
      if (idx->writer) {
        finish_cut_replacement(dir);
        p.wdb = new Xapian::WritableDatabase(dir, Xapian::DB_CREATE_OR_OPEN);
        p.db = p.wdb;
        remove_replacement_leftovers(dir);
        p.ino = folder_inode(dir);
      } else {
        // between the two renames of a replacement the database is PART.old
        const std::string at =
            !std::filesystem::exists(dir) && is_database(old_path(dir)) ? old_path(dir) : dir;
        p.db = new Xapian::Database(at);
        p.uuid = p.db->get_uuid();
        p.ino = folder_inode(at);
      }
    }
    idx->main = main;
    idx->db = idx->parts[main].db;
    *out = idx;
    return KB_OK;
  } catch (...) {
    if (lock_fd >= 0) close(lock_fd);
    kb_index_free(idx);
    return fail(err, path);
  }
}
}  // namespace

extern "C" int kb_index_open(const char *path, kb_index_mode mode, kb_index **out,
                             kb_error *err) {
  *out = nullptr;
  if (mode != KB_INDEX_WRITE) return open_index(path, -1, KB_AUDIENCES_ALL, 0, out, err);
  int fd = -1;
  try {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    fd = take_writer_lock(path);
  } catch (...) {
    return fail(err, path);
  }
  if (fd < 0 && errno == EWOULDBLOCK)
    return kb_error_set(err, KB_ELOCKED,
                        "%s: 另一个写入者正在使用索引 (another writer holds the index)", path);
  if (fd < 0) return kb_error_set(err, KB_EIO, "%s.lock: %s", path, std::strerror(errno));
  return open_index(path, fd, KB_AUDIENCES_ALL, 0, out, err);
}

extern "C" int kb_index_open_for(const char *path, kb_audience audience, kb_index **out,
                                 kb_error *err) {
  *out = nullptr;
  if ((unsigned)audience >= KB_AUDIENCE_COUNT)
    return kb_error_set(err, KB_EINVAL, "%s: no such audience", path);
  return open_index(path, -1, 1u << audience, audience, out, err);
}

extern "C" void kb_index_free(kb_index *idx) {
  if (!idx) return;
  WriteGuard writing(idx->writer ? idx : nullptr);
  for (unsigned i = 0; i < KB_AUDIENCE_COUNT; i++) {
    Part &p = idx->parts[commit_order(i)];
    try {
      // after a failed write, what it left is not committed by close():
      // each database stays at its last commit, the checkpoint's
      if (p.wdb && idx->failed) {
        p.wdb->begin_transaction(false);
        p.wdb->cancel_transaction();
      }
    } catch (...) {
    }
    try {
      if (p.wdb) p.wdb->close();
    } catch (...) {
    }
    delete p.db;
  }
  delete idx->facet_table;
  if (idx->lock_fd >= 0) close(idx->lock_fd);
  delete idx;
}

extern "C" const char *kb_index_path(const kb_index *idx) { return idx->path.c_str(); }

namespace {
// Stores d under id_term in the databases of the audiences in which: its
// version for each, or no document for an audience it has none for.
int store(kb_index *idx, const char *id_term, const kb_xdoc *d, kb_audiences which,
          kb_error *err) {
  WriteGuard writing(idx);
  try {
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++) {
      Part &p = idx->parts[a];
      if (!(which & (1u << a))) continue;
      if (!(d->who & (1u << a))) {
        if (p.wdb->term_exists(id_term)) {
          p.wdb->delete_document(id_term);
          p.dirty = true;
        }
        continue;
      }
      // a copy shares d's document: the id term added is taken off again,
      // so that d stays as it was (one xdoc may be stored under two ids)
      Xapian::Document doc = d->doc[a];
      Xapian::TermIterator t = doc.termlist_begin();
      t.skip_to(id_term);
      bool had = t != doc.termlist_end() && *t == id_term;
      if (!had) doc.add_boolean_term(id_term);
      p.wdb->replace_document(id_term, doc);
      if (!had) doc.remove_term(id_term);
      for (const std::string &w : d->spellings[a]) p.wdb->add_spelling(w);
      p.dirty = true;
    }
    return KB_OK;
  } catch (...) {
    return fail_write(idx, err, id_term);
  }
}
}  // namespace

extern "C" int kb_index_replace(kb_index *idx, const char *id_term, const kb_xdoc *d,
                                kb_error *err) {
  if (!idx->writer) return read_only(err, id_term);
  return store(idx, id_term, d, KB_AUDIENCES_ALL, err);
}

extern "C" int kb_index_delete(kb_index *idx, const char *id_term, bool *found, kb_error *err) {
  if (!idx->writer) return read_only(err, id_term);
  WriteGuard writing(idx);
  try {
    bool present = false;
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++) {
      Part &p = idx->parts[a];
      if (!p.wdb->term_exists(id_term)) continue;
      p.wdb->delete_document(id_term);
      p.dirty = present = true;
    }
    if (found) *found = present;
    return KB_OK;
  } catch (...) {
    return fail_write(idx, err, id_term);
  }
}

extern "C" int kb_index_commit(kb_index *idx, kb_error *err) {
  if (!idx->writer) return KB_OK;
  WriteGuard writing(idx);
  try {
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm tm;
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (unsigned i = 0; i < KB_AUDIENCE_COUNT; i++) {
      unsigned a = commit_order(i);
      Part &p = idx->parts[a];
      if (a == 0 && !idx->writer_meta.empty()) {
        /* every other database has committed: the checkpoints hold for them */
        for (const auto &m : idx->writer_meta) p.wdb->set_metadata(m.first, m.second);
        idx->writer_meta.clear();
        p.dirty = true;
      }
      if (!p.dirty) continue;
      p.wdb->set_metadata(kLastCommitKey, stamp);
      p.wdb->commit();
      p.dirty = false;
    }
    idx->failed = false; /* nothing is left of the failed write */
    return KB_OK;
  } catch (...) {
    return fail_write(idx, err, "提交 (commit)");
  }
}

namespace {
// A reader's database of audience a at the latest revision: a reopen, or a
// fresh open when the folder was replaced by a merged one (the old
// handle's files are gone, and reopening it would mix them with the new
// folder's). True when it moved.
bool reopen_part_at(kb_index *idx, unsigned a) {
  Part &p = idx->parts[a];
  const std::string dir = part_path(idx->path, a);
  ino_t ino = folder_inode(dir);
  // no folder: a replacement between its two renames (PART is PART.old for
  // a moment, PART.merge not yet PART). The handle stays as it is, its
  // files open, until PART is back (a reopen here failed the request:
  // kb-serve answered 500 to a query during a sharded import's swap).
  if (!idx->writer && !ino) return false;
  bool replaced = !idx->writer && ino && ino != p.ino;
  if (!replaced) {
    bool moved = p.db->reopen();
    // a merged folder can be given the inode of the one it replaced: its
    // UUID is new all the same
    replaced = moved && !idx->writer && p.db->get_uuid() != p.uuid;
    if (!replaced) return moved;
  }
  Xapian::Database *fresh = new Xapian::Database(dir);
  delete p.db;
  p.db = fresh;
  p.ino = ino;
  p.uuid = fresh->get_uuid();
  if (a == idx->main) idx->db = fresh;
  return true;
}

// reopen_part_at(), where a reader that loses the race with a swap (its
// folder renamed away between looking and opening) keeps its handle, whose
// files stay open, and tries again at its next reopen: the one request
// must not fail for it.
bool reopen_part(kb_index *idx, unsigned a) {
  try {
    return reopen_part_at(idx, a);
  } catch (const Xapian::DatabaseNotFoundError &) {
    if (idx->writer) throw;
    return false;
  }
}

// Every database of the reader at its latest revision; true when the one
// that answers moved.
bool reopen_reader(kb_index *idx) {
  bool moved = false;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
    if (idx->parts[a].db && reopen_part(idx, a) && a == idx->main) moved = true;
  if (moved) idx->generation++;
  return moved;
}
}  // namespace

extern "C" int kb_index_reopen(kb_index *idx, bool *changed, kb_error *err) {
  try {
    bool moved = reopen_reader(idx);
    if (changed) *changed = moved;
    return KB_OK;
  } catch (...) {
    return fail(err, "reopen");
  }
}

namespace {
// Runs fn, reopening once if a writer's commit invalidated the reader.
template <typename F>
void with_retry(kb_index *idx, F fn) {
  try {
    fn();
  } catch (const Xapian::DatabaseModifiedError &) {
    reopen_reader(idx);
    fn();
  }
}

bool find_doc(kb_index *idx, const char *id_term, Xapian::Document *doc) {
  Xapian::PostingIterator p = idx->db->postlist_begin(id_term);
  if (p == idx->db->postlist_end(id_term)) return false;
  *doc = idx->db->get_document(*p);
  return true;
}
}  // namespace

extern "C" int kb_index_get_data(kb_index *idx, const char *id_term, char **data, kb_error *err) {
  try {
    *data = nullptr;
    with_retry(idx, [&] {
      Xapian::Document doc;
      if (find_doc(idx, id_term, &doc)) *data = dup_string(doc.get_data());
    });
    return KB_OK;
  } catch (...) {
    return fail(err, id_term);
  }
}

extern "C" int kb_index_get_value(kb_index *idx, const char *id_term, unsigned slot,
                                  char **value, kb_error *err) {
  try {
    *value = nullptr;
    with_retry(idx, [&] {
      Xapian::Document doc;
      if (find_doc(idx, id_term, &doc)) *value = dup_string(doc.get_value(slot));
    });
    return KB_OK;
  } catch (...) {
    return fail(err, id_term);
  }
}

namespace {
// Whether audience a's database holds d's version for it as it is (by the
// value in slot), or, when d has none for a, holds no id_term.
bool holds_version(const Xapian::Database &db, const char *id_term, const kb_xdoc *d,
                   unsigned a, unsigned slot, bool *present) {
  Xapian::PostingIterator p = db.postlist_begin(id_term);
  bool has = p != db.postlist_end(id_term);
  if (present) *present = has;
  if (!(d->who & (1u << a))) return !has;
  return has && db.get_document(*p).get_value(slot) == d->doc[a].get_value(slot);
}
}  // namespace

extern "C" int kb_index_holds(kb_index *idx, const char *id_term, const kb_xdoc *d,
                              unsigned slot, bool *same, bool *present, kb_error *err) {
  try {
    for (const Part &p : idx->parts)
      if (!p.db)
        return kb_error_set(err, KB_EINVAL,
                            "%s: 索引只为一类读者打开 (index opened for one audience)", id_term);
    with_retry(idx, [&] {
      *same = true;
      for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
        *same = holds_version(*idx->parts[a].db, id_term, d, a, slot, a == 0 ? present : nullptr) &&
                *same;
    });
    return KB_OK;
  } catch (...) {
    return fail(err, id_term);
  }
}

extern "C" int kb_index_update(kb_index *idx, const char *id_term, const kb_xdoc *d,
                               unsigned slot, bool *changed, bool *present, kb_error *err) {
  if (!idx->writer) return read_only(err, id_term);
  try {
    kb_audiences stale = 0;
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
      if (!holds_version(*idx->parts[a].db, id_term, d, a, slot, a == 0 ? present : nullptr))
        stale |= 1u << a;
    *changed = stale != 0;
    return stale ? store(idx, id_term, d, stale, err) : KB_OK;
  } catch (...) {
    return fail(err, id_term);
  }
}

extern "C" int kb_index_spelling(kb_index *idx, const char *word, unsigned max_edits, kb_buf *out,
                                 kb_error *err) {
  try {
    std::string s = idx->db->get_spelling_suggestion(word, max_edits);
    return kb_buf_append(out, s.data(), s.size());
  } catch (...) {
    return fail(err, "spelling");
  }
}

extern "C" int kb_index_each_term(kb_index *idx, const char *prefix, kb_term_fn fn, void *ctx,
                                  kb_error *err) {
  try {
    for (Xapian::TermIterator t = idx->db->allterms_begin(prefix);
         t != idx->db->allterms_end(prefix); ++t) {
      std::string term = *t;
      int rc = fn(term.data(), term.size(), t.get_termfreq(), ctx);
      if (rc) return rc;
    }
    return KB_OK;
  } catch (...) {
    return fail(err, "terms");
  }
}

extern "C" int kb_index_each_value(kb_index *idx, const char *term, unsigned slot,
                                   kb_value_fn fn, void *ctx, kb_error *err) {
  try {
    for (Xapian::PostingIterator p = idx->db->postlist_begin(term);
         p != idx->db->postlist_end(term); ++p) {
      std::string v = idx->db->get_document(*p).get_value(slot);
      int rc = fn(v.data(), v.size(), ctx);
      if (rc) return rc;
    }
    return KB_OK;
  } catch (...) {
    return fail(err, term);
  }
}

extern "C" uint32_t kb_index_doc_count(kb_index *idx) {
  try {
    return idx->db->get_doccount();
  } catch (...) {
    return 0;
  }
}

extern "C" uint32_t kb_index_doc_count_for(kb_index *idx, kb_audience a) {
  try {
    return (unsigned)a < KB_AUDIENCE_COUNT && idx->parts[a].db ? idx->parts[a].db->get_doccount()
                                                                : 0;
  } catch (...) {
    return 0;
  }
}

extern "C" uint32_t kb_index_term_freq(kb_index *idx, const char *term) {
  try {
    return idx->db->get_termfreq(term);
  } catch (...) {
    return 0;
  }
}

extern "C" uint64_t kb_index_unique_terms(kb_index *idx) {
  try {
    uint64_t n = 0;
    for (Xapian::TermIterator t = idx->db->allterms_begin(); t != idx->db->allterms_end(); ++t)
      n++;
    return n;
  } catch (...) {
    return 0;
  }
}

extern "C" int kb_index_get_meta(kb_index *idx, const char *key, char **value, kb_error *err) {
  try {
    std::string k = key;
    if (k == "last_commit") k = kLastCommitKey;
    auto pending = idx->writer_meta.find(k); /* a writer reads what it set */
    *value = dup_string(pending != idx->writer_meta.end() ? pending->second
                                                          : idx->db->get_metadata(k));
    return KB_OK;
  } catch (...) {
    return fail(err, key);
  }
}

extern "C" int kb_index_set_meta(kb_index *idx, const char *key, const char *value,
                                 kb_error *err) {
  if (!idx->writer) return read_only(err, key);
  WriteGuard writing(idx);
  try {
    for (Part &p : idx->parts) {
      p.wdb->set_metadata(key, value);
      p.dirty = true;
    }
    return KB_OK;
  } catch (...) {
    return fail_write(idx, err, key);
  }
}

extern "C" int kb_index_set_writer_meta(kb_index *idx, const char *key, const char *value,
                                        kb_error *err) {
  if (!idx->writer) return read_only(err, key);
  try {
    idx->writer_meta[key] = value;
    return KB_OK;
  } catch (...) {
    return fail(err, key);
  }
}

extern "C" uint64_t kb_index_generation(const kb_index *idx) { return idx->generation; }

extern "C" uint64_t kb_index_version(const kb_index *idx) {
  try {
    std::string v = idx->db->get_uuid();
    Xapian::rev rev = idx->db->get_revision();
    v.append(reinterpret_cast<const char *>(&rev), sizeof rev);
    return kb_fnv1a(v.data(), v.size());
  } catch (...) {
    return 0;
  }
}

extern "C" int kb_index_each_meta(kb_index *idx, const char *prefix, kb_meta_fn fn, void *ctx,
                                  kb_error *err) {
  try {
    for (Xapian::TermIterator k = idx->db->metadata_keys_begin(prefix);
         k != idx->db->metadata_keys_end(prefix); ++k) {
      std::string key = *k, value = idx->db->get_metadata(key);
      int rc = fn(key.c_str(), value.c_str(), ctx);
      if (rc) return rc;
    }
    return KB_OK;
  } catch (...) {
    return fail(err, "metadata");
  }
}

namespace {
// The unique terms (starting with id_prefix) of the database at part that
// a shard holds, each ended by a NUL: their copy there is superseded.
std::string superseded_ids(const std::string &part, const Xapian::Database &shards,
                           const char *id_prefix) {
  std::string ids;
  Xapian::Database db(part);
  for (Xapian::TermIterator t = db.allterms_begin(id_prefix); t != db.allterms_end(id_prefix);
       ++t)
    if (shards.term_exists(*t)) ids.append(*t).push_back('\0');
  return ids;
}

// In the merged folder, each superseded id's copy from the main index: the
// compaction puts the sources' documents in order, the main index first, so
// an id held twice keeps its last (the shard's) document, and one the
// shards of this audience lack (it may not see their version) keeps none.
void drop_superseded(const std::string &merged, const std::string &ids,
                     const Xapian::Database &shards) {
  Xapian::WritableDatabase m(merged, Xapian::DB_OPEN);
  for (size_t i = 0; i < ids.size(); i += std::strlen(ids.c_str() + i) + 1) {
    const std::string id = ids.c_str() + i;
    std::vector<Xapian::docid> docs;
    for (Xapian::PostingIterator p = m.postlist_begin(id); p != m.postlist_end(id); ++p)
      docs.push_back(*p);
    size_t keep = shards.term_exists(id) ? 1 : 0;
    for (size_t k = 0; k + keep < docs.size(); k++) m.delete_document(docs[k]);
  }
  m.commit();
  m.close();
}

// Compacts audience a's database of the index and of the shards into
// PART.merge (swap_merged puts it in place). On failure a partial
// PART.merge is removed.
void compact_merged(const std::string &path, unsigned a, const char *const *shards, size_t n,
                    const char *id_prefix) {
  const std::string part = part_path(path, a);
  const std::filesystem::path merged = merge_path(part);
  try {
    Xapian::Database sources(part), theirs, all_theirs;
    for (size_t i = 0; i < n; i++) {
      sources.add_database(Xapian::Database(part_path(shards[i], a)));
      theirs.add_database(Xapian::Database(part_path(shards[i], a)));
      all_theirs.add_database(Xapian::Database(part_path(shards[i], 0)));
    }
    /* the first audience's shards hold every document the shards do */
    const std::string superseded = superseded_ids(part, all_theirs, id_prefix);
    std::error_code ec;
    std::filesystem::remove_all(merged, ec);
    const std::string first = superseded.empty() ? merged.string() : dedup_path(part);
    std::filesystem::remove_all(first, ec);
    sources.compact(first);
    sources.close();
    if (!superseded.empty()) {
      // the deletes leave half-empty blocks, and glass files never shrink
      // (a re-import of every ticket tripled the index): compacted again
      drop_superseded(first, superseded, theirs);
      Xapian::Database once(first);
      once.compact(merged.string());
      once.close();
      std::filesystem::remove_all(first, ec);
    }
  } catch (...) {
    // error_code overloads: a filesystem error here must not replace the one reported
    std::error_code ec;
    std::filesystem::remove_all(dedup_path(part), ec);
    std::filesystem::remove_all(merged, ec);
    throw;
  }
}

// Audience a's merged folder in its place: two renames, which the next
// writer finishes if they are cut (finish_cut_replacement). The lock stays
// with the old folder (held by the writer) until the swap is done.
void swap_merged(const std::string &path, unsigned a) {
  const std::string part = part_path(path, a);
  std::filesystem::rename(part, old_path(part));
  std::filesystem::rename(merge_path(part), part);
}

// After a failed merge: the merged folders not swapped in are dropped, so
// that the index is as it was.
void drop_unswapped(const std::string &path) {
  std::error_code ec;
  for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++) {
    const std::string part = part_path(path, a);
    if (std::filesystem::exists(part, ec)) std::filesystem::remove_all(merge_path(part), ec);
  }
}
}  // namespace

extern "C" int kb_index_replace_by_compaction(kb_index **main, const char *const *shards,
                                              size_t n, const char *id_prefix, kb_error *err) {
  kb_index *idx = *main;
  if (!idx->writer) return read_only(err, "compact");
  int rc = kb_index_commit(idx, err);
  if (rc != KB_OK) return rc;
  int lock_fd = -1;  // PATH.lock, held from the old writer to the new one
  try {
    const std::string path = idx->path;
    {
      // every audience compacted before any is swapped: a compaction that
      // fails (a full disk) leaves every database as it was
      WriteGuard writing(idx);
      try {
        for (unsigned i = 0; i < KB_AUDIENCE_COUNT; i++)
          compact_merged(path, commit_order(i), shards, n, id_prefix);
      } catch (...) {
        drop_unswapped(path);
        throw;
      }
      for (unsigned i = 0; i < KB_AUDIENCE_COUNT; i++) swap_merged(path, commit_order(i));
    }
    lock_fd = idx->lock_fd;
    idx->lock_fd = -1;
    kb_index_free(idx);
    *main = nullptr;
    std::error_code ec;
    for (unsigned a = 0; a < KB_AUDIENCE_COUNT; a++)
      std::filesystem::remove_all(old_path(part_path(path, a)), ec);
    /* merged in: a re-run would merge them again (the same databases) */
    for (size_t i = 0; i < n; i++) std::filesystem::remove_all(shards[i], ec);
    int fd = lock_fd;
    lock_fd = -1;  // open_index owns it now, failing or not
    return open_index(path.c_str(), fd, KB_AUDIENCES_ALL, 0, main, err);
  } catch (...) {
    if (lock_fd >= 0) close(lock_fd);
    return fail(err, *main ? (*main)->path.c_str() : "compact");
  }
}

extern "C" uint64_t kb_index_size_bytes(kb_index *idx) {
  try {
    uint64_t n = 0;
    for (const auto &e : std::filesystem::recursive_directory_iterator(idx->path))
      if (e.is_regular_file()) n += e.file_size();
    return n;
  } catch (...) {
    return 0;
  }
}

// ------------------------------------------------------------------ search

namespace {

Xapian::Query build(const kb_qnode *n);

// The children of an OR, with those of a nested OR in their place (scaled
// by its scale): one flat OR lets Xapian's matcher skip a weak term's
// postings once the best matches outweigh it, where a nested OR (the
// bigram fallback at half weight) stays one opaque, heavier branch
// (callgrind: 6% fewer instructions an engineer's search at 100,000
// tickets; the weights are the same sums).
void add_or_kids(const kb_qnode *n, double scale, std::vector<Xapian::Query> &out) {
  for (size_t i = 0; i < n->nkids; i++) {
    const kb_qnode *k = n->kids[i];
    if (k->op == KB_Q_OR && !k->window) { /* an elite set keeps its own */
      add_or_kids(k, scale * (k->scale > 0 ? k->scale : 1.0), out);
      continue;
    }
    Xapian::Query q = build(k);
    if (scale != 1.0 && !q.empty()) q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, scale);
    out.push_back(q);
  }
}

Xapian::Query build(const kb_qnode *n) {
  std::vector<Xapian::Query> kids;
  if (n->op == KB_Q_OR) add_or_kids(n, 1.0, kids);
  else
    for (size_t i = 0; i < n->nkids; i++) kids.push_back(build(n->kids[i]));
  Xapian::Query q;
  switch (n->op) {
    case KB_Q_TERM:
      q = Xapian::Query(n->term);
      break;
    case KB_Q_FILTER:
      return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(n->term), 0.0);
    case KB_Q_MATCH_ALL:
      q = Xapian::Query::MatchAll;
      break;
    case KB_Q_AND:
      q = Xapian::Query(Xapian::Query::OP_AND, kids.begin(), kids.end());
      break;
    case KB_Q_OR:
      if (n->window && kids.size() > n->window)
        q = Xapian::Query(Xapian::Query::OP_ELITE_SET, kids.begin(), kids.end(), n->window);
      else
        q = Xapian::Query(Xapian::Query::OP_OR, kids.begin(), kids.end());
      break;
    case KB_Q_AND_NOT:
      q = Xapian::Query(Xapian::Query::OP_AND_NOT, kids.begin(), kids.end());
      break;
    case KB_Q_AND_MAYBE:
      q = Xapian::Query(Xapian::Query::OP_AND_MAYBE, kids.begin(), kids.end());
      break;
    case KB_Q_PHRASE:
      q = Xapian::Query(Xapian::Query::OP_PHRASE, kids.begin(), kids.end(), n->window);
      break;
    case KB_Q_NEAR:
      q = Xapian::Query(Xapian::Query::OP_NEAR, kids.begin(), kids.end(), n->window);
      break;
    case KB_Q_SYNONYM:
      q = Xapian::Query(Xapian::Query::OP_SYNONYM, kids.begin(), kids.end());
      break;
    case KB_Q_FILTERED:
      q = Xapian::Query(Xapian::Query::OP_FILTER, kids.begin(), kids.end());
      break;
    case KB_Q_VALUE_RANGE:
      q = Xapian::Query(Xapian::Query::OP_VALUE_RANGE, n->window, n->term ? n->term : "",
                        n->term2 ? n->term2 : "\xff");
      return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, 0.0);
  }
  if (n->scale > 0 && n->scale != 1.0 && !q.empty())
    q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, n->scale);
  return q;
}

// What the matcher counts (up to check_at_least):
// each document's weight and facet values, so that the match set can be
// cut at a weight known only at the end (a fraction of the best match's),
// and how far into the docids counting got: postings run in docid order,
// so when counting stops early the part counted stands for the rest.
//
// The facet values are read from Xapian's value streams, moving forward
// with the docids, not with Document::get_value, which looks each value
// up from the start of its chunk. When the index has one slot with all
// facet values joined, that one stream is read instead of one a facet
// (a quarter of an engineer's search at 100,000 tickets was reading them).
class MatchSetSpy : public Xapian::MatchSpy {
 public:
  // Counts the values of slots, or their joined form in joined_slot
  // (joined: every document has it).
  // With table (the joined slot's, for db's revision; joined then), its ids are read.
  MatchSetSpy(const Xapian::Database &db, const unsigned *slots, size_t nslots, bool joined,
              unsigned joined_slot, const FacetTable *table, Xapian::doccount limit)
      : db_(db), slots_(slots, slots + nslots), joined_(joined),
        joined_slot_(joined_slot), table_(table), limit_(limit) {
    if (joined_) read_.push_back(joined_slot_);
    else read_ = slots_;
    if (!table_)
      for (unsigned slot : read_) streams_.push_back(db_.valuestream_begin(slot));
    names_.resize(read_.size());
    ids_.resize(read_.size());
  }

  void operator()(const Xapian::Document &doc, double wt) override {
    if (seen_.size() >= limit_) return;
    Xapian::docid did = doc.get_docid();
    seen_.push_back(Seen{wt, values_.size()});
    if (table_)
      values_.push_back(did < table_->id_of.size() ? table_->id_of[did] : 0);
    else
      for (size_t i = 0; i < read_.size(); i++) values_.push_back(value_id(i, did));
    furthest_ = did;
  }
  Xapian::MatchSpy *clone() const override {
    return new MatchSetSpy(db_, slots_.data(), slots_.size(), joined_, joined_slot_, table_,
                           limit_);
  }

  // Documents counted that weigh at least least, and each facet slot's
  // values among them with their counts (facets[i], in slots' order).
  typedef std::vector<std::vector<std::pair<std::string, uint32_t>>> Facets;
  Xapian::doccount count(double least, Facets &facets) const {
    std::vector<std::vector<uint32_t>> counts(read_.size());
    for (size_t i = 0; i < read_.size(); i++) counts[i].assign(names(i).size(), 0);
    Xapian::doccount n = 0;
    for (const Seen &s : seen_) {
      if (s.wt < least) continue;
      n++;
      for (size_t i = 0; i < read_.size(); i++) counts[i][values_[s.values + i]]++;
    }
    facets.assign(slots_.size(), {});
    if (!joined_) {
      for (size_t i = 0; i < slots_.size(); i++)
        for (size_t k = 0; k < names_[i].size(); k++)
          if (counts[i][k]) facets[i].emplace_back(names(i)[k], counts[i][k]);
      return n;
    }
    // each joined value counted adds to its parts' counts
    std::vector<std::map<std::string, uint32_t>> sums(slots_.size());
    for (size_t k = 0; k < names(0).size(); k++) {
      if (!counts[0][k]) continue;
      const std::string &v = names(0)[k];
      size_t from = 0;
      for (size_t i = 0; i < slots_.size(); i++) {
        size_t to = std::min(v.find('\x1f', from), v.size());
        sums[i][v.substr(from, to - from)] += counts[0][k];
        from = std::min(to + 1, v.size());
      }
    }
    for (size_t i = 0; i < slots_.size(); i++)
      facets[i].assign(sums[i].begin(), sums[i].end());
    return n;
  }
  Xapian::docid furthest() const { return furthest_; }
  // Whether every match was counted (the limit did not run out).
  bool complete() const { return seen_.size() < limit_; }
  Xapian::doccount seen() const { return seen_.size(); }

 private:
  struct Seen {
    double wt;
    size_t values; /* index of its first value id in values_ */
  };

  const std::vector<std::string> &names(size_t i) const {
    return table_ ? table_->names : names_[i];
  }

  // The id of read_[i]'s value for did (ids in order of first sight).
  uint32_t value_id(size_t i, Xapian::docid did) {
    Xapian::ValueIterator &v = streams_[i];
    const Xapian::ValueIterator end = db_.valuestream_end(read_[i]);
    if (did < furthest_) v = db_.valuestream_begin(read_[i]); /* never in docid order */
    if (v != end && v.get_docid() < did) v.skip_to(did);
    std::string value = v != end && v.get_docid() == did ? *v : std::string();
    auto at = ids_[i].try_emplace(value, (uint32_t)names_[i].size());
    if (at.second) names_[i].push_back(std::move(value));
    return at.first->second;
  }

  Xapian::Database db_;
  std::vector<unsigned> slots_; /* the facets counted */
  bool joined_;
  unsigned joined_slot_;
  const FacetTable *table_;
  std::vector<unsigned> read_;  /* the slots read: slots_, or joined_slot_ */
  std::vector<Xapian::ValueIterator> streams_;
  std::vector<std::vector<std::string>> names_;
  std::vector<std::unordered_map<std::string, uint32_t>> ids_;
  std::vector<Seen> seen_;
  std::vector<uint32_t> values_;
  Xapian::docid furthest_ = 0;
  Xapian::doccount limit_;
};

// Facet slot i's counts, most frequent first (then by value), empty values
// left out, each scaled by scale.
void copy_facets(MatchSetSpy::Facets &facets, double scale, kb_results *r) {
  r->facets = static_cast<kb_facet_count **>(std::calloc(facets.size(), sizeof *r->facets));
  r->nfacet = static_cast<size_t *>(std::calloc(facets.size(), sizeof *r->nfacet));
  if (!r->facets || !r->nfacet) throw std::bad_alloc();
  r->nfacets = facets.size();
  for (size_t i = 0; i < facets.size(); i++) {
    std::vector<std::pair<std::string, uint32_t>> &f = facets[i];
    f.erase(std::remove_if(f.begin(), f.end(), [](const auto &e) { return e.first.empty(); }),
            f.end());
    std::sort(f.begin(), f.end(), [](const auto &a, const auto &b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    r->facets[i] =
        static_cast<kb_facet_count *>(std::calloc(f.empty() ? 1 : f.size(), sizeof(kb_facet_count)));
    if (!r->facets[i]) throw std::bad_alloc();
    for (const auto &e : f) {
      kb_facet_count *c = &r->facets[i][r->nfacet[i]++];
      c->value = dup_string(e.first);
      c->count = (uint32_t)(e.second * scale + 0.5);
    }
  }
}

// Every docid up to last, without weight: filtering a query by it ends the
// match at last. It claims every document, so that the query, never it,
// leads the filter.
class DocidPrefix : public Xapian::PostingSource {
 public:
  DocidPrefix(Xapian::docid last, Xapian::doccount docs) : last_(last), docs_(docs) {}
  Xapian::doccount get_termfreq_min() const override { return 0; }
  Xapian::doccount get_termfreq_est() const override { return docs_; }
  Xapian::doccount get_termfreq_max() const override { return docs_; }
  void next(double) override { did_++; }
  void skip_to(Xapian::docid did, double) override { did_ = std::max(did_, did); }
  bool check(Xapian::docid did, double) override {
    did_ = std::max(did_, did);
    return true;
  }
  bool at_end() const override { return did_ > last_; }
  Xapian::docid get_docid() const override { return did_; }
  void init(const Xapian::Database &) override { did_ = 0; }
  PostingSource *clone() const override { return new DocidPrefix(last_, docs_); }

 private:
  Xapian::docid last_, did_ = 0;
  Xapian::doccount docs_;
};

// The best weight of ms for the match-set cut: without what o->cut_ignores
// could add (its most: an upper bound, so the cut errs towards a larger set).
double best_for_cut(const Xapian::MSet &ms, double best, const kb_search_opts *o) {
  if (!o->cut_ignores || !*o->cut_ignores) return best;
  double bonus = 0;
  try {
    bonus = ms.get_termweight(o->cut_ignores);
  } catch (const Xapian::InvalidArgumentError &) {
    /* not in the query as run: nothing to take off */
  }
  return std::max(0.0, best - bonus);
}

// The reader's facet table of slot for its current revision, built if it
// has none (after a reopen that saw a commit: one pass over the slot). A
// writer has none: what it has not committed has no revision of its own.
const FacetTable *facet_table(kb_index *idx, unsigned slot) {
  if (idx->writer) return nullptr;
  FacetTable *t = idx->facet_table;
  if (t && t->slot == slot && t->generation == idx->generation) return t;
  std::unique_ptr<FacetTable> fresh(new FacetTable);
  fresh->slot = slot;
  fresh->generation = idx->generation;
  fresh->id_of.assign(idx->db->get_lastdocid() + 1, 0);
  fresh->names.emplace_back();
  std::unordered_map<std::string, uint32_t> ids{{std::string(), 0}};
  for (Xapian::ValueIterator v = idx->db->valuestream_begin(slot);
       v != idx->db->valuestream_end(slot); ++v) {
    auto at = ids.try_emplace(*v, (uint32_t)fresh->names.size());
    if (at.second) fresh->names.push_back(*v);
    fresh->id_of[v.get_docid()] = at.first->second;
  }
  delete idx->facet_table;
  idx->facet_table = fresh.release();
  return idx->facet_table;
}

// The first shown items of ms as r's hits, with their data and values.
void copy_hits(const Xapian::MSet &ms, Xapian::doccount shown, const kb_search_opts *o,
               kb_results *r) {
  r->hits = static_cast<kb_hit *>(std::calloc(shown ? shown : 1, sizeof(kb_hit)));
  if (!r->hits) throw std::bad_alloc();
  for (Xapian::MSetIterator m = ms.begin(); r->nhits < shown; ++m) {
    kb_hit *h = &r->hits[r->nhits];
    h->docid = *m;
    h->score = m.get_weight();
    h->percent = m.get_percent();
    Xapian::Document doc = m.get_document();
    h->data = dup_string(doc.get_data());
    r->nhits++;
    if (!o->nvalues) continue;
    h->values = static_cast<char **>(std::calloc(o->nvalues, sizeof(char *)));
    h->value_lens = static_cast<size_t *>(std::calloc(o->nvalues, sizeof(size_t)));
    if (!h->values || !h->value_lens) throw std::bad_alloc();
    h->nvalues = o->nvalues;
    for (size_t i = 0; i < o->nvalues; i++) {
      std::string v = doc.get_value(o->value_slots[i]);
      h->values[i] = dup_string(v);
      h->value_lens[i] = v.size();
    }
  }
}

// A spy counting o's facets over at most most documents: from the reader's
// facet table when every document has the joined slot.
MatchSetSpy *match_set_spy(kb_index *idx, const kb_search_opts *o, Xapian::doccount most) {
  bool joined = o->facets_joined && o->nfacets &&
                idx->db->get_value_freq(o->facets_joined_slot) == idx->db->get_doccount();
  const FacetTable *table = joined ? facet_table(idx, o->facets_joined_slot) : nullptr;
  return new MatchSetSpy(*idx->db, o->facet_slots, o->nfacets, joined, o->facets_joined_slot,
                         table, most);
}

// Sets r's total from the n documents spy counted at or above the cut,
// over the docids up to reach, and returns the scale of its facets.
// Everything counted (the spy's limit did not run out, reach is the whole
// index): exact. Else, without a cut, Xapian may still know the total (one
// term) and the facets are scaled to it; with one, the part counted is
// scaled to the docids it did not reach. Either way the answer is not
// exact.
double set_total(const MatchSetSpy &spy, Xapian::doccount n, Xapian::docid reach, bool cut,
                 const Xapian::MSet &ms, Xapian::docid last, kb_results *r) {
  double scale = 1.0;
  if (spy.complete() && reach >= last) {
    r->total = n;
    r->total_exact = true;
  } else if (!cut && ms.get_matches_lower_bound() == ms.get_matches_upper_bound()) {
    r->total = ms.get_matches_estimated();
    scale = n ? (double)r->total / n : 1.0;
    r->total_exact = false; /* the facets are not */
  } else {
    Xapian::docid counted = spy.complete() ? reach : spy.furthest();
    if (counted && last > counted) scale = (double)last / counted;
    r->total = (uint32_t)(n * scale + 0.5);
    r->total_exact = false;
  }
  return scale;
}

// Match sets this small are counted in the page's pass, which weighs its
// first SMALL_SET matches in full (a public search over the articles: 11%
// fewer instructions than a second pass; an engineer's, 0.4% more).
constexpr Xapian::doccount SMALL_SET = 100;

// The page and the match set of a relevance search, in two passes instead
// of one: the page first (Xapian skips what cannot reach it, so it costs
// little), which gives the best weight and so the cut; then, unless the
// page's pass saw every match, the match set is counted. With a cut, the
// documents at or above it, Xapian skipping what cannot reach it, over the
// docids where about check_at_least of the query's matches lie (all of
// them when there are fewer; past that the part counted is scaled to the
// rest). Without one, the first check_at_least matches, unweighed (Xapian
// stops there), scaled to Xapian's total. One pass would weigh every match
// it counts in full, before the cut is known.
void count_match_set(kb_index *idx, Xapian::Enquire &enq, const Xapian::Query &query,
                     const kb_search_opts *o, kb_results *r) {
  Xapian::doccount limit = std::max<Xapian::doccount>(o->check_at_least, o->offset + o->limit);
  Xapian::doccount small =
      std::min(limit, std::max<Xapian::doccount>(SMALL_SET, o->offset + o->limit));
  MatchSetSpy *spy = match_set_spy(idx, o, small);
  enq.add_matchspy(spy->release());
  Xapian::MSet ms = enq.get_mset(o->offset, o->limit, small);
  double least = o->relative_cutoff > 0
                     ? best_for_cut(ms, ms.get_max_attained(), o) * o->relative_cutoff
                     : 0;
  Xapian::doccount shown = ms.size();
  while (shown && ms[shown - 1].get_weight() < least) shown--;
  MatchSetSpy::Facets facets;
  double scale = 1.0;
  if (ms.get_matches_lower_bound() == ms.get_matches_upper_bound() &&
      spy->seen() == ms.get_matches_upper_bound() && spy->complete()) {
    /* every match seen (and weighed in full: fewer than small) */
    r->total = spy->count(least, facets);
    r->total_exact = true;
  } else {
    enq.clear_matchspies(); /* frees spy */
    Xapian::docid last = idx->db->get_lastdocid();
    Xapian::doccount est = ms.get_matches_estimated();
    Xapian::docid prefix = est > limit ? (Xapian::docid)((double)last * limit / est) : last;
    prefix = std::max<Xapian::docid>(prefix, 1);
    spy = match_set_spy(idx, o, limit);
    DocidPrefix docids(prefix, idx->db->get_doccount());
    if (least <= 0)
      enq.set_query(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, query, 0.0));
    else if (prefix < last)
      enq.set_query(Xapian::Query(Xapian::Query::OP_FILTER, query, Xapian::Query(&docids)));
    enq.set_cutoff(0, least);
    enq.add_matchspy(spy->release());
    enq.get_mset(0, 0,
                 least > 0 ? std::max<Xapian::doccount>(idx->db->get_doccount(), 1) : limit);
    Xapian::doccount n = spy->count(least, facets);
    /* the prefix filters only a weighed count */
    scale = set_total(*spy, n, least > 0 ? prefix : last, least > 0, ms, last, r);
  }
  r->total = std::max<uint32_t>(r->total, (uint32_t)(o->offset + shown));
  copy_hits(ms, shown, o, r);
  if (o->nfacets) copy_facets(facets, scale, r);
}

void run_query(kb_index *idx, const Xapian::Query &query, const kb_search_opts *o,
               kb_results *r) {
  Xapian::Enquire enq(*idx->db);
  enq.set_query(query);
  if (o->bm25_k1 > 0)
    enq.set_weighting_scheme(Xapian::BM25Weight(
        o->bm25_k1, 0, 1, o->bm25_b, o->bm25_min_normlen > 0 ? o->bm25_min_normlen : 0.5));
  /* The match set is the documents weighing at least relative_cutoff of the
   * best match. By relevance, count_match_set finds the page, then counts
   * the set. Date order cannot be cut afterwards: the best match is found
   * first (one item: cheap) and its weight is the matcher's cut-off. */
  if (!o->sort_by_date && (o->check_at_least || o->nfacets)) {
    count_match_set(idx, enq, query, o, r);
    return;
  }
  double least = 0;
  if (o->sort_by_date) {
    if (o->relative_cutoff > 0) {
      Xapian::MSet best = enq.get_mset(0, 1);
      if (!best.empty())
        least = best_for_cut(best, best.begin().get_weight(), o) * o->relative_cutoff;
      if (least > 0) enq.set_cutoff(0, least);
    }
    enq.set_sort_by_value_then_relevance(o->date_slot, true);
  }
  MatchSetSpy *spy = nullptr;
  if (o->check_at_least || o->nfacets) {
    /* no Enquire::set_time_limit: its timer crashed kb-serve's threads */
    spy = match_set_spy(idx, o,
                        std::max<Xapian::doccount>(o->check_at_least, o->offset + o->limit));
    enq.add_matchspy(spy->release());
  }
  Xapian::MSet ms = enq.get_mset(o->offset, o->limit, o->check_at_least);
  if (!o->sort_by_date && o->relative_cutoff > 0)
    least = best_for_cut(ms, ms.get_max_attained(), o) * o->relative_cutoff;
  r->total = ms.get_matches_estimated();
  r->total_exact = ms.get_matches_lower_bound() == ms.get_matches_upper_bound();
  /* the page, without what weighs less than the cut (by relevance, a tail) */
  Xapian::doccount shown = ms.size();
  while (shown && ms[shown - 1].get_weight() < least) shown--;
  MatchSetSpy::Facets facets;
  double scale = 1.0;
  if (spy) {
    Xapian::docid last = idx->db->get_lastdocid();
    scale = set_total(*spy, spy->count(least, facets), last, least > 0, ms, last, r);
    r->total = std::max<uint32_t>(r->total, (uint32_t)(o->offset + shown));
  } else if (shown < ms.size()) {
    /* cut inside the page: the set ends here */
    r->total = (uint32_t)(o->offset + shown);
    r->total_exact = true;
  }
  copy_hits(ms, shown, o, r);
  if (spy && o->nfacets) copy_facets(facets, scale, r);
}

// The expand set of one document as an OR query, without the document.
Xapian::Query similar_query(kb_index *idx, const char *id_term, const kb_qnode *restrict_to) {
  Xapian::PostingIterator p = idx->db->postlist_begin(id_term);
  if (p == idx->db->postlist_end(id_term)) return Xapian::Query();
  Xapian::docid did = *p;
  Xapian::Enquire enq(*idx->db);
  Xapian::RSet rset;
  rset.add_document(did);
  // Public words and bigrams shared with at least one other document: not
  // filters, ids, titles, surfaces or internal sections (a public reader
  // must not be matched on those), nor terms no other document has.
  struct ContentTerms : Xapian::ExpandDecider {
    const Xapian::Database &db;
    explicit ContentTerms(const Xapian::Database &d) : db(d) {}
    bool operator()(const std::string &t) const override {
      if (t.empty() || (t[0] >= 'A' && t[0] <= 'Z' && t[0] != 'B')) return false;
      return db.get_termfreq(t) >= 2;
    }
  } decider(*idx->db);
  Xapian::ESet eset = enq.get_eset(24, rset, &decider);
  std::vector<Xapian::Query> terms;
  for (Xapian::ESetIterator t = eset.begin(); t != eset.end(); ++t)
    terms.push_back(Xapian::Query(*t));
  Xapian::Query q(Xapian::Query::OP_OR, terms.begin(), terms.end());
  q = Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(id_term));
  if (restrict_to) q = Xapian::Query(Xapian::Query::OP_FILTER, q, build(restrict_to));
  return q;
}

template <typename MakeQuery>
int search_with(kb_index *idx, MakeQuery make, const kb_search_opts *opts, kb_results **out,
                kb_error *err) {
  kb_results *r = nullptr;
  try {
    *out = nullptr;
    for (int attempt = 0;; attempt++) {
      r = static_cast<kb_results *>(std::calloc(1, sizeof *r));
      if (!r) throw std::bad_alloc();
      try {
        run_query(idx, make(), opts, r);
        break;
      } catch (const Xapian::DatabaseModifiedError &) {
        kb_results_free(r);
        r = nullptr;
        if (attempt > 0) throw;
        reopen_reader(idx);
      }
    }
    *out = r;
    return KB_OK;
  } catch (...) {
    kb_results_free(r);
    return fail(err, "search");
  }
}

}  // namespace

extern "C" int kb_index_search(kb_index *idx, const kb_qnode *q, const kb_search_opts *opts,
                               kb_results **out, kb_error *err) {
  return search_with(idx, [&] { return build(q); }, opts, out, err);
}

extern "C" int kb_index_similar(kb_index *idx, const char *id_term, const kb_qnode *restrict_to,
                                const kb_search_opts *opts, kb_results **out, kb_error *err) {
  return search_with(idx, [&] { return similar_query(idx, id_term, restrict_to); }, opts, out,
                     err);
}

extern "C" void kb_results_free(kb_results *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nhits; i++) {
    kb_hit *h = &r->hits[i];
    std::free(h->data);
    for (size_t k = 0; h->values && k < h->nvalues; k++) std::free(h->values[k]);
    std::free(h->values);
    std::free(h->value_lens);
  }
  std::free(r->hits);
  for (size_t i = 0; i < r->nfacets; i++) {
    if (!r->facets || !r->facets[i]) continue;
    for (size_t j = 0; j < r->nfacet[i]; j++) std::free(r->facets[i][j].value);
    std::free(r->facets[i]);
  }
  std::free(r->facets);
  std::free(r->nfacet);
  std::free(r);
}
