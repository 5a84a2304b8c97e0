# hermes: the two commands a newcomer needs are `make demo` and `make test`
# (see README.md). Everything here runs with nothing but Go installed; the
# targets that need an init system's tools install them.

SHELL       := /bin/bash
GO          ?= go
BUF_VERSION := v1.75.0
BUF         := $(GO) run github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
PROTO_DIR   := shared/proto

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# FAULT_USER is the unprivileged account of the fault suite
# (internal/faultsuite.ServiceUser).
FAULT_USER  := hermes-fault

WINEPREFIX_DIR ?= $(CURDIR)/.wine

.PHONY: all build demo deps test vet fmt-check unit fault container systemd-tier example wine-test release-test dist proto proto-check bench

all: build

# build puts the host and this machine's plugins into ./bin, where the host
# finds the plugins beside itself, exactly as the release builds and
# packages them (release.BuildInto: static, stripped, each plugin with its
# .sha256), so that what is demonstrated and measured is what ships.
build:
	@rm -rf bin
	cd release && $(GO) run ./cmd/dist -bin $(CURDIR)/bin -version $(VERSION)

# demo is the README's main command: a gateway kept alive across a
# container restart on a private s6 tree.
demo:
	bash scripts/demo.sh

# test is what CI runs: formatting, vet on every OS we ship for, the race-
# enabled unit and integration tests, and proof that the committed generated
# code is what the pinned generators produce.
test: deps fmt-check vet proto-check demo wine-test release-test unit fault systemd-tier container example

# deps installs what the tests run for real, from Debian's packages when
# missing: s6 (s6-svscan and its tools), systemd (for systemd-analyze
# verify; installing the package starts no manager) and python3 (plistlib
# reads every plist the launchd backend writes).
deps:
	@missing=""; \
	command -v s6-svscan >/dev/null 2>&1 || missing="$$missing s6"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian's$$missing for the backends' tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# runit for examples/runit: without its recommends, which would make it the init system.
	@command -v runsvdir >/dev/null 2>&1 || { echo "installing Debian's runit (no runit-init) for examples/runit"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends runit >/dev/null; }
	@id -u $(FAULT_USER) >/dev/null 2>&1 || { echo "adding the account $(FAULT_USER) for the fault suite"; \
		$(SUDO) useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $(FAULT_USER); }

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	GOOS=linux   $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin  $(GO) vet ./...
	GOOS=windows $(GO) build ./...
	GOOS=darwin  $(GO) build ./...
	cd release && $(GO) vet ./...

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /internal/faultsuite -e /internal/containertier -e /internal/systemdtier -e /internal/examplerunit)

# fault runs the privilege-boundary fault suite: hermes as root beside the
# unprivileged $(FAULT_USER). The test binary is built as the caller and
# run as root; it prints how many distinct cases passed.
fault: deps
	@tmp="$$(mktemp -d)"; chmod 755 "$$tmp"; \
	$(GO) test -race -c -o "$$tmp/fault.test" ./internal/faultsuite || exit 1; \
	cd internal/faultsuite && $(SUDO) env PATH="$$PATH" GOFLAGS="$$GOFLAGS" "$$tmp/fault.test" -test.count=1 -test.v > "$$tmp/out" 2>&1; \
	status=$$?; grep -v '^=== RUN' "$$tmp/out" | grep -E '^(--- |    --- |FAIL|ok|PASS)|_test.go' | grep -v -- '--- PASS' ; \
	echo "fault suite: $$(grep -cE '^ +--- PASS' "$$tmp/out") cases passed, $$(grep -cE '^ +--- FAIL' "$$tmp/out") failed"; \
	rm -rf "$$tmp"; exit $$status

