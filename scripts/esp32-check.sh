#!/usr/bin/env bash
# Compiles every file of the ESP32 port (firmware/ports/esp32) and the portable
# core against a real ESP-IDF 5.x tree, for the ESP32-C3 (RV32IMC), with IDF's
# own warning set (-Wall -Wextra -Werror). The build machines have no
# Espressif toolchain and no network access to PlatformIO, so this is the
# check that the port meets ESP-IDF's headers at all.
#
#   IDF_PATH=/path/to/esp-idf scripts/esp32-check.sh
#
# With riscv32-esp-elf-g++ on PATH (Espressif's toolchain) each file is
# compiled to an object; otherwise Debian's riscv64-unknown-elf-g++ checks the
# syntax and types (-fsyntax-only) against newlib's headers (libnewlib-dev)
# and the host's libstdc++ headers, which is what Debian offers for bare-metal
# RISC-V. sdkconfig.h is not generated (that needs IDF's Python tools): a
# minimal one with IDF's defaults for the options the included headers test
# is written into the build dir. Without IDF_PATH it says it skipped, exit 0.
# Nothing from ESP-IDF is copied into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${IDF_PATH:-}" ]]; then
  echo "esp32-check: skipped: IDF_PATH is not set (point it at an ESP-IDF 5.x checkout to compile the ESP32 port)"
  exit 0
fi
idf=$(cd "$IDF_PATH" && pwd)
version_h="$idf/components/esp_common/include/esp_idf_version.h"
[[ -f $version_h ]] || { echo "esp32-check: $IDF_PATH is not an ESP-IDF tree (no $version_h)" >&2; exit 2; }
ver() { awk -v k="ESP_IDF_VERSION_$1" '$1 == "#define" && $2 == k { print $3 }' "$version_h"; }
major=$(ver MAJOR) minor=$(ver MINOR) patch=$(ver PATCH)
idf_version="$major.$minor.$patch"
if ((major != 5 || minor < 1)); then
  echo "esp32-check: ESP-IDF $idf_version found; the port needs ESP-IDF >= 5.1 and < 6" >&2
  exit 2
fi
for sub in components/mqtt/esp-mqtt/include components/mbedtls/mbedtls/include; do
  [[ -d "$idf/$sub" ]] || { echo "esp32-check: $idf/$sub is missing (git submodule update --init in the IDF tree)" >&2; exit 2; }
done

out=firmware/build-esp32-check
rm -rf "$out" && mkdir -p "$out/inc/bits"

if command -v riscv32-esp-elf-g++ >/dev/null; then
  CXX=riscv32-esp-elf-g++
  mode=(-c)
  arch=(-march=rv32imc_zicsr_zifencei -mabi=ilp32)
  how="compiled with $CXX"
  libc=()
else
  CXX=riscv64-unknown-elf-g++
  command -v "$CXX" >/dev/null || { echo "esp32-check: neither riscv32-esp-elf-g++ nor $CXX found (scripts/bootstrap.sh installs the latter)" >&2; exit 1; }
  [[ -d /usr/include/newlib ]] || { echo "esp32-check: /usr/include/newlib missing (apt-get install libnewlib-dev)" >&2; exit 1; }
  mode=(-fsyntax-only)
  arch=(-march=rv32imc -mabi=ilp32)
  how="syntax-only with Debian's $CXX (no Espressif toolchain here)"
  # As for the footprint build: the host's libstdc++ headers with a neutral os_defines.h, newlib's libc headers.
  GCC_MAJOR=$(g++ -dumpversion | cut -d. -f1)
  cp -r "/usr/include/x86_64-linux-gnu/c++/$GCC_MAJOR/bits/." "$out/inc/bits/"
  printf '#ifndef _GLIBCXX_OS_DEFINES\n#define _GLIBCXX_OS_DEFINES 1\n#endif\n' > "$out/inc/bits/os_defines.h"
  # Debian's newlib 3.3 declares _global_impure_ptr const, Espressif's newlib 4 does not: rename Debian's.
  mkdir -p "$out/libc/sys"
  printf '#define _global_impure_ptr _debian_global_impure_ptr\n#include_next <sys/reent.h>\n#undef _global_impure_ptr\n' > "$out/libc/sys/reent.h"
  libc=(-nostdinc -nostdinc++ -isystem "/usr/include/c++/$GCC_MAJOR" -isystem "$out/inc"
        -isystem "$($CXX -print-file-name=include)" -isystem "$($CXX -print-file-name=include-fixed)"
        -idirafter "$out/libc" -idirafter /usr/include/newlib)
