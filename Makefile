# sigflow - build, test, run, install.
#
#   make              build the daemon, the bundled plugins and the tests
#   make run          run the daemon on conf/sigflow.ini
#   make test         every test: unit (cmocka), plugin loader, integration, fuzz corpora
#   make test SANITIZE=1   the same suite under ASan+UBSan (built in build/san)
#   make test TESTS=REGEX  only the tests whose name matches (e.g. integration/test_reload)
#   make bench        the benchmarks (figures go in docs/performance.md by hand)
#   make install PREFIX=/usr/local DESTDIR=
#   make deps         install the Debian packages sigflow builds with (as root)
#   make deb          build/deb/sigflow_VERSION_ARCH.deb with dpkg-buildpackage (debian/)

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc

PKGS := libcurl json-c inih libmicrohttpd sqlite3 libcrypto
TEST_PKGS := cmocka
# Every Debian package the build and the tests need, one a line: the same list CI installs.
APT_PKGS := $(shell sed -e 's/\#.*//' .ci/packages)

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(SANITIZE),1)
BUILD := build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD := build
SAN_FLAGS :=
endif

DEPS_OK := $(shell pkg-config --exists $(PKGS) $(TEST_PKGS) 2>/dev/null && echo ok)

ifneq ($(DEPS_OK),ok)
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
# A library is missing: install it (as root) or say how, then run the goal again.
all:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory $@
.DEFAULT:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory $@
endif
else

.SECONDEXPANSION:

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -ldl -lpthread -lm
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(SAN_FLAGS) -fPIC -MMD -MP
CORE_CFLAGS := $(BASE_CFLAGS) -fvisibility=hidden -Isdk -iquote core $(PKG_CFLAGS) \
	-DSIGFLOW_VERSION='"$(VERSION)"' -DSIGFLOW_PREFIX='"$(PREFIX)"'
PLUGIN_CFLAGS := $(BASE_CFLAGS) -fvisibility=hidden -Isdk
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)

