// The session state machine against in-memory ports: connection and hello,
// correlation, timeouts and retries within the backoff bounds, late answers,
// warm manifests (idempotent by seq, resumable downloads), the play path.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "session_rig.h"

using namespace teddy;
using protocol::Message;
using protocol::MessageType;

using rig::audio;
using rig::clipId;
using rig::Rig;

TEST_CASE("connect, subscribe to res and warm, hello with held clips and seq, welcome makes it Ready") {
  Rig rig;
  rig.flash.clips[clipId(7)] = {};
  rig.flash.seq = 3;
  rig.tick();
  CHECK(rig.mqtt.connects == 1);
  CHECK(rig.session->state() == SessionState::Connecting);
  rig.session->onConnected();
  CHECK(rig.mqtt.subscriptions == std::vector<std::string>{"teddy/v1/bear-1/res", "teddy/v1/bear-1/warm"});
  const Message hello = rig.lastOn("req");
  CHECK(hello.type == MessageType::Hello);
  CHECK(hello.hello.id != 0);
  CHECK(hello.hello.warmSeq == 3);
  CHECK(hello.hello.flashBudget == rig.flash.budget);
  REQUIRE(hello.hello.clips.count == 1);
  CHECK(hello.hello.clips.ids[0] == clipId(7));
  rig.welcome(hello.hello.id + 1);  // someone else's id: ignored
  CHECK(rig.session->state() == SessionState::HelloSent);
  rig.welcome(hello.hello.id);
  CHECK(rig.session->state() == SessionState::Ready);
  CHECK(rig.listener.ready == 1);
}

TEST_CASE("correlation ids are non-zero and increasing; a full table is Busy") {
  PendingRequests p({1000, 1, {10, 10}});
  CHECK(p.nextId() == 1);
  CHECK(p.nextId() == 2);
  p.startAfter(0);  // 0 is never handed out
  CHECK(p.nextId() == 1);
  for (size_t i = 0; i < kMaxPendingRequests; ++i) CHECK(p.open(p.nextId(), 3) != nullptr);
  CHECK(p.open(p.nextId(), 3) == nullptr);
  CHECK(p.find(0) == nullptr);
}

TEST_CASE("correlation ids wrap past 2^32-1 to 1, never 0") {
  PendingRequests p({1000, 1, {10, 10}});
  p.startAfter(0xfffffffeu);
  CHECK(p.nextId() == 0xffffffffu);
  CHECK(p.nextId() == 1u);
}

TEST_CASE("answers are matched by id; a timed-out request is retried within the backoff bounds, then given up") {
  Rig rig;
  rig.ready();
  rig.random.queue = {500, 1000};  // the top of each jitter range, to check the ceiling
  REQUIRE(rig.session->say("hello bear", 10) == Status::Ok);
  const Message first = rig.lastOn("req");
  REQUIRE(first.type == MessageType::Utterance);
  CHECK(first.utterance.format == 2);
  CHECK(std::string(reinterpret_cast<const char*>(first.utterance.audio.data), first.utterance.audio.size) == "hello bear");
  const uint32_t id = first.utterance.id;
  const size_t before = rig.countOn("req");

  // Attempt 1 times out at +5000; the retry waits uniform in [0, 500] (here: 500).
  rig.tick(4999);
  CHECK(rig.countOn("req") == before);
  rig.tick(1);  // timeout: backing off
  CHECK(rig.countOn("req") == before);
  rig.tick(499);
  CHECK(rig.countOn("req") == before);
  rig.tick(1);
  CHECK(rig.countOn("req") == before + 1);
  CHECK(rig.lastOn("req").utterance.id == id);  // same id: an answer to any attempt completes it

  // Attempt 2 times out; the next pause is at most 1000 (base * 2).
  rig.tick(5000);
  rig.tick(999);
  CHECK(rig.countOn("req") == before + 1);
  rig.tick(1);
  CHECK(rig.countOn("req") == before + 2);

  // Attempt 3 is the last: its timeout gives up with an error.
  rig.tick(5000);
  CHECK(rig.listener.errors == std::vector<std::string>{"utterance"});
  CHECK(rig.session->requestsInFlight() == 0);

  // The late answer to the abandoned id is ignored.
  rig.answer(id, rig.serve(1, audio(100, 1), false), "late");
  CHECK(rig.listener.replies.empty());
  CHECK(rig.listener.plays.empty());
}