fi

# The options the included IDF headers test, at IDF's defaults for an esp32c3 (plus the project's sdkconfig.defaults).
cat > "$out/inc/sdkconfig.h" <<'H'
#pragma once
#define CONFIG_IDF_TARGET "esp32c3"
#define CONFIG_IDF_TARGET_ESP32C3 1
#define CONFIG_IDF_TARGET_ARCH_RISCV 1
#define CONFIG_IDF_TARGET_ARCH "riscv"
#define CONFIG_IDF_FIRMWARE_CHIP_ID 0x0005
#define CONFIG_SOC_CPU_CORES_NUM 1
#define CONFIG_ESP_SYSTEM_SINGLE_CORE_MODE 1
#define CONFIG_FREERTOS_HZ 1000
#define CONFIG_FREERTOS_UNICORE 1
#define CONFIG_FREERTOS_NUMBER_OF_CORES 1
#define CONFIG_FREERTOS_MAX_TASK_NAME_LEN 16
#define CONFIG_FREERTOS_TIMER_TASK_PRIORITY 1
#define CONFIG_FREERTOS_TIMER_TASK_STACK_DEPTH 2048
#define CONFIG_FREERTOS_TIMER_QUEUE_LENGTH 10
#define CONFIG_FREERTOS_QUEUE_REGISTRY_SIZE 0
#define CONFIG_FREERTOS_TASK_NOTIFICATION_ARRAY_ENTRIES 1
#define CONFIG_FREERTOS_THREAD_LOCAL_STORAGE_POINTERS 1
#define CONFIG_FREERTOS_IDLE_TASK_STACKSIZE 1536
#define CONFIG_FREERTOS_ISR_STACKSIZE 1536
#define CONFIG_FREERTOS_CHECK_STACKOVERFLOW_CANARY 1
#define CONFIG_FREERTOS_TICK_SUPPORT_SYSTIMER 1
#define CONFIG_FREERTOS_CORETIMER_SYSTIMER_LVL1 1
#define CONFIG_FREERTOS_SYSTICK_USES_SYSTIMER 1
#define CONFIG_FREERTOS_ENABLE_BACKWARD_COMPATIBILITY 0
#define CONFIG_FREERTOS_SUPPORT_STATIC_ALLOCATION 1
#define CONFIG_FREERTOS_TLSP_DELETION_CALLBACKS 1
#define CONFIG_FREERTOS_TIMER_SERVICE_TASK_NAME "Tmr Svc"
#define CONFIG_FREERTOS_TIMER_SERVICE_TASK_CORE_AFFINITY 0x7FFFFFFF
#define CONFIG_FREERTOS_PORT 1
#define CONFIG_FREERTOS_NO_AFFINITY 0x7FFFFFFF
#define CONFIG_FREERTOS_DEBUG_OCDAWARE 1
#define CONFIG_FREERTOS_INTERRUPT_BACKTRACE 1
#define CONFIG_ESP_SYSTEM_CHECK_INT_LEVEL_4 1
#define CONFIG_ESP_MAIN_TASK_STACK_SIZE 3584
#define CONFIG_ESP_TASK_WDT_EN 1
#define CONFIG_ESP_TASK_WDT_INIT 1
#define CONFIG_ESP_TASK_WDT_TIMEOUT_S 5
#define CONFIG_ESP_INT_WDT 1
#define CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ 160
#define CONFIG_LOG_DEFAULT_LEVEL 3
#define CONFIG_LOG_MAXIMUM_LEVEL 3
#define CONFIG_LOG_TIMESTAMP_SOURCE_RTOS 1
#define CONFIG_LOG_VERSION_1 1
#define CONFIG_LOG_VERSION 1
#define CONFIG_LOG_TAG_LEVEL_IMPL_CACHE_AND_LINKED_LIST 1
#define CONFIG_LOG_TAG_LEVEL_CACHE_BINARY_MIN_HEAP 1
#define CONFIG_LOG_TAG_LEVEL_IMPL_CACHE_SIZE 31
#define CONFIG_MQTT_PROTOCOL_311 1
#define CONFIG_MQTT_TRANSPORT_SSL 1
#define CONFIG_MQTT_TRANSPORT_WEBSOCKET 1
#define CONFIG_MQTT_TRANSPORT_WEBSOCKET_SECURE 1
#define CONFIG_MBEDTLS_CERTIFICATE_BUNDLE 1
#define CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_DEFAULT_FULL 1
#define CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS 200
#define CONFIG_MBEDTLS_TLS_ENABLED 1
#define CONFIG_MBEDTLS_TLS_CLIENT 1
#define CONFIG_MBEDTLS_SSL_PROTO_TLS1_2 1
#define CONFIG_MBEDTLS_HARDWARE_SHA 1
#define CONFIG_MBEDTLS_HARDWARE_AES 1
#define CONFIG_MBEDTLS_ROM_MD5 1
#define CONFIG_MBEDTLS_SHA512_C 1
#define CONFIG_MBEDTLS_ECP_C 1
#define CONFIG_MBEDTLS_ECDH_C 1
#define CONFIG_MBEDTLS_ECDSA_C 1
#define CONFIG_MBEDTLS_PEM_PARSE_C 1
#define CONFIG_MBEDTLS_X509_CRT_PARSE_C 1
#define CONFIG_MBEDTLS_KEY_EXCHANGE_RSA 1
#define CONFIG_MBEDTLS_KEY_EXCHANGE_ECDHE_RSA 1
#define CONFIG_MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA 1
#define CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED 1
#define CONFIG_MBEDTLS_ECP_NIST_OPTIM 1
#define CONFIG_MBEDTLS_AES_C 1
#define CONFIG_MBEDTLS_GCM_C 1
#define CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define CONFIG_MBEDTLS_INTERNAL_MEM_ALLOC 1
#define CONFIG_MBEDTLS_HAVE_TIME 1
#define CONFIG_ESP_TLS_USING_MBEDTLS 1
#define CONFIG_ESP_HTTP_CLIENT_ENABLE_HTTPS 1
#define CONFIG_LWIP_IPV4 1
#define CONFIG_LWIP_IPV6 1
#define CONFIG_ESP_WIFI_STATIC_RX_BUFFER_NUM 10
#define CONFIG_ESP_WIFI_DYNAMIC_RX_BUFFER_NUM 32
#define CONFIG_ESP_WIFI_DYNAMIC_TX_BUFFER 1
#define CONFIG_ESP_WIFI_TX_BUFFER_TYPE 1
#define CONFIG_ESP_WIFI_DYNAMIC_TX_BUFFER_NUM 32
#define CONFIG_ESP_WIFI_STATIC_RX_MGMT_BUFFER 1
#define CONFIG_ESP_WIFI_DYNAMIC_RX_MGMT_BUF 0
#define CONFIG_ESP_WIFI_RX_MGMT_BUF_NUM_DEF 5
#define CONFIG_ESP_WIFI_AMPDU_TX_ENABLED 1
#define CONFIG_ESP_WIFI_TX_BA_WIN 6
#define CONFIG_ESP_WIFI_AMPDU_RX_ENABLED 1
#define CONFIG_ESP_WIFI_RX_BA_WIN 6
#define CONFIG_ESP_WIFI_NVS_ENABLED 1
#define CONFIG_ESP_WIFI_SOFTAP_BEACON_MAX_LEN 752
#define CONFIG_ESP_WIFI_MGMT_SBUF_NUM 32
#define CONFIG_ESP_WIFI_ESPNOW_MAX_ENCRYPT_NUM 7
#define CONFIG_ESP_WIFI_ENABLE_WPA3_SAE 1
#define CONFIG_ESP_WIFI_SOFTAP_SUPPORT 1
#define CONFIG_ESP_WIFI_ENTERPRISE_SUPPORT 1
#define CONFIG_ESP_WIFI_ENABLED 1
#define CONFIG_ESP_WIFI_IRAM_OPT 1
#define CONFIG_ESP_WIFI_RX_IRAM_OPT 1
#define CONFIG_ESP_WIFI_GMAC_SUPPORT 1
#define CONFIG_ESP_WIFI_TX_HETB_QUEUE_NUM 3
#define CONFIG_ESP_NETIF_TCPIP_LWIP 1
#define CONFIG_ESP_NETIF_USES_TCPIP_WITH_BSD_API 1
#define CONFIG_ESP_EVENT_POST_FROM_ISR 1
#define CONFIG_ESP_EVENT_POST_FROM_IRAM_ISR 1
#define CONFIG_ESP_TIMER_TASK_STACK_SIZE 3584
#define CONFIG_ESP_TIMER_IMPL_SYSTIMER 1
#define CONFIG_SPI_FLASH_SEC_SIZE 4096
#define CONFIG_ESPTOOLPY_FLASHSIZE_4MB 1
#define CONFIG_ESPTOOLPY_FLASHSIZE "4MB"
#define CONFIG_PARTITION_TABLE_OFFSET 0x8000
#define CONFIG_COMPILER_CXX_EXCEPTIONS 0
#define CONFIG_COMPILER_OPTIMIZATION_SIZE 1
#define CONFIG_COMPILER_STACK_CHECK_MODE_NONE 1
#define CONFIG_NEWLIB_STDOUT_LINE_ENDING_CRLF 1
#define CONFIG_LIBC_NEWLIB 1
#define CONFIG_XTAL_FREQ 40
#define CONFIG_HAL_ASSERTION_EQUALS_SYSTEM 1
#define CONFIG_HAL_DEFAULT_ASSERTION_LEVEL 2
H

