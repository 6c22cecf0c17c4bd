#include "mosquitto_client.h"

#include <mosquitto.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace teddy::host {

namespace {
constexpr int kKeepAliveSeconds = 60;  // docs/protocol.md, "Connection"
constexpr int kPollMs = 20;            // the client's task waits on its socket this long, outside the lock

}  // namespace

bool parseMqttUrl(const std::string& url, std::string& host, int& port, bool& tls) {
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  const std::string scheme = url.substr(0, sep);
  if (scheme != "mqtt" && scheme != "mqtts") return false;
  tls = scheme == "mqtts";
  const std::string rest = url.substr(sep + 3);
  const size_t colon = rest.rfind(':');
  host = rest.substr(0, colon);
  port = colon == std::string::npos ? (tls ? 8883 : 1883) : std::atoi(rest.c_str() + colon + 1);
  return !host.empty() && port > 0 && port <= 65535;
}

MosquittoClient::MosquittoClient(MqttBridge& bridge, std::string deviceId, std::string secret, TlsFiles tls)
    : bridge_(bridge), deviceId_(std::move(deviceId)), secret_(std::move(secret)), tls_(std::move(tls)) {
  mosquitto_lib_init();
  task_ = std::thread([this] { run(); });
}

MosquittoClient::~MosquittoClient() {
  running_ = false;
  idle_.notify_all();
  task_.join();
  if (mosq_) {
    if (open_) mosquitto_disconnect(mosq_);
    mosquitto_destroy(mosq_);
  }
  mosquitto_lib_cleanup();
}

bool MosquittoClient::connect(const char* url) {
  std::lock_guard<std::recursive_mutex> api(api_);  // as esp_mqtt_set_config
  std::string host;
  int port = 0;
  bool tls = false;
  if (!parseMqttUrl(url, host, port, tls)) {
    std::fprintf(stderr, "teddy-bear: not an mqtt:// or mqtts:// URL: %s\n", url);
    return false;
  }
  if (tls && tls_.ca.empty()) {
    std::fprintf(stderr, "teddy-bear: %s needs --ca\n", url);
    return false;
  }
  host_ = host;
  port_ = port;
  useTls_ = tls;
  wantDisconnect_ = false;
  {
    std::lock_guard<std::mutex> lock(idleMutex_);
    wantConnect_ = true;
  }
  idle_.notify_all();
  return true;
}

void MosquittoClient::disconnect() { wantDisconnect_ = true; }  // as esp_mqtt_client_disconnect: a flag, no lock

bool MosquittoClient::subscribe(const char* topic, uint8_t qos) {
  std::lock_guard<std::recursive_mutex> api(api_);
  return open_ && mosquitto_subscribe(mosq_, nullptr, topic, qos) == MOSQ_ERR_SUCCESS;
}

bool MosquittoClient::enqueue(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) {
  std::lock_guard<std::recursive_mutex> api(api_);
  return open_ && mosquitto_publish(mosq_, nullptr, topic, static_cast<int>(size), payload, qos, false) == MOSQ_ERR_SUCCESS;
}

// ---- the client's task ----

void MosquittoClient::connectNow() {
  wantConnect_ = false;
  if (open_ && connected_) closeNow();  // the session sees that connection end
  else if (open_) mosquitto_disconnect(mosq_);  // an attempt given up on: superseded, nothing to report
  open_ = connected_ = false;
  if (mosq_) mosquitto_destroy(mosq_);  // a fresh client per connection: TLS settings follow the URL
  // Client id = username = device id; clean session (the gateway re-sends what matters after hello).
  mosq_ = mosquitto_new(deviceId_.c_str(), true, this);
  mosquitto_username_pw_set(mosq_, deviceId_.c_str(), secret_.c_str());
  mosquitto_connect_callback_set(mosq_, &MosquittoClient::onConnect);
  mosquitto_disconnect_callback_set(mosq_, &MosquittoClient::onDisconnect);
  mosquitto_message_callback_set(mosq_, &MosquittoClient::onMessage);
  if (useTls_) {
    const char* cert = tls_.cert.empty() ? nullptr : tls_.cert.c_str();
    const char* key = tls_.key.empty() ? nullptr : tls_.key.c_str();
    // SSL_VERIFY_PEER (1), TLS 1.2 or later; the host name is checked against the certificate.
    if (mosquitto_tls_set(mosq_, tls_.ca.c_str(), nullptr, cert, key, nullptr) != MOSQ_ERR_SUCCESS ||
        mosquitto_tls_opts_set(mosq_, 1, "tlsv1.2", nullptr) != MOSQ_ERR_SUCCESS) {
      std::fprintf(stderr, "teddy-bear: cannot use the TLS files (--ca %s)\n", tls_.ca.c_str());
      bridge_.clientDisconnected();
      return;
    }
  }
  // Blocking TCP connect and TLS handshake, under the API lock: esp-mqtt's INIT state does the same.
  const int rc = mosquitto_connect(mosq_, host_.c_str(), port_, kKeepAliveSeconds);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "teddy-bear: connect to %s:%d failed: %s\n", host_.c_str(), port_,
                 rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
    bridge_.clientDisconnected();
    return;
  }
  open_ = true;
}

void MosquittoClient::closeNow() {
  if (!open_) return;
  open_ = connected_ = false;
  mosquitto_disconnect(mosq_);
  bridge_.clientDisconnected();
}

void MosquittoClient::run() {
  while (running_) {
    int fd = -1;
    {
      std::lock_guard<std::recursive_mutex> api(api_);
      if (wantDisconnect_.exchange(false)) closeNow();
      if (wantConnect_) connectNow();
      if (open_) {
        // Socket I/O and event delivery under the lock, as esp-mqtt's task runs its state machine.
        const int rc = mosquitto_loop(mosq_, 0, 1);
        if (rc != MOSQ_ERR_SUCCESS && open_) {
          open_ = connected_ = false;  // lost the broker (or the TLS handshake failed); the socket is closed
          bridge_.clientDisconnected();
        }
        if (open_) fd = mosquitto_socket(mosq_);
      }
    }
    if (fd >= 0) {
      // Wait for the socket outside the lock (esp-mqtt polls its transport unlocked too).
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, kPollMs);
    } else {
      std::unique_lock<std::mutex> lock(idleMutex_);
      idle_.wait_for(lock, std::chrono::milliseconds(kPollMs), [this] { return wantConnect_ || !running_; });
    }
  }
}

void MosquittoClient::onConnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MosquittoClient*>(self);
  if (rc == 0) {
    c->connected_ = true;
    c->bridge_.clientConnected();
    return;
  }
  // CONNACK refused (4 bad credentials, 5 not authorized): close; the session backs off and fails over.
  std::fprintf(stderr, "teddy-bear: connection refused: %s\n", mosquitto_connack_string(rc));
  c->closeNow();
}

void MosquittoClient::onDisconnect(mosquitto*, void* self, int) {
  auto* c = static_cast<MosquittoClient*>(self);
  if (!c->open_) return;
  c->open_ = c->connected_ = false;
  c->bridge_.clientDisconnected();
}

void MosquittoClient::onMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<MosquittoClient*>(self);
  const size_t size = static_cast<size_t>(msg->payloadlen);
  c->bridge_.clientData(msg->topic, std::strlen(msg->topic), static_cast<const uint8_t*>(msg->payload), size, 0, size);
}

}  // namespace teddy::host