TEST_CASE("backoff: full jitter stays in [0, min(cap, base * 2^n)]") {
  Backoff b{100, 3000};
  CHECK(b.ceilingMs(0) == 100);
  CHECK(b.ceilingMs(1) == 200);
  CHECK(b.ceilingMs(4) == 1600);
  CHECK(b.ceilingMs(5) == 3000);
  CHECK(b.ceilingMs(1000) == 3000);
  fakes::Random r;
  r.queue = {0, 100, 101, 0xffffffff, 12345};
  CHECK(b.delayMs(0, r) == 0);
  CHECK(b.delayMs(0, r) == 100);
  CHECK(b.delayMs(0, r) == 0);  // 101 % 101
  CHECK(b.delayMs(40, r) <= 3000);
  CHECK(b.delayMs(3, r) == 12345 % 801);
}

TEST_CASE("an answer plays from flash when held, else inline bytes, else a download") {
  Rig rig;
  rig.ready();
  const auto bytes = audio(6000, 3);
  const auto ref = rig.serve(9, bytes, false);

  // Not held, no inline: downloaded (admitted: 6000 <= budget/8), then played from flash.
  rig.sayAndAnswer(ref, "Once");
  CHECK(rig.listener.replies == std::vector<std::string>{"Once"});
  rig.runUntilIdle(5);
  REQUIRE(rig.listener.plays.size() == 1);
  CHECK(rig.listener.plays[0].from == PlaySource::Download);
  CHECK(rig.listener.plays[0].bytes == 6000);
  CHECK(rig.flash.contains(ref.id));
  CHECK(rig.http.offsets == std::vector<uint32_t>{0, 4096});

  // Now held: play() is a flash hit, with no network at all.
  rig.session->onDisconnected();
  REQUIRE(rig.session->play(ref.id) == Status::Ok);
  CHECK(rig.listener.plays.back().from == PlaySource::Flash);
  CHECK(rig.listener.plays.back().bytes == 6000);
  CHECK(rig.flash.clips[ref.id].hits == 1);
  CHECK(rig.session->stats().flashHits == 1);
  CHECK(rig.session->stats().flashMisses == 1);

  // Not held and offline: Busy, and it counts as a miss.
  CHECK(rig.session->play(clipId(0x55)) == Status::Busy);
  CHECK(rig.session->stats().flashMisses == 2);
}

TEST_CASE("a held clip that fails its check is never played: the session asks the gateway instead") {
  Rig rig;
  rig.ready();
  const ClipId id = clipId(0x21);
  rig.flash.clips[id].bytes = audio(500, 1);
  rig.flash.rotten.push_back(id);
  REQUIRE(rig.session->play(id) == Status::Ok);
  CHECK(rig.listener.errors == std::vector<std::string>{"flash"});
  CHECK(rig.listener.plays.empty());
  CHECK(rig.listener.audioBytes == 0);
  const Message get = rig.lastOn("req");
  CHECK(get.type == MessageType::ClipGet);
  CHECK(get.clipGet.clipId == id);
  CHECK(rig.session->stats().flashHits == 0);
  CHECK(rig.session->stats().flashMisses == 1);
}

TEST_CASE("play of a missing clip asks the gateway (clipGet) and plays the inline bytes it returns") {
  Rig rig;
  rig.ready();
  const auto bytes = audio(300, 5);
  auto ref = rig.serve(4, bytes, false);
  REQUIRE(rig.session->play(ref.id) == Status::Ok);
  const Message get = rig.lastOn("req");
  REQUIRE(get.type == MessageType::ClipGet);
  CHECK(get.clipGet.clipId == ref.id);
  CHECK(get.clipGet.hasMaxInline);
  ref.hasInline = true;
  ref.inlineBytes = {bytes.data(), bytes.size()};
  Message clip;
  clip.type = MessageType::Clip;
  clip.clip.id = get.clipGet.id;
  clip.clip.clip = ref;
  rig.deliver("res", clip);
  REQUIRE(rig.listener.plays.size() == 1);
  CHECK(rig.listener.plays[0].from == PlaySource::Inline);
  CHECK(rig.listener.audioBytes == 300);
  CHECK(rig.flash.contains(ref.id));  // admitted on demand
  CHECK(rig.http.offsets.empty());

  // A gateway error for a clipGet is reported, not played.
  REQUIRE(rig.session->play(clipId(0x66)) == Status::Ok);
  Message err;
  err.type = MessageType::Error;
  err.error.id = rig.lastOn("req").clipGet.id;
  err.error.code = 6;
  err.error.message = {"not found", 9};
  rig.deliver("res", err);
  CHECK(rig.listener.errors.back() == "clipGet");
  CHECK(rig.listener.plays.size() == 1);
}

