#!/usr/bin/env bash
# Installs what teddycache needs and is missing: Debian packages (once, idempotently)
# and the npm dependencies (only when package-lock.json changed since the last install).
# Usage: scripts/bootstrap.sh            # everything
#        TEDDY_SKIP_APT=1 scripts/bootstrap.sh   # npm only (no root / not Debian)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the project uses. Each is checked first so a ready machine does no apt work.
#   redis-server            L2 cache (embedded default and tests start their own)
#   mosquitto(-clients)     independent MQTT peer for gateway tests and the broker-echo baseline
#   cmake g++ pkg-config    host build of the firmware core
#   libmosquitto-dev        host MQTT port of the firmware
#   libmbedtls-dev          SHA-256 on the host (ESP-IDF ships the same library)
#   libcurl4-openssl-dev    HTTP(S) Range downloads in the host port of the firmware
#   doctest-dev             firmware unit tests
#   nlohmann-json3-dev      firmware vector tests read docs/vectors/*.json
#   clang libclang-rt-14-dev  libFuzzer target for the firmware CBOR codec
#   gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf   ESP32-C3 footprint build
#   libnewlib-dev           newlib headers for the syntax-only ESP-IDF check (scripts/esp32-check.sh)
#   espeak-ng               real speech in the demo provider (optional at run time)
#   chromium                headless screenshot of the simulator's HTML report and the ops report
#   openssl                 the gateway's fleet CA, server and device certificates (TLS, mTLS)
#   prometheus              promtool (metric names, alerting rules and their unit tests) and a real
#                           Prometheus scraping a gateway in the ops tests
#   tmux                    drives the live `top` view in its test
PKGS=(openssl redis-server mosquitto mosquitto-clients cmake g++ pkg-config libmosquitto-dev libmbedtls-dev libcurl4-openssl-dev
      doctest-dev nlohmann-json3-dev clang libclang-rt-14-dev gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf libnewlib-dev espeak-ng chromium
      prometheus tmux)

if [[ "${TEDDY_SKIP_APT:-}" != 1 ]] && command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian starts these as services on install; the project runs its own instances on free ports.
  for svc in redis-server mosquitto prometheus; do
    command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null && systemctl stop "$svc" || true
  done
fi

stamp=node_modules/.teddy-lock-stamp
if [[ ! -f "$stamp" ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "bootstrap: installing npm dependencies" >&2
  # A fresh checkout gets exactly the lock file; an existing tree is updated in place,
  # so a running dev server or test in another shell does not lose node_modules under it.
  if [[ -d node_modules ]]; then npm install --no-audit --no-fund >/dev/null; else npm ci --no-audit --no-fund >/dev/null; fi
  cp package-lock.json "$stamp"
fi
