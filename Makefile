# kb — build, run, test. `make run` and `make check` work on a fresh Debian
# machine: `deps` installs whatever Debian packages are missing first.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
KB_DB ?= data/kb.db
PORT ?= 8080

PKGS := xapian-core icu-uc icu-i18n libcmark jansson cmocka libmicrohttpd zlib opencc
# Debian packages the build and the tests need (tool → package).
DEB_PKGS := build-essential pkg-config libxapian-dev libicu-dev libcmark-dev \
            libjansson-dev libcsv-dev libmicrohttpd-dev libopencc-dev libopencc-data libcmocka-dev \
            zlib1g-dev sqlite3 pinyin-database wamerican xapian-tools

CC ?= cc
CXX ?= c++
WARN := -Wall -Wextra -Werror
OPT ?= -O2 -g
CFLAGS_BASE = -std=c11 -pedantic -D_GNU_SOURCE $(WARN) $(OPT) -Iinclude -Ilib
CXXFLAGS_BASE = -std=c++17 $(WARN) $(OPT) -Iinclude -Ilib

ifeq ($(SANITIZE),1)
BUILD := build-san
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
ALL_CXXFLAGS = $(CXXFLAGS_BASE) $(SAN) $(PKG_CFLAGS) $(CXXFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lcsv -lstdc++ -lm $(LDLIBS)

LIB_C := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_C:lib/%.c=$(BUILD)/obj/lib/%.o) $(BUILD)/obj/lib/index.o \
           $(patsubst lib/data/%.txt,$(BUILD)/obj/data/%.o,$(wildcard lib/data/*.txt)) \
           $(BUILD)/obj/data/pinyin.o $(BUILD)/obj/data/english.o
LIBKB := $(BUILD)/libkb.a
PROGS := $(BUILD)/kb-index $(BUILD)/kb-search $(BUILD)/kb-serve
SERVER_OBJ := $(patsubst server/%.c,$(BUILD)/obj/server/%.o,$(wildcard server/*.c)) \
              $(patsubst server/templates/%.html,$(BUILD)/obj/templates/%.o,$(wildcard server/templates/*.html))
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
HEADERS := $(wildcard include/kb/*.h lib/*.h server/*.h tests/*.h)

.PHONY: all deps run check test bench clean install fuzz soak
.SECONDARY:
all: deps-quiet $(PROGS)

# ----------------------------------------------------------------- deps
# Installs the missing Debian packages (apt-get update once, then install),
# only when something is missing, so it is quick when all is there.
deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_DEB); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing </dev/null; \
	fi
deps-quiet: deps
.PHONY: deps-quiet

# ---------------------------------------------------------------- build
# Every compile waits for deps (order-only), so that `make -j` on a fresh
# machine does not compile before the headers are installed.
$(BUILD)/obj/lib/%.o: lib/%.c $(HEADERS) | deps-quiet
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/lib/index.o: lib/index.cc $(HEADERS) | deps-quiet
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -c $< -o $@

# word lists built into the library (symbols _binary_NAME_txt_start/_end)
$(BUILD)/obj/data/%.o: lib/data/%.txt
	@mkdir -p $(dir $@)
	cd lib/data && ld -r -b binary -z noexecstack -o $(CURDIR)/$@ $*.txt

# pinyin readings: extracted at build time from the pinyin-database package
PINYIN_DB := /usr/share/pinyin-database/main.db
$(BUILD)/data/pinyin.txt: lib/data/pinyin.sql | deps-quiet
	@mkdir -p $(dir $@)
	sqlite3 -readonly -separator '	' $(PINYIN_DB) < $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/data/pinyin.o: $(BUILD)/data/pinyin.txt
	@mkdir -p $(dir $@)
	cd $(BUILD)/data && ld -r -b binary -z noexecstack -o $(CURDIR)/$@ pinyin.txt

# English words (for "did you mean"): the wamerican package's list,
# its lowercase words (no names: Pinter is no word), sorted bytewise, extracted at build time
ENGLISH_WORDS := /usr/share/dict/american-english
$(BUILD)/data/english.txt: | deps-quiet
	@mkdir -p $(dir $@)
	LC_ALL=C grep -x '[a-z]*' $(ENGLISH_WORDS) | LC_ALL=C sort -u > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/data/english.o: $(BUILD)/data/english.txt
	@mkdir -p $(dir $@)
	cd $(BUILD)/data && ld -r -b binary -z noexecstack -o $(CURDIR)/$@ english.txt

# HTML templates built into kb-serve (symbols _binary_NAME_html_start/_end)
$(BUILD)/obj/templates/%.o: server/templates/%.html
	@mkdir -p $(dir $@)
	cd server/templates && ld -r -b binary -z noexecstack -o $(CURDIR)/$@ $*.html

$(BUILD)/kb-serve: $(SERVER_OBJ) $(LIBKB)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL) -lpthread

$(LIBKB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c $(HEADERS) | deps-quiet
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/kb-%: $(BUILD)/obj/indexer/kb-%.o $(LIBKB)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/obj/tests/testutil.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# fuzz targets, linked into the bounded replay test (tests/test_fuzz.c)
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
# the server's code the targets fuzz: parameters, the tokens file, the gap report
FUZZ_SERVER := params tokens gaps
$(BUILD)/obj/fuzz/replay_%.o: fuzz/fuzz_%.c $(HEADERS) $(wildcard fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iserver -DLLVMFuzzerTestOneInput=kb_fuzz_$* -c $< -o $@

$(BUILD)/tests/test_fuzz: $(BUILD)/obj/tests/test_fuzz.o $(BUILD)/obj/tests/testutil.o \
    $(FUZZ_TARGETS:%=$(BUILD)/obj/fuzz/replay_%.o) $(FUZZ_SERVER:%=$(BUILD)/obj/server/%.o) $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL) -lpthread

# the server's tokens file parser, tested on its own
$(BUILD)/obj/tests/test_tokens.o: ALL_CFLAGS += -Iserver
$(BUILD)/tests/test_tokens: $(BUILD)/obj/tests/test_tokens.o $(BUILD)/obj/tests/testutil.o \
    $(BUILD)/obj/server/tokens.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# the server's answer cache, tested on its own
$(BUILD)/obj/tests/test_cache.o: ALL_CFLAGS += -Iserver
$(BUILD)/tests/test_cache: $(BUILD)/obj/tests/test_cache.o $(BUILD)/obj/tests/testutil.o \
    $(BUILD)/obj/server/cache.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL) -lpthread

# libFuzzer runs (clang): make fuzz [FUZZ_SECONDS=60], one target after the
# other (each alone on the machine). Every target runs even if one fails;
# the summary gives each one's executions, and a crash's input is kept in
# build-fuzz/crashes/TARGET/ (add it to fuzz/corpus/TARGET/ with the fix).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_SERVER_FUZZ := $(FUZZ_SERVER:%=build-fuzz/obj/server/%.o)
fuzz:
	@$(MAKE) deps EXTRA_DEB="clang libclang-rt-14-dev"
	@$(MAKE) BUILD=build-fuzz CC=clang CXX=clang++ SAN="$(FUZZ_FLAGS)" OPT="-O1 -g" \
	  $(FUZZ_SERVER_FUZZ) $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
	@mkdir -p build-fuzz/log; failed=""; : > build-fuzz/log/summary; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t build-fuzz/crashes/$$t; \
	  echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
	  build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=build-fuzz/crashes/$$t/ build-fuzz/corpus/$$t fuzz/corpus/$$t \
	    > build-fuzz/log/$$t.log 2>&1 || failed="$$failed $$t"; \
	  runs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' build-fuzz/log/$$t.log); \
	  printf '%-14s %s\n' $$t "$${runs:-FAILED: see build-fuzz/log/$$t.log}" | tee -a build-fuzz/log/summary; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

build-fuzz/fuzz/%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) build-fuzz/libkb.a $(FUZZ_SERVER_FUZZ)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_BASE) -Iserver $(PKG_CFLAGS) $(FUZZ_FLAGS) -O1 -g -c -o $@.o $<
	clang++ $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $@.o $(FUZZ_SERVER_FUZZ) build-fuzz/libkb.a \
	  $(LDLIBS_ALL) -lpthread

# the relevance evaluation (make eval), kept in its own file
-include bench/eval.mk

# ------------------------------------------------------------------ run
run: all
	$(BUILD)/kb-index --db $(KB_DB) sync articles
	@echo "搜索页面 (search page): http://127.0.0.1:$(PORT)/   — Ctrl-C 停止 (stop)"
	$(BUILD)/kb-serve --db $(KB_DB) --listen 127.0.0.1:$(PORT) --access-log -

# ---------------------------------------------------------------- check
# the pages are also tested in a real browser: headless Chromium, for the
# tests only (make run does not need it)
# (tests/test_import.c imports bench/gen_tickets' realistic records)
# (and tools/kb-articles-from-html, a Python script, converts with pandoc)
check: all $(TESTS) $(BUILD)/bench/gen_tickets
	@$(MAKE) -s deps EXTRA_DEB="chromium-headless-shell python3 pandoc"
	@BUILD=$(BUILD) tests/run

test: check

# the long crash-safety run (not part of check; minutes): ten SIGKILLs of a
# single-writer and of a sharded import over 50,000 tickets, kb-serve
# answering queries throughout (tests/test_crash.c; KB_SEED=N replays a run)
soak: all $(BUILD)/tests/test_crash
	KB_SOAK=1 CMOCKA_MESSAGE_OUTPUT=TAP BUILD=$(BUILD) $(BUILD)/tests/test_crash

# ---------------------------------------------------------------- bench
BENCH_TICKETS ?= 200000
bench: all $(BUILD)/bench/kb_bench $(BUILD)/bench/xapian_ngram $(BUILD)/bench/xapian_tickets \
       $(BUILD)/bench/seg_f1 \
       $(BUILD)/bench/gen_tickets $(BUILD)/bench/measure
	@BUILD=$(BUILD) bench/run $(BENCH_DIRS)
	@BUILD=$(BUILD) bench/import_bench $(BENCH_TICKETS)

$(BUILD)/bench/gen_tickets: $(BUILD)/obj/bench/gen_tickets.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bench/seg_f1: $(BUILD)/obj/bench/seg_f1.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bench/to_groonga: bench/to_groonga.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS_ALL)

$(BUILD)/bench/mhd_fixed: bench/mhd_fixed.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS_ALL)

# the HTTP load benchmark (wrk): make load [LOAD_DOCS=100000]
LOAD_DOCS ?= 100000
load: all $(BUILD)/bench/gen_tickets $(BUILD)/bench/mhd_fixed $(BUILD)/bench/kb_bench \
      $(BUILD)/bench/to_groonga
	@$(MAKE) deps EXTRA_DEB="wrk groonga-bin curl"
	@BUILD=$(BUILD) bench/load_bench $(LOAD_DOCS)
.PHONY: load

$(BUILD)/bench/measure: bench/measure.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

$(BUILD)/bench/xapian_tickets: bench/xapian_tickets.cc
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -o $@ $< $(LDLIBS_ALL)

$(BUILD)/bench/kb_bench: $(BUILD)/obj/bench/kb_bench.o $(LIBKB)
	@mkdir -p $(dir $@)
	$(CXX) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# the peer: Xapian's own TermGenerator, built apart from libkb
$(BUILD)/bench/xapian_ngram: bench/xapian_ngram.cc
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -o $@ $< $(LDLIBS_ALL)

# -------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz
