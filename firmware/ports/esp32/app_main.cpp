// The bear's firmware on an ESP32: NVS (recovered if it needs it), the clip
// store mounted on the "clips" partition, Wi-Fi station up, then the session
// loop on the main task. Tasks, none of which waits for another:
//
//   main (session)  tick, deliver MQTT events, flash plays; never waits on the network
//   mqtt            esp-mqtt's own task: the connection, TLS, event delivery
//   teddy-net       the MQTT bridge's commands (subscribe, enqueue, next gateway)
//   teddy-http      Range downloads over esp_http_client (TLS)
//
// The task watchdog watches main, teddy-net and teddy-http: one hung for 30 s
// resets the bear (sdkconfig.defaults), which comes back with its flash clips.
//
// Provisioned at the factory into NVS namespace "teddy": "device", "secret"
// (the gateway credentials), "wifi_ssid", "wifi_pass", "gateways" (one or
// more gateway URLs, mqtts://HOST:PORT, separated by spaces: tried in turn),
// optionally "ca" (PEM CA for the gateways; else ESP-IDF's certificate
// bundle) and "cert" + "key" (PEM, mutual TLS). Without "gateways" the build
// flag TEDDY_GATEWAY_URI is the one gateway.
#include <cstring>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_task_wdt.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "http_esp.h"
#include "message_queue.h"
#include "mqtt_bridge.h"
#include "mqtt_esp.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "partition_flash.h"
#include "teddy/clip_store.h"
#include "teddy/session.h"

#ifndef TEDDY_GATEWAY_URI
#define TEDDY_GATEWAY_URI "mqtts://teddy-gateway.local:8883"
#endif

using namespace teddy;

namespace {

const char* kTag = "teddy";
constexpr size_t kMaxGateways = 4;
constexpr uint32_t kNetworkTaskStackBytes = 4 * 1024;  // esp-mqtt's subscribe writes (TLS record) on this task
constexpr UBaseType_t kTaskPriority = 5;

// Caller-owned buffers: the only sizeable RAM besides the session, the clip store and the tasks' stacks.
alignas(4) uint8_t inboxStorage[20 * 1024];  // MQTT messages for the session (a warm manifest is the largest)
alignas(4) uint8_t outboxStorage[4 * 1024];  // commands for the network task
uint8_t manifestBuffer[16 * 1024];           // the manifest being applied
uint8_t chunkBuffer[4096];                   // one flash read (one erase block)

struct Provisioning {
  char device[65];
  char secret[129];
  char ssid[33];
  char pass[65];
  char gateways[kMaxGateways * 80];
  char ca[3072];
  char cert[3072];
  char key[2048];
};
Provisioning prov;

/** Logs a failed ESP-IDF call; the caller decides what a failure means (nothing here aborts). */
bool ok(esp_err_t err, const char* what) {
  if (err == ESP_OK) return true;
  ESP_LOGE(kTag, "%s: %s", what, esp_err_to_name(err));
  return false;
}

/** Boot cannot continue (no flash, no NVS): log, wait, and start over rather than abort. */
[[noreturn]] void restartLater(const char* why) {
  ESP_LOGE(kTag, "%s; restarting in 10 s", why);
  vTaskDelay(pdMS_TO_TICKS(10000));
  esp_restart();
}

bool initNvs() {
  esp_err_t err = nvs_flash_init();
  // A full NVS partition, or one written by a newer NVS format: erase and start it again, as ESP-IDF's
  // examples do. (The provisioning is lost then; the clip partition is not touched.)
  if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
    ESP_LOGW(kTag, "NVS: %s, erasing it", esp_err_to_name(err));
    if (!ok(nvs_flash_erase(), "nvs_flash_erase")) return false;
    err = nvs_flash_init();
  }
  return ok(err, "nvs_flash_init");
}

bool readString(nvs_handle_t nvs, const char* key, char* out, size_t size, bool required) {
  size_t n = size;
  const esp_err_t err = nvs_get_str(nvs, key, out, &n);
  if (err == ESP_OK) return true;
  out[0] = '\0';
  if (required) ESP_LOGE(kTag, "NVS teddy/%s: %s", key, esp_err_to_name(err));
  return !required;
}

