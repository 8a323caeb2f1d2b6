# raft_kv - build, test, sanitizer, benchmark and format targets.
# One build tree per mode (build/release, build/tsan, build/asan); each module is a static library
# and each unit test links only its module (and what that module needs), per ../shared/STYLE.md.
# Planted bugs are compiled only into a test build, apart under build/MODE/planted/ (below).

MODE ?= release
BUILD := build/$(MODE)
PREFIX ?= /usr/local

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

CK_CFLAGS := $(shell pkg-config --cflags ck 2>/dev/null)
CK_LIBS := $(shell pkg-config --libs ck 2>/dev/null || echo -lck)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# The networked mode (net/): libevent's loop, HTTP server and client, and jansson for JSON.
NET_CFLAGS := $(shell pkg-config --cflags libevent jansson 2>/dev/null)
NET_LIBS := $(shell pkg-config --libs libevent jansson 2>/dev/null || echo -levent -ljansson)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wpointer-arith -Wformat=2 -Wundef -Wno-unused-parameter
STD := -std=c11 -D_POSIX_C_SOURCE=200809L
ifeq ($(MODE),release)
OPT := -O2 -g
SAN :=
else ifeq ($(MODE),tsan)
OPT := -O1 -g
SAN := -fsanitize=thread
else ifeq ($(MODE),asan)
OPT := -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
else
$(error MODE must be release, tsan or asan)
endif
CFLAGS ?=
ALL_CFLAGS := $(STD) $(WARN) $(OPT) $(SAN) -I. $(CK_CFLAGS) $(NET_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

# --- modules -------------------------------------------------------------------------------
# Pure modules (common, config, kv, raft, client, wire, replica, scenario) never include
# pthreads, clocks, stdio or ck; `make check-pure` checks them by directory. The hosts are not
# modules but programs' parts, linked whole into raft_kv and the integration tests (APP_SRC):
# actors/ (the actor host), host/ (the action routine, network, traces), cluster/ (a threaded run,
# reports and checks), sim/ (the simulator), net/ (raft_kv serve: TCP peers, HTTP, its client) and
# timeline/ (raft_kv timeline: a trace and a history drawn as a page and a Perfetto file).
APP_ONLY := $(wildcard actors/*.c host/*.c cluster/*.c sim/*.c net/*.c timeline/*.c)
MODULES := common runtime config kv raft client check wire replica scenario storage
src_of = $(filter-out $(APP_ONLY),$(wildcard $(1)/*.c))
# What each module links against, in static-link order (the module itself first).
LINK_common := common
LINK_runtime := runtime common
LINK_config := config common
LINK_kv := kv common
LINK_raft := raft common
LINK_client := client kv common
LINK_check := check common
LINK_wire := wire raft common
LINK_replica := replica raft client kv common
LINK_scenario := scenario raft common
LINK_storage := storage raft common
SYSLIBS_runtime := $(CK_LIBS) -lpthread -lm
lib = $(BUILD)/lib$(1).a
libs_for = $(foreach m,$(LINK_$(1)),$(if $(call src_of,$(m)),$(call lib,$(m))))
syslibs_for = $(sort $(foreach m,$(LINK_$(1)),$(SYSLIBS_$(m))))

APP_SRC := $(wildcard $(APP_ONLY))
APP_OBJ := $(APP_SRC:%.c=$(BUILD)/%.o)
ALL_LIBS := $(foreach m,replica check scenario storage client wire raft kv config runtime common,$(if $(call src_of,$(m)),$(call lib,$(m))))
ALL_SYSLIBS := $(CK_LIBS) $(NET_LIBS) -lpthread -lm

# --- planted bugs: a test build only --------------------------------------------------------
# The known bugs of raft/raft.h (RAFT_BUG_*), which tests plant to show the checks catch them,
# exist only when compiled with -DRAFT_PLANTED_BUGS: without it raft_options and sim_options have
# no planted_bugs field and the core has no bug branch, so ./raft_kv, libraft.a and every
# other production object hold no trace of them. The test build goes under $(BUILD)/planted/:
# each module of PLANTED_MODULES again, as $(BUILD)/lib<module>_planted.a (the raft core, and
# any module whose structs hold the core's), and the actor, cluster and simulator objects
# (APP_ONLY), whose structs hold the core's too. A test named test_*_planted*.c is compiled with
# the flag and links these in place of their production builds; the planted core renames
# raft_init, so mixing the two builds fails to link. test/scripts/planted_absent.sh
# (`make check-planted`, and every test run) checks the production objects.
PLANTED := $(BUILD)/planted
PLANTED_CFLAGS := $(ALL_CFLAGS) -DRAFT_PLANTED_BUGS
PLANTED_MODULES := raft replica scenario storage
PLANTED_PROD_LIBS := $(foreach m,$(PLANTED_MODULES),$(call lib,$(m)))
PLANTED_APP_OBJ := $(APP_SRC:%.c=$(PLANTED)/%.o)
is_planted = $(findstring _planted,$(notdir $(1)))
# The object of test source $(1); the libraries $(2) a test links, planted ones if it is planted.
test_obj = $(if $(call is_planted,$(1)),$(PLANTED),$(BUILD))/$(basename $(1)).o
planted_libs = $(foreach l,$(1),$(if $(filter $(l),$(PLANTED_PROD_LIBS)),$(l:.a=_planted.a),$(l)))
test_libs = $(if $(call is_planted,$(1)),$(call planted_libs,$(2)),$(2))
test_app_obj = $(if $(call is_planted,$(1)),$(PLANTED_APP_OBJ),$(APP_OBJ))

# --- tests ---------------------------------------------------------------------------------
# test/unit/test_<module>[_what].c links only <module>; test/integration/test_*.c links all.
# A test named test_*_planted*.c links the test build of the core instead (above).
UNIT_SRC := $(wildcard test/unit/test_*.c)
INTEG_SRC := $(wildcard test/integration/test_*.c)
module_of = $(word 2,$(subst _, ,$(basename $(notdir $(1)))))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
INTEG_BIN := $(INTEG_SRC:test/integration/%.c=$(BUILD)/test/%)
# Fuzz targets test/fuzz/fuzz_<module>_<what>.c: built with libFuzzer by `make fuzz`, and replayed
# over test/fuzz/corpus/<module>_<what>/ by `make test` through a plain main (replay_main.c).
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_REPLAY_BIN := $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/test/%_replay)
TOML_DECODE := $(if $(wildcard test/toml_decode.c),$(BUILD)/test/toml_decode)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

TEST_BINS := $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_REPLAY_BIN) $(TOML_DECODE)

.PHONY: all build deps deps-test run test tests run-tests tsan asan bench bench-rss bench-net fuzz torture sim-sweep format \
        format-check check-pure check-planted timeline-golden clean install uninstall help
.DEFAULT_GOAL := all

all: build

# Building checks for Concurrency Kit first; `make deps` installs what is missing when root.
build: deps
	@$(MAKE) --no-print-directory raft_kv

deps:
	@bash tools/deps.sh build

deps-test:
	@bash tools/deps.sh test

ifeq ($(MODE),release)
raft_kv: $(BUILD)/raft_kv
	@cp $< $@
ifneq ($(TOML_DECODE),)
test/toml_decode: $(TOML_DECODE)
	@cp $< $@
tests: test/toml_decode
endif
endif

$(BUILD)/raft_kv: $(BUILD)/raft_kv.o $(APP_OBJ) $(ALL_LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(ALL_SYSLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(PLANTED)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PLANTED_CFLAGS) -c -o $@ $<

define module_rule
$(call lib,$(1)): $(patsubst %.c,$(BUILD)/%.o,$(call src_of,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(if $(call src_of,$(m)),$(eval $(call module_rule,$(m)))))

define planted_module_rule
$(BUILD)/lib$(1)_planted.a: $(patsubst %.c,$(PLANTED)/%.o,$(call src_of,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(PLANTED_MODULES),$(eval $(call planted_module_rule,$(m))))

# One exception to "a unit test links only its module": storage's tests read and write real files
# in a temporary directory through the POSIX port, host/file_fs.c (app-only code, one object).
UNIT_EXTRA_storage := $(BUILD)/host/file_fs.o
define unit_rule
$(BUILD)/test/$(basename $(notdir $(1))): $(call test_obj,$(1)) $(UNIT_EXTRA_$(call module_of,$(1))) $(call test_libs,$(1),$(call libs_for,$(call module_of,$(1))))
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_ALL) -o $$@ $$^ $(call syslibs_for,$(call module_of,$(1))) $(CMOCKA_LIBS) -lm
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(t))))

define integ_rule
$(BUILD)/test/$(basename $(notdir $(1))): $(call test_obj,$(1)) $(call test_app_obj,$(1)) $(call test_libs,$(1),$(ALL_LIBS))
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_ALL) -o $$@ $$^ $(CMOCKA_LIBS) $(ALL_SYSLIBS)
endef
$(foreach t,$(INTEG_SRC),$(eval $(call integ_rule,$(t))))

define fuzz_rule
$(BUILD)/test/$(basename $(notdir $(1)))_replay: $(BUILD)/$(basename $(1)).o $(BUILD)/test/fuzz/replay_main.o $(call libs_for,$(call module_of,$(1)))
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS_ALL) -o $$@ $$^ $(call syslibs_for,$(call module_of,$(1))) -lm
endef
$(foreach t,$(FUZZ_SRC),$(eval $(call fuzz_rule,$(t))))

$(BUILD)/test/toml_decode: $(BUILD)/test/toml_decode.o $(call libs_for,config)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(APP_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(ALL_SYSLIBS)

tests: $(BUILD)/raft_kv $(TEST_BINS)

# Runs every test binary and test script of this MODE; prints "N passed, N failed".
run-tests: tests
	@bash test/run.sh $(BUILD)

# `make test`: dependencies, build, every test, then every test again under ThreadSanitizer.
test: deps-test check-pure
	@$(MAKE) --no-print-directory MODE=release run-tests
	@$(MAKE) --no-print-directory MODE=tsan run-tests

tsan: deps-test
	@$(MAKE) --no-print-directory MODE=tsan run-tests

asan: deps-test
	@$(MAKE) --no-print-directory MODE=asan run-tests

run: build
	./raft_kv config.toml

bench: deps
	@bash tools/deps.sh bench || echo "bench: erlang-base missing; the BEAM column will be empty"
	@$(MAKE) --no-print-directory MODE=release $(BENCH_BIN) $(BUILD)/raft_kv
	@bash bench/run.sh $(BUILD)

# Only the peak RSS of long runs (part of `make bench`; BENCH_RSS=0 skips it there).
bench-rss: deps
	@$(MAKE) --no-print-directory MODE=release $(BENCH_BIN) $(BUILD)/raft_kv
	@bash bench/rss.sh $(BUILD)

# The networked mode (3 x `raft_kv serve` on loopback) beside etcd 3.4, both with fsync on, driven by
# wrk over HTTP: writes and linearizable reads at 1, 16 and 64 connections; checks the targets.
bench-net: deps
	@bash tools/deps.sh bench-net
	@$(MAKE) --no-print-directory MODE=release $(BUILD)/raft_kv
	@bash bench/net.sh $(BUILD)/raft_kv

# Many seeds x sizes 3, 5, 7 x a random nemesis; prints each failing seed's replay command.
TORTURE_SEEDS ?= 30
torture: build
	@bash test/torture.sh $(TORTURE_SEEDS)

# The deterministic simulator over SIM_SEEDS seeds, each drawing its own cluster size, clients,
# network and nemesis; prints each failing seed's replay command and a summary.
SIM_SEEDS ?= 10000
sim-sweep: build
	./raft_kv --sweep $(SIM_SEEDS)

# libFuzzer over the TOML parser and the wire decoder (clang). FUZZ_SECONDS per target; new inputs
# go to the corpus.
FUZZ_SECONDS ?= 300
fuzz:
	@bash tools/deps.sh fuzz
	@bash test/fuzz/run.sh $(FUZZ_SECONDS)

# Rewrites the golden pages and Perfetto files of test/golden/timeline/ from their scenes, on
# purpose, after a change meant to change the picture (test/scripts/timeline_golden.sh checks them).
timeline-golden: build
	@bash test/scripts/timeline_golden.sh --update

# No production object of this MODE holds a planted bug; the test build holds them all.
check-planted: $(BUILD)/raft_kv $(TEST_BINS)
	@RAFT_KV_BUILD=$(BUILD) bash test/scripts/planted_absent.sh

# The pure cores must not reach for threads, clocks, stdio, ck or the runtime.
# Checked by directory: the folders of PURE_DIRS hold nothing else. stdio is allowed only where
# text is the job: config/ (reading and printing TOML) and common/alloc.c (the one out-of-memory
# message, alloc.h).
PURE_DIRS := common config kv raft client wire replica scenario storage
PURE_SRC = $(wildcard $(foreach d,$(PURE_DIRS),$(d)/*.c $(d)/*.h))
PURE_FORBIDDEN := <pthread.h>|<time.h>|<sys/time.h>|<ck_|<threads.h>|<stdatomic.h>|"(runtime|actors|host|cluster|sim|net|timeline)/
check-pure:
	@bad=$$(grep -nE '^\s*#\s*include\s*($(PURE_FORBIDDEN))' $(PURE_SRC) /dev/null); \
	bad="$$bad$$(grep -nE '^\s*#\s*include\s*<stdio.h>' $(filter-out config/% common/alloc.c,$(PURE_SRC)) /dev/null)"; \
	if [ -n "$$bad" ]; then echo "check-pure: a pure module includes a forbidden header:"; \
	echo "$$bad"; exit 1; fi

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
format:
	@bash tools/deps.sh format
	clang-format -i $(FORMAT_FILES)

format-check:
	@bash tools/deps.sh format
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: clean"

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/raft_kv
	install -m 0755 raft_kv $(DESTDIR)$(PREFIX)/bin/raft_kv
	install -m 0644 config.toml $(DESTDIR)$(PREFIX)/share/raft_kv/config.toml

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/raft_kv
	rm -rf $(DESTDIR)$(PREFIX)/share/raft_kv

clean:
	rm -rf build raft_kv test/toml_decode

help:
	@echo "make [all]      build ./raft_kv (installs libck-dev if missing and root)"
	@echo "make run        build and run ./raft_kv config.toml"
	@echo "make test       every test, then every test again under ThreadSanitizer"
	@echo "make tsan|asan  the tests under ThreadSanitizer | Address+UB+LeakSanitizer"
	@echo "make bench      runtime beside Erlang/OTP, the store on memory and disk, peak RSS (BENCH_RSS=0 skips)"
	@echo "make bench-rss  only the peak RSS of long runs"
	@echo "make bench-net  3 x raft_kv serve beside 3 x etcd 3.4 under wrk (BENCH_NET_SECONDS, BENCH_NET_ONLY=etcd)"
	@echo "make fuzz       libFuzzer over the TOML parser and wire decoder (FUZZ_SECONDS=$(FUZZ_SECONDS))"
	@echo "make torture    random faults over many seeds (TORTURE_SEEDS=$(TORTURE_SEEDS))"
	@echo "make sim-sweep  the deterministic simulator over many seeds (SIM_SEEDS=$(SIM_SEEDS))"
	@echo "make check-pure | check-planted   pure cores; no planted bug in production objects"
	@echo "make timeline-golden   rewrite test/golden/timeline/ (the renderer's expected pages)"
	@echo "make format | format-check | clean | install PREFIX=..."

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