TEST_CASE("a clip too big for on-demand admission streams to the speaker and is verified") {
  Rig rig;
  rig.flash.budget = 16384;  // on-demand limit 2048 bytes
  rig.ready();
  const auto ref = rig.serve(2, audio(5000, 9), false);
  rig.sayAndAnswer(ref);
  rig.runUntilIdle(5);
  REQUIRE(rig.listener.plays.size() == 1);
  CHECK(rig.listener.plays[0].from == PlaySource::Download);
  CHECK(rig.listener.audioBytes == 5000);
  CHECK(!rig.flash.contains(ref.id));
}

TEST_CASE("a warm manifest is stored, verified, acked; replays and older seqs are ignored") {
  Rig rig;
  rig.ready();
  const auto a = rig.serve(1, audio(9000, 1), true);
  const auto b = rig.serve(2, audio(100, 2), false);
  auto bad = rig.serve(3, audio(50, 3), false);
  bad.sha256[0] ^= 1;  // the origin's bytes do not match the manifest: must not be stored
  rig.deliverWarm(4, {a, b, bad});
  rig.runUntilIdle();
  REQUIRE(rig.listener.warms.size() == 1);
  const auto& ack = rig.listener.warms[0];
  CHECK(ack.seq == 4);
  REQUIRE(ack.stored.count == 2);
  CHECK(ack.stored.ids[0] == a.id);
  CHECK(ack.stored.ids[1] == b.id);
  REQUIRE(ack.failed.count == 1);
  CHECK(ack.failed.ids[0] == bad.id);
  CHECK(ack.bytesUsed == 9100);
  CHECK(rig.flash.clips[a.id].pinned);
  CHECK(!rig.flash.clips[b.id].pinned);
  CHECK(!rig.flash.contains(bad.id));
  CHECK(rig.flash.seq == 4);
  const Message sentAck = rig.lastOn("evt");
  CHECK(sentAck.type == MessageType::WarmAck);
  CHECK(sentAck.warmAck.seq == 4);
  CHECK(sentAck.warmAck.stored.count == 2);

  const size_t requests = rig.http.offsets.size();
  const size_t events = rig.countOn("evt");
  rig.deliverWarm(4, {a, b, bad});  // QoS 1 duplicate
  rig.deliverWarm(3, {bad});        // older
  rig.runUntilIdle();
  CHECK(rig.listener.warms.size() == 1);
  CHECK(rig.http.offsets.size() == requests);
  CHECK(rig.countOn("evt") == events);

  // A newer manifest that no longer lists `a` unpins it (it stays until evicted).
  rig.deliverWarm(5, {b});
  rig.runUntilIdle();
  REQUIRE(rig.listener.warms.size() == 2);
  CHECK(rig.http.offsets.size() == requests);  // b was already held
  CHECK(!rig.flash.clips[a.id].pinned);
  CHECK(rig.flash.contains(a.id));
}

TEST_CASE("a download cut by a power loss resumes at the last committed chunk after reboot") {
  Rig rig;
  rig.ready();
  const auto bytes = audio(10000, 4);
  const auto clip = rig.serve(1, bytes, true);
  rig.deliverWarm(2, {clip});
  rig.tick(10);  // starts the download
  rig.tick(10);  // chunk 1: 4096 bytes
  REQUIRE(rig.flash.partial[clip.id].bytes.size() == 4096);
  CHECK(rig.flash.seq == 0);

  // Power cut: the session object is gone without a goodbye; flash keeps the partial clip.
  rig.boot();
  rig.http.offsets.clear();
  rig.ready();
  CHECK(rig.lastOn("req").hello.warmSeq == 0);  // not applied: the gateway pushes it again
  rig.deliverWarm(2, {clip});
  rig.runUntilIdle();
  CHECK(rig.http.offsets == std::vector<uint32_t>{4096, 8192});
  REQUIRE(rig.listener.warms.size() == 1);
  CHECK(rig.listener.warms[0].stored.count == 1);
  CHECK(rig.flash.clips[clip.id].bytes == bytes);
  CHECK(rig.flash.seq == 2);
}

TEST_CASE("a child's play during a warm download goes first; the warm clip then resumes where it was") {
  Rig rig;
  rig.ready();
  const auto warmBytes = audio(10000, 4);
  const auto warmClip = rig.serve(1, warmBytes, true);
  rig.deliverWarm(2, {warmClip});
  rig.tick(10);  // starts the warm download
  rig.tick(10);  // chunk 1 of the warm clip
  REQUIRE(rig.flash.partial[warmClip.id].bytes.size() == 4096);

  const auto answerClip = rig.serve(2, audio(6000, 8), false);
  rig.sayAndAnswer(answerClip);
  rig.runUntilIdle();
  REQUIRE(rig.listener.plays.size() == 1);
  CHECK(rig.listener.plays[0].from == PlaySource::Download);
  REQUIRE(rig.listener.warms.size() == 1);
  CHECK(rig.listener.warms[0].stored.count == 1);
  CHECK(rig.flash.clips[warmClip.id].bytes == warmBytes);
  CHECK(rig.flash.contains(answerClip.id));
  // warm 0, answer 0 and 4096, then the warm clip resumes at 4096
  CHECK(rig.http.offsets == std::vector<uint32_t>{0, 0, 4096, 4096, 8192});
}

