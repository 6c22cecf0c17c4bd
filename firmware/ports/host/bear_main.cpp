// teddy-bear: the bear's firmware on a host, for end-to-end tests and demos.
// The portable core (session, codec, clip store) with the ESP32 port's MQTT
// bridge and host ports: libmosquitto behind esp-mqtt's task-and-lock rule,
// libcurl's multi interface, and a file emulating the NOR flash partition.
// Threads as on the device: the session's (this one, never waiting on the
// network), the MQTT client's, and the bridge's network thread.
//
// Commands on stdin, one per line:  say <text> | play <clipIdHex> | stats | quit
// Events on stdout, one JSON object per line (see docs/firmware.md); logs on stderr.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "file_flash.h"
#include "http_curl.h"
#include "json_line.h"
#include "mosquitto_client.h"
#include "mqtt_bridge.h"
#include "teddy/clip_store.h"
#include "teddy/session.h"

using namespace teddy;

namespace {

const char* kUsage =
    "usage: teddy-bear --gateway URL [--gateway URL...] --device ID --secret SECRET --flash FILE\n"
    "                  [--budget SIZE] [--ca FILE] [--cert FILE --key FILE]\n"
    "\n"
    "Runs the bear's firmware on this host against a teddycache gateway.\n"
    "  --gateway URL    a gateway's MQTT address: mqtt://HOST[:PORT], or mqtts://HOST[:PORT] over TLS;\n"
    "                   repeat it for fail-over (tried in turn when a connection fails or is lost)\n"
    "  --device ID      device id: 1-64 of [A-Za-z0-9_-]\n"
    "  --secret SECRET  the device secret (from `teddycache device add`)\n"
    "  --flash FILE     file standing in for the flash clip partition (created if missing)\n"
    "  --budget SIZE    flash budget for clips: bytes, or with KB/MB suffix (default 1MB)\n"
    "  --ca FILE        PEM CA that signs the gateways' certificates (mqtts:// and https:// clips)\n"
    "  --cert FILE      client certificate for mutual TLS, with --key FILE (its private key)\n"
    "\n"
    "stdin:  say <text> | play <clipIdHex> | stats | quit\n"
    "stdout: one JSON event per line: ready, warm, answer, play, stats, disconnected, error\n";

constexpr size_t kManifestBytes = 32 * 1024;
constexpr size_t kChunkBytes = 4096;
uint8_t manifestBuffer[kManifestBytes];
uint8_t chunkBuffer[kChunkBytes];

constexpr size_t kInboxBytes = 40 * 1024;  // a warm manifest (up to 32 KiB) and the responses around it
constexpr size_t kOutboxBytes = 8 * 1024;  // hello, requests and stats waiting for the network thread
alignas(4) uint8_t inboxStorage[kInboxBytes];
alignas(4) uint8_t outboxStorage[kOutboxBytes];
constexpr size_t kMaxGateways = 8;

struct Args {
  std::vector<std::string> gateways;
  host::TlsFiles tls;
  std::string device;
  std::string secret;
  std::string flash;
  uint32_t budget = 1024 * 1024;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr, "teddy-bear: %s\n\n%s", problem, kUsage);
  std::exit(2);
}

bool parseSize(const std::string& s, uint32_t& out) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return false;
  const std::string unit(end);
  unsigned long long mult = 1;
  if (unit == "KB" || unit == "K" || unit == "kb") mult = 1024;
  else if (unit == "MB" || unit == "M" || unit == "mb") mult = 1024 * 1024;
  else if (!unit.empty()) return false;
  if (n * mult > 0xffffffffull) return false;
  out = static_cast<uint32_t>(n * mult);
  return true;
}

bool validDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

/** Every option takes a value; a flag not listed here is unknown (said before "missing value"). */
constexpr const char* kValueFlags[] = {"--gateway", "--ca", "--cert", "--key", "--device", "--secret", "--flash", "--budget"};

