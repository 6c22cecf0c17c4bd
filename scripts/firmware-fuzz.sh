#!/usr/bin/env bash
# Fuzzes the firmware with libFuzzer under AddressSanitizer and UBSan:
#   fuzz_protocol  arbitrary bytes as a protocol message (decode, re-encode, round trip)
#   fuzz_session   a hostile gateway: streams of res/warm payloads and time against the session
# Both are seeded from docs/vectors; each runs for [seconds]. Exits non-zero on a crash
# (the reproducer is left in firmware/build-fuzz/).
# Usage: scripts/firmware-fuzz.sh [seconds]   (default 30, per target)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
seconds="${1:-30}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "firmware-fuzz: seconds must be a whole number, got '$seconds'" >&2; exit 2; }

out=firmware/build-fuzz
core=firmware/lib/teddy_core
flags=(-std=c++17 -g -O1 -fno-exceptions -fno-rtti -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$core/include" -Ifirmware/test)
mkdir -p "$out/protocol" "$out/session"

echo "firmware-fuzz: building $out/fuzz_protocol and $out/fuzz_session" >&2
clang++ "${flags[@]}" firmware/fuzz/fuzz_protocol.cpp "$core/src/cbor.cpp" "$core/src/protocol.cpp" -o "$out/fuzz_protocol"
clang++ "${flags[@]}" firmware/fuzz/fuzz_session.cpp "$core"/src/*.cpp -lmbedcrypto -o "$out/fuzz_session"

# Seeds: every shared vector, valid and invalid; for the session, each framed as a res and a warm message.
cp docs/vectors/*.cbor docs/vectors/invalid/*.cbor "$out/protocol/"
for f in docs/vectors/*.cbor; do
  n=$(stat -c %s "$f")
  len="\\x$(printf %02x $((n >> 8)))\\x$(printf %02x $((n & 255)))"
  { printf "\\x00$len"; cat "$f"; printf "\\x02\\x01\\x00\\x01$len"; cat "$f"; } > "$out/session/$(basename "$f")"
done

for target in protocol session; do
  echo "firmware-fuzz: fuzz_$target for ${seconds}s" >&2
  "$out/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$out/$target-" "$out/$target"
done