TEST_CASE("a failing chunk is retried after backoff, and fails the clip after the attempts run out") {
  Rig rig;
  rig.ready();
  const auto clip = rig.serve(1, audio(100, 4), false);
  rig.http.failuresLeft = 2;
  rig.deliverWarm(1, {clip});
  rig.runUntilIdle();
  REQUIRE(rig.listener.warms.size() == 1);
  CHECK(rig.listener.warms[0].stored.count == 1);
  CHECK(rig.http.offsets == std::vector<uint32_t>{0, 0, 0});

  const auto gone = rig.serve(2, audio(100, 5), false);
  rig.http.failuresLeft = 100;
  rig.deliverWarm(2, {gone});
  rig.runUntilIdle(2000);
  REQUIRE(rig.listener.warms.size() == 2);
  CHECK(rig.listener.warms[1].failed.count == 1);
}

TEST_CASE("connection loss goes back to Disconnected and reconnects after a jittered backoff") {
  Rig rig;
  rig.ready();
  rig.random.queue = {1000, 2000};  // the top of each jitter range
  rig.session->onDisconnected();
  CHECK(rig.session->state() == SessionState::Disconnected);
  CHECK(rig.mqtt.connects == 1);
  rig.tick(999);
  CHECK(rig.mqtt.connects == 1);
  rig.tick(1);  // first retry waits at most base = 1000
  CHECK(rig.mqtt.connects == 2);
  // Refused connects back off further: the second wait is at most 2000.
  rig.mqtt.connectResult = Status::IoError;
  rig.session->onDisconnected();
  rig.tick(1);
  rig.tick(1998);
  const int before = rig.mqtt.connects;
  rig.tick(1);
  CHECK(rig.mqtt.connects == before + 1);
  rig.mqtt.connectResult = Status::Ok;
  rig.tick(4000);
  CHECK(rig.session->state() == SessionState::Connecting);
  rig.session->onConnected();
  rig.welcome(rig.lastOn("req").hello.id);
  CHECK(rig.session->state() == SessionState::Ready);
  CHECK(rig.listener.ready == 2);
}

TEST_CASE("no CONNACK within the connect timeout, or no welcome, starts over") {
  Rig rig;
  rig.tick();
  CHECK(rig.session->state() == SessionState::Connecting);
  rig.tick(10000);
  CHECK(rig.session->state() == SessionState::Disconnected);
  CHECK(rig.mqtt.disconnects >= 1);
  rig.tick(30000);
  REQUIRE(rig.session->state() == SessionState::Connecting);
  rig.session->onConnected();
  // hello unanswered through all its attempts
  for (int i = 0; i < 10 && rig.session->state() == SessionState::HelloSent; ++i) rig.tick(5000);
  CHECK(rig.session->state() != SessionState::HelloSent);
  CHECK(rig.listener.errors.front() == "hello");
}

TEST_CASE("stats are published periodically while Ready") {
  Rig rig;
  rig.ready();
  CHECK(rig.countOn("evt") == 0);
  rig.tick(60000);
  REQUIRE(rig.countOn("evt") == 1);
  const Message s = rig.lastOn("evt");
  CHECK(s.type == MessageType::Stats);
  CHECK(s.stats.uptime == 60);
  rig.tick(60000);
  CHECK(rig.countOn("evt") == 2);
}

TEST_CASE("malformed responses and manifests are reported and change nothing") {
  Rig rig;
  rig.ready();
  const uint8_t junk[] = {0xa3, 0x00, 0x04};
  rig.session->onMessage("teddy/v1/bear-1/res", junk, sizeof junk);
  rig.session->onMessage("teddy/v1/bear-1/warm", junk, sizeof junk);
  rig.session->onMessage("teddy/v1/other/warm", junk, sizeof junk);  // not ours: ignored
  CHECK(rig.listener.errors == std::vector<std::string>{"response", "warm"});
  CHECK(rig.session->state() == SessionState::Ready);

  // Well-formed messages of the wrong kind: a welcome on warm, a request echoed on res.
  REQUIRE(rig.session->say("x", 1) == Status::Ok);
  Message echo = rig.lastOn("req");
  rig.deliver("res", echo);
  rig.welcome(echo.utterance.id + 1000);  // unknown id: ignored
  Message welcome;
  welcome.type = MessageType::Welcome;
  rig.deliver("warm", welcome);
  CHECK(rig.listener.errors == std::vector<std::string>{"response", "warm", "response", "warm"});
  CHECK(rig.session->requestsInFlight() == 1);  // the utterance still waits for its answer
}

