# netpol: the two commands a newcomer needs are `make demo` and `make test`.
SWIFT     ?= swift
NETPOL    := .build/debug/netpol
# tool:package pairs: the kernel packet filter, network namespaces, the test API
# server's certificates (openssl), the demo's look at the agent's endpoints (curl),
# and the headless browser the HTML report is tested in (chromium, driven from python3).
SYSTEM_TOOLS := nft:nftables iptables:iptables ipset:ipset ip:iproute2 openssl:openssl curl:curl chromium:chromium python3:python3 pip3:python3-pip

.PHONY: all deps build test demo bench fuzz clean

all: build

## deps: install the system packages netpol drives and its tests use, and Playwright (PyPI), when missing (needs root).
deps:
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is required: https://www.swift.org/install/"; exit 1; }
	@missing=""; \
	for pair in $(SYSTEM_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "netpol: missing packages:$$missing (run 'make deps' as root to install them)"; exit 0; fi; \
	echo "Installing:$$missing"; \
	DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing
	@python3 -c 'import playwright.sync_api' 2>/dev/null && exit 0; \
	if [ "$$(id -u)" != 0 ]; then echo "netpol: Playwright for python3 is missing (run 'make deps' as root to install it from PyPI)"; exit 0; fi; \
	echo "Installing: playwright (PyPI; it drives the system chromium, no browser download)"; \
	python3 -m pip install -q playwright || python3 -m pip install -q --break-system-packages playwright

## build: compile the netpol command (debug).
build:
	$(SWIFT) build --product netpol

## test: every test (unit, decoding, hostile input, fuzz, kernel, CLI), then the lab suites.
# The lab suites build network namespaces and probe them with blocking sockets for
# minutes; run beside the rest, they hold Swift's shared threads and every other
# result arrives at the end. Run after the rest, each part reports as it goes.
LAB_SUITES := NetpolLabTests|AgentLabTests|AgentKillTests|FilesSourceTests|PodLifecycleLabTests
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '$(LAB_SUITES)'
	$(SWIFT) test --skip-build --filter '$(LAB_SUITES)'

## demo: the lab on the bundled demo: real namespaces, real nftables rules, real probes (needs root; uses sudo otherwise).
LAB_EXAMPLE ?= examples/lab
demo: deps build
	@echo "== netpol validate -f $(LAB_EXAMPLE)"
	@$(NETPOL) validate -f $(LAB_EXAMPLE)
	@echo
	@echo "== netpol lab -f $(LAB_EXAMPLE) --port http   (the kernel's real matrix beside the engine's)"
	@if [ "$$(id -u)" = 0 ]; then $(NETPOL) lab -f $(LAB_EXAMPLE) --port http; \
	 elif command -v sudo >/dev/null; then sudo $(NETPOL) lab -f $(LAB_EXAMPLE) --port http; \
	 else echo "netpol lab needs root: run 'make demo' as root"; exit 2; fi
	@echo
	@echo "== netpol explain -f $(LAB_EXAMPLE) --from clients/client --to shop/api --port http"
	@$(NETPOL) explain -f $(LAB_EXAMPLE) --from clients/client --to shop/api --port http
	@echo
	@echo "== netpol agent --node node-a --source files:$(LAB_EXAMPLE) --netns netpol-demo-agent   (a few seconds, then SIGTERM)"
	@if [ "$$(id -u)" = 0 ]; then sh scripts/demo-agent.sh $(NETPOL) $(LAB_EXAMPLE); \
	 elif command -v sudo >/dev/null; then sudo sh scripts/demo-agent.sh $(NETPOL) $(LAB_EXAMPLE); \
	 else echo "netpol agent needs root: run 'make demo' as root"; exit 2; fi

## bench: netpol-bench, the benchmark suite, in a release build (kernel parts need root): every size, manifest decoding, the datapath, then the agent.
BENCH_SIZES ?= S M L XL
bench: deps
	$(SWIFT) build -c release --product netpol-bench
	$(SWIFT) build -c release --product netpol
	@for size in $(BENCH_SIZES); do .build/release/netpol-bench --size $$size || exit 1; echo; done
	.build/release/netpol-bench --decode --size L --runs 5
	.build/release/netpol-bench --datapath
	.build/release/netpol-bench --agent --size M
	.build/release/netpol-bench --agent --size L --changes 200

## fuzz: run the decoder fuzz test longer, e.g. make fuzz FUZZ_ITERATIONS=200000
FUZZ_ITERATIONS ?= 50000
fuzz:
	NETPOL_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) $(SWIFT) test --filter DecoderFuzzTests

clean:
	rm -rf .build
