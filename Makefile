# hometab -- every entry point: build, run, test, bench, and installing what
# they need. `make run` and `make test` install missing packages by themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := native

LISTEN ?= 127.0.0.1:8008
# The peer-to-peer relay `make run` starts beside the server (browsers in p2p
# mode reach each other through it), and its HTTP gateway to native servers.
RELAY_LISTEN ?= 127.0.0.1:8009
GATEWAY_LISTEN ?= 127.0.0.1:8010
DB ?= data/hometab.sqlite
SERVER_NAME ?= localhost

CC ?= cc
# Quiet by default: a line per step, not per file. `make V=1` prints every command.
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
# Builds run in parallel (`make run` and `make test` pass -j$(JOBS) to the
# build step only: the test suites themselves run one after another).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Isrc -g
CFLAGS_RELEASE := $(CFLAGS_COMMON) -O2
# HT_CHECK_CACHES: every hit of a cache that lives across requests is
# checked against the store (room/event_cache.c), so the suites that run
# this build catch a change the cache was not told of.
CFLAGS_ASAN := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -DHT_CHECK_CACHES
# libFuzzer needs clang; the fuzz build instruments the core for coverage.
FUZZ_CC := clang
CFLAGS_FUZZ := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
FUZZ_TARGETS := http core canonical send
# libcrypto (OpenSSL) natively for SHA-256 alone: it uses the CPU's SHA
# instructions (util/crypto.c).
PKGS := libuv jansson sqlite3 libsodium libcrypto
# The native host's federation client (src/host/native: fetch, resolve, dns,
# curl_uv): libcurl with OpenSSL, and c-ares.
NATIVE_PKGS := libcurl libcares openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(NATIVE_PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The native binary alone also reads its config file with inih.
NATIVE_LIBS = $(shell pkg-config --libs $(NATIVE_PKGS) inih 2>/dev/null)

CORE_SRC := $(sort $(wildcard src/core/*.c src/http/*.c src/router/*.c src/api/*.c src/matrix/*.c src/federation/*.c \
                              src/store/*.c src/util/*.c src/room/*.c))
NATIVE_SRC := $(sort $(wildcard src/host/native/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
DIFFERENTIAL_SRC := tests/differential/canonical_tool.c
# The federation client on its own (tests/fedhost): its files, the tool's main.
FETCH_SRC := $(addprefix src/host/native/,fetch.c resolve.c dns.c curl_uv.c name_table.c server_name.c) \
             src/util/oom.c src/room/key_name.c
FETCH_TOOL_SRC := $(FETCH_SRC) tests/fedhost/fetch_tool.c
# The native host's pieces that need no event loop are unit-tested too.
UNIT_HOST_SRC := src/host/native/park_index.c src/host/native/request_log.c

# Release build in build/native, sanitizer build in build/asan.
objs = $(patsubst %.c,build/$(1)/%.o,$(2))

build/native/%.o: %.c | deps-build
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_RELEASE) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c | deps-build
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ASAN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/%.o: %.c | deps-fuzz
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(CFLAGS_FUZZ) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# Each link says what it made and how many of its files were compiled anew.
linked = @echo "build: $@ ($(words $(filter %.o,$?)) of $(words $(filter %.o,$^)) files compiled)"

build/native/hometab: $(call objs,native,$(CORE_SRC) $(NATIVE_SRC))
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS) $(NATIVE_LIBS)
	$(linked)

build/asan/hometab: $(call objs,asan,$(CORE_SRC) $(NATIVE_SRC))
	$(Q)$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) $(NATIVE_LIBS)
	$(linked)

# The federation client alone, driven by tests/fedhost (make test-fedhost).
build/native/fetch-tool: $(call objs,native,$(FETCH_TOOL_SRC))
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS) $(NATIVE_LIBS)
	$(linked)

build/asan/fetch-tool: $(call objs,asan,$(FETCH_TOOL_SRC))
	$(Q)$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) $(NATIVE_LIBS)
	$(linked)

build/native/unit-tests: $(call objs,native,$(CORE_SRC) $(UNIT_HOST_SRC) $(UNIT_SRC))
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS) -lcmocka
	$(linked)

build/asan/unit-tests: $(call objs,asan,$(CORE_SRC) $(UNIT_HOST_SRC) $(UNIT_SRC))
	$(Q)$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka
	$(linked)

# hometab's side of the differential test (tests/differential), and the
# microbenchmark of event hashing and signing (`make bench-pdu`).
build/native/canonical-tool: $(call objs,native,$(CORE_SRC) $(DIFFERENTIAL_SRC))
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS)
	$(linked)

build/asan/canonical-tool: $(call objs,asan,$(CORE_SRC) $(DIFFERENTIAL_SRC))
	$(Q)$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS)
	$(linked)

# The microbenchmark of state resolution (`make bench-stateres`): a room of
# 500 and of 5,000 members in memory, two states that differ in three keys.
STATE_RES_BENCH_SRC := tests/unit/room_fixture.c tests/bench/state_res_bench.c

build/native/state-res-bench: $(call objs,native,$(CORE_SRC) $(STATE_RES_BENCH_SRC))
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS)
	$(linked)

build/native/tests/bench/%.o: CFLAGS_RELEASE += -Itests/unit

# hometab's side of the comparison with Synapse's own rules and state
# resolution (`make test-state-res-synapse`, tests/synapse_state_res).
build/native/state-res-tool: $(call objs,native,$(CORE_SRC) tests/synapse_state_res/resolve_tool.c)
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $^ $(PKG_LIBS)
	$(linked)

build/asan/state-res-tool: $(call objs,asan,$(CORE_SRC) tests/synapse_state_res/resolve_tool.c)
	$(Q)$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS)
	$(linked)

# (the objects of a pattern-rule target are kept, not deleted as intermediates)
.PRECIOUS: build/fuzz/%.o
build/fuzz/fuzz_%: $(call objs,fuzz,$(CORE_SRC)) build/fuzz/tests/fuzz/fuzz_%.o
	$(Q)$(FUZZ_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)
# fuzz_send drives two cores joined in one process, as the unit tests do.
build/fuzz/fuzz_send: build/fuzz/tests/unit/federation_net.o

-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: bench-stateres bench-fed-read test-state-res-synapse test-asan-unit test-asan-api test-asan-federation test-api-release
.PHONY: native hometab run test test-unit test-api test-sdk test-asan test-fuzz fuzz test-browser \
        test-differential test-federation interop deps-interop \
        bench bench-browser bench-pdu bench-federation profile-send profile-sync clean deps deps-build deps-node deps-fuzz deps-differential deps-wasm \
        deps-browser deps-run check-node wasm www screenshots p2p test-p2p bench-p2p deps-p2p \
        package test-package bench-package test-fedhost deps-fedhost

native: build/native/hometab
	@ln -sf build/native/hometab hometab

hometab: native

# ---- dependencies -------------------------------------------------------
# Debian packages, installed only when one is missing (quiet otherwise).
# `make run` installs what running needs (APT_BUILD, APT_WASM, the npm
# packages the web root is built with); `make test` the rest.
APT_BUILD := build-essential pkg-config libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev \
    libcurl4-openssl-dev libc-ares-dev libssl-dev libinih-dev
APT_TEST := libcmocka-dev wrk curl sqlite3 systemd
# make test-fedhost: openssl makes the test CA, dnsmasq (the binary alone, no
# system service) is the local DNS server of the SRV and delegation tests.
# make test-federation: stunnel4 is the TLS front of federating hometabs (as a
# reverse proxy is in a real deployment), for the TLS test and make interop.
APT_FEDHOST := openssl dnsmasq-base stunnel4
# The differential test of canonical JSON, hashes and signatures: Synapse's own
# libraries, as Debian packages them.
APT_DIFFERENTIAL := python3 python3-canonicaljson python3-signedjson python3-nacl
# libclang-rt-dev holds libFuzzer and the sanitizer runtimes; clang only recommends it.
APT_FUZZ := clang libclang-rt-dev
# The wasm build: Emscripten, dpkg-source to unpack Debian source packages,
# tclsh to make SQLite's amalgamation. The browser tests: Debian's Chromium.
APT_WASM := emscripten dpkg-dev xz-utils tcl
APT_BROWSER := chromium
# make interop: Synapse 1.67.0 runs from its source on Debian's python3 packages (its
# pyproject's dependencies; poetry-core only writes the package metadata Synapse checks at
# start); openssl makes the test CA. Not in APT_ALL: make test does not need them.
APT_INTEROP := openssl stunnel4 python3 python3-jsonschema python3-frozendict python3-unpaddedbase64 \
    python3-canonicaljson python3-signedjson python3-service-identity python3-twisted python3-treq \
    python3-openssl python3-yaml python3-pyasn1 python3-pyasn1-modules python3-bcrypt python3-pil \
    python3-sortedcontainers python3-pymacaroons python3-msgpack python3-phonenumbers \
    python3-prometheus-client python3-attr python3-netaddr python3-jinja2 python3-bleach \
    python3-typing-extensions python3-cryptography python3-ijson python3-matrix-common \
    python3-packaging python3-pydantic python3-idna python3-nacl python3-poetry-core
# make profile-send: perf records the native server while it answers PUT /send.
# Not in APT_ALL: nothing else needs it.
APT_PROFILE := linux-perf
APT_RUN := $(APT_BUILD) $(APT_WASM)
# The WebRTC test makes a network namespace with a veth pair: ip and unshare.
APT_P2P := iproute2 util-linux
APT_ALL := $(APT_BUILD) $(APT_TEST) $(APT_FEDHOST) $(APT_DIFFERENTIAL) $(APT_FUZZ) $(APT_WASM) $(APT_BROWSER) $(APT_P2P)

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing" $$missing; \
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

deps-differential:
	$(call apt_install,$(APT_DIFFERENTIAL))

deps: deps-build deps-node
	$(call apt_install,$(APT_ALL))

deps-run: check-node node_modules/.installed-build
	$(call apt_install,$(APT_RUN))

deps-wasm:
	$(call apt_install,$(APT_WASM))

deps-interop:
	$(call apt_install,$(APT_INTEROP))

deps-fedhost:
	$(call apt_install,$(APT_FEDHOST))

deps-browser: deps-node
	$(call apt_install,$(APT_BROWSER))

# Node.js 20 or newer: the web root's bundler, the wasm build's JS optimizer
# and the test runner. Debian bookworm's own nodejs is 18, which lacks what
# the tests use (node --test's options, fetch and WebCrypto as globals).
NODE_MIN := 20
check-node:
	@v=$$(node --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'); \
	if [ -z "$$v" ]; then \
	    echo "hometab needs Node.js $(NODE_MIN) or newer, and finds no node on PATH." >&2; \
	    echo "  Install it (https://nodejs.org/en/download, or nvm, or your distribution's" >&2; \
	    echo "  backports; Debian bookworm's own nodejs is 18, too old), then run make again." >&2; \
	    exit 1; \
	elif [ "$$v" -lt $(NODE_MIN) ]; then \
	    echo "hometab needs Node.js $(NODE_MIN) or newer; $$(command -v node) is $$(node --version)." >&2; \
	    echo "  Install a newer one (https://nodejs.org/en/download, or nvm) and put it first on PATH," >&2; \
	    echo "  then run make again. Debian bookworm's own nodejs package is 18: too old." >&2; \
	    exit 1; \
	fi

deps-p2p: deps-browser
	$(call apt_install,$(APT_P2P))

deps-node: check-node node_modules/.installed

# Two stamps: .installed-build after `npm ci --omit=dev` (what building the
# web root needs: package.json "dependencies"), .installed after a full
# `npm ci` (the test tools, "devDependencies", too). A full install serves
# both.
node_modules/.installed: package.json package-lock.json
	@echo "deps: npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p node_modules && touch $@ node_modules/.installed-build

node_modules/.installed-build: package.json package-lock.json
	@if [ -e node_modules/.installed ] && [ node_modules/.installed -nt package-lock.json ] && \
	    [ node_modules/.installed -nt package.json ]; then touch $@; else \
	    echo "deps: npm ci --omit=dev (the build's packages)"; \
	    npm ci --omit=dev --no-audit --no-fund --loglevel=error && mkdir -p node_modules && touch $@; fi

# ---- running ------------------------------------------------------------
# The server prints its URLs itself once it listens (and nothing but the
# reason when it cannot, e.g. a port in use).
run: deps-run
	@[ -x build/native/hometab ] && [ -e $(WWW)/version.json ] || \
	    echo "build: the first build compiles the server twice (natively and to WebAssembly) with SQLite, jansson and libsodium: a few minutes; later runs take seconds"
	@$(MAKE) --no-print-directory -j$(JOBS) native www
	@mkdir -p $(dir $(DB))
	@# The relay writes its address into the web root (/p2p.json): pages in p2p
	@# mode learn it from there. It stops with the server.
	@rm -f $(WWW)/p2p.json; \
	node js-bridge/p2p/relay.mjs --listen $(RELAY_LISTEN) --gateway $(GATEWAY_LISTEN) --gateway-insecure-http \
	    --key-file $(dir $(DB))relay.key --quiet > $(WWW)/p2p.json & relay=$$!; \
	trap 'kill $$relay 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 100); do [ -s $(WWW)/p2p.json ] && break; kill -0 $$relay 2>/dev/null || break; sleep 0.1; done; \
	if [ -s $(WWW)/p2p.json ]; then echo "relay: $$(cat $(WWW)/p2p.json) (peer-to-peer mode: open the page with ?p2p=1)"; \
	else echo "relay: not started (port $(RELAY_LISTEN) or $(GATEWAY_LISTEN) in use?); peer-to-peer mode is unavailable"; fi; \
	./build/native/hometab --listen $(LISTEN) --db $(DB) --server-name $(SERVER_NAME) --web-root $(WWW)

# ---- tests --------------------------------------------------------------
# The unit tests run twice: on the release build, and on the AddressSanitizer
# + UndefinedBehaviorSanitizer build, where any report fails. make test runs
# the API suite once whole, on the sanitizer build (the same assertions, with
# memory errors and undefined behaviour caught too), and on the release build
# the files whose bounds are tighter there (those that read SANITIZED:
# memory held, time-outs); `make test-api` runs it whole on the release build.
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

# Everything is built first, in parallel; then the suites run side by side,
# TEST_JOBS at a time, longest first (tests/run-suites.sh: one log per suite).
# One more than the cores: a suite keeps about half a core busy on average
# (it waits on browsers, peers and time-outs; run-suites.sh prints each one's
# CPU). The suites assert behaviour, never speed, so they hold on a busy machine.
TEST_JOBS ?= $(shell echo $$(($(JOBS) + 1)))
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) native www build/native/unit-tests build/asan/hometab \
	    build/asan/unit-tests build/native/canonical-tool build/asan/canonical-tool build/asan/fetch-tool \
	    build/wasm-test/hometab-core.js $(PACKAGE_TGZ) $(TEST_SHIMS) $(foreach t,$(FUZZ_TARGETS),build/fuzz/fuzz_$(t))
	@tests/run-suites.sh $(TEST_JOBS) $(TEST_SUITES)

TEST_SUITES := test-asan-api test-p2p test-browser test-package test-api-release test-asan-federation \
    test-federation test-fuzz test-asan-unit test-fedhost test-unit test-sdk test-differential

test-unit: build/native/unit-tests
	./build/native/unit-tests

# Canonical JSON, content hashes, event ids and signatures against Synapse's
# own libraries (Debian's python3-canonicaljson, -signedjson, -nacl), on
# seeded random and hostile values. Debian's python3, not whatever python3
# comes first on PATH: the packages are installed for it.
# DIFFERENTIAL_SEED=N replays a run; DIFFERENTIAL_COUNT sets its size.
DIFFERENTIAL_PYTHON := /usr/bin/python3
DIFFERENTIAL_ARGS = $(if $(DIFFERENTIAL_SEED),--seed $(DIFFERENTIAL_SEED)) \
                    $(if $(DIFFERENTIAL_COUNT),--count $(DIFFERENTIAL_COUNT))
test-differential: build/native/canonical-tool deps-differential
	$(DIFFERENTIAL_PYTHON) tests/differential/differential.py --tool build/native/canonical-tool $(DIFFERENTIAL_ARGS)

# An LD_PRELOAD library the durability test puts under the server
# (tests/api/shims/slow_sync.c: slow WAL syncs, and when each returned).
TEST_SHIMS := build/test-shims/slow_sync.so
build/test-shims/%.so: tests/api/shims/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O1 -shared -fPIC -o $@ $< -ldl

test-api: build/native/hometab deps-node $(TEST_SHIMS)
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/api/

# The API files whose assertions are tighter on the release build (see above).
API_TIGHTER_ON_RELEASE = $(shell grep -l SANITIZED tests/api/*.test.mjs)
test-api-release: build/native/hometab deps-node $(TEST_SHIMS)
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 $(API_TIGHTER_ON_RELEASE)

# A real client (matrix-js-sdk, pinned in package.json) against the release
# build; test-asan runs it on the sanitizer build too.
test-sdk: build/native/hometab deps-node
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/sdk/

# Federation (tests/federation): the test kit (lib/: a fake remote homeserver in node) checked
# on its own, then hometab against the fake and against another hometab, on loopback.
test-federation: build/native/hometab deps-node deps-fedhost
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/federation/

# Federation against the reference server, Synapse 1.67.0, on loopback (tests/interop/). Not
# part of make test: its source is kept beside the repository, in ../shared/synapse, which a
# clone elsewhere lacks. tests/interop/lib/synapse.mjs unpacks it into .cache/synapse-1.67.0.
SYNAPSE_DIR ?= $(CURDIR)/../shared/synapse
# The source is looked for first, so a clone without it fails at once, having installed nothing.
interop: build/native/hometab deps-node
	@test -f $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz || { echo "interop: no $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz;" \
	    "make interop needs the shared folder beside the repository (or SYNAPSE_DIR=/path/to/shared/synapse)" >&2; exit 1; }
	@$(MAKE) --no-print-directory deps-interop
	SYNAPSE_DIR=$(SYNAPSE_DIR) HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/interop/

# The native host's federation client on its own (tests/fedhost): build/*/fetch-tool
# against real HTTP(S) servers, a test CA (openssl) and a local DNS server
# (dnsmasq), on the release build and on the sanitizer build; then the
# federation flags of the hometab binary.
# The client's suites run on the sanitizer build (what they assert holds on
# both; the release build of the same code is the one in hometab).
test-fedhost: build/asan/fetch-tool build/native/hometab deps-fedhost deps-node
	FETCH_TOOL=$(CURDIR)/build/asan/fetch-tool HOMETAB_SANITIZED=1 \
	    node --test --test-concurrency=1 tests/fedhost/fetch.test.mjs tests/fedhost/discovery.test.mjs
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node --test --test-concurrency=1 tests/fedhost/flags.test.mjs

# The sanitizer build through the unit, differential, API, SDK and the
# federation suites that drive hometab itself; in three parts so that
# make test can run them beside other suites.
test-asan: test-asan-unit test-asan-api test-asan-federation

ASAN_NODE := HOMETAB_BIN=$(CURDIR)/build/asan/hometab HOMETAB_SANITIZED=1 node --test --test-concurrency=1

test-asan-unit: build/asan/unit-tests build/asan/canonical-tool deps-differential
	./build/asan/unit-tests
	$(DIFFERENTIAL_PYTHON) tests/differential/differential.py --tool build/asan/canonical-tool $(DIFFERENTIAL_ARGS)

test-asan-api: build/asan/hometab deps-node $(TEST_SHIMS)
	$(ASAN_NODE) tests/api/ tests/sdk/

test-asan-federation: build/asan/hometab deps-node
	$(ASAN_NODE) tests/federation/pair.test.mjs tests/federation/read_endpoints.test.mjs \
	    tests/federation/e2ee.test.mjs tests/federation/hostile.test.mjs

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

bench: deps native $(TEST_SHIMS) bench-browser bench-p2p bench-pdu bench-package bench-federation
	node tests/bench/bench.mjs

# Where one PUT /send spends its time: a perf profile of bench.mjs's sends
# (tests/bench/profile-send.sh), written to build/profile-send.txt.
profile-send: deps-build native
	$(call apt_install,$(APT_PROFILE))
	tests/bench/profile-send.sh

# The same for /sync: bench.mjs's user in 300 rooms (initial and incremental
# syncs), written to build/profile-sync.txt.
profile-sync: deps-build native
	$(call apt_install,$(APT_PROFILE))
	PROFILE_FIGURES=manyRooms PROFILE_OUT=$(CURDIR)/build/profile-sync tests/bench/profile-send.sh

# Two hometabs federating on loopback: cross-server wake-up, bulk delivery, a big room's join.
bench-federation: native deps-node
	node tests/bench/federation.mjs

# What hashing and signing one event costs (canonical JSON, SHA-256, ed25519).
bench-pdu: build/native/canonical-tool
	./build/native/canonical-tool bench

bench-stateres: build/native/state-res-bench
	./build/native/state-res-bench

# What the server-server read endpoints cost (tests/bench/fed_read.mjs); MEMBERS=, MESSAGES= size the room.
bench-fed-read: build/native/hometab deps-node deps-fedhost
	HOMETAB_BIN=$(CURDIR)/build/native/hometab node tests/bench/fed_read.mjs

# Authorization verdicts and state resolution against Synapse 1.67's own code
# (synapse/event_auth.py, synapse/state/v2.py) on seeded random forks. Like
# `make interop` it needs ../shared/synapse (the Synapse source kept beside the
# repository), so `make test` does not run it. Synapse is unpacked into
# build/synapse-1.67.0 and runs on Debian's python3 packages (without its
# changelog.d folder, which the build's `*.d` dependency scan would trip on).
# The packages are make interop's (APT_INTEROP), the source the same
# SYNAPSE_DIR. STATE_RES_SEED=N replays a run; STATE_RES_COUNT sets its size.
STATE_RES_COUNT ?= 300
# STATE_RES_BUILD=asan compares the sanitizer build.
STATE_RES_BUILD ?= native

test-state-res-synapse: build/$(STATE_RES_BUILD)/state-res-tool
	@test -f $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz || { echo "test-state-res-synapse: no" \
	    "$(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz; it needs the shared folder beside the repository" \
	    "(or SYNAPSE_DIR=/path/to/shared/synapse)" >&2; exit 1; }
	@$(MAKE) --no-print-directory deps-interop
	@if [ ! -f build/synapse-1.67.0/matrix_synapse-1.67.0.dist-info/METADATA ]; then \
	    mkdir -p build && rm -rf build/synapse-1.67.0 && tar -xzf $(SYNAPSE_DIR)/synapse-1.67.0-src.tar.gz -C build --exclude='*/changelog.d' && \
	    cd build/synapse-1.67.0 && /usr/bin/python3 -c \
	        'import poetry.core.masonry.api as b; b.prepare_metadata_for_build_wheel(".")' >/dev/null; fi
	/usr/bin/python3 tests/synapse_state_res/compare.py build/synapse-1.67.0 build/$(STATE_RES_BUILD)/state-res-tool \
	    --count $(STATE_RES_COUNT) $(if $(STATE_RES_SEED),--seed $(STATE_RES_SEED))

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

# What the core never asks of SQLite, left out of the wasm build. Several of
# these change SQLite's grammar, so the amalgamation is generated with them
# (its lemon run and keyword hash read OPTS), in a folder of its own per
# list. Each was checked on its own (a fresh database through every
# migration, the browser suite): SQLITE_OMIT_TEMPDB is not here because
# ALTER TABLE ... DROP COLUMN (migration 9) then fails with "out of memory".
# The native build uses Debian's whole libsqlite3.
SQLITE_OMIT := -DSQLITE_OMIT_UTF16 -DSQLITE_OMIT_PROGRESS_CALLBACK -DSQLITE_OMIT_AUTHORIZATION \
    -DSQLITE_OMIT_COMPLETE -DSQLITE_OMIT_DECLTYPE -DSQLITE_OMIT_GET_TABLE -DSQLITE_OMIT_TCL_VARIABLE \
    -DSQLITE_OMIT_TRACE -DSQLITE_OMIT_DATETIME_FUNCS -DSQLITE_OMIT_INTROSPECTION_PRAGMAS \
    -DSQLITE_OMIT_LOCALTIME -DSQLITE_MAX_EXPR_DEPTH=0 -DSQLITE_OMIT_AUTOVACUUM -DSQLITE_OMIT_EXPLAIN \
    -DSQLITE_OMIT_WINDOWFUNC -DSQLITE_OMIT_ANALYZE -DSQLITE_OMIT_REINDEX \
    -DSQLITE_OMIT_GENERATED_COLUMNS -DSQLITE_OMIT_VIEW -DSQLITE_OMIT_XFER_OPT \
    -DSQLITE_OMIT_BETWEEN_OPTIMIZATION -DSQLITE_OMIT_SCHEMA_PRAGMAS \
    -DSQLITE_OMIT_COMPILEOPTION_DIAGS -DSQLITE_OMIT_HEX_INTEGER
SQLITE_AMALGAMATION := $(SQLITE_SRC)/amalgamation-$(shell echo '$(SQLITE_OMIT)' | md5sum | cut -c1-8)
# SQLITE_OS_OTHER: src/host/wasm/memvfs.c is SQLite's only file system.
SQLITE_WASM_FLAGS := -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
    -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_DEPRECATED -DSQLITE_OMIT_SHARED_CACHE \
    -DSQLITE_DQS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_ALLOCA -DSQLITE_TEMP_STORE=3 \
    -DSQLITE_OMIT_WAL $(SQLITE_OMIT)
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
    -Isrc -I$(SQLITE_AMALGAMATION) -I$(JANSSON_SRC)/src \
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
    _ht_wasm_dirty_list _ht_wasm_dirty_size_changed _ht_wasm_dirty_mark _ht_wasm_server_name \
    _ht_wasm_seed _ht_wasm_seed_wipe _ht_wasm_fetch_count _ht_wasm_fetch _ht_wasm_outbound \
    _ht_wasm_fetch_destination _ht_wasm_fetch_timeout _ht_wasm_fetch_request _ht_wasm_fetch_request_len \
    _ht_wasm_fetch_done _ht_wasm_outbound_next _ht_wasm_outbound_at _ht_wasm_outbox_waiting
comma := ,
empty :=
space := $(empty) $(empty)
# $(1): the functions to export.
wasm_ldflags = $(WASM_OPT) -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createHometabCore \
    -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0 -sTOTAL_STACK=1048576 \
    -sEXPORTED_FUNCTIONS=$(subst $(space),$(comma),$(strip $(1))) \
    -sEXPORTED_RUNTIME_METHODS=UTF8ToString,HEAPU8,HEAPU32
WASM_LDFLAGS := $(call wasm_ldflags,$(WASM_EXPORTS))

wasm: build/wasm/hometab-core.js

# The same core, linked for the fault-injection tests of the wasm build
# (tests/browser/faults.test.mjs): two more exports arm and read the
# store's fault countdown. The page and the worker never load this one.
WASM_TEST_EXPORTS := $(WASM_EXPORTS) _ht_store_inject_fault _ht_store_fault_fired
build/wasm-test/hometab-core.js: $(WASM_OBJ) $(WASM_DEPS)/sqlite3.o $(WASM_DEPS)/libjansson.a \
                                 $(WASM_DEPS)/libsodium.a
	@mkdir -p $(dir $@)
	$(EMCC) $(call wasm_ldflags,$(WASM_TEST_EXPORTS)) -o $@ $^

build/wasm/hometab-core.js: $(WASM_OBJ) $(WASM_DEPS)/sqlite3.o $(WASM_DEPS)/libjansson.a \
                            $(WASM_DEPS)/libsodium.a
	$(Q)$(EMCC) $(WASM_LDFLAGS) -o $@ $^
	@printf 'wasm: %s (%s of %s files compiled), %s, %s bytes gzipped\n' $@ \
	    $(words $(filter $(WASM_OBJ_DIR)/%,$?)) $(words $(WASM_OBJ)) "$$(stat -c %s build/wasm/hometab-core.wasm) bytes" \
	    "$$(gzip -9c build/wasm/hometab-core.wasm | wc -c)"

$(WASM_OBJ_DIR)/%.o: %.c | $(WASM_HEADERS) $(SQLITE_AMALGAMATION)/sqlite3.c deps-wasm
	@mkdir -p $(dir $@)
	$(Q)$(EMCC) $(WASM_CFLAGS) -MMD -MP -c $< -o $@

# -- the three libraries, from Debian's source packages
APT_SRC_DIR := .cache/apt
APT_SRC = apt-get -qq -o Dir::Etc::SourceList=$(CURDIR)/$(APT_SRC_DIR)/sources.list \
    -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$(CURDIR)/$(APT_SRC_DIR)/lists \
    -o Dir::Cache=$(CURDIR)/$(APT_SRC_DIR) -o Debug::NoLocking=1 \
    $(if $(filter 0,$(shell id -u)),-o APT::Sandbox::User=root)

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
$(JANSSON_SRC)/.unpacked: | $(APT_SRC_DIR)/lists/.updated $(SQLITE_SRC)/.unpacked
	$(call fetch_source,jansson,$(JANSSON_VERSION))
$(SODIUM_SRC)/.unpacked: | $(APT_SRC_DIR)/lists/.updated $(JANSSON_SRC)/.unpacked
	$(call fetch_source,libsodium,$(SODIUM_VERSION))

$(SQLITE_AMALGAMATION)/sqlite3.c: $(SQLITE_SRC)/.unpacked
	@echo "wasm: making SQLite's amalgamation"
	@rm -rf $(SQLITE_AMALGAMATION) && mkdir -p $(SQLITE_AMALGAMATION)
	@cd $(SQLITE_AMALGAMATION) && ../configure --disable-tcl >/dev/null && \
	    $(MAKE) --no-print-directory sqlite3.c OPTS='$(SQLITE_OMIT)' >/dev/null

# The headers those packages' configure scripts would generate, written
# into the unpacked sources where configure would put them.
$(WASM_HEADERS): $(SQLITE_SRC)/.unpacked $(JANSSON_SRC)/.unpacked \
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

$(WASM_DEPS)/sqlite3.o: $(SQLITE_AMALGAMATION)/sqlite3.c | deps-wasm
	@mkdir -p $(dir $@)
	@echo "wasm: compiling SQLite $(SQLITE_VERSION)"
	@$(EMCC) $(WASM_OPT) $(SQLITE_WASM_FLAGS) -w -c $< -o $@

$(WASM_DEPS)/libjansson.a: $(WASM_HEADERS) | deps-wasm
	@echo "wasm: compiling jansson $(JANSSON_VERSION)"
	@rm -rf $(WASM_DEPS)/jansson && mkdir -p $(WASM_DEPS)/jansson
	@ls $(JANSSON_SRC)/src/*.c | xargs -P$(JOBS) -I{} sh -c '$(EMCC) $(WASM_OPT) -DHAVE_CONFIG_H=1 \
	    -I$(JANSSON_SRC)/src -w -c {} -o $(WASM_DEPS)/jansson/$$(basename {} .c).o'
	@test $$(ls $(WASM_DEPS)/jansson/*.o | wc -l) -eq $$(ls $(JANSSON_SRC)/src/*.c | wc -l)
	@rm -f $@ && $(EMAR) rcs $@ $(WASM_DEPS)/jansson/*.o

# libsodium's own Emscripten build runs autotools; its sources need no more
# than the defines below (no assembly, no CPU-specific paths in wasm).
$(WASM_DEPS)/libsodium.a: $(WASM_HEADERS) | deps-wasm
	@echo "wasm: compiling libsodium $(SODIUM_VERSION)"
	@rm -rf $(WASM_DEPS)/sodium && mkdir -p $(WASM_DEPS)/sodium
	@cd $(SODIUM_SRC)/src/libsodium && find . -name '*.c' | sort | \
	    xargs -P$(JOBS) -I{} sh -c '$(EMCC) $(WASM_OPT) $(SODIUM_WASM_FLAGS) \
	        -Iinclude/sodium -w -c {} \
	        -o $(CURDIR)/$(WASM_DEPS)/sodium/$$(echo {} | tr / _ | sed "s/^\._//").o'
	@test $$(ls $(WASM_DEPS)/sodium/*.o | wc -l) -eq $$(find $(SODIUM_SRC)/src/libsodium -name '*.c' | wc -l)
	@rm -f $@ && $(EMAR) rcs $@ $(WASM_DEPS)/sodium/*.o

# ==== the peer-to-peer transport (js-bridge/p2p) ==========================
# peer.js and js-libp2p (pinned in package.json) bundled by esbuild into one
# ES module for the page, build/www/vendor/p2p.js; a page loads it only in
# p2p mode. The relay and gateway run in node from the sources
# (js-bridge/p2p/relay.mjs). Never committed.
P2P_SRC := $(sort $(wildcard js-bridge/p2p/*.js))
P2P_BUNDLE := build/p2p/p2p.js

p2p: $(P2P_BUNDLE)

$(P2P_BUNDLE): $(P2P_SRC) node_modules/.installed-build
	@mkdir -p $(dir $@)
	@node_modules/.bin/esbuild js-bridge/p2p/peer.js --bundle --format=esm --minify --platform=browser \
	    --log-level=warning --outfile=$@
	@printf 'p2p: bundle %s, %s bytes gzipped\n' "$$(stat -c %s $@) bytes" "$$(gzip -9c $@ | wc -c)"

# Two browser servers (Chromium profiles) through the real relay, the
# gateway, hostile peers, and WebRTC inside a network namespace (a visible
# SKIP where unshare is refused).
test-p2p: deps-p2p $(P2P_BUNDLE) native www
	HOMETAB_P2P_BUNDLE=$(CURDIR)/$(P2P_BUNDLE) HOMETAB_BIN=$(CURDIR)/build/native/hometab \
	    HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) node --test --test-concurrency=1 tests/p2p/

bench-p2p: deps-p2p $(P2P_BUNDLE) native www
	HOMETAB_P2P_BUNDLE=$(CURDIR)/$(P2P_BUNDLE) node tests/bench/p2p.mjs
	HOMETAB_BIN=$(CURDIR)/build/native/hometab HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) node tests/bench/p2p-chat.mjs

# ==== the web root: what `make run` serves =================================
# web/ at the top, sw/, js-bridge/ and the wasm build beside it, and
# vendor/: marked and DOMPurify (format.js) and the p2p transport (p2p.js),
# from npm (pinned) bundled by esbuild, never committed. version.json names
# the build, so the page registers a new worker URL when anything in it
# changed (a rebuilt .wasm alone would not make the browser update), and
# lists every other file of the web root with its SHA-256 (a Subresource
# Integrity string): the app shell that the worker of this build keeps in
# its cache, checked byte for byte (sw/shell.js).
WWW := build/www
WWW_SRC := $(sort $(shell find web sw js-bridge -type f)) # subfolders too (js-bridge/p2p, package)
VENDOR := build/vendor/format.js

www: $(WWW)/version.json

# The bundle's whole entry point: the two names web/format.js imports.
$(VENDOR): package-lock.json node_modules/.installed-build
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' "export { marked } from 'marked';" "export { default as DOMPurify } from 'dompurify';" | \
	    node_modules/.bin/esbuild --bundle --format=esm --minify --legal-comments=eof \
	    --log-level=warning --sourcefile=format-entry.js --outfile=$@
	@echo "www: $@ (marked, DOMPurify), $$(stat -c %s $@) bytes, $$(gzip -9c $@ | wc -c) gzipped"

$(WWW)/version.json: build/wasm/hometab-core.js $(WWW_SRC) $(VENDOR) $(P2P_BUNDLE)
	@rm -rf $(WWW) && mkdir -p $(WWW)/wasm $(WWW)/vendor
	@cp -r web/. $(WWW)/ && cp -r sw js-bridge $(WWW)/
	@cp build/wasm/hometab-core.js build/wasm/hometab-core.wasm $(WWW)/wasm/
	@cp $(VENDOR) $(WWW)/vendor/
	@cp $(P2P_BUNDLE) $(WWW)/vendor/p2p.js
	@build=$$(cat $(WWW_SRC) $(VENDOR) $(P2P_BUNDLE) build/wasm/hometab-core.* | md5sum | cut -c1-12); \
	cd $(WWW) && { \
	    printf '{"build": "%s", "files": {' "$$build"; sep=''; \
	    for f in $$(find . -type f ! -name 'version.json*' | sed 's|^\./||' | LC_ALL=C sort); do \
	        sum=$$(sha256sum < "$$f" | cut -c1-64 | tr a-f A-F | basenc --base16 -d | base64 -w0); \
	        printf '%s\n  "%s": "sha256-%s"' "$$sep" "$$f" "$$sum"; sep=','; \
	    done; \
	    printf '\n}}\n'; } > version.json.part && mv version.json.part version.json
	@echo "www: web root assembled in $(WWW)"

# The README's pictures (docs/screenshots/*.png), taken from the real page.
screenshots: deps-browser native www
	HOMETAB_BIN=$(CURDIR)/build/native/hometab HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) \
	    node --test tests/browser/screenshots.mjs
	@ls -l docs/screenshots/*.png

test-browser: deps-browser native www build/wasm-test/hometab-core.js
	HOMETAB_BIN=$(CURDIR)/build/native/hometab HOMETAB_WEB_ROOT=$(CURDIR)/$(WWW) \
	    HOMETAB_FAULT_WASM=$(CURDIR)/build/wasm-test \
	    node --test --test-concurrency=1 tests/browser/

# ==== the npm package: the wasm core in a test author's process =============
# js-bridge/package/ holds the package's own files (package.json, README.md,
# index.d.ts, the entry points); the tarball lays them out beside the bridge
# and the wasm build as the web root does (js-bridge/, wasm/), so the same
# relative imports work in both. Nothing is published: `npm pack` makes a
# tarball that installs anywhere (npm install build/package/hometab.tgz).
PACKAGE_TGZ := build/package/hometab.tgz
PACKAGE_SRC := $(sort $(wildcard js-bridge/*.js js-bridge/package/*))

package: $(PACKAGE_TGZ)

$(PACKAGE_TGZ): build/wasm/hometab-core.js $(PACKAGE_SRC)
	@rm -rf build/package && mkdir -p build/package/hometab/js-bridge/package build/package/hometab/wasm
	@cp js-bridge/*.js build/package/hometab/js-bridge/
	@cp js-bridge/package/*.js build/package/hometab/js-bridge/package/
	@cp js-bridge/package/package.json js-bridge/package/README.md js-bridge/package/index.d.ts \
	    build/package/hometab/
	@cp build/wasm/hometab-core.js build/wasm/hometab-core.wasm build/package/hometab/wasm/
	@cd build/package && npm pack ./hometab --pack-destination . --loglevel=error >/dev/null && \
	    mv hometab-*.tgz hometab.tgz
	@printf 'package: %s (%s bytes)\n' $(PACKAGE_TGZ) "$$(stat -c %s $(PACKAGE_TGZ))"

# The tarball installed into a fresh folder outside the repository (so
# nothing resolves from this checkout's node_modules), from npm's cache
# first (tests/package/install.sh says why not from it alone), then the
# README's examples and the package's own tests run from there. The browser
# example needs Chromium.
test-package: package native deps-browser
	@scratch=$$(mktemp -d /tmp/hometab-package.XXXXXX) && \
	    tests/package/install.sh $(CURDIR)/$(PACKAGE_TGZ) $$scratch && \
	    HOMETAB_PACKAGE_DIR=$$scratch HOMETAB_BIN=$(CURDIR)/build/native/hometab \
	        node --test --test-concurrency=1 tests/package/; \
	    rc=$$?; rm -rf $$scratch; exit $$rc

bench-package: package native
	@scratch=$$(mktemp -d /tmp/hometab-package.XXXXXX) && \
	    tests/package/install.sh $(CURDIR)/$(PACKAGE_TGZ) $$scratch && \
	    HOMETAB_PACKAGE_DIR=$$scratch HOMETAB_BIN=$(CURDIR)/build/native/hometab \
	        node tests/bench/package.mjs; \
	    rc=$$?; rm -rf $$scratch; exit $$rc