# Then the first default of every other option of the components the port includes, read from their
# Kconfig files (bool y -> 1, a choice's default -> 1; conditions are not evaluated: good enough for headers;
# mbedtls is left to the list above: its check_config.h rejects option sets a build would never make).
python3 - "$idf" >> "$out/inc/sdkconfig.h" <<'PY'
import re, sys, pathlib
idf = pathlib.Path(sys.argv[1]) / "components"
names = ["lwip", "mqtt", "esp_http_client", "freertos", "esp_system", "log", "esp_wifi", "esp_netif",
         "esp_event", "esp_timer", "spi_flash", "nvs_flash", "esp_hw_support", "esp_common", "newlib", "esp_libc",
         "tcp_transport", "esp-tls", "heap", "esp_partition", "esp_phy", "esp_coex", "esp_pm", "hal", "soc"]

out = {}
for n in names:
    for k in sorted((idf / n).glob("Kconfig*")):
        text = k.read_text(errors="replace")
        for kind, body in re.findall(r"^\s*(menuconfig|config|choice)\s*(.*?)(?=^\s*(?:menuconfig|config|choice|endchoice|menu|endmenu|if|endif|comment|source)\b)", text, re.M | re.S):
            head = body.split("\n", 1)
            name = head[0].strip()
            rest = head[1] if len(head) > 1 else ""
            d = re.search(r"^\s*default\s+(\"[^\"]*\"|\S+)", rest, re.M)
            if kind == "choice":
                if d: out.setdefault(d.group(1), "1")
                continue
            t = re.search(r"^\s*(bool|int|hex|string)", rest, re.M)
            if not t or not d or not name: continue
            v = d.group(1)
            if t.group(1) == "bool":
                if v == "y": out.setdefault(name, "1")
            elif t.group(1) == "string" or re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", v):
                out.setdefault(name, v)
