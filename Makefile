# Front door for the two README commands. `make run` runs the whole load test on this machine,
# `make test` runs the suite. Both install missing Debian packages and build first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DURATION_SEC ?= 60
CLIENTS ?= 20
# CI treats compiler warnings as errors; local builds only print them.
WERROR := $(if $(CI),ON,OFF)
HFT := $(BUILD_DIR)/src/cli/hft

.PHONY: all deps configure build run test bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DHFT_WERROR=$(WERROR) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) --parallel

# Builds only the executable, not the tests and benchmarks.
run: configure
	@cmake --build $(BUILD_DIR) --parallel --target hft
	$(HFT) run --clients $(CLIENTS) --duration $(DURATION_SEC)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 900

bench: build
	@scripts/bench.sh

clean:
	rm -rf $(BUILD_DIR)