TEST_CASE("several gateways: a refused or lost connection moves to the next one, after full-jitter backoff") {
  Rig rig;
  rig.gatewayCount = 2;
  rig.boot();
  rig.ready();
  CHECK(rig.mqtt.urls == std::vector<std::string>{"mqtt://gateway-a:1883"});
  CHECK(std::string(rig.session->gateway()) == "mqtt://gateway-a:1883");

  // The gateway dies: the next attempt goes to the other one, within [0, base * 2^2] (no storm at base).
  rig.random.queue = {4000};
  rig.session->onDisconnected();
  rig.tick(3999);
  CHECK(rig.mqtt.connects == 1);
  rig.tick(1);
  REQUIRE(rig.mqtt.connects == 2);
  CHECK(rig.mqtt.urls.back() == "mqtts://gateway-b:8883");

  // Refused there too: back to the first, the pause growing with each failure in a row.
  rig.random.queue = {8000};
  rig.session->onDisconnected();
  rig.tick(7999);
  CHECK(rig.mqtt.connects == 2);
  rig.tick(1);
  REQUIRE(rig.mqtt.connects == 3);
  CHECK(rig.mqtt.urls.back() == "mqtt://gateway-a:1883");
}

TEST_CASE("a request in flight when the connection dies is resent on the next one with the same id, and answered once") {
  Rig rig;
  rig.gatewayCount = 2;
  rig.boot();
  rig.ready();
  REQUIRE(rig.session->say("tell me a story", 15) == Status::Ok);
  const uint32_t id = rig.lastOn("req").utterance.id;
  const size_t sent = rig.countOn("req");

  rig.session->onDisconnected();  // gateway A is gone before it answered
  rig.tick(20000);                // reconnect to B (the backoff is over by then)
  REQUIRE(rig.session->state() == SessionState::Connecting);
  CHECK(rig.mqtt.urls.back() == "mqtts://gateway-b:8883");
  rig.session->onConnected();
  rig.welcome(rig.lastOn("req").hello.id);
  REQUIRE(rig.session->state() == SessionState::Ready);

  // Right after the welcome, not at its next timeout: the same request, the same id.
  const Message again = rig.lastOn("req");
  CHECK(again.type == MessageType::Utterance);
  CHECK(again.utterance.id == id);
  CHECK(rig.countOn("req") >= sent + 2);  // hello, then the utterance

  protocol::ClipRef clip;
  clip.id = clipId(9);
  const std::vector<uint8_t> bytes = audio(100, 9);
  clip.sha256 = fakes::sha256(bytes);
  clip.size = 100;
  clip.inlineBytes = {bytes.data(), bytes.size()};
  clip.hasInline = true;
  rig.answer(id, clip, "Once upon a time");
  rig.answer(id, clip, "Once upon a time");  // a second answer (QoS 1 duplicate, or the old gateway's)
  CHECK(rig.listener.replies == std::vector<std::string>{"Once upon a time"});
  CHECK(rig.session->requestsInFlight() == 0);
}

TEST_CASE("a range in flight never holds up the tick, and a range for an abandoned download is dropped") {
  Rig rig;
  rig.ready();
  const auto first = rig.serve(1, audio(6000, 1), false);
  const auto second = rig.serve(2, audio(5000, 2), false);
  rig.http.holding = true;
  rig.sayAndAnswer(first, "one");
  for (int i = 0; i < 20; ++i) rig.tick(10);  // in flight: ticks keep coming, stats and retries run
  CHECK(rig.http.offsets == std::vector<uint32_t>{0});
  CHECK(rig.listener.plays.empty());

  // The child asks for another clip while the first one's range is still in flight.
  rig.sayAndAnswer(second, "two");
  rig.http.holding = false;
  rig.runUntilIdle(10);
  REQUIRE(rig.listener.plays.size() == 1);
  CHECK(rig.listener.plays[0].clip == second.id);
  CHECK(rig.listener.plays[0].bytes == 5000);
  CHECK_FALSE(rig.flash.contains(first.id));
  CHECK(rig.http.offsets == std::vector<uint32_t>{0, 0, 4096});
}
