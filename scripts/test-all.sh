#!/usr/bin/env bash
# Every test suite: typecheck, firmware (CMake + ctest), vitest (TypeScript, real Redis/MQTT).
# Then a check that the suite stopped everything it started: every process the suite
# spawns inherits TEDDY_TEST_RUN, so one still carrying it afterwards (an orphaned
# redis-server, a gateway a test forgot) is named, killed, and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEDDY_TEST_RUN="teddy-test-$$-$RANDOM"

leftovers() {
  local pid
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}; pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "TEDDY_TEST_RUN=$TEDDY_TEST_RUN"; then echo "$pid"; fi
  done
}

status=0
npm run --silent typecheck
if [[ -f firmware/CMakeLists.txt ]]; then
  scripts/firmware-test.sh
fi
npx vitest run "$@" || status=$?

# Children get a moment to act on the SIGTERM their test sent before they count as left over.
sleep 1
left=$(leftovers || true)
if [[ -n "$left" ]]; then
  echo "test-all: processes started by the suite are still running:" >&2
  for pid in $left; do
    echo "  $pid $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null) (cwd $(readlink /proc/"$pid"/cwd 2>/dev/null))" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
  status=1
fi
exit "$status"
