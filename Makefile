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

.PHONY: all setup configure build run test test-unit sanitize fuzz bench package clean

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

# Every test again under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer, in a
# build directory of its own (a cold build of its own too: about 30 minutes on two cores), so it
# is not part of `make test`. UBSan's vptr check is off: it needs the typeinfo of SOCI's backend
# classes, which Debian's SOCI libraries do not export.
SANITIZE_DIR ?= build-sanitize
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=vptr \
  -fno-sanitize-recover=undefined
sanitize: setup
	@if [ ! -f $(SANITIZE_DIR)/build.ninja ]; then \
	  cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_FLAGS="$(SANITIZE_FLAGS)" -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" \
	    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
	    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"; fi
	@cmake --build $(SANITIZE_DIR) -j $(JOBS)
	@cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure --timeout 1800 -j $(JOBS)

# libFuzzer over the parsers of client input (filters, REST bodies, cron, quantities, ...), for
# FUZZ_SECONDS (300); scripts/fuzz.sh installs clang on first use.
fuzz: build
	@bash scripts/fuzz.sh $(BUILD_DIR)

# The Debian package (server, default plugins, plugin SDK, /etc config, systemd unit) in
# $(BUILD_DIR)/packages; docs/packaging.md describes it.
package: build
	@cpack -G DEB --config $(BUILD_DIR)/CPackConfig.cmake -B $(BUILD_DIR)/packages

bench: build
	@bash bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
