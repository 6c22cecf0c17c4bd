// The bear's firmware on an ESP32: Wi-Fi station up, the clip store mounted
// on the "clips" partition, then the session loop on the main task.
// Provisioned at the factory into NVS namespace "teddy": "device", "secret"
// (the gateway credentials), "wifi_ssid", "wifi_pass". The gateway URI is a
// build flag (-DTEDDY_GATEWAY_URI=...).
#include <cstring>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "http_esp.h"
#include "mqtt_esp.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "partition_flash.h"
#include "teddy/clip_store.h"
#include "teddy/session.h"

#ifndef TEDDY_GATEWAY_URI
#define TEDDY_GATEWAY_URI "mqtt://teddy-gateway.local:1883"
#endif

using namespace teddy;

namespace {

const char* kTag = "teddy";

// Caller-owned buffers: the only sizeable RAM besides the session and the clip store.
uint8_t rxBuffer[16 * 1024];        // one incoming MQTT message (a warm manifest is the largest)
uint8_t manifestBuffer[16 * 1024];  // the manifest being applied
uint8_t chunkBuffer[4096];          // one download chunk / flash read (one erase block)

struct Provisioning {
  char device[65];
  char secret[129];
  char ssid[33];
  char pass[65];
};
Provisioning prov;

bool loadProvisioning() {
  nvs_handle_t nvs;
  if (nvs_open("teddy", NVS_READONLY, &nvs) != ESP_OK) return false;
  size_t n1 = sizeof prov.device, n2 = sizeof prov.secret, n3 = sizeof prov.ssid, n4 = sizeof prov.pass;
  const bool ok = nvs_get_str(nvs, "device", prov.device, &n1) == ESP_OK && nvs_get_str(nvs, "secret", prov.secret, &n2) == ESP_OK &&
                  nvs_get_str(nvs, "wifi_ssid", prov.ssid, &n3) == ESP_OK && nvs_get_str(nvs, "wifi_pass", prov.pass, &n4) == ESP_OK;
  nvs_close(nvs);
  return ok;
}

// ---- Wi-Fi station: connect, and reconnect whenever the AP drops us ----

EventGroupHandle_t wifiEvents;
constexpr EventBits_t kGotIp = BIT0;

void onWifiEvent(void*, esp_event_base_t base, int32_t id, void*) {
  if (base == WIFI_EVENT && (id == WIFI_EVENT_STA_START || id == WIFI_EVENT_STA_DISCONNECTED)) esp_wifi_connect();
  if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) xEventGroupSetBits(wifiEvents, kGotIp);
}

void startWifi() {
  wifiEvents = xEventGroupCreate();
  ESP_ERROR_CHECK(esp_netif_init());
  ESP_ERROR_CHECK(esp_event_loop_create_default());
  esp_netif_create_default_wifi_sta();
  wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
  ESP_ERROR_CHECK(esp_wifi_init(&init));
  ESP_ERROR_CHECK(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, &onWifiEvent, nullptr));
  ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, &onWifiEvent, nullptr));
  wifi_config_t cfg = {};
  std::strncpy(reinterpret_cast<char*>(cfg.sta.ssid), prov.ssid, sizeof cfg.sta.ssid);
  std::strncpy(reinterpret_cast<char*>(cfg.sta.password), prov.pass, sizeof cfg.sta.password);
  ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
  ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &cfg));
  ESP_ERROR_CHECK(esp_wifi_start());
  // Flash plays work before (and without) the network; only the first hello waits for an IP.
  xEventGroupWaitBits(wifiEvents, kGotIp, pdFALSE, pdTRUE, pdMS_TO_TICKS(30000));
}

struct HardwareRandom final : Random {
  uint32_t next() override { return esp_random(); }  // a true RNG while the radio is on
};

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
  ESP_ERROR_CHECK(nvs_flash_init());
  if (!loadProvisioning()) {
    ESP_LOGE(kTag, "not provisioned: NVS namespace teddy needs device, secret, wifi_ssid, wifi_pass");
    return;
  }
  // The whole partition after the index is the budget (the store caps it at kMaxDataBlocks).
  static esp32::PartitionFlash partition("clips");
  static ClipStore flash(partition, (partition.blockCount() - kIndexBlocks) * partition.blockSize());
  if (!partition.ok() || flash.mount() != Status::Ok) {
    ESP_LOGE(kTag, "no usable clips partition");
    return;
  }
  startWifi();

  static esp32::EspHttpClient http;
  static esp32::EspMqttTransport mqtt(TEDDY_GATEWAY_URI, prov.device, prov.secret, rxBuffer, sizeof rxBuffer);
  static HardwareRandom random;
  static Logger logger;
  SessionConfig cfg;
  cfg.deviceId = prov.device;
  cfg.firmwareVersion = "teddy-esp32/1";
  cfg.flashBudget = flash.stats().budgetBlocks * partition.blockSize();
  cfg.manifestBuffer = manifestBuffer;
  cfg.manifestCapacity = sizeof manifestBuffer;
  cfg.chunkBuffer = chunkBuffer;
  cfg.chunkCapacity = sizeof chunkBuffer;
  static Session session(cfg, mqtt, http, flash, random, logger);
  mqtt.bind(session);

  for (;;) {
    session.tick(static_cast<uint32_t>(esp_timer_get_time() / 1000));
    mqtt.poll(20);  // also yields the task between ticks
  }
}
