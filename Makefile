# The two commands: `make run` (set up, build, serve on the embedded defaults) and `make test`
# (set up, build, every test). Everything the project needs is installed by scripts/setup.sh.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CONFIG ?=

# ccache: cache outside the clone (ccache's default, ~/.cache/ccache), keyed on paths relative
# to the clone so every clone of the repository shares hits.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := include_file_mtime,include_file_ctime,time_macros,pch_defines

.PHONY: all setup configure build run test test-unit bench package clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE); fi

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/bin/flyteadmin $(if $(CONFIG),--config $(CONFIG)) serve

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j $(JOBS)

test-unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L unit -j $(JOBS)

# The Debian package (server, default plugins, plugin SDK, /etc config, systemd unit) in
# $(BUILD_DIR)/packages; docs/packaging.md describes it.
package: build
	@cpack -G DEB --config $(BUILD_DIR)/CPackConfig.cmake -B $(BUILD_DIR)/packages

bench: build
	@bash bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
