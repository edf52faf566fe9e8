# The two commands of lauekit (see README.md):
#   make serve   — set up what is missing, build the optimised wasm package into pkg/, serve the page
#   make test    — set up what is missing, then every check CI runs
# Both work as root on a fresh Debian machine and skip what is already installed.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Builds live outside the clone when possible so that later runs (and CI on the same machine) are incremental.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/lauekit/target
export CARGO_TERM_COLOR ?= never
PORT ?= 8080
WASM_TARGET := wasm32-unknown-unknown
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p;}' Cargo.lock)
CHROMEDRIVER ?= /usr/bin/chromedriver
CHROMIUM ?= /usr/bin/chromium
export WASM_BINDGEN_TEST_TIMEOUT ?= 600

.PHONY: site site-check help setup setup-rust setup-browser setup-node serve pkg pkg-dev test fmt clippy typecheck test-native test-scan test-web e2e cuda-check bench bench-page-train

help:
	@echo "make serve   build everything and serve the page at http://127.0.0.1:$(PORT)/www/index.html"
	@echo "make test    run every check (fmt, clippy native+wasm32, native tests, browser tests, e2e, CUDA check)"
	@echo "make bench   simulation speed next to LaueTools (needs ../shared/tools/lauetools)"

setup: setup-rust setup-browser setup-node

setup-rust:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 10 minutes, once per machine)"; \
	  cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --locked \
	  || cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)"; \
	fi
	@# (--locked can fail when a crate the CLI's lockfile names is not in the registry mirror; then resolve anew.)

setup-browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	  echo "installing chromium and chromium-driver from apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

setup-node:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	@[ -d node_modules/playwright-core ] && [ -d node_modules/binaryen ] && [ -d node_modules/typescript ] || npm ci --no-audit --no-fund --loglevel=error

# The page's wasm packages: pkg/ (the CPU build every view starts with) and pkg/gpu/ (burn's WebGPU backend, two
# thirds of the code: loaded on demand by the worker that runs a network on the GPU). Each build's wasm is also kept
# as $(WASM_KEEP)/<profile>-{cpu,gpu}.wasm for `make site`.
WASM_KEEP := $(CARGO_TARGET_DIR)/page-wasm
define build_page_pkg
	cargo build $(1) --target $(WASM_TARGET) --lib
	@mkdir -p $(WASM_KEEP) && cp $(CARGO_TARGET_DIR)/$(WASM_TARGET)/$(2)/lauekit.wasm $(WASM_KEEP)/$(2)-cpu.wasm
	wasm-bindgen --target web --out-dir pkg --out-name lauekit $(WASM_KEEP)/$(2)-cpu.wasm
	cargo build $(1) --target $(WASM_TARGET) --lib --features webgpu
	@cp $(CARGO_TARGET_DIR)/$(WASM_TARGET)/$(2)/lauekit.wasm $(WASM_KEEP)/$(2)-gpu.wasm
	wasm-bindgen --target web --out-dir pkg/gpu --out-name lauekit $(WASM_KEEP)/$(2)-gpu.wasm
	@ls -l pkg/lauekit_bg.wasm pkg/gpu/lauekit_bg.wasm
endef

# Optimised packages for the page (what `serve` uses).
pkg: setup-rust
	$(call build_page_pkg,--release,release)

# Quick packages for the end-to-end test: share the dev-profile build of the browser tests.
pkg-dev: setup-rust
	$(call build_page_pkg,,debug)

# The static site for GitHub Pages (.github/workflows/pages.yml runs this): site/ with index.html at its root,
# the wasm package without debug names, a service worker for offline use. See scripts/make-site.sh.
site: pkg setup-node
	bash scripts/make-site.sh $(WASM_KEEP)/release-cpu.wasm $(WASM_KEEP)/release-gpu.wasm site

serve: setup pkg
	@echo "lauekit: open http://127.0.0.1:$(PORT)/www/index.html  (Ctrl-C to stop)"
	python3 -m http.server $(PORT) --bind 127.0.0.1

test: setup fmt clippy typecheck test-native test-scan test-web e2e cuda-check
	@echo "make test: every check passed"

