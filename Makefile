# tern: the two commands a newcomer needs are `make run` and `make test`.
# Every target installs missing Debian packages first (scripts/install-deps):
# a plain `make` (build) only the compiler, CMake and cmocka; the others the
# full list (libslirp for make run, the test and analysis tools).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FW_BUILD   ?= build-fw
# The board for board, run-board and bench (ports/BOARD): mps2-an500
# (Cortex-M7, 320 KB) or lm3s6965evb (Cortex-M3, 64 KB).
BOARD ?= mps2-an500
ifeq ($(BOARD),mps2-an500)
BOARD_BUILD ?= build-board
BOARD_TOOLCHAIN = cmake/arm-none-eabi.cmake
else
BOARD_BUILD ?= build-board-$(BOARD)
BOARD_TOOLCHAIN = cmake/arm-none-eabi-m3.cmake
endif
FUZZ_BUILD ?= build-fuzz
COV_BUILD  ?= build-coverage
FUZZ_SECONDS ?= 45
TEST_FUZZ_SECONDS ?= 10
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
RUN_ARGS   ?=

.PHONY: all deps deps-build build asan firmware board run-board test-board fuzz fuzz-campaign lint coverage coverage-run test test-unit test-asan test-system run bench bench-quick perf perf-baseline clean soak sim

all: build

deps:
	@./scripts/install-deps

deps-build:
	@./scripts/install-deps build

build: deps-build
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps-build
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTERN_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Cross-build the core for Cortex-M7 (-Os) and print its size per module.
firmware: deps
	@cmake -S . -B $(FW_BUILD) -DTERN_FIRMWARE=ON -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
	    -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
	@cmake --build $(FW_BUILD) -j $(JOBS)
	@./scripts/size-table $(FW_BUILD)
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) --target tern-plan -- --no-print-directory >/dev/null
	@$(MAKE) --no-print-directory board BOARD=mps2-an500 BOARD_BUILD=build-board
	@./scripts/board-size build-board mps2-an500
	@$(MAKE) --no-print-directory board BOARD=mps2-an500 BOARD_BUILD=build-board-static BOARD_CMAKE_ARGS=-DBOARD_STATIC_ONLY=ON
	@./scripts/board-size build-board-static mps2-an500 static
	@$(MAKE) --no-print-directory board BOARD=lm3s6965evb BOARD_BUILD=build-board-lm3s6965evb
	@./scripts/board-size build-board-lm3s6965evb lm3s6965evb
	@$(MAKE) --no-print-directory board BOARD=lm3s6965evb BOARD_BUILD=build-board-lm3s6965evb-static BOARD_CMAKE_ARGS=-DBOARD_STATIC_ONLY=ON
	@./scripts/board-size build-board-lm3s6965evb-static lm3s6965evb static

# The firmware for a QEMU board (ports/$(BOARD): mps2-an500, Cortex-M7 +
# LAN9118; lm3s6965evb, Cortex-M3 + Stellaris MAC in 64 KB), built as a
# user's own CMake firmware project consumes tern.
board: deps
	@cmake -S ports/$(BOARD) -B $(BOARD_BUILD) -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/$(BOARD_TOOLCHAIN) \
	    -DCMAKE_BUILD_TYPE=MinSizeRel $(BOARD_CMAKE_ARGS) >/dev/null
	@cmake --build $(BOARD_BUILD) -j $(JOBS) -- --no-print-directory | grep -v '^\[' || true
	@test -f $(BOARD_BUILD)/tern-$(BOARD).elf

# Boot the board in QEMU on its user-mode network (no root): the dashboard
# at http://127.0.0.1:8080/ served by the emulated microcontroller, the
# console on this terminal (Ctrl-A X quits QEMU).
run-board: board
	@./scripts/run-board $(BOARD_BUILD)/tern-$(BOARD).elf $(BOARD)

# The board tests alone (ctest label board; make test runs them too).
test-board: build
	@cd $(BUILD) && ctest --output-on-failure -L board $(CTEST_ARGS)

# Every libFuzzer target for FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=600).
fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DTERN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@./scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

# A fuzz campaign (make fuzz-campaign HOURS=N, fractions allowed): the hours
# shared equally by the targets, one at a time at nice 19; the corpora
# merged and minimised into tests/fuzz/corpus/, the running total appended
# to tests/fuzz/campaign.tsv and its table written to docs/reliability.md.
HOURS ?= 1
fuzz-campaign: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DTERN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@n=$$(ls $(FUZZ_BUILD)/tests/fuzz/ | grep -c '^fuzz_'); \
	secs=$$(awk -v h=$(HOURS) -v n=$$n 'BEGIN { printf "%d", h * 3600 / n }'); \
	status=0; ./scripts/fuzz-campaign $(FUZZ_BUILD) $$secs || status=1; \
	./scripts/fuzz-campaign --minimise $(FUZZ_BUILD) && ./scripts/fuzz-campaign --write-doc; exit $$status

