# linecompress: the whole flow from one place. `make help` lists the targets.
CARGO ?= cargo
BIN := target/release/linecompress

.PHONY: help setup build demo test lint fmt bench fuzz models rtl synth fpga clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: ## install system packages (verilator, yosys, nextpnr, fashion-mnist)
	./scripts/setup.sh

build: ## build the CLI (release)
	$(CARGO) build --release

demo: setup build ## the main job on the built-in default model
	$(BIN) demo

test: setup ## every test of the workspace
	$(CARGO) test --workspace --release

lint: setup ## formatting and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

bench: ## codec throughput against zstd (criterion)
	$(CARGO) bench -p lc-sw --bench codec

fuzz: ## fuzz the decoder for FUZZ_SECONDS each target (needs `cargo install cargo-fuzz`)
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O container -- -max_total_time=$${FUZZ_SECONDS:-600} -max_len=16384
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O lane -- -max_total_time=$${FUZZ_SECONDS:-600}

rtl: build ## emit the 4-lane decompressor Verilog into out/rtl
	$(BIN) rtl --lanes 4 --out out/rtl

synth: setup build ## Yosys synth_ice40 + nextpnr-ice40: 4-lane decompressor and accelerator (HX8K), QSPI reader (UP5K); out/synth
	$(BIN) synth --design decompressor --lanes 4 --target hx8k --out out/synth
	$(BIN) synth --design accel --lanes 4 --target hx8k --out out/synth/accel
	$(BIN) synth --design qspi --target up5k --out out/synth/qspi

fpga: setup build ## the UP5K accelerator on the iCEBreaker: place and route, pcf and bitstream in out/fpga
	$(BIN) synth --design accel --target up5k --out out/fpga

models: ## fetch pretrained ONNX models into ~/.cache/linecompress
	./models/fetch.sh

clean:
	$(CARGO) clean