for k, v in out.items():
    print(f"#ifndef CONFIG_{k}\n#define CONFIG_{k} {v}\n#endif")
PY

# Include directories of the components the port uses, as their CMakeLists declare them (public ones).
inc=("$out/inc")
add() { for d in "$@"; do [[ -d "$idf/components/$d" ]] && inc+=("$idf/components/$d"); done; return 0; }
if [[ -d "$idf/components/freertos/config" ]]; then  # 5.3+
  add freertos/config/include freertos/config/include/freertos freertos/config/riscv/include
fi
add freertos/FreeRTOS-Kernel/include freertos/FreeRTOS-Kernel/portable/riscv/include \
    freertos/FreeRTOS-Kernel/portable/riscv/include/freertos \
    freertos/esp_additions/include freertos/esp_additions/include/freertos freertos/esp_additions/arch/riscv/include
add esp_common/include esp_system/include esp_system/port/include esp_rom/include esp_rom/include/esp32c3 esp_rom/esp32c3 \
    esp_rom/esp32c3/include esp_rom/esp32c3/include/esp32c3 \
    soc/include soc/esp32c3/include soc/esp32c3/register hal/include hal/esp32c3/include hal/platform_port/include \
    esp_hal_wdt/include esp_hal_gpio/include \
    riscv/include esp_hw_support/include esp_hw_support/include/soc esp_hw_support/include/soc/esp32c3 \
    esp_hw_support/port/esp32c3/include esp_hw_support/dma/include esp_hw_support/ldo/include esp_hw_support/debug_probe/include \
    esp_hw_support/etm/include esp_hw_support/mspi_timing_tuning/include esp_hw_support/power_supply/include \
    log/include heap/include newlib/platform_include esp_libc/platform_include esp_timer/include esp_event/include \
    esp_netif/include esp_wifi/include esp_wifi/wifi_apps/include esp_wifi/wifi_apps/nan_app/include \
    esp_wifi/wifi_apps/roaming_app/include esp_phy/include esp_partition/include spi_flash/include nvs_flash/include \
    esp_http_client/include tcp_transport/include http_parser esp-tls esp-tls/esp-tls-crypto mqtt/esp-mqtt/include \
    mbedtls/port/include mbedtls/mbedtls/include mbedtls/esp_crt_bundle/include esp_security/include esp_driver_gpio/include \
    lwip/include lwip/include/apps lwip/include/apps/sntp lwip/lwip/src/include lwip/port/include lwip/port/freertos/include \
    lwip/port/esp32xx/include lwip/port/esp32xx/include/arch esp_pm/include esp_coex/include