bool isValueFlag(const std::string& flag) {
  for (const char* known : kValueFlags) {
    if (flag == known) return true;
  }
  return false;
}

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (!isValueFlag(flag)) usage(("unknown option " + flag).c_str());
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const std::string value = argv[++i];
    if (flag == "--gateway") a.gateways.push_back(value);
    else if (flag == "--ca") a.tls.ca = value;
    else if (flag == "--cert") a.tls.cert = value;
    else if (flag == "--key") a.tls.key = value;
    else if (flag == "--device") a.device = value;
    else if (flag == "--secret") a.secret = value;
    else if (flag == "--flash") a.flash = value;
    else if (flag == "--budget") {
      if (!parseSize(value, a.budget)) usage("--budget takes bytes, or a number with KB or MB");
    }
  }
  if (a.gateways.empty() || a.gateways.size() > kMaxGateways) usage("--gateway is required (1 to 8 of them)");
  for (const std::string& g : a.gateways) {
    std::string host;
    int port = 0;
    bool tls = false;
    if (!host::parseMqttUrl(g, host, port, tls)) usage("--gateway must look like mqtt://HOST:PORT or mqtts://HOST:PORT");
    if (tls && a.tls.ca.empty()) usage("an mqtts:// --gateway needs --ca FILE");
  }
  if (a.tls.cert.empty() != a.tls.key.empty()) usage("--cert and --key go together");
  for (const std::string* f : {&a.tls.ca, &a.tls.cert, &a.tls.key})
    if (!f->empty() && ::access(f->c_str(), R_OK) != 0) usage(("cannot read " + *f).c_str());
  if (!validDeviceId(a.device)) usage("--device must be 1-64 characters of [A-Za-z0-9_-]");
  if (a.secret.empty()) usage("--secret is required");
  if (a.flash.empty()) usage("--flash is required");
  return a;
}

