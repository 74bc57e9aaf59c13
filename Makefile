# Coflux: build, demo, test and benchmark. Bun is pinned and installed when absent.
BUN_VERSION := 1.4.5
SHELL := /bin/bash
BUN := $(shell command -v bun 2>/dev/null)

.PHONY: all bun deps build check test demo bench image clean

all: build

# Installs the pinned Bun through npm when it is missing or a different version.
bun:
	@if ! command -v bun >/dev/null 2>&1 || [ "$$(bun --version)" != "$(BUN_VERSION)" ]; then \
		echo "installing bun@$(BUN_VERSION) with npm" >&2; \
		npm install -g --silent bun@$(BUN_VERSION) >&2; \
	fi

deps: bun
	@bun install --frozen-lockfile >&2

build: deps
	@bun scripts/build.ts

check: deps
	@bun check

test: build
	@bash scripts/test-setup.sh
	@bash scripts/test.sh

demo: build
	@bash scripts/demo.sh

# make bench BENCH_ARGS="--quick --json --store postgres": figures and ratios to the fork floor for SQLite and PostgreSQL stores (--store, default both) and the failover time (scripts/bench.ts)
bench: build
	@bun scripts/bench.ts $(BENCH_ARGS)

# make image IMAGE=coflux:dev: the server image, built offline from dist/coflux (Dockerfile, scripts/image.ts)
IMAGE ?= coflux:latest
image: build
	@bun scripts/image.ts --tag $(IMAGE)

clean:
	rm -rf dist
