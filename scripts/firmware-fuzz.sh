#!/usr/bin/env bash
# Fuzzes the firmware's protocol decoder (firmware/fuzz/fuzz_protocol.cpp) with
# libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer, seeded from
# docs/vectors. Exits non-zero when the fuzzer finds a crash (the reproducer is
# left in firmware/build-fuzz/).
# Usage: scripts/firmware-fuzz.sh [seconds]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
seconds="${1:-30}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "firmware-fuzz: seconds must be a whole number, got '$seconds'" >&2; exit 2; }

out=firmware/build-fuzz
mkdir -p "$out/corpus"
core=firmware/lib/teddy_core
echo "firmware-fuzz: building $out/fuzz_protocol" >&2
clang++ -std=c++17 -g -O1 -fno-exceptions -fno-rtti -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$core/include" firmware/fuzz/fuzz_protocol.cpp "$core/src/cbor.cpp" "$core/src/protocol.cpp" \
  -o "$out/fuzz_protocol"

# Seeds: every shared vector, valid and invalid. The corpus grows across runs.
cp docs/vectors/*.cbor docs/vectors/invalid/*.cbor "$out/corpus/"
echo "firmware-fuzz: running for ${seconds}s" >&2
"$out/fuzz_protocol" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus"
