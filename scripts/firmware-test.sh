#!/usr/bin/env bash
# Builds the firmware for the host (CMake) and runs its unit tests (ctest).
# Usage: scripts/firmware-test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=firmware/build
cmake -S firmware -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure "$@"