# The tern-against-tern TCP simulation over many more seeds than make test
# runs (SEEDS, default 5000), on both variants; a failing seed prints how to
# replay it (TERN_TEST_SEED=N).
SEEDS ?= 5000
sim: build
	@for v in tern_core tern_core_heapbufs; do \
	    echo "== tcp_sim.$$v, $(SEEDS) seeds"; \
	    TERN_TCP_SEEDS=$(SEEDS) $(BUILD)/tests/test_tcp_sim.$$v || exit 1; \
	done

# Soak (not in make test): SOAK_CONNECTIONS (default 1000000) TCP connections
# over the virtual wire and SOAK_LINUX_CONNECTIONS (20000) against Linux, the
# ledger checked byte for byte at the end; SOAK_SECONDS bounds the time.
soak: deps
	@./scripts/soak

# Line and branch coverage of src/ and apps/ from the unit tests of both
# buffer variants (gcc --coverage, lcov): a per-file table, the check
# against the per-file floors (tests/coverage/floor.txt, a ratchet) and an
# HTML report in $(COV_BUILD)/coverage-html/index.html.
coverage: deps coverage-run
	@./scripts/coverage-report --check --html $(COV_BUILD)

# The coverage build (-O0 so lines map to code) and its unit tests, from
# zeroed counters. perf is left out: callgrind counts mean nothing here.
coverage-run:
	@cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=--coverage \
	    -DCMAKE_EXE_LINKER_FLAGS=--coverage -DTERN_BUILD_BENCH=OFF -DTERN_BUILD_DEMO=OFF >/dev/null
	@cmake --build $(COV_BUILD) -j $(JOBS)
	@find $(COV_BUILD) -name '*.gcda' -delete
	@cd $(COV_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit -E '^perf\.' $(CTEST_ARGS) >ctest-coverage.log \
	    || { tail -n 60 ctest-coverage.log; exit 1; }

# cppcheck and clang-tidy over the core; any finding fails.
lint: deps build
	@./scripts/lint $(BUILD)

# Everything: unit tests on every variant, the same under ASan+UBSan, the
# system tests against the Linux kernel, and the firmware build.
test: deps build asan firmware lint
	@echo "== unit and system tests ($(BUILD))"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -O ctest.log $(CTEST_ARGS)
	@echo "== unit tests under ASan+UBSan ($(ASAN_BUILD))"
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit -O ctest.log $(CTEST_ARGS)
	@echo "== coverage of src/ and apps/ by the unit tests ($(COV_BUILD); make coverage for the table)"
	@$(MAKE) --no-print-directory coverage-run
	@./scripts/coverage-report --summary --check $(COV_BUILD)
	@echo "== fuzzing, short budget"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@./scripts/test-summary $(BUILD)/ctest.log $(ASAN_BUILD)/ctest.log $(FUZZ_BUILD)/fuzz-summary.txt

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit $(CTEST_ARGS)

test-asan: asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit $(CTEST_ARGS)

test-system: deps build
	@cd $(BUILD) && ctest --output-on-failure -L system $(CTEST_ARGS)

run: deps build
	@./scripts/run-demo $(BUILD)/tern-demo $(RUN_ARGS)

bench: deps build firmware
	@./bench/run $(BUILD)
	@echo "== the board (QEMU mps2-an500): TCP each way, instructions per byte under -icount shift=0"
	@python3 tests/board/board.py bench build-board/tern-mps2-an500.elf
	@echo "== the 64 KB board (QEMU lm3s6965evb): TCP each way, instructions per byte under -icount shift=0"
	@python3 tests/board/board.py bench build-board-lm3s6965evb/tern-lm3s6965evb.elf

bench-quick: deps build
	@./bench/run --quick $(BUILD)

# CPU instructions per byte (tests/perf): print the figure and profile, or
# take the current figure as the new committed baseline (tests/perf/baseline.txt).
perf: deps build
	@cd $(BUILD) && ctest --output-on-failure -V -R '^perf\.' $(CTEST_ARGS)

perf-baseline: deps build
	@test -x $(BUILD)/tests/perf/perf-baseline || { echo "perf-baseline: no valgrind when cmake ran (apt-get install valgrind)"; exit 1; }
	@$(BUILD)/tests/perf/perf-baseline
	@cat tests/perf/baseline.txt

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FW_BUILD) $(BOARD_BUILD) build-board-static $(FUZZ_BUILD) $(COV_BUILD) build-soak
