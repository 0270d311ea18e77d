# bench/eval.mk — the relevance evaluation (make eval): kb and three peers
# (Xapian CJK n-grams, a bigram OR baseline, SQLite FTS5 trigrams) on the
# same documents and judged queries. Included by the Makefile.
#   make eval [EVAL_ARGS="DOCS.jsonl QUERIES.jsonl"]

EVAL_BINS := $(BUILD)/bench/eval_kb $(BUILD)/bench/eval_peers
# evaluated when used, so after `deps` has installed libsqlite3-dev
SQLITE_CFLAGS = $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQLITE_LIBS = $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

.PHONY: eval
eval: all
	@$(MAKE) --no-print-directory deps EXTRA_DEB="libsqlite3-dev opencc"
	@$(MAKE) -s --no-print-directory $(EVAL_BINS)
	@BUILD=$(BUILD) bench/eval $(EVAL_ARGS)

$(BUILD)/bench/eval_kb: $(BUILD)/obj/bench/eval_kb.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# the peers use Xapian and SQLite directly, not libkb
$(BUILD)/bench/eval_peers: bench/eval_peers.cc
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(SQLITE_CFLAGS) -o $@ $< $(LDLIBS_ALL) $(SQLITE_LIBS)
