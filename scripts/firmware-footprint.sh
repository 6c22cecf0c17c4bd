#!/usr/bin/env bash
# Size, RAM and stack of the bear's portable core on the ESP32-C3's ISA
# (RV32IMC), built as ESP-IDF builds it for the device (-Os, -msave-restore
# (CONFIG_COMPILER_SAVE_RESTORE_LIBCALLS in sdkconfig.defaults),
# -fno-jump-tables -fno-tree-switch-conversion, no exceptions, no RTTI) with
# Debian's gcc-riscv64-unknown-elf and picolibc. Prints .text/.data/.bss per
# file, the RAM each long-lived object takes at the device's caps (a 1 MiB
# clip partition), and the worst stack depth of each task's code from GCC's
# call graph with stack usage (-fcallgraph-info=su, i.e. -fstack-usage per
# function plus the calls). Writes bench/results/firmware-footprint.json.
#
# Goals (issue 14): core .text <= 16 KB; ClipStore + Session <= 8 KB.
#
# sha256.cpp is left out: on the device it is a thin call into ESP-IDF's
# mbedtls (hardware SHA), which the IDF image carries anyway. The ports'
# shared MQTT bridge (ports/common) is compiled for its stack depth only (it is
# port glue, not the core).
#
# Debian ships no C++ library headers for bare-metal RISC-V; the core needs
# only header-only parts (<array>, <atomic>, <cstdint>, <cstring>), so the
# host's libstdc++ headers are used with a neutral os_defines.h. Nothing is linked.
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=riscv64-unknown-elf-g++
SPECS=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
command -v "$CXX" >/dev/null || { echo "footprint: $CXX missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
[[ -f $SPECS ]] || { echo "footprint: picolibc missing: $SPECS" >&2; exit 1; }
GCC_MAJOR=$(g++ -dumpversion | cut -d. -f1)
out=firmware/build-rv32
rm -rf "$out" && mkdir -p "$out/inc" "$out/common"
cp -r "/usr/include/x86_64-linux-gnu/c++/$GCC_MAJOR/bits" "$out/inc/"
printf '#ifndef _GLIBCXX_OS_DEFINES\n#define _GLIBCXX_OS_DEFINES 1\n#endif\n' > "$out/inc/bits/os_defines.h"
FLAGS=(-march=rv32imc -mabi=ilp32 -Os -msave-restore -fno-jump-tables -fno-tree-switch-conversion -ffunction-sections
       -fdata-sections -fno-exceptions -fno-rtti -std=c++17 "--specs=$SPECS" -nostdinc++ -isystem "/usr/include/c++/$GCC_MAJOR"
       -isystem "$out/inc" -Ifirmware/lib/teddy_core/include -Ifirmware/ports/common -fcallgraph-info=su)

objects=()
for src in firmware/lib/teddy_core/src/*.cpp; do
  name=$(basename "$src" .cpp)
  [[ $name == sha256 ]] && continue
  "$CXX" "${FLAGS[@]}" -c "$src" -o "$out/$name.o"
  objects+=("$out/$name.o")
done
for src in firmware/ports/common/*.cpp; do
  "$CXX" "${FLAGS[@]}" -c "$src" -o "$out/common/$(basename "$src" .cpp).o"
done

# sizeof() of the objects a bear keeps for its whole life, read back as symbol sizes.
cat > "$out/probe.cpp" <<'CPP'
#include "teddy/clip_store.h"
#include "teddy/session.h"
extern const unsigned char clip_store_bytes[sizeof(teddy::ClipStore)] = {};
extern const unsigned char session_bytes[sizeof(teddy::Session)] = {};
extern const unsigned char data_blocks[teddy::kMaxDataBlocks] = {};
CPP
"$CXX" "${FLAGS[@]}" -c "$out/probe.cpp" -o "$out/probe.o"
object_size() { printf '%d' "0x$(riscv64-unknown-elf-nm -S "$out/probe.o" | awk -v s="$1" '$4 == s { print $2 }')"; }
clip_store_ram=$(object_size clip_store_bytes)
session_ram=$(object_size session_bytes)
data_blocks=$(object_size data_blocks)

riscv64-unknown-elf-size -t "${objects[@]}" | sed "s|$out/||"
echo

node - "$clip_store_ram" "$session_ram" "$data_blocks" "$out" "${objects[@]}" <<'JS'
const { execFileSync } = require('node:child_process');
const { mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const [clipStoreRam, sessionRam, dataBlocks, out, ...objects] = process.argv.slice(2);
const rows = execFileSync('riscv64-unknown-elf-size', objects, { encoding: 'utf8' }).trim().split('\n').slice(1).map((line) => {
  const [text, data, bss, , , file] = line.trim().split(/\s+/);
  return { file: file.split('/').pop(), text: +text, data: +data, bss: +bss };
});
const total = rows.reduce((t, r) => ({ text: t.text + r.text, data: t.data + r.data, bss: t.bss + r.bss }), { text: 0, data: 0, bss: 0 });

// ---- stack: the call graph GCC wrote (.ci files), worst path from each task's entry points ----
const frame = new Map();   // function -> bytes of its own frame
const dynamic = new Set(); // functions whose frame is not static
const calls = new Map();   // function -> Set of callees ('__indirect_call' for a virtual call)
const name = (title) => title.replace(/^[^:]*\.(cpp|h):/, '');  // file-local titles carry their file
const pretty = new Map();
for (const dir of [out, join(out, 'common')]) {
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ci'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const node = /^node: \{ title: "([^"]+)" label: "([^"]*)"/.exec(line);
      if (node) {
        const [, title, label] = node;
        const m = /\\n(\d+) bytes \(([^)]*)\)/.exec(label);
        if (m) {
          frame.set(name(title), +m[1]);
          if (m[2] !== 'static') dynamic.add(name(title));
        }
        pretty.set(name(title), label.split('\\n')[0]);
        continue;
      }
      const edge = /^edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"/.exec(line);
      if (edge) {
        const from = name(edge[1]);
        if (!calls.has(from)) calls.set(from, new Set());
        calls.get(from).add(name(edge[2]));
      }
    }
  }
}
const fns = [...frame.keys()];
const find = (re) => fns.filter((f) => re.test(pretty.get(f) ?? f));
// Virtual calls the core makes that the core itself implements: the session's FlashCache is the
// ClipStore and its MqttTransport the bridge; the bridge hands events to the Session. Other targets
// (BlockDevice, HttpClient, SessionListener, Random) are port code, not measured here.
const flashCache = find(/^teddy::ClipStore::(contains|read|recordHit|begin|write|commit|pause|setPinned|list|info|warmSeq|setWarmSeq)\(/);
const sessionEvents = find(/^void teddy::Session::(onConnected|onDisconnected|onMessage)\(/);
const transport = find(/^(teddy::Status|void) teddy::MqttBridge::(connect|disconnect|subscribe|publish)\(/);
const indirectFor = (fn) => {
  const label = pretty.get(fn) ?? fn;
  if (/teddy::Session::/.test(label)) return [...flashCache, ...transport];
  if (/teddy::MqttBridge::deliver/.test(label)) return sessionEvents;
  return [];
};
// Worst depth from fn: its frame plus its deepest callee. Recursion (a clip map inside a message)
// is followed twice at most, which is the protocol's real nesting.
function depth(fn, onPath = new Map()) {
  const seen = onPath.get(fn) ?? 0;
  if (seen >= 2) return { bytes: 0, path: [] };
  onPath.set(fn, seen + 1);
  let best = { bytes: 0, path: [] };
  for (const callee of calls.get(fn) ?? []) {
    const targets = callee === '__indirect_call' ? indirectFor(fn) : [callee];
    for (const t of targets) {
      const d = depth(t, onPath);
      if (d.bytes > best.bytes) best = d;
    }
  }
  onPath.set(fn, seen);
  return { bytes: (frame.get(fn) ?? 0) + best.bytes, path: [pretty.get(fn) ?? fn, ...best.path] };
}
const worst = (entries) => entries.map((e) => depth(e)).reduce((a, b) => (b.bytes > a.bytes ? b : a), { bytes: 0, path: [] });
const short = (path) => path.map((p) => p.replace(/\(.*$/, '').replace(/^.*\s(?=teddy::)/, ''));
const tasks = {
  // The session's task: tick, the events the bridge delivers, the child's say/play, stats, boot's mount.
  session: worst([...find(/^void teddy::MqttBridge::deliver\(/), ...find(/^void teddy::Session::tick\(/),
    ...find(/^teddy::Status teddy::Session::(say|play|publishStats)\(/), ...find(/^teddy::Status teddy::ClipStore::mount\(/)]),
  // esp-mqtt's task, inside our event handler (esp-mqtt's and TLS's own frames come on top).
  mqttEventHandler: worst(find(/^void teddy::MqttBridge::client(Connected|Disconnected|Data)\(/)),
  // teddy-net: the bridge's commands (esp-mqtt's enqueue/subscribe frames come on top).
  network: worst(find(/^void teddy::MqttBridge::drain\(/)),
};
const dynamicFns = [...dynamic].map((f) => pretty.get(f) ?? f);

const goals = { textBytes: 16 * 1024, longLivedRamBytes: 8 * 1024 };
const ram = +clipStoreRam + +sessionRam;
const mainTaskStack = 6144;  // CONFIG_ESP_MAIN_TASK_STACK_SIZE in firmware/sdkconfig.defaults
const result = {
  name: 'firmware-footprint', when: new Date().toISOString(),
  target: 'rv32imc ilp32 -Os -msave-restore -fno-jump-tables -fno-tree-switch-conversion, gcc-riscv64-unknown-elf + picolibc (ESP32-C3 ISA)',
  files: rows, total,
  ramPerObject: { ClipStore: +clipStoreRam, Session: +sessionRam, total: ram, atDataBlocks: +dataBlocks, clipPartitionBytes: (+dataBlocks + 4) * 4096 },
  stackBytes: Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, { worst: v.bytes, path: short(v.path) }])),
  dynamicStackFunctions: dynamicFns,
  goals,
  ratios: {
    textVs16KB: total.text / goals.textBytes,
    ramVs8KB: ram / goals.longLivedRamBytes,
    sessionStackVsMainTask: tasks.session.bytes / mainTaskStack,
  },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/firmware-footprint.json', JSON.stringify(result, null, 2) + '\n');
console.log(`core .text ${total.text} B (goal <= ${goals.textBytes}), .data+.bss ${total.data + total.bss} B`);
console.log(`long-lived RAM at a ${(+dataBlocks * 4096) >> 20} MiB clip partition (${dataBlocks} data blocks): ClipStore ${clipStoreRam} B + Session ${sessionRam} B = ${ram} B (goal <= ${goals.longLivedRamBytes})`);
for (const [k, v] of Object.entries(tasks)) console.log(`worst stack, ${k}: ${v.bytes} B  ${short(v.path).join(' > ')}`);
if (dynamicFns.length) console.log(`functions with a dynamic frame: ${dynamicFns.join(', ')}`);
console.log('wrote bench/results/firmware-footprint.json');
JS
