# failoverd: one non-recursive Makefile.
#
#   make              build failoverd and failoverctl under build/
#   make test         install missing packages, build, run unit + integration tests
#   make test SAN=1   the same with ASan + UBSan (objects under build/san/)
#   make deps         install missing Debian packages (idempotent)
#   make bench        every benchmark; make bench-probes / bench-dns /
#                     bench-controller / bench-sim / bench-config /
#                     bench-daemon / bench-cluster for one
#   make demo         the failover demo (nginx, PostgreSQL, named);
#                     make demo CLUSTER=1 or make demo-cluster: the same
#                     world under three failoverd members on etcd
#   make fuzz         libFuzzer targets for a bounded time
#   make install      PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc/failoverd
#                     SYSTEMDUNITDIR=$(PREFIX)/lib/systemd/system
#   make uninstall    the same variables; leaves SYSCONFDIR and the state
#
# Each leaf directory becomes one archive; failoverd, failoverctl, the unit
# tests and the integration tools all link the same archives, so tests run
# the code that ships.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc/failoverd
# Where systemd looks for units of installed packages; /etc/systemd/system
# for a unit of the local administrator's.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SAN        ?= 0
CLUSTER    ?= 0

PKGS       := libevent libcurl ldns lmdb inih jansson libcrypto
PKG_CONFIG ?= pkg-config

ifeq ($(SAN),1)
B          := build/san
SANFLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT        := -O1 -g
else
B          := build
SANFLAGS   :=
OPT        := -O2 -g
endif

WARN       := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
              -Wshadow -Wpointer-arith -Wsign-compare -Wno-unused-parameter
CFLAGS     ?= $(OPT)
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -DFAILOVERD_VERSION='"$(VERSION)"' \
              $(WARN) $(CFLAGS) $(SANFLAGS) -I. -MMD -MP \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS        = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# controller/ holds its parts in folders (docs/ARCHITECTURE.md); failoverd.c
