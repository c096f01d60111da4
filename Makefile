# Thin wrapper over CMake. `make run ARGS="tree"`, `make test`.
BUILD     ?= build
SAN_BUILD ?= build-san
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10

MAKEFLAGS += --no-print-directory

.PHONY: all deps deps-test deps-bench deb configure build lineage run install test unit sanitize sanitize-build fuzz bench clean

all: build

# Per purpose (scripts/deps.sh): what building and running need, what the
# tests need on top, what the benchmarks need on top.
deps:
	@bash scripts/deps.sh build

deps-test:
	@bash scripts/deps.sh test

deps-bench:
	@bash scripts/deps.sh bench

# -g1 (line tables, no type information): backtraces and perf keep file and
# line; full -g made every compile about a fifth slower, and the package is
# stripped anyway. UNIT=OFF leaves the unit tests out of this build (`make
# test` runs them in the sanitizer build).
UNIT ?= ON
configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINEAGE_WERROR=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
	  -DLINEAGE_UNIT_TESTS=$(UNIT) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the binary (no tests): what `make run` needs.
lineage: configure
	@cmake --build $(BUILD) -j $(JOBS) --target lineage

# Exit 1 means "ok, with warnings" (see README), not a failure.
run: lineage
	@./$(BUILD)/lineage $(ARGS) || [ $$? -eq 1 ]

# The binary, man page, completions and the lineage-record unit (installed,
# not enabled) under CMAKE_INSTALL_PREFIX (default /usr/local). Staging:
# `make install DESTDIR=/tmp/stage`.
install: build
	cmake --install $(BUILD)

# lineage_<version>_<arch>.deb (CPack's DEB generator, cmake/Package.cmake):
# the binary, man page, completions and the recorder's unit under /usr.
deb: build
	@cd $(BUILD) && cpack -G DEB >/dev/null && ls $(CURDIR)/$(BUILD)/lineage_*.deb

# The whole suite, each test once. First the release binary alone and the
# tests that are about it or mostly wait (labels release-only: the package,
# the JSON schemas, kill and top on real trees; cron-wait: cron's minute
# tick), while the sanitizer build compiles beside them (those tests mostly
# wait for cron, the compiler wants the CPU); then everything else, unit and
# integration tests, under ASan+UBSan (clang); then every fuzz target for
# FUZZ_SECONDS each. The Debian roots of the package test and of the
# systemd test are made in the background meanwhile (scripts/test-root.sh;
# it waits on the network).
test: deps-test
	@(bash scripts/test-root.sh >/dev/null 2>&1 &)
	@(bash scripts/test-root.sh systemd >/dev/null 2>&1 &)
	@$(MAKE) lineage UNIT=OFF
	@mkdir -p $(SAN_BUILD)
	@echo "compiling the sanitizer build meanwhile (log: $(SAN_BUILD)/compile.log)"
	@$(MAKE) sanitize-build >$(SAN_BUILD)/compile.log 2>&1 & compiling=$$!; \
	  ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L 'release-only|cron-wait'; tests=$$?; \
	  wait $$compiling; compiled=$$?; \
	  if [ $$compiled -ne 0 ]; then tail -n 60 $(SAN_BUILD)/compile.log; echo "the sanitizer build failed"; fi; \
	  [ $$tests -eq 0 ] && [ $$compiled -eq 0 ]
	$(MAKE) sanitize fuzz

# The sanitizer build (clang, ASan+UBSan, the fuzz targets) in build-san/.
# Linked -no-pie: the fuzzers' coverage tables (every library is built with
# -fsanitize=fuzzer-no-link) hold a pointer per basic block, which in a PIE
# is a relocation the loader applies at every start: 0.35 s of each of the
# thousands of lineage runs the tests make, 0.20 s without.
sanitize-build: deps-test
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DLINEAGE_WERROR=ON -DLINEAGE_ASAN=ON -DLINEAGE_UBSAN=ON \
	  -DLINEAGE_FUZZ=ON -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only \
	  -DCMAKE_EXE_LINKER_FLAGS=-no-pie -DLINEAGE_BENCH=OFF >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)

sanitize: sanitize-build
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS) -LE 'cron-wait|release-only'

fuzz: sanitize
	bash scripts/fuzz.sh $(SAN_BUILD) $(FUZZ_SECONDS)

bench: deps-bench build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