bool parseClipId(const std::string& hex, ClipId& out) {
  if (hex.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1 || !std::isxdigit(static_cast<unsigned char>(hex[2 * i + 1])))
      return false;
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

uint32_t nowMs() {
  using namespace std::chrono;
  return static_cast<uint32_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

const char* sourceName(PlaySource s) {
  switch (s) {
    case PlaySource::Flash: return "flash";
    case PlaySource::Inline: return "inline";
    default: return "download";
  }
}

volatile sig_atomic_t stopRequested = 0;
void requestStop(int) { stopRequested = 1; }

struct SystemRandom final : Random {
  std::mt19937 gen{std::random_device{}()};
  uint32_t next() override { return static_cast<uint32_t>(gen()); }
};

/** Wakes a thread blocked in poll() on the read end of a pipe; a full pipe is already awake. */
struct PipeWakeup final : Wakeup {
  int fds[2] = {-1, -1};
  PipeWakeup() {
    if (::pipe(fds) != 0) std::abort();
    for (int fd : fds) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  ~PipeWakeup() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void wake() override {
    const char b = 1;
    (void)!::write(fds[1], &b, 1);
  }
  void drain() {
    char buf[64];
    while (::read(fds[0], buf, sizeof buf) > 0) {
    }
  }
};

/** Prints the session's events as JSON lines. */
struct Printer final : SessionListener {
  const Session* session = nullptr;
  void onReady() override { host::JsonLine("ready").str("gateway", session->gateway()).print(); }
  void onWarmApplied(const protocol::WarmAck& ack) override {
    host::JsonLine("warm").num("seq", ack.seq).ids("stored", ack.stored).ids("failed", ack.failed).num("bytesUsed", ack.bytesUsed).print();
  }
  void onAnswer(const protocol::Answer& a) override {
    host::JsonLine("answer").str("reply", a.reply.data, a.reply.size).hex("clip", a.clip.id).num("source", a.source).print();
  }
  void onPlay(const ClipId& clip, PlaySource from, uint32_t bytes) override {
    host::JsonLine("play").hex("clip", clip).str("from", sourceName(from)).num("bytes", bytes).print();
  }
  void onError(const char* what, Status status, uint8_t code) override {
    host::JsonLine("error").str("what", what).str("status", statusName(status)).num("code", code).print();
  }
  void onAudio(const uint8_t*, size_t) override {}  // no speaker on a host
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = parseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, requestStop);  // Ctrl-C / SIGTERM: leave the broker cleanly, exit 0
  signal(SIGTERM, requestStop);

  // The flash partition: the clip store's index blocks plus the budget's data blocks, in a file.
  constexpr uint32_t kBlockBytes = 4096;
  const uint32_t dataBlocks = std::min<uint32_t>(args.budget / kBlockBytes, kMaxDataBlocks);
  host::FileFlash device(kBlockBytes, kIndexBlocks + dataBlocks);
  ClipStore flash(device, args.budget);
  Status opened = device.open(args.flash.c_str());
  if (opened == Status::Ok) opened = flash.mount();
  if (opened != Status::Ok) {
    std::fprintf(stderr, "teddy-bear: cannot open flash file %s: %s\n", args.flash.c_str(), statusName(opened));
    return 1;
  }

  const char* gateways[kMaxGateways];
  for (size_t i = 0; i < args.gateways.size(); ++i) gateways[i] = args.gateways[i].c_str();
  SessionConfig cfg;
  cfg.deviceId = args.device.c_str();
  cfg.gateways = gateways;
  cfg.gatewayCount = static_cast<uint8_t>(args.gateways.size());
  cfg.firmwareVersion = "teddy-bear-host/1";
  cfg.flashBudget = flash.stats().budgetBlocks * kBlockBytes;  // what the store can really hold
  cfg.manifestBuffer = manifestBuffer;
  cfg.manifestCapacity = sizeof manifestBuffer;
  cfg.chunkBuffer = chunkBuffer;
  cfg.chunkCapacity = sizeof chunkBuffer;

  Printer printer;
  SystemRandom random;
  host::CurlHttpClient http(args.tls);
  MessageQueue inbox(inboxStorage, sizeof inboxStorage);
  MessageQueue outbox(outboxStorage, sizeof outboxStorage);
  PipeWakeup sessionWake;
  PipeWakeup networkWake;
  MqttBridge bridge(inbox, outbox, networkWake, sessionWake);
  host::MosquittoClient client(bridge, args.device, args.secret, args.tls);
  Session session(cfg, bridge, http, flash, random, printer);
  printer.session = &session;
  std::fprintf(stderr, "teddy-bear: %s with %zu gateway(s), first %s, flash %s (%u bytes)\n", args.device.c_str(),
               args.gateways.size(), gateways[0], args.flash.c_str(), args.budget);

  // The bridge's network thread: performs queued commands on the client (it may wait on its lock).
  std::atomic<bool> networkRunning{true};
  std::thread network([&] {
    while (networkRunning) {
      bridge.drain(client);
      pollfd p{networkWake.fds[0], POLLIN, 0};
      ::poll(&p, 1, 100);
      networkWake.drain();
    }
  });

  std::string line;
  SessionState last = session.state();
  bool running = true;
  while (running && !stopRequested) {
    session.tick(nowMs());
    bridge.deliver(session);
    if (last == SessionState::Ready && session.state() != SessionState::Ready) host::JsonLine("disconnected").print();
    last = session.state();

    // Wait (20 ms at most, so ticks keep coming) for stdin or for the bridge to have something.
    pollfd fds[2] = {{sessionWake.fds[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    ::poll(fds, 2, 20);
    sessionWake.drain();
    if (!(fds[1].revents & (POLLIN | POLLHUP))) continue;
    char buf[2048];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // stdin closed: done
    line.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = line.find('\n')) != std::string::npos) {
      const std::string cmd = line.substr(0, nl);
      line.erase(0, nl + 1);
      if (cmd == "quit") {
        running = false;
        break;
      }
      if (cmd == "stats") {
        const protocol::Stats s = session.stats();
        session.publishStats();
        host::JsonLine("stats").num("flashHits", s.flashHits).num("flashMisses", s.flashMisses).num("bytesUsed", s.bytesUsed)
            .num("clipCount", s.clipCount).num("evictions", s.evictions).num("maxEraseCount", s.maxEraseCount)
            .num("uptime", s.uptime).num("inboxDropped", bridge.inboxDropped()).num("outboxDropped", bridge.outboxDropped())
            .print();
      } else if (cmd.rfind("say ", 0) == 0) {
        const Status s = session.say(cmd.data() + 4, cmd.size() - 4);
        if (s != Status::Ok) printer.onError("say", s, 0);
      } else if (cmd.rfind("play ", 0) == 0) {
        ClipId id;
        if (!parseClipId(cmd.substr(5), id)) {
          printer.onError("play", Status::Invalid, 0);
          continue;
        }
        const Status s = session.play(id);
        if (s != Status::Ok) printer.onError("play", s, 0);
      } else if (!cmd.empty()) {
        printer.onError("command", Status::Invalid, 0);
      }
    }
  }
  networkRunning = false;
  networkWake.wake();
  network.join();
  bridge.disconnect();
  bridge.drain(client);  // the last command, from this thread now: leave the broker cleanly (DISCONNECT)
  return 0;
}