fmt:
	cargo fmt --check

clippy:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) --all-targets --features webgpu -- -D warnings

# The page's JavaScript against its JSDoc types and wasm-bindgen's declarations of the package (pkg/*.d.ts, written
# by `make pkg-dev`, which this builds first), TypeScript pinned in package.json: the page's modules (tsconfig.json,
# a window's scope), then its workers and service worker (tsconfig.worker.json, a worker's scope).
typecheck: pkg-dev setup-node
	node_modules/.bin/tsc -p tsconfig.json
	node_modules/.bin/tsc -p tsconfig.worker.json

test-native:
	cargo test

# Scans beyond the Rust tests (with the CLI that test-native built): the HDF5 read by h5py and the .ctf by orix
# (a venv made once),
# and a real single-node SLURM (Debian's slurm-wlm + munge, started and stopped here) running a scan as a
# 4-task job array whose merged file must equal the single-machine run's.
test-scan:
	cargo build --bin lauekit
	bash tests/interop.sh $(CARGO_TARGET_DIR)/debug/lauekit
	bash tests/slurm/run.sh $(CARGO_TARGET_DIR)/debug/lauekit

# Browser tests in headless Chromium, twice: with WebGPU (webdriver.json) and without it (CPU fallback).
# --nocapture prints what the tests log (wasm vs native differences, the peak-search time).
# The readers' bad-input cases (tests/web_readers.rs) need no GPU: they run once, with the first.
test-web:
	CHROMEDRIVER=$(CHROMEDRIVER) LAUEKIT_EXPECT_WEBGPU=1 \
	  cargo test --target $(WASM_TARGET) --features webgpu --test web --test web_readers -- --nocapture
	CHROMEDRIVER=$(CHROMEDRIVER) LAUEKIT_EXPECT_WEBGPU=0 WASM_BINDGEN_TEST_WEBDRIVER_JSON=tests/webdriver-no-webgpu.json \
	  cargo test --target $(WASM_TARGET) --features webgpu --test web -- --nocapture

# The page in headless Chromium: the simulator view, then the images & peaks view (its peaks and its indexing are
# compared with the native golden files tests/data/golden/peaks/Ge_blanc.json and tests/data/golden/index/Ge_blanc.json),
# then the scan view (the example scan against tests/data/golden/scan/example.json).
# Screenshots in target/e2e/.
e2e: pkg-dev setup-node
	CHROMIUM=$(CHROMIUM) node tests/e2e/simulator.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/peaks.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/perimage.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/memory.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/a11y.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/keyboard-sim.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/explained.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/calibrate.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/materials.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/scan.e2e.mjs
	CHROMIUM=$(CHROMIUM) node tests/e2e/cluster.e2e.mjs
	bash scripts/make-site.sh $(WASM_KEEP)/debug-cpu.wasm $(WASM_KEEP)/debug-gpu.wasm $(CARGO_TARGET_DIR)/site-dev
	CHROMIUM=$(CHROMIUM) node tests/e2e/site.e2e.mjs $(CARGO_TARGET_DIR)/site-dev

# The published artifact itself (release build, `make site`) through the same site test: sizes and load times.
site-check: site setup-node
	CHROMIUM=$(CHROMIUM) node tests/e2e/site.e2e.mjs site

# The CUDA path must keep compiling; DOCS_RS skips cubecl's LLVM bundle download (see ../shared/design/TOOLCHAIN.md).
cuda-check:
	DOCS_RS=1 cargo check --features cuda

# LaueTools 3.2.19's own readers (IOLaueTools) on the .dat, .cor, .fit (two grains) and .det lauekit writes, in
# the venv of ../shared/tools/lauetools (built on first use: minutes, so not in `make test`).
test-lauetools:
	cargo build --bin lauekit
	bash tests/lauetools/readback.sh $(CARGO_TARGET_DIR)/debug/lauekit

bench:
	bash scripts/bench-simulate.sh

# Training a LaueNN Cu model in the page (headless Chromium, the page's defaults): minutes, so not in `make test`.
bench-page-train: pkg setup-node
	CHROMIUM=$(CHROMIUM) node tests/e2e/train-bench.mjs Cu