# container runs the container tier: hermes in containers laid out like
# upstream's image, s6-svscan their PID 1 (scripts/container.sh, no Docker),
# restarted in every docker stop form. Built as the caller, run as root like
# fault; it prints its cases and its wall time.
container: deps
	@tmp="$$(mktemp -d)"; chmod 755 "$$tmp"; \
	$(GO) test -race -c -o "$$tmp/container.test" ./internal/containertier || exit 1; \
	start=$$(date +%s.%N); \
	cd internal/containertier && $(SUDO) env PATH="$$PATH" GOFLAGS="$$GOFLAGS" "$$tmp/container.test" -test.count=1 -test.v -test.timeout 10m \
		-test.bench BenchmarkReconcileThousand -test.benchtime 5x > "$$tmp/out" 2>&1; \
	status=$$?; took=$$(awk -v s="$$start" -v e="$$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'); \
	grep -v '^=== RUN' "$$tmp/out" | grep -E '^(--- |    --- |FAIL|ok|PASS|panic|Benchmark)|_test.go' | grep -v -- '--- PASS' ; \
	echo "container tier: $$(grep -cE -- '--- PASS' "$$tmp/out") tests and cases passed, $$(grep -cE -- '--- FAIL' "$$tmp/out") failed, in $$took s"; \
	rm -rf "$$tmp"; exit $$status

# systemd-tier runs the systemd tier: real systemd 252 as PID 1 under
# systemd-nspawn (scripts/nspawn.sh: contained in cgroups and namespaces of
# its own; nspawn and a Debian tree fetched once into
# /var/cache/hermes-test/systemd), hybrid and cgroup2, with reboots. Built
# as the caller, run as root; it prints its cases, the status benchmark
# and its wall time. It fails, never skips, when it cannot run.
systemd-tier: deps
	@tmp="$$(mktemp -d)"; chmod 755 "$$tmp"; \
	$(GO) test -c -o "$$tmp/systemd.test" ./internal/systemdtier || exit 1; \
	start=$$(date +%s.%N); \
	cd internal/systemdtier && $(SUDO) env PATH="$$PATH" GOFLAGS="$$GOFLAGS" "$$tmp/systemd.test" -test.count=1 -test.v -test.timeout 10m > "$$tmp/out" 2>&1; \
	status=$$?; took=$$(awk -v s="$$start" -v e="$$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'); \
	grep -v '^=== RUN' "$$tmp/out" | grep -E '^(--- |    --- |FAIL|ok|PASS|panic|status cost)|_test.go' | grep -v -- '--- PASS' ; \
	echo "systemd tier: $$(grep -cE -- '--- PASS' "$$tmp/out") tests and cases passed, $$(grep -cE -- '--- FAIL' "$$tmp/out") failed, in $$took s"; \
	rm -rf "$$tmp"; exit $$status

# example runs examples/runit, the out-of-tree backend in a module of its
# own, through the conformance kit's lifecycle tier on a private runsvdir
# (from Go: plugintest.Run), then proves the tier catches a broken stop: a
# copy of it whose stop writes no planned-stop marker must fail it (through
# the CLI: hermes gateway plugins check --lifecycle). It prints its time.
example: deps
	@start=$$(date +%s.%N); \
	(cd examples/runit && $(GO) vet ./... && $(GO) test -race -count=1 ./...) && \
	$(GO) test -count=1 ./internal/examplerunit; status=$$?; \
	echo "example tier: $$(awk -v s="$$start" -v e="$$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s, examples/runit is $$(cat $$(ls examples/runit/*.go examples/runit/cmd/*/*.go | grep -v _test.go) | grep -cvE '^[[:space:]]*(//|$$)') lines of code"; \
	exit $$status

# wine-test runs the Windows backend against a real Service Control Manager,
# Wine's, through hermes.exe: scripts/wine-setup.sh installs Wine and MinGW
# from Debian's packages when missing and prepares the prefix, the Windows
# binaries are built into it (C:\hermes-test-bin), every test of
# plugins/windows runs under wine, and Wine's background processes are
# stopped at the end, pass or fail. A tier that cannot run fails make test.
wine-test:
	@bash scripts/wine-setup.sh $(WINEPREFIX_DIR) >/dev/null || { echo "wine-test: FAILED: Wine could not be set up (scripts/wine-setup.sh)"; exit 1; }; \
	export WINEPREFIX=$(WINEPREFIX_DIR) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="; \
	timeout 180 wineserver -w || true; \
	bin=$(WINEPREFIX_DIR)/drive_c/hermes-test-bin; rm -rf "$$bin" && mkdir -p "$$bin" || exit 1; \
	GOOS=windows $(GO) build -o "$$bin/" ./cmd/hermes ./plugins/windows/cmd/hermes-service-windows \
		./internal/testgateway/cmd/hermes-test-gateway ./internal/upstreamgateway/cmd/hermes-upstream-gateway || exit 1; \
	out="$$(mktemp)"; start=$$(date +%s.%N); \
	HERMES_WIN_TEST_BIN='C:\hermes-test-bin' GOOS=windows timeout 600 $(GO) test -exec wine -count=1 -v ./plugins/windows/ > "$$out" 2>&1; \
	status=$$?; took=$$(awk -v s="$$start" -v e="$$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'); \
	wineserver -k 2>/dev/null; \
	grep -v '^=== RUN' "$$out" | grep -E '^(--- |    --- |FAIL|ok|PASS|panic)|_test.go' | grep -v -e '--- PASS' -e 'CommandLineRoundTrip/'; \
	passed=$$(grep -cE -- '^--- PASS' "$$out"); skipped=$$(grep -cE -- '--- SKIP' "$$out"); rm -f "$$out"; \
	echo "wine tier: $$passed tests passed, $$skipped skipped, in $$took s"; \
	if [ "$$skipped" != 0 ] || [ "$$passed" = 0 ]; then echo "wine-test: FAILED: every Wine test must run"; exit 1; fi; \
	exit $$status

# dist builds the release into ./dist: binaries for linux, darwin and
# windows (amd64, arm64 where they run), archives, deb/rpm/apk packages,
# per-plugin checksums and a top-level SHA256SUMS. Same commit, same bytes.
dist:
	rm -rf dist
	cd release && $(GO) run ./cmd/dist -out ../dist -version $(VERSION)

# release-test builds linux/amd64 twice and checks it: identical bytes,
# package metadata, an unpacked hermes that verifies its plugin.
release-test:
	cd release && $(GO) test -count=1 ./...

# proto regenerates the wire code from shared/proto with pinned generators.
proto:
	cd $(PROTO_DIR) && $(BUF) generate . --template buf.gen.yaml -o .

# proto-check regenerates into a scratch folder and fails on any difference.
proto-check:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	(cd $(PROTO_DIR) && $(BUF) lint && $(BUF) generate . --template buf.gen.yaml -o "$$tmp") || exit 1; \
	for f in $$(cd "$$tmp" && find . -name '*.go'); do \
		diff -u "$(PROTO_DIR)/$$f" "$$tmp/$$f" || { echo "$(PROTO_DIR)/$$f is stale: run make proto"; exit 1; }; \
	done; echo "proto-check: generated code is current"

# bench measures the plugin launch and call costs, and whole CLI commands
# beside a Go hello-world, side by side in one run. GNU time reads peak RSS.
bench:
	@command -v /usr/bin/time >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq time; }
	@# Issue 21's targets, against the pluginfloor pair (a minimal go-plugin gRPC host and plugin, built
	@# from internal/pluginfloor as the release builds hermes), side by side on real s6: one "bench:" line each.
	set -o pipefail; $(GO) test -run '^$$' -bench 'BenchmarkStatusFloor|BenchmarkStatusAll' -benchtime 100x ./plugins/s6/ | tee .bench-out
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 5 ./shared/plugin/
	$(GO) test -run '^$$' -bench BenchmarkCLI -benchtime 200x -count 3 ./host/
	$(GO) test -run '^$$' -bench 'BenchmarkStatusVsSvstat|BenchmarkThousandSlots' -benchtime 20x -count 3 ./plugins/s6/
	@# A command passed to the Hermes CLI, against calling it directly (target: at most 2 ms more),
	@# with hermes built as the release builds it: static (no dynamic loader at start), stripped.
	@tmp="$$(mktemp -d)"; (cd release && $(GO) run ./cmd/dist -bin "$$tmp" -version bench >/dev/null) && \
	HERMES_BENCH_HERMES="$$tmp/hermes" $(GO) test -run '^$$' -bench PassThrough -benchtime 300x -count 3 ./internal/fakeupstream/; \
	status=$$?; rm -rf "$$tmp"; echo "== issue 21's targets (plugins/s6/floor_bench_test.go)"; grep '^bench:' .bench-out; rm -f .bench-out; exit $$status
