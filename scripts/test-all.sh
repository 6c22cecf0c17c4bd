#!/usr/bin/env bash
# Every test suite: typecheck, firmware (CMake + ctest), vitest (TypeScript, real Redis/MQTT).
#
# Then a check that the suite stopped everything it started. The suite runs with its own
# TMPDIR (every test's servers and data dirs live under it) and a TEDDY_TEST_RUN marker in
# the environment its children inherit. A process still running afterwards whose working
# directory is under that TMPDIR or this checkout, or that carries the marker, was left
# over (an orphaned redis-server, a gateway a test forgot): it is named, killed, and the
# run fails. (redis-server rewrites its environment for its process title, hence the cwd.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
export TEDDY_TEST_RUN="teddy-test-$$-$RANDOM"
export TMPDIR; TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/teddy-test-XXXXXX")
run_tmp=$(cd "$TMPDIR" && pwd -P)
# Start time in clock ticks since boot: field 22 of /proc/PID/stat (after the ')' of the name).
started_at() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
suite_start=$(started_at $$)

leftovers() {
  local dir pid cwd
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    cwd=$(readlink "$dir/cwd" 2>/dev/null) || continue
    (( $(started_at "$pid" || echo 0) >= suite_start )) || continue
    if [[ $cwd == "$run_tmp" || $cwd == "$run_tmp"/* || $cwd == "$root"/* ]] ||
       { tr '\0' '\n' <"$dir/environ"; } 2>/dev/null | grep -qx "TEDDY_TEST_RUN=$TEDDY_TEST_RUN"; then
      echo "$pid"
    fi
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
rm -rf "$TMPDIR"
exit "$status"
