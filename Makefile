# netpol: the two commands a newcomer needs are `make demo` and `make test`.
SWIFT     ?= swift
NETPOL    := .build/debug/netpol
# tool:package pairs for the kernel packet filter and network namespaces.
SYSTEM_TOOLS := nft:nftables iptables:iptables ipset:ipset ip:iproute2

.PHONY: all deps build test demo fuzz clean

all: build

## deps: install the system packages netpol drives, when missing (needs root).
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

## build: compile the netpol command (debug).
build:
	$(SWIFT) build --product netpol

## test: every test (unit, decoding, hostile input, fuzz, CLI).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## demo: validate the bundled examples, show the app's matrix and one explanation, then the broken policies.
demo: deps build
	@echo "== netpol validate -f examples/three-tier"
	@$(NETPOL) validate -f examples/three-tier
	@echo
	@echo "== netpol matrix -f examples/three-tier --port http"
	@$(NETPOL) matrix -f examples/three-tier --port http
	@echo
	@echo "== netpol explain -f examples/three-tier --from shop/web --to shop/db --port postgres"
	@$(NETPOL) explain -f examples/three-tier --from shop/web --to shop/db --port postgres
	@echo
	@echo "== netpol validate -f examples/invalid   (broken on purpose)"
	@$(NETPOL) validate -f examples/invalid; status=$$?; \
	  echo "(exit status $$status: 1 means invalid objects, 2 means input that does not even decode)"

## fuzz: run the decoder fuzz test longer, e.g. make fuzz FUZZ_ITERATIONS=200000
FUZZ_ITERATIONS ?= 50000
fuzz:
	NETPOL_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) $(SWIFT) test --filter DecoderFuzzTests

clean:
	rm -rf .build