CORE_SRCS := $(filter-out core/cli/main.c,$(wildcard core/*/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/core/cli/main.o
CORE_LIB := $(BUILD)/libsigflowcore.a
SIGFLOW := $(BUILD)/sigflow

# Bundled plugins: plugins/<kind>_<name>/*.c -> $(BUILD)/plugins/<kind>_<name>.so, built
# against the SDK header alone. A plugin's extra libraries: plugins/<dir>/plugin.mk setting
# <dir>_LIBS and <dir>_CFLAGS.
PLUGIN_DIRS := $(patsubst plugins/%/,%,$(sort $(dir $(wildcard plugins/*/*.c))))
PLUGIN_SOS := $(PLUGIN_DIRS:%=$(BUILD)/plugins/%.so)
-include $(wildcard plugins/*/plugin.mk)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
FIXTURE_SRCS := $(wildcard tests/plugins/fixtures/*.c)
FIXTURE_SOS := $(FIXTURE_SRCS:tests/plugins/fixtures/%.c=$(BUILD)/tests/fixtures/%.so)
PLUGIN_TEST_SRCS := $(wildcard tests/plugins/test_*.c)
PLUGIN_TEST_BINS := $(PLUGIN_TEST_SRCS:tests/plugins/%.c=$(BUILD)/tests/plugins/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_BINS := $(TEST_SUPPORT_SRCS:tests/support/%.c=$(BUILD)/tests/support/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/tests/bench/%)

.PHONY: all deps run test valgrind bench fuzz install uninstall clean format format-check deb

all: $(SIGFLOW) $(PLUGIN_SOS) $(BUILD)/sigflow.pc $(BUILD)/sigflow.1

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) $(CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(SIGFLOW): $(MAIN_OBJ) $(CORE_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/plugins/%.so: $$(wildcard plugins/$$*/*.c) $$(wildcard plugins/$$*/*.h) sdk/sigflow.h
	@mkdir -p $(dir $@)
	@echo "  PLUGIN  $@"
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(CFLAGS) $($*_CFLAGS) -shared -o $@ $(filter %.c,$^) \
		$(LDFLAGS_ALL) $($*_LIBS)
	@chmod 0755 $@ # the loader refuses group/other-writable plugins, whatever the umask

# SIGFLOW_PREFIX is compiled into the files that name installed paths: they are rebuilt when
# PREFIX changes (the stamp is rewritten only then).
$(BUILD)/prefix.stamp: FORCE
	@mkdir -p $(dir $@)
	$(Q)echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
$(BUILD)/obj/core/config/config.o $(BUILD)/obj/core/cli/cli_plugins.o: $(BUILD)/prefix.stamp
FORCE:

# sigflow(1): written from `sigflow --help` and each `sigflow COMMAND --help` (one text).
$(BUILD)/sigflow.1: $(SIGFLOW) packaging/gen-man.sh
	@echo "  MAN     $@"
	$(Q)packaging/gen-man.sh $(SIGFLOW) $(VERSION) > $@.tmp && mv $@.tmp $@

$(BUILD)/sigflow.pc: sdk/sigflow.pc.in Makefile
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# ---- tests -------------------------------------------------------------------------------

TEST_CFLAGS := $(CORE_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit -Isdk/mock

$(BUILD)/tests/unit/%: tests/unit/%.c $(CORE_LIB) $$(wildcard sdk/mock/*.c)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(TEST_CFLAGS) $(CFLAGS) -o $@ $< $(wildcard sdk/mock/*.c) $(CORE_LIB) $(LDFLAGS_ALL) \
		$(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/fixtures/%.so: tests/plugins/fixtures/%.c sdk/sigflow.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(PLUGIN_CFLAGS) $(CFLAGS) -shared -o $@ $< $(LDFLAGS_ALL)

$(BUILD)/tests/plugins/%: tests/plugins/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(TEST_CFLAGS) $(CFLAGS) -o $@ $< $(CORE_LIB) $(LDFLAGS_ALL) $(PKG_LIBS) \
		$(CMOCKA_LIBS)

# Fuzz harnesses: LLVMFuzzerTestOneInput + a small driver that replays a corpus, so `make
# test` runs every corpus with gcc; `make fuzz` builds them with libFuzzer when clang exists.
$(BUILD)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CORE_CFLAGS) $(CFLAGS) -o $@ $< tests/fuzz/driver.c $(CORE_LIB) $(LDFLAGS_ALL) \
		$(PKG_LIBS)

$(BUILD)/tests/support/%: tests/support/%.c
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS_ALL) -lpthread

$(BUILD)/tests/bench/%: tests/bench/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(CFLAGS) -o $@ $< $(CORE_LIB) $(LDFLAGS_ALL) $(PKG_LIBS)

TEST_BINS := $(UNIT_BINS) $(FIXTURE_SOS) $(PLUGIN_TEST_BINS) $(FUZZ_BINS) $(TEST_SUPPORT_BINS)

test: deps all $(TEST_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh

valgrind: deps all $(TEST_BINS)
	@BUILD=$(BUILD) VALGRIND=1 tests/run.sh

# The demo starts from an empty state on every run (conf/sigflow.ini keeps it in
# build/demo-state), so a second `make run` prints the same alerts as the first.
run: all
	$(Q)rm -rf build/demo-state
	$(SIGFLOW) run --init -c conf/sigflow.ini

bench: deps all $(BENCH_BINS)
	@BUILD=$(BUILD) tests/bench/run.sh

fuzz:
	@BUILD=$(BUILD) tests/fuzz/libfuzzer.sh

# ---- install -----------------------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/sigflow/plugins \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/sigflow
	install -m 0755 $(SIGFLOW) $(DESTDIR)$(PREFIX)/bin/sigflow
	install -m 0755 $(PLUGIN_SOS) $(DESTDIR)$(PREFIX)/lib/sigflow/plugins/
	install -m 0644 sdk/sigflow.h $(DESTDIR)$(PREFIX)/include/sigflow.h
	# Generated here, not copied from $(BUILD): a tree built earlier for another PREFIX would
	# otherwise install a .pc pointing at the old one.
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' sdk/sigflow.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/sigflow.pc
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/sigflow.pc
	install -d $(DESTDIR)$(PREFIX)/share/sigflow/mock
	install -m 0644 sdk/mock/*.c sdk/mock/*.h $(DESTDIR)$(PREFIX)/share/sigflow/mock/
	# Operating it (docs/operating.md): man page, bash completion, systemd unit, the config
	# (never over an existing one) and the state directory.
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/sigflow
	install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/lib/sigflow
	install -m 0644 $(BUILD)/sigflow.1 $(DESTDIR)$(PREFIX)/share/man/man1/sigflow.1
	install -m 0644 packaging/sigflow.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sigflow
	$(PACKAGING_SED) packaging/sigflow.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/sigflow.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sigflow.service
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/sigflow/sigflow.ini ]; then \
		$(PACKAGING_SED) packaging/sigflow.ini.in > $(DESTDIR)$(SYSCONFDIR)/sigflow/sigflow.ini && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/sigflow/sigflow.ini; \
	else echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/sigflow/sigflow.ini"; fi

PACKAGING_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g'

# The config and the state directory stay (they are the operator's data).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sigflow $(DESTDIR)$(PREFIX)/include/sigflow.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/sigflow.pc $(DESTDIR)$(PREFIX)/share/man/man1/sigflow.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sigflow \
		$(DESTDIR)$(SYSTEMDUNITDIR)/sigflow.service
	rm -rf $(DESTDIR)$(PREFIX)/lib/sigflow $(DESTDIR)$(PREFIX)/share/sigflow

# ---- Debian package (docs/operating.md "Debian package") -----------------------------------
# dpkg-buildpackage writes next to the source tree, so it builds a copy in build/deb: the
# .deb lands in build/deb. The changelog's version must be the Makefile's.
DEB_VERSION := $(shell head -1 debian/changelog | cut -d' ' -f2 | tr -d '()')
DEBDIR ?= build/deb
deb:
	$(Q)[ "$(DEB_VERSION)" = "$(VERSION)" ] || \
		{ echo "deb: debian/changelog says $(DEB_VERSION), the Makefile $(VERSION)"; exit 1; }
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/sigflow-$(VERSION)
	tar -c --exclude=./build --exclude=./.git . | tar -x -C $(DEBDIR)/sigflow-$(VERSION)
	cd $(DEBDIR)/sigflow-$(VERSION) && dpkg-buildpackage -b -us -uc -j$(or $(JOBS),2)
	@ls $(DEBDIR)/*.deb

FORMAT_SRCS = $(wildcard core/*/*.[ch] sdk/*.h sdk/mock/*.[ch] sdk/examples/*/*.[ch] \
	plugins/*/*.[ch] tests/*/*.[ch] tests/plugins/fixtures/*.c)

format:
	clang-format -i $(FORMAT_SRCS)

# CI runs this: the tree must be as `make format` leaves it.
format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS)

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

endif

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then \
		[ -z "$(filter deps,$(MAKECMDGOALS))" ] || echo "deps: all packages installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing" $$missing; \
		apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 install -y -q $(APT_PKGS); \
	else \
		echo "deps: missing packages; as root run:"; \
		echo "  apt-get install -y" $$missing; exit 1; \
	fi

clean:
	rm -rf build