bool loadProvisioning() {
  nvs_handle_t nvs;
  if (!ok(nvs_open("teddy", NVS_READONLY, &nvs), "nvs_open teddy")) return false;
  const bool found = readString(nvs, "device", prov.device, sizeof prov.device, true) &&
                     readString(nvs, "secret", prov.secret, sizeof prov.secret, true) &&
                     readString(nvs, "wifi_ssid", prov.ssid, sizeof prov.ssid, true) &&
                     readString(nvs, "wifi_pass", prov.pass, sizeof prov.pass, true) &&
                     readString(nvs, "gateways", prov.gateways, sizeof prov.gateways, false) &&
                     readString(nvs, "ca", prov.ca, sizeof prov.ca, false) &&
                     readString(nvs, "cert", prov.cert, sizeof prov.cert, false) &&
                     readString(nvs, "key", prov.key, sizeof prov.key, false);
  nvs_close(nvs);
  return found;
}

/** Splits prov.gateways in place at spaces; the build flag when none is provisioned. */
uint8_t gatewayList(const char* out[kMaxGateways]) {
  uint8_t count = 0;
  char* p = prov.gateways;
  while (*p != '\0' && count < kMaxGateways) {
    while (*p == ' ') *p++ = '\0';
    if (*p == '\0') break;
    out[count++] = p;
    while (*p != '\0' && *p != ' ') ++p;
  }
  if (count == 0) out[count++] = TEDDY_GATEWAY_URI;
  return count;
}

const char* orNull(const char* s) { return s[0] != '\0' ? s : nullptr; }

// ---- Wi-Fi station: connect, and reconnect whenever the AP drops us ----

void onWifiEvent(void*, esp_event_base_t base, int32_t id, void*) {
  if (base == WIFI_EVENT && (id == WIFI_EVENT_STA_START || id == WIFI_EVENT_STA_DISCONNECTED)) esp_wifi_connect();
}

bool startWifi() {
  if (!ok(esp_netif_init(), "esp_netif_init") || !ok(esp_event_loop_create_default(), "esp_event_loop_create_default"))
    return false;
  esp_netif_create_default_wifi_sta();
  wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
  if (!ok(esp_wifi_init(&init), "esp_wifi_init")) return false;
  if (!ok(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, &onWifiEvent, nullptr), "wifi events")) return false;
  wifi_config_t cfg = {};
  std::strncpy(reinterpret_cast<char*>(cfg.sta.ssid), prov.ssid, sizeof cfg.sta.ssid);
  std::strncpy(reinterpret_cast<char*>(cfg.sta.password), prov.pass, sizeof cfg.sta.password);
  // Flash plays work before (and without) the network: nothing waits for an IP; the session retries.
  return ok(esp_wifi_set_mode(WIFI_MODE_STA), "esp_wifi_set_mode") && ok(esp_wifi_set_config(WIFI_IF_STA, &cfg), "esp_wifi_set_config") &&
         ok(esp_wifi_start(), "esp_wifi_start");
}

struct HardwareRandom final : Random {
  uint32_t next() override { return esp_random(); }  // a true RNG while the radio is on
};

/** Wakes a task blocked in ulTaskNotifyTake; never blocks. */
struct TaskWakeup final : Wakeup {
  TaskHandle_t task = nullptr;
  void wake() override {
    if (task != nullptr) xTaskNotifyGive(task);
  }
};

struct NetworkTask {
  MqttBridge* bridge;
  esp32::EspMqttClient* client;
};

void networkTaskMain(void* arg) {
  auto* net = static_cast<NetworkTask*>(arg);
  esp_task_wdt_add(nullptr);
  for (;;) {
    net->bridge->drain(*net->client);  // may wait on esp-mqtt's lock (a connect attempt): this task's job
    esp_task_wdt_reset();
    ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(1000));
    esp_task_wdt_reset();
  }
}

