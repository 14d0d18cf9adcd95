# socketio-actors: every target has a one-line comment; `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Install the npm packages from the lock file
	npm ci

build: ## Compile TypeScript to dist/
	npx tsc -p tsconfig.build.json

typecheck: ## Type-check everything (tsc --noEmit), and the typed-events augmentation spec in its own program
	npx tsc -p tsconfig.json --noEmit && npx tsc -p spec/types/augmentation/tsconfig.json

lint: ## typescript-eslint (type-checked rules), prettier --check and the layer rules (dependency-cruiser)
	npm run lint

test: ## Start the services the specs need, lint, type-check, build, then run every spec (the README's test command)
	npm test

test-props: build ## Run only the property-based (fast-check) specs on new, printed seeds; FC_RUNS=N raises the run count
	FC_RANDOM=1 npx mocha --no-config --timeout 120000 --exit 'dist/spec/**/*.props.spec.js'

bench: build bench-deps ## Benchmark the async modes (and peer servers) side by side; writes benchmarks/results/
	node dist/benchmarks/run.js

bench-quick: build ## The async modes with short windows (a smoke test, under 30 s)
	node dist/benchmarks/run.js --quick --schedulers

bench-peers-quick: build bench-deps ## The peer benchmark with short windows and fewer clients (about a minute)
	node dist/benchmarks/run.js --quick --peers

bench-peers: build bench-deps ## Only the peer benchmark: this server vs npm socket.io, raw ws and Flask-SocketIO, seven scenarios
	node dist/benchmarks/run.js --peers

bench-deps: ## Install Flask-SocketIO (with gevent) from Debian's packages for the peer benchmark, when missing and possible
	bash scripts/bench-deps.sh

run: build ## Run the demo chat server on port 5000 (event-loop mode, in-memory rooms)
	node dist/lib/cli.js run dist/examples/chat/app.js --port 5000

services: ## Start Redis and RabbitMQ on loopback if they are not running
	bash scripts/services.sh

bench-compare: build ## This tree against an earlier one (BASE=<git ref>), alternating rounds of the hot-path peer scenarios
	node dist/benchmarks/compare.js

bench-cpu: build ## Server CPU per fan-out delivery and per connect, this tree (or: node dist/benchmarks/server-cpu.js treeA treeB)
	node dist/benchmarks/server-cpu.js

bench-queue: build ## Cross-process broadcast throughput and room-aware routing over Redis and RabbitMQ
	node dist/benchmarks/queue.js

soak: build ## Hold 10,000 connections with random traffic (SOAK_SECONDS=60, SOAK_CONNECTIONS, SOAK_MODE)
	node dist/benchmarks/soak.js

SCALE_CLIENTS ?= 50000
bench-scale: build ## Hold SCALE_CLIENTS (50,000) idle clients on one process of this server, then socket.io's (not in CI)
	ulimit -n $$(( $(SCALE_CLIENTS) + 1000 )) 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	  SCALE_CLIENTS=$(SCALE_CLIENTS) node dist/benchmarks/scale.js

docs: ## Build the API reference (typedoc) into docs/api/
	npx typedoc

clean: ## Remove build output and test artifacts
	rm -rf dist coverage spec/artifacts docs/api

.PHONY: help setup build typecheck lint test test-props bench bench-compare bench-cpu bench-quick bench-peers bench-peers-quick bench-deps bench-queue bench-scale soak run services docs clean
