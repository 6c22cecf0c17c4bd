#!/usr/bin/env bash
# Every test suite: typecheck, vitest (TypeScript, real Redis/MQTT), firmware (CMake + ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent typecheck
if [[ -f firmware/CMakeLists.txt ]]; then
  scripts/firmware-test.sh
fi
npx vitest run "$@"