struct Logger final : SessionListener {
  void onReady() override { ESP_LOGI(kTag, "ready"); }
  void onWarmApplied(const protocol::WarmAck& ack) override {
    ESP_LOGI(kTag, "warm %u: %u stored, %u failed", unsigned(ack.seq), unsigned(ack.stored.count), unsigned(ack.failed.count));
  }
  void onAnswer(const protocol::Answer&) override { ESP_LOGI(kTag, "answer"); }  // never log the words
  void onPlay(const ClipId&, PlaySource from, uint32_t bytes) override {
    ESP_LOGI(kTag, "play %u bytes from %d", unsigned(bytes), int(from));
  }
  void onError(const char* what, Status status, uint8_t code) override {
    ESP_LOGW(kTag, "%s: %s (code %u)", what, statusName(status), unsigned(code));
  }
  void onAudio(const uint8_t*, size_t) override {}  // the board's I2S speaker driver goes here
};

}  // namespace

extern "C" void app_main() {
  if (!initNvs()) restartLater("no usable NVS");
  if (!loadProvisioning()) {
    ESP_LOGE(kTag, "not provisioned: NVS namespace teddy needs device, secret, wifi_ssid, wifi_pass (and gateways)");
    restartLater("not provisioned");
  }
  // The whole partition after the index is the budget (the store caps it at kMaxDataBlocks).
  static esp32::PartitionFlash partition("clips");
  if (!partition.ok()) restartLater("no clips partition");
  static ClipStore flash(partition, (partition.blockCount() - kIndexBlocks) * partition.blockSize());
  if (flash.mount() != Status::Ok) restartLater("clips partition unreadable");
  if (!startWifi()) ESP_LOGE(kTag, "no Wi-Fi: flash plays only");

  static const char* gateways[kMaxGateways];
  const uint8_t gatewayCount = gatewayList(gateways);

  static MessageQueue inbox(inboxStorage, sizeof inboxStorage);
  static MessageQueue outbox(outboxStorage, sizeof outboxStorage);
  static TaskWakeup sessionWake, networkWake;
  sessionWake.task = xTaskGetCurrentTaskHandle();
  static MqttBridge bridge(inbox, outbox, networkWake, sessionWake);
  static esp32::EspMqttClient mqtt(bridge, {prov.device, prov.secret, orNull(prov.ca), orNull(prov.cert), orNull(prov.key)});
  static NetworkTask net{&bridge, &mqtt};
  if (xTaskCreate(&networkTaskMain, "teddy-net", kNetworkTaskStackBytes, &net, kTaskPriority, &networkWake.task) != pdPASS)
    restartLater("cannot start teddy-net");
  static esp32::EspHttpClient http({orNull(prov.ca), orNull(prov.cert), orNull(prov.key)});
  if (!http.start(kTaskPriority)) restartLater("cannot start teddy-http");

  static HardwareRandom random;
  static Logger logger;
  SessionConfig cfg;
  cfg.deviceId = prov.device;
  cfg.gateways = gateways;
  cfg.gatewayCount = gatewayCount;
  cfg.firmwareVersion = "teddy-esp32/1";
  cfg.flashBudget = flash.stats().budgetBlocks * partition.blockSize();
  cfg.manifestBuffer = manifestBuffer;
  cfg.manifestCapacity = sizeof manifestBuffer;
  cfg.chunkBuffer = chunkBuffer;
  cfg.chunkCapacity = sizeof chunkBuffer;
  static Session session(cfg, bridge, http, flash, random, logger);

  esp_task_wdt_add(nullptr);
  uint32_t dropped = 0;
  for (;;) {
    session.tick(static_cast<uint32_t>(esp_timer_get_time() / 1000));
    bridge.deliver(session);
    esp_task_wdt_reset();
    if (bridge.inboxDropped() + bridge.outboxDropped() != dropped) {
      dropped = bridge.inboxDropped() + bridge.outboxDropped();
      ESP_LOGW(kTag, "MQTT queues full: %u messages and %u commands dropped so far (retries recover them)",
               unsigned(bridge.inboxDropped()), unsigned(bridge.outboxDropped()));
    }
    ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(20));  // until the bridge has something, or the next tick
  }
}
