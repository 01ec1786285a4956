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

CORE_SRC := $(sort $(wildcard src/core/*.c src/http/*.c src/router/*.c src/api/*.c \
                              src/store/*.c src/util/*.c src/room/*.c))
NATIVE_SRC := $(sort $(wildcard src/host/native/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))

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

build/native/unit-tests: $(call objs,native,$(CORE_SRC) $(UNIT_SRC))
	$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS) -lcmocka

build/asan/unit-tests: $(call objs,asan,$(CORE_SRC) $(UNIT_SRC))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

# (the objects of a pattern-rule target are kept, not deleted as intermediates)
.PRECIOUS: build/fuzz/%.o
build/fuzz/fuzz_%: $(call objs,fuzz,$(CORE_SRC)) build/fuzz/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: native hometab run test test-unit test-api test-sdk test-asan test-fuzz fuzz bench clean deps \
        deps-build deps-node deps-fuzz

native: build/native/hometab
	@ln -sf build/native/hometab hometab

hometab: native

# ---- dependencies -------------------------------------------------------
# Debian packages, installed only when one is missing (quiet otherwise).
APT_BUILD := build-essential pkg-config libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev
APT_TEST := libcmocka-dev wrk curl sqlite3
# libclang-rt-dev holds libFuzzer and the sanitizer runtimes; clang only recommends it.
APT_FUZZ := clang libclang-rt-dev
APT_ALL := $(APT_BUILD) $(APT_TEST) $(APT_FUZZ)

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing $$missing"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps-build:
	$(call apt_install,$(APT_BUILD))

deps-fuzz: deps-build
	$(call apt_install,$(APT_FUZZ))

deps: deps-build deps-node
	$(call apt_install,$(APT_ALL))

deps-node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@echo "deps: npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p node_modules && touch $@ # npm ci makes no folder while there are no dependencies

# ---- running ------------------------------------------------------------
run: deps native
	@mkdir -p $(dir $(DB))
	@echo "hometab: open http://$(LISTEN)/ in a browser; Matrix clients use the same URL"
	./build/native/hometab --listen $(LISTEN) --db $(DB) --server-name $(SERVER_NAME)

# ---- tests --------------------------------------------------------------
# The unit and API suites run twice: on the release build, and on the
# AddressSanitizer + UndefinedBehaviorSanitizer build, where any report fails.
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

test: deps test-unit test-api test-sdk test-asan test-fuzz

test-unit: build/native/unit-tests
	./build/native/unit-tests

test-api: build/native/hometab deps-node
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/api/

# A real client (matrix-js-sdk, pinned in package.json) against the release
# build; test-asan runs it on the sanitizer build too.
test-sdk: build/native/hometab deps-node
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/sdk/

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

bench: deps native
	node tests/bench/bench.mjs

clean:
	rm -rf build hometab
