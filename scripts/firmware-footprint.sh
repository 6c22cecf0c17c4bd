#!/usr/bin/env bash
# Size of the bear's portable core on the ESP32-C3's ISA (RV32IMC), built as
# for the device (-Os, no exceptions, no RTTI) with Debian's
# gcc-riscv64-unknown-elf and picolibc. Prints .text/.data/.bss per file and
# the RAM each long-lived object takes; writes bench/results/firmware-footprint.json.
#
# sha256.cpp is left out: on the device it is a thin call into ESP-IDF's
# mbedtls (hardware SHA), which the IDF image carries anyway.
#
# Debian ships no C++ library headers for bare-metal RISC-V; the core needs
# only header-only parts (<array>, <cstdint>, <cstring>), so the host's
# libstdc++ headers are used with a neutral os_defines.h. Nothing is linked.
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=riscv64-unknown-elf-g++
SPECS=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
command -v "$CXX" >/dev/null || { echo "footprint: $CXX missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
[[ -f $SPECS ]] || { echo "footprint: picolibc missing: $SPECS" >&2; exit 1; }
GCC_MAJOR=$(g++ -dumpversion | cut -d. -f1)
out=firmware/build-rv32
rm -rf "$out" && mkdir -p "$out/inc"
cp -r "/usr/include/x86_64-linux-gnu/c++/$GCC_MAJOR/bits" "$out/inc/"
printf '#ifndef _GLIBCXX_OS_DEFINES\n#define _GLIBCXX_OS_DEFINES 1\n#endif\n' > "$out/inc/bits/os_defines.h"
FLAGS=(-march=rv32imc -mabi=ilp32 -Os -msave-restore -fno-jump-tables -fno-tree-switch-conversion -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -std=c++17
       "--specs=$SPECS" -nostdinc++ -isystem "/usr/include/c++/$GCC_MAJOR" -isystem "$out/inc"
       -Ifirmware/lib/teddy_core/include)

objects=()
for src in firmware/lib/teddy_core/src/*.cpp; do
  name=$(basename "$src" .cpp)
  [[ $name == sha256 ]] && continue
  "$CXX" "${FLAGS[@]}" -c "$src" -o "$out/$name.o"
  objects+=("$out/$name.o")
done

# sizeof() of the objects a bear keeps for its whole life, read back as symbol sizes.
cat > "$out/probe.cpp" <<'CPP'
#include "teddy/clip_store.h"
#include "teddy/session.h"
extern const unsigned char clip_store_bytes[sizeof(teddy::ClipStore)] = {};
extern const unsigned char session_bytes[sizeof(teddy::Session)] = {};
CPP
"$CXX" "${FLAGS[@]}" -c "$out/probe.cpp" -o "$out/probe.o"
object_size() { printf '%d' "0x$(riscv64-unknown-elf-nm -S "$out/probe.o" | awk -v s="$1" '$4 == s { print $2 }')"; }
clip_store_ram=$(object_size clip_store_bytes)
session_ram=$(object_size session_bytes)

riscv64-unknown-elf-size -t "${objects[@]}" | sed "s|$out/||"
echo
echo "RAM per object (rv32): ClipStore $clip_store_ram B, Session $session_ram B (plus the buffers the app hands the session)"

node - "$clip_store_ram" "$session_ram" "${objects[@]}" <<'JS'
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const [clipStoreRam, sessionRam, ...objects] = process.argv.slice(2);
const rows = execFileSync('riscv64-unknown-elf-size', objects, { encoding: 'utf8' }).trim().split('\n').slice(1).map((line) => {
  const [text, data, bss, , , file] = line.trim().split(/\s+/);
  return { file: file.split('/').pop(), text: +text, data: +data, bss: +bss };
});
const total = rows.reduce((t, r) => ({ text: t.text + r.text, data: t.data + r.data, bss: t.bss + r.bss }), { text: 0, data: 0, bss: 0 });
const result = {
  name: 'firmware-footprint', when: new Date().toISOString(),
  target: 'rv32imc ilp32 -Os, gcc-riscv64-unknown-elf + picolibc (ESP32-C3 ISA)',
  files: rows, total,
  ramPerObject: { ClipStore: +clipStoreRam, Session: +sessionRam },
  goals: { textBytes: 20480, staticRamBytes: 8192 },
  ratios: { textVsGoal: total.text / 20480, staticRamVsGoal: (total.data + total.bss) / 8192 },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/firmware-footprint.json', JSON.stringify(result, null, 2) + '\n');
console.log(`total .text ${total.text} B (goal <= 20480), .data+.bss ${total.data + total.bss} B; wrote bench/results/firmware-footprint.json`);
JS
