# nlkit: `make test` runs every test tier on a fresh machine, installing
# what it needs; `make run` lists interfaces (the main job).
GO ?= go

.PHONY: all run build deps vet test unit fuzz bench clean

all: build

run:
	$(GO) run ./cmd/nlkit link

build:
	$(GO) build ./...

deps:
	./scripts/install-deps.sh
	$(GO) mod download

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=darwin $(GO) build ./netlink/... ./nltest/... ./rtnl/...

# Tier 1 (unit, fake kernel), tier 2 (real kernel, in throwaway network
# namespaces; needs root) and tier 3 (kernel module in a QEMU VM), with the
# race detector; then every fuzz target briefly.
test: deps vet
	$(GO) test -race -count=1 -timeout 15m ./...
	./scripts/fuzz.sh

unit:
	$(GO) test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh

# Route benchmark (issue 5, see BENCHMARKS.md): nlkit against
# vishvananda/netlink, jsimonetti/rtnetlink, iproute2 and a C program on
# libmnl, in a fresh network namespace. Needs root, cc and libmnl-dev
# (installed here if missing); takes several minutes, so it is not part of
# `make test`. Writes bench/results.json and prints the tables.
# BENCHFLAGS passes options, e.g. BENCHFLAGS='-sizes 100000 -runs 1'.
bench:
	@test -f /usr/include/libmnl/libmnl.h || { apt-get update -qq && apt-get install -y -qq libmnl-dev; }
	cd bench && $(GO) run ./route -out results.json $(BENCHFLAGS)
