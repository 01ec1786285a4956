# hometab -- every entry point: build, run, test, bench, and installing what
# they need. `make run` and `make test` install missing packages by themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := native

LISTEN ?= 127.0.0.1:8008
DB ?= data/hometab.sqlite
SERVER_NAME ?= localhost

CC ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Isrc -g
CFLAGS_RELEASE := $(CFLAGS_COMMON) -O2
CFLAGS_ASAN := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
# libFuzzer needs clang; the fuzz build instruments the core for coverage.
FUZZ_CC := clang
CFLAGS_FUZZ := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 20
FUZZ_TARGETS := http core
PKGS := libuv jansson sqlite3 libsodium
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CORE_SRC := $(sort $(wildcard src/core/*.c src/http/*.c src/router/*.c src/api/*.c src/matrix/*.c \
                              src/store/*.c src/util/*.c src/room/*.c))
NATIVE_SRC := $(sort $(wildcard src/host/native/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
# The native host's pieces that need no event loop are unit-tested too.
UNIT_HOST_SRC := src/host/native/park_index.c src/host/native/request_log.c

# Release build in build/native, sanitizer build in build/asan.
objs = $(patsubst %.c,build/$(1)/%.o,$(2))

build/native/%.o: %.c | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_RELEASE) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/%.o: %.c | deps-fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_FUZZ) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/native/hometab: $(call objs,native,$(CORE_SRC) $(NATIVE_SRC))
	$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS)

build/asan/hometab: $(call objs,asan,$(CORE_SRC) $(NATIVE_SRC))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS)

build/native/unit-tests: $(call objs,native,$(CORE_SRC) $(UNIT_HOST_SRC) $(UNIT_SRC))
	$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS) -lcmocka

build/asan/unit-tests: $(call objs,asan,$(CORE_SRC) $(UNIT_HOST_SRC) $(UNIT_SRC))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

# (the objects of a pattern-rule target are kept, not deleted as intermediates)
.PRECIOUS: build/fuzz/%.o
build/fuzz/fuzz_%: $(call objs,fuzz,$(CORE_SRC)) build/fuzz/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: native hometab run test test-unit test-api test-sdk test-asan test-fuzz fuzz test-browser \
        test-federation interop deps-interop \
        bench bench-browser clean deps deps-build deps-node deps-fuzz deps-wasm deps-browser wasm www

native: build/native/hometab
	@ln -sf build/native/hometab hometab

hometab: native

# ---- dependencies -------------------------------------------------------
# Debian packages, installed only when one is missing (quiet otherwise).
APT_BUILD := build-essential pkg-config libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev
APT_TEST := libcmocka-dev wrk curl sqlite3
# libclang-rt-dev holds libFuzzer and the sanitizer runtimes; clang only recommends it.
APT_FUZZ := clang libclang-rt-dev
# The wasm build: Emscripten, dpkg-source to unpack Debian source packages,
# tclsh to make SQLite's amalgamation. The browser tests: Debian's Chromium.
APT_WASM := emscripten dpkg-dev xz-utils tcl
APT_BROWSER := chromium
# make interop: Synapse 1.67.0 runs from its source on Debian's python3 packages (its
# pyproject's dependencies; poetry-core only writes the package metadata Synapse checks at
# start); openssl makes the test CA. Not in APT_ALL: make test does not need them.
APT_INTEROP := openssl python3 python3-jsonschema python3-frozendict python3-unpaddedbase64 \
    python3-canonicaljson python3-signedjson python3-service-identity python3-twisted python3-treq \
    python3-openssl python3-yaml python3-pyasn1 python3-pyasn1-modules python3-bcrypt python3-pil \
    python3-sortedcontainers python3-pymacaroons python3-msgpack python3-phonenumbers \
    python3-prometheus-client python3-attr python3-netaddr python3-jinja2 python3-bleach \
    python3-typing-extensions python3-cryptography python3-ijson python3-matrix-common \
    python3-packaging python3-pydantic python3-idna python3-nacl python3-poetry-core
APT_ALL := $(APT_BUILD) $(APT_TEST) $(APT_FUZZ) $(APT_WASM) $(APT_BROWSER)

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing $$missing"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
	        --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps-build:
	$(call apt_install,$(APT_BUILD))

deps-fuzz: deps-build
	$(call apt_install,$(APT_FUZZ))

deps: deps-build deps-node
	$(call apt_install,$(APT_ALL))

deps-wasm:
	$(call apt_install,$(APT_WASM))

deps-interop:
	$(call apt_install,$(APT_INTEROP))

deps-browser: deps-node
	$(call apt_install,$(APT_BROWSER))

deps-node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@echo "deps: npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p node_modules && touch $@ # npm ci makes no folder while there are no dependencies

# ---- running ------------------------------------------------------------
run: deps native www
	@mkdir -p $(dir $(DB))
	@echo "hometab: open http://$(LISTEN)/ for the in-browser server (demo); Matrix clients use the same URL for the native one"
	./build/native/hometab --listen $(LISTEN) --db $(DB) --server-name $(SERVER_NAME) --web-root $(WWW)

# ---- tests --------------------------------------------------------------
# The unit and API suites run twice: on the release build, and on the
# AddressSanitizer + UndefinedBehaviorSanitizer build, where any report fails.
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

test: deps test-unit test-api test-sdk test-federation test-asan test-fuzz test-browser

test-unit: build/native/unit-tests
	./build/native/unit-tests

test-api: build/native/hometab deps-node
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/api/

# A real client (matrix-js-sdk, pinned in package.json) against the release
# build; test-asan runs it on the sanitizer build too.
test-sdk: build/native/hometab deps-node
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/sdk/

# The federation test kit (tests/federation/lib: a fake remote homeserver in node) checked on
# its own; hometab-based federation tests join this folder.
test-federation: deps-node
	node --test --test-concurrency=1 tests/federation/

# Federation against the reference server, Synapse 1.67.0, on loopback (tests/interop/). Not
# part of make test: its source is kept beside the repository, in ../shared/synapse, which a
# clone elsewhere lacks. tests/interop/lib/synapse.mjs unpacks it into .cache/synapse-1.67.0.
SYNAPSE_DIR ?= $(CURDIR)/../shared/synapse
# The source is looked for first, so a clone without it fails at once, having installed nothing.
interop: deps-node
	@test -f $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz || { echo "interop: no $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz;" \
	    "make interop needs the shared folder beside the repository (or SYNAPSE_DIR=/path/to/shared/synapse)" >&2; exit 1; }
	@$(MAKE) --no-print-directory deps-interop
	SYNAPSE_DIR=$(SYNAPSE_DIR) node --test --test-concurrency=1 tests/interop/

test-asan: build/asan/unit-tests build/asan/hometab deps-node
	./build/asan/unit-tests
	HOMETAB_BIN=$(CURDIR)/build/asan/hometab HOMETAB_SANITIZED=1 \
	    node --test --test-concurrency=1 tests/api/ tests/sdk/

# Fuzzing (libFuzzer). Each target first replays its whole corpus in
# tests/fuzz/corpus/<target>/ (seeds and every input that once crashed: the
# regression tests), then explores; new inputs go to build/fuzz/corpus-<target>
# and a crashing input to build/fuzz/crash-*, never into the source tree.
# `make fuzz` explores for FUZZ_SECONDS per target; `make test-fuzz` (part of
# `make test`) for FUZZ_TEST_SECONDS.
test-fuzz: $(foreach t,$(FUZZ_TARGETS),build/fuzz/fuzz_$(t))
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $$t $(FUZZ_TEST_SECONDS) || exit 1; done

fuzz: $(foreach t,$(FUZZ_TARGETS),build/fuzz/fuzz_$(t))
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

bench: deps native bench-browser
	node tests/bench/bench.mjs

bench-browser: deps-browser native www
	HOMETAB_BIN=$(CURDIR)/build/native/hometab HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) \
	    node tests/bench/browser.mjs

clean:
	rm -rf build hometab

# ==== the wasm build: the browser host ===================================
# Debian's Emscripten compiles the core, with SQLite, jansson and libsodium,
# into build/wasm/hometab-core.{js,wasm} (an ES6 module factory). The three
# libraries come from Debian's source packages, by name and version: fetched
# with apt-get source into .cache/src (with a private deb-src list, so the
# machine's apt configuration is left alone), and compiled once per set of
# flags into .cache/wasm/<hash of the flags>/, so `make clean` and core edits
# never rebuild them. Nothing fetched is committed.

# emcc's JavaScript optimizer needs Debian's node modules (acorn).
export NODE_PATH := /usr/share/nodejs
EMCC := emcc
EMAR := emar

# -Oz, chosen by measuring against -O2: 375 KB against 469 KB gzipped (the
# budget is 500 KB, and the core still grows), for requests 10-20 % slower in
# the core (0.4 against 0.38 ms per message sent, under the page<->worker hop
# of ~2.5 ms that dominates). `make wasm WASM_OPT=-O2` builds the other.
WASM_OPT ?= -Oz

SQLITE_VERSION := 3.40.1
JANSSON_VERSION := 2.14
SODIUM_VERSION := 1.0.18
SQLITE_SRC := .cache/src/sqlite3-$(SQLITE_VERSION)
JANSSON_SRC := .cache/src/jansson-$(JANSSON_VERSION)
SODIUM_SRC := .cache/src/libsodium-$(SODIUM_VERSION)

# SQLITE_OS_OTHER: src/host/wasm/memvfs.c is SQLite's only file system.
SQLITE_WASM_FLAGS := -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
    -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE \
    -DSQLITE_DQS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_ALLOCA -DSQLITE_TEMP_STORE=3 \
    -DSQLITE_ENABLE_FTS5 -DSQLITE_OMIT_WAL
JANSSON_WASM_DEFINES := -DHAVE_STDINT_H=1 -DHAVE_UNISTD_H=1 -DHAVE_SYS_TYPES_H=1 \
    -DHAVE_SYS_TIME_H=1 -DHAVE_GETTIMEOFDAY=1 -DHAVE_INT32_T=1 -DHAVE_UINT32_T=1 \
    -DHAVE_UINT16_T=1 -DHAVE_UINT8_T=1 -DHAVE_SSIZE_T=1
SODIUM_WASM_FLAGS := -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DSODIUM_STATIC=1
WASM_DEPS_KEY := $(shell echo '$(EMCC) $(WASM_OPT) $(SQLITE_WASM_FLAGS) $(JANSSON_WASM_DEFINES) \
    $(SODIUM_WASM_FLAGS) $(SQLITE_VERSION) $(JANSSON_VERSION) $(SODIUM_VERSION)' | md5sum | cut -c1-10)
WASM_DEPS := .cache/wasm/$(WASM_DEPS_KEY)
# Stamp: the generated headers are in the unpacked sources.
WASM_HEADERS := .cache/src/.headers

WASM_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes $(WASM_OPT) \
    -Isrc -I$(SQLITE_SRC)/amalgamation -I$(JANSSON_SRC)/src \
    -I$(SODIUM_SRC)/src/libsodium/include
WASM_HOST_SRC := $(sort $(wildcard src/host/wasm/*.c))
WASM_OBJ_DIR := build/wasm/obj$(WASM_OPT)
WASM_OBJ := $(patsubst %.c,$(WASM_OBJ_DIR)/%.o,$(CORE_SRC) $(WASM_HOST_SRC))

# What the bridge calls. Nothing else is exported, so the linker drops every
# part of SQLite, jansson and libsodium the core does not reach.
WASM_EXPORTS := _malloc _free _ht_wasm_open _ht_wasm_close _ht_wasm_error _ht_wasm_handle \
    _ht_wasm_response _ht_wasm_response_len _ht_wasm_wrote _ht_wasm_park_position \
    _ht_wasm_park_deadline _ht_wasm_park_keys _ht_wasm_park_key_count _ht_wasm_wake_keys \
    _ht_wasm_wake_key_count _ht_wasm_wake_all _ht_wasm_stream_position _ht_wasm_chunk_size _ht_wasm_file_size \
    _ht_wasm_chunk_count _ht_wasm_file_reset _ht_wasm_chunk _ht_wasm_dirty_take \
    _ht_wasm_dirty_list _ht_wasm_dirty_size_changed _ht_wasm_dirty_mark
comma := ,
empty :=
space := $(empty) $(empty)
WASM_LDFLAGS := $(WASM_OPT) -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createHometabCore \
    -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0 -sTOTAL_STACK=1048576 \
    -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(strip $(WASM_EXPORTS))) \
    -sEXPORTED_RUNTIME_METHODS=UTF8ToString,HEAPU8,HEAPU32

wasm: build/wasm/hometab-core.js

build/wasm/hometab-core.js: $(WASM_OBJ) $(WASM_DEPS)/sqlite3.o $(WASM_DEPS)/libjansson.a \
                            $(WASM_DEPS)/libsodium.a
	$(EMCC) $(WASM_LDFLAGS) -o $@ $^
	@printf 'wasm: %s, %s bytes gzipped\n' "$$(stat -c %s build/wasm/hometab-core.wasm) bytes" \
	    "$$(gzip -9c build/wasm/hometab-core.wasm | wc -c)"

$(WASM_OBJ_DIR)/%.o: %.c | $(WASM_HEADERS) deps-wasm
	@mkdir -p $(dir $@)
	$(EMCC) $(WASM_CFLAGS) -MMD -MP -c $< -o $@

# -- the three libraries, from Debian's source packages
APT_SRC_DIR := .cache/apt
APT_SRC = apt-get -qq -o Dir::Etc::SourceList=$(CURDIR)/$(APT_SRC_DIR)/sources.list \
    -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$(CURDIR)/$(APT_SRC_DIR)/lists \
    -o Dir::Cache=$(CURDIR)/$(APT_SRC_DIR) -o Debug::NoLocking=1

$(APT_SRC_DIR)/lists/.updated: | deps-wasm
	@mkdir -p $(APT_SRC_DIR)/lists/partial $(APT_SRC_DIR)/archives/partial
	@printf '%s\n' 'deb-src http://deb.debian.org/debian bookworm main' \
	    'deb-src http://deb.debian.org/debian-security bookworm-security main' \
	    > $(APT_SRC_DIR)/sources.list
	@echo "wasm: apt-get update (deb-src lists, private to .cache/apt)"
	@$(APT_SRC) update
	@touch $@

# $(1): source package, $(2): upstream version. Debian's own patches are
# applied (dpkg-source -x); a Debian revision bump is taken, an upstream
# version other than the one named here stops the build.
define fetch_source
	@echo "wasm: apt-get source $(1) ($(2))"
	@mkdir -p .cache/src && rm -rf .cache/src/$(1)-$(2)
	@cd .cache/src && $(APT_SRC) source --download-only $(1) 2>&1 | grep -v 'unsandboxed' || true
	@dsc=$$(ls -t .cache/src/$(1)_$(2)-*.dsc 2>/dev/null | head -1); \
	    if [ -z "$$dsc" ]; then echo "wasm: Debian no longer has $(1) $(2); update the Makefile" >&2; exit 1; fi; \
	    dpkg-source --no-check -x $$dsc .cache/src/$(1)-$(2) >/dev/null
	@touch .cache/src/$(1)-$(2)/.unpacked
endef

$(SQLITE_SRC)/.unpacked: | $(APT_SRC_DIR)/lists/.updated
	$(call fetch_source,sqlite3,$(SQLITE_VERSION))
$(JANSSON_SRC)/.unpacked: | $(APT_SRC_DIR)/lists/.updated
	$(call fetch_source,jansson,$(JANSSON_VERSION))
$(SODIUM_SRC)/.unpacked: | $(APT_SRC_DIR)/lists/.updated
	$(call fetch_source,libsodium,$(SODIUM_VERSION))

$(SQLITE_SRC)/amalgamation/sqlite3.c: $(SQLITE_SRC)/.unpacked
	@echo "wasm: making SQLite's amalgamation"
	@rm -rf $(SQLITE_SRC)/amalgamation && mkdir -p $(SQLITE_SRC)/amalgamation
	@cd $(SQLITE_SRC)/amalgamation && ../configure --disable-tcl >/dev/null && \
	    $(MAKE) --no-print-directory sqlite3.c >/dev/null

# The headers those packages' configure scripts would generate, written
# into the unpacked sources where configure would put them.
$(WASM_HEADERS): $(SQLITE_SRC)/amalgamation/sqlite3.c $(JANSSON_SRC)/.unpacked \
                       $(SODIUM_SRC)/.unpacked
	@sed -e 's/@json_inline@/inline/' -e 's/@json_have_long_long@/1/' \
	    -e 's/@json_have_localeconv@/0/' -e 's/@json_have_atomic_builtins@/1/' \
	    -e 's/@json_have_sync_builtins@/1/' \
	    $(JANSSON_SRC)/src/jansson_config.h.in > $(JANSSON_SRC)/src/jansson_config.h
	@for d in $(JANSSON_WASM_DEFINES:-D%=%); do echo "#define $${d%=*} $${d#*=}"; done \
	    > $(JANSSON_SRC)/src/jansson_private_config.h
	@sed -e 's/@VERSION@/$(SODIUM_VERSION)/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
	    -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/' -e 's/@SODIUM_LIBRARY_MINIMAL_DEF@//' \
	    $(SODIUM_SRC)/src/libsodium/include/sodium/version.h.in \
	    > $(SODIUM_SRC)/src/libsodium/include/sodium/version.h
	@touch $@

$(WASM_DEPS)/sqlite3.o: $(SQLITE_SRC)/amalgamation/sqlite3.c | deps-wasm
	@mkdir -p $(dir $@)
	@echo "wasm: compiling SQLite $(SQLITE_VERSION)"
	@$(EMCC) $(WASM_OPT) $(SQLITE_WASM_FLAGS) -w -c $< -o $@

$(WASM_DEPS)/libjansson.a: $(WASM_HEADERS) | deps-wasm
	@echo "wasm: compiling jansson $(JANSSON_VERSION)"
	@rm -rf $(WASM_DEPS)/jansson && mkdir -p $(WASM_DEPS)/jansson
	@for c in $(JANSSON_SRC)/src/*.c; do \
	    $(EMCC) $(WASM_OPT) -DHAVE_CONFIG_H=1 -I$(JANSSON_SRC)/src -w -c $$c \
	        -o $(WASM_DEPS)/jansson/$$(basename $$c .c).o || exit 1; done
	@rm -f $@ && $(EMAR) rcs $@ $(WASM_DEPS)/jansson/*.o

# libsodium's own Emscripten build runs autotools; its sources need no more
# than the defines below (no assembly, no CPU-specific paths in wasm).
$(WASM_DEPS)/libsodium.a: $(WASM_HEADERS) | deps-wasm
	@echo "wasm: compiling libsodium $(SODIUM_VERSION)"
	@rm -rf $(WASM_DEPS)/sodium && mkdir -p $(WASM_DEPS)/sodium
	@cd $(SODIUM_SRC)/src/libsodium && find . -name '*.c' | sort | \
	    xargs -P$$(nproc) -I{} sh -c '$(EMCC) $(WASM_OPT) $(SODIUM_WASM_FLAGS) \
	        -Iinclude/sodium -w -c {} \
	        -o $(CURDIR)/$(WASM_DEPS)/sodium/$$(echo {} | tr / _ | sed "s/^\._//").o'
	@test $$(ls $(WASM_DEPS)/sodium/*.o | wc -l) -eq $$(find $(SODIUM_SRC)/src/libsodium -name '*.c' | wc -l)
	@rm -f $@ && $(EMAR) rcs $@ $(WASM_DEPS)/sodium/*.o

# ==== the web root: what `make run` serves =================================
# web/ at the top, sw/, js-bridge/ and the wasm build beside it. version.json
# names the build, so the page registers a new worker URL when anything in
# it changed (a rebuilt .wasm alone would not make the browser update).
WWW := build/www
WWW_SRC := $(sort $(wildcard web/* sw/* js-bridge/*))

www: $(WWW)/version.json

$(WWW)/version.json: build/wasm/hometab-core.js $(WWW_SRC)
	@rm -rf $(WWW) && mkdir -p $(WWW)/wasm
	@cp -r web/. $(WWW)/ && cp -r sw js-bridge $(WWW)/
	@cp build/wasm/hometab-core.js build/wasm/hometab-core.wasm $(WWW)/wasm/
	@printf '{"build": "%s"}\n' "$$(cat $(WWW_SRC) build/wasm/hometab-core.* | md5sum | cut -c1-12)" > $@
	@echo "www: web root assembled in $(WWW)"

test-browser: deps-browser native www
	HOMETAB_BIN=$(CURDIR)/build/native/hometab HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) \
	    node --test --test-concurrency=1 tests/browser/