# at its top is the program's entry, failoverctl.c the operators' tool.
CTLMAIN    := controller/face/failoverctl.c
MAINS      := controller/failoverd.c $(CTLMAIN)
CTL_SRC    := $(filter-out $(MAINS),$(wildcard controller/*.c controller/*/*.c))
PROBE_SRC  := $(wildcard probes/*.c)
DNS_SRC    := $(wildcard dnsupdate/*.c)
CFG_SRC    := $(wildcard config/*.c)
CLUSTER_SRC := $(wildcard cluster/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
ITOOL_SRC  := $(wildcard tests/integration/*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIBCTL     := $(B)/libcontroller.a
LIBPROBES  := $(B)/libprobes.a
LIBDNS     := $(B)/libdnsupdate.a
LIBCFG     := $(B)/libconfig.a
LIBCLUSTER := $(B)/libcluster.a
ARCHIVES   := $(LIBCTL) $(LIBPROBES) $(LIBDNS) $(LIBCFG) $(LIBCLUSTER)

# The dashboard (GET /): its page, style sheet and script are kept as
# ordinary files and built into libcontroller as one generated C table.
DASH_DIR   := controller/face/dashboard
DASH_FILES := $(DASH_DIR)/index.html $(DASH_DIR)/dashboard.css $(DASH_DIR)/dashboard.js
DASH_C     := $(B)/gen/dash_assets.c
DASH_OBJ   := $(B)/gen/dash_assets.o

BINS       := $(B)/failoverd $(B)/failoverctl
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
ITOOLS     := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(ITOOL_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(B)/tests/bench/%,$(BENCH_SRC))

.PHONY: all test check unit deps install uninstall clean bench bench-probes bench-dns \
        bench-controller bench-sim bench-config bench-daemon bench-cluster \
        fuzz demo demo-cluster print-lib-src

all: $(BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCTL): $(call obj,$(CTL_SRC)) $(DASH_OBJ)
$(LIBPROBES): $(call obj,$(PROBE_SRC))
$(LIBDNS): $(call obj,$(DNS_SRC))
$(LIBCFG): $(call obj,$(CFG_SRC))
$(LIBCLUSTER): $(call obj,$(CLUSTER_SRC))
$(ARCHIVES):
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^ $(if $^,,$(B)/empty.o)

# The dashboard's table (see DASH_FILES above).

$(DASH_C): $(DASH_FILES) $(DASH_DIR)/embed.sh
	@mkdir -p $(dir $@)
	sh $(DASH_DIR)/embed.sh $(DASH_FILES) >$@.tmp
	mv $@.tmp $@

$(DASH_OBJ): $(DASH_C)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int failoverd_empty_unit;' | $(CC) -x c -c -o $@ -

$(ARCHIVES): | $(B)/empty.o

$(B)/failoverd: $(B)/controller/failoverd.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(LIBS)

$(B)/failoverctl: $(call obj,$(CTLMAIN)) $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(LIBS) $(TEST_LIBS)

$(B)/tests/integration/%: $(B)/tests/integration/%.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(LIBS)

$(B)/tests/bench/%: $(B)/tests/bench/%.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(LIBS)

unit: $(UNIT_BINS)

# The test suite: unit binaries and integration scripts, one summary line.
# The build uses every core unless make was given its own -j (CI's plain
# "make test" built one file at a time: 36 s against 20 s on two cores).
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
test check: deps
	$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(BUILD_JOBS)) all $(UNIT_BINS) $(ITOOLS) SAN=$(SAN)
	BUILD=$(B) SAN=$(SAN) tests/run.sh

deps:
	@tests/lib/deps.sh

bench: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh all

bench-probes: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh probes

bench-dns: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh dns

bench-controller: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh controller

bench-daemon: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh daemon

bench-cluster: deps
	$(MAKE) --no-print-directory all $(ITOOLS) $(BENCH_BINS)
	BUILD=$(B) tests/bench/run.sh cluster

bench-sim: deps
	$(MAKE) --no-print-directory all
	BUILD=$(B) tests/bench/run.sh sim

bench-config: deps
	$(MAKE) --no-print-directory all
	BUILD=$(B) tests/bench/run.sh config

fuzz: deps
	tests/fuzz/run.sh

# The libraries' sources, for tests/fuzz/run.sh (which builds them with clang).
print-lib-src:
	@echo $(CTL_SRC) $(PROBE_SRC) $(DNS_SRC) $(CFG_SRC) $(CLUSTER_SRC)

demo: deps
	$(MAKE) --no-print-directory all
	BUILD=$(B) CLUSTER=$(CLUSTER) tests/demo/run.sh

demo-cluster: deps
	$(MAKE) --no-print-directory all
	BUILD=$(B) CLUSTER=1 tests/demo/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	for m in docs/*.5; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man5/; done; true
	for m in docs/*.8; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true
	install -d $(DESTDIR)$(PREFIX)/share/doc/failoverd/hooks
	install -m 0644 config/failoverd.conf.example config/failoverd.service \
	    README.md $(DESTDIR)$(PREFIX)/share/doc/failoverd/
	install -m 0755 config/hooks/* $(DESTDIR)$(PREFIX)/share/doc/failoverd/hooks/
	# The configuration directory (0700: it holds the TSIG key and the
	# API token), with the example and the hooks it names; an existing
	# hook or configuration is never overwritten.
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(SYSCONFDIR)/hooks
	sed -e 's|/etc/failoverd/|$(SYSCONFDIR)/|g' config/failoverd.conf.example \
	    >$(DESTDIR)$(SYSCONFDIR)/failoverd.conf.example
	chmod 0600 $(DESTDIR)$(SYSCONFDIR)/failoverd.conf.example
	for h in config/hooks/*; do t=$(DESTDIR)$(SYSCONFDIR)/hooks/$${h##*/}; \
	    [ -e "$$t" ] || install -m 0755 "$$h" "$$t"; done
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' \
	    -e 's|/etc/failoverd/|$(SYSCONFDIR)/|g' config/failoverd.service \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/failoverd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/failoverd.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/failoverd $(DESTDIR)$(PREFIX)/sbin/failoverctl
	for m in docs/*.5; do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$${m##*/}; done
	for m in docs/*.8; do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$${m##*/}; done
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/failoverd
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/failoverd.service
	@echo "kept $(DESTDIR)$(SYSCONFDIR) (configuration, keys, hooks) and the state_dir"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