incflags=()
# As system headers: warnings inside IDF's own headers are IDF's (it builds with -Wno-unused-parameter,
# -Wno-sign-compare); our files get the whole of -Wall -Wextra -Werror.
for d in "${inc[@]}"; do incflags+=(-isystem "$d"); done

# IDF's defaults for C++ in a component (tools/cmake/build.cmake), with -Werror for every warning of
# -Wall -Wextra (IDF itself errors on -Wall only), plus the project's flags (platformio.ini).
FLAGS=("${arch[@]}" "${libc[@]}" -std=gnu++17 -Os -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti
       -fno-jump-tables -fno-tree-switch-conversion -nostartfiles -Wall -Wextra -Werror
       -DESP_PLATFORM -DIDF_VER="\"v$idf_version\"" -DMBEDTLS_CONFIG_FILE='"mbedtls/esp_config.h"'
       -D_GLIBCXX_USE_C99 -D_POSIX_READER_WRITER_LOCKS -DSOC_MMU_PAGE_SIZE=CONFIG_MMU_PAGE_SIZE
       -Ifirmware/ports/esp32 -Ifirmware/ports/common -Ifirmware/lib/teddy_core/include "${incflags[@]}")

sources=(firmware/ports/esp32/*.cpp firmware/ports/common/*.cpp firmware/lib/teddy_core/src/*.cpp)
failed=0
for src in "${sources[@]}"; do
  if "$CXX" "${FLAGS[@]}" "${mode[@]}" "$src" -o "$out/$(basename "$src" .cpp).o" 2> "$out/$(basename "$src" .cpp).log"; then
    echo "  ok    $src"
  else
    echo "  FAIL  $src"
    sed 's/^/        /' "$out/$(basename "$src" .cpp).log" | head -40
    failed=$((failed + 1))
  fi
done
echo "esp32-check: ESP-IDF v$idf_version, esp32c3, ${#sources[@]} files, $how: $((${#sources[@]} - failed)) ok, $failed failed"
((failed == 0))
