#include "flash_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "teddy/sha256.h"

namespace teddy::host {

namespace {

constexpr uint32_t kBlockBytes = 4096;  // flash erase block
constexpr uint32_t kHeaderBytes = 64;   // per-clip header on flash
constexpr char kMagic[8] = {'T', 'E', 'D', 'D', 'Y', 'F', 'L', '1'};

void putU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

/** Reads the file's fields in order; any short read leaves ok false. */
struct Cursor {
  const std::vector<uint8_t>& in;
  size_t pos = 0;
  bool ok = true;
  void bytes(uint8_t* out, size_t n) {
    if (!ok || n > in.size() - pos) {
      ok = false;
      return;
    }
    std::memcpy(out, in.data() + pos, n);
    pos += n;
  }
  uint32_t u32() {
    uint8_t b[4] = {};
    bytes(b, 4);
    return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
  }
};

}  // namespace

uint32_t FlashFile::blocksOf(uint32_t size) { return (size + kHeaderBytes + kBlockBytes - 1) / kBlockBytes; }

Status FlashFile::open(const char* path, uint32_t budget) {
  path_ = path;
  budgetBlocks_ = budget / kBlockBytes;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return save();  // a new, empty flash
  const std::vector<uint8_t> data{std::istreambuf_iterator<char>(in), {}};
  Cursor c{data};
  char magic[sizeof kMagic];
  c.bytes(reinterpret_cast<uint8_t*>(magic), sizeof magic);
  if (!c.ok || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return Status::Corrupt;
  warmSeq_ = c.u32();
  const uint32_t count = c.u32();
  for (uint32_t i = 0; i < count && c.ok; ++i) {
    Clip clip;
    c.bytes(clip.header.id.data(), clip.header.id.size());
    c.bytes(clip.header.sha256.data(), clip.header.sha256.size());
    clip.header.size = c.u32();
    const uint32_t flags = c.u32();
    clip.header.pinned = (flags & 1) != 0;
    clip.committed = (flags & 2) != 0;
    const uint32_t length = c.u32();
    if (!c.ok || length > clip.header.size) return Status::Corrupt;
    clip.bytes.resize(length);
    c.bytes(clip.bytes.data(), length);
    // After a reboot the policy restarts: freq = 1, lastUse in index order; pins persist.
    clip.lastUse = ++clock_;
    clips_[clip.header.id] = std::move(clip);
  }
  return c.ok ? Status::Ok : Status::Corrupt;
}

Status FlashFile::save() {
  std::vector<uint8_t> out(kMagic, kMagic + sizeof kMagic);
  putU32(out, warmSeq_);
  putU32(out, static_cast<uint32_t>(clips_.size()));
  for (const auto& [id, clip] : clips_) {
    out.insert(out.end(), id.begin(), id.end());
    out.insert(out.end(), clip.header.sha256.begin(), clip.header.sha256.end());
    putU32(out, clip.header.size);
    putU32(out, (clip.header.pinned ? 1u : 0u) | (clip.committed ? 2u : 0u));
    putU32(out, static_cast<uint32_t>(clip.bytes.size()));
    out.insert(out.end(), clip.bytes.begin(), clip.bytes.end());
  }
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    if (!f.flush()) return Status::IoError;
  }
  return std::rename(tmp.c_str(), path_.c_str()) == 0 ? Status::Ok : Status::IoError;
}

bool FlashFile::contains(const ClipId& id) {
  const auto it = clips_.find(id);
  return it != clips_.end() && it->second.committed;
}

Status FlashFile::read(const ClipId& id, uint32_t offset, uint8_t* buf, size_t capacity, size_t& n) {
  n = 0;
  const auto it = clips_.find(id);
  if (it == clips_.end() || !it->second.committed) return Status::NotFound;
  const auto& bytes = it->second.bytes;
  if (offset >= bytes.size()) return Status::Ok;
  n = std::min(capacity, bytes.size() - offset);
  std::memcpy(buf, bytes.data() + offset, n);
  return Status::Ok;
}

void FlashFile::tickClock(Clip& c) {
  c.lastUse = ++clock_;
  if (clock_ % 256 != 0) return;
  for (auto& [id, other] : clips_) other.freq >>= 1;  // aging: old popularity fades
}

void FlashFile::recordHit(const ClipId& id) {
  const auto it = clips_.find(id);
  if (it == clips_.end()) return;
  if (it->second.freq < 0xffff) ++it->second.freq;
  tickClock(it->second);
}

uint32_t FlashFile::usedBlocks() const {
  uint32_t used = 0;
  for (const auto& [id, clip] : clips_) used += blocksOf(clip.header.size);
  return used;
}

Status FlashFile::makeRoom(uint32_t blocks) {
  // Evict the unpinned clip with the smallest (freq, lastUse). An abandoned partial download
  // (not the one being written) counts as freq 0: it goes first, so it never leaks space.
  const auto rank = [](const Clip& c) { return std::make_pair(c.committed ? c.freq : uint16_t{0}, c.lastUse); };
  while (usedBlocks() + blocks > budgetBlocks_) {
    auto victim = clips_.end();
    for (auto it = clips_.begin(); it != clips_.end(); ++it) {
      const Clip& c = it->second;
      if ((c.committed && c.header.pinned) || (writing_ && it->first == writingId_)) continue;
      if (victim == clips_.end() || rank(c) < rank(victim->second)) victim = it;
    }
    if (victim == clips_.end()) return Status::NoSpace;
    if (victim->second.committed) ++evictions_;
    clips_.erase(victim);
  }
  return Status::Ok;
}

Status FlashFile::begin(const ClipHeader& h, bool onDemand, uint32_t& resumeAt) {
  resumeAt = 0;
  const uint32_t blocks = blocksOf(h.size);
  if (onDemand && blocks > budgetBlocks_ / 8) return Status::TooLarge;  // on-demand admission
  auto it = clips_.find(h.id);
  if (it != clips_.end() && !it->second.committed && it->second.header.sha256 == h.sha256 &&
      it->second.header.size == h.size) {
    resumeAt = static_cast<uint32_t>(it->second.bytes.size());  // an interrupted download of the same bytes
  } else {
    if (it != clips_.end()) clips_.erase(it);
    // Insert as the policy (and the simulator's model) orders it: the clock ticks, then eviction.
    Clip clip;
    clip.header = h;
    tickClock(clip);
    const Status s = makeRoom(blocks);
    if (s != Status::Ok) return s;
    clips_[h.id] = std::move(clip);
  }
  writing_ = true;
  writingId_ = h.id;
  return save();
}

Status FlashFile::write(const uint8_t* data, size_t size) {
  if (!writing_) return Status::Invalid;
  Clip& clip = clips_[writingId_];
  if (size > clip.header.size - clip.bytes.size()) return Status::TooLarge;
  clip.bytes.insert(clip.bytes.end(), data, data + size);
  return save();  // the chunk survives a restart: resume continues after it
}

Status FlashFile::commit() {
  if (!writing_) return Status::Invalid;
  writing_ = false;
  Clip& clip = clips_[writingId_];
  Sha256 sha;
  sha.update(clip.bytes.data(), clip.bytes.size());
  if (clip.bytes.size() != clip.header.size || sha.finish() != clip.header.sha256) {
    clips_.erase(writingId_);  // never served: a corrupt clip is dropped, its space returned
    save();
    return Status::Corrupt;
  }
  clip.committed = true;
  return save();
}

void FlashFile::pause() { writing_ = false; }

Status FlashFile::setPinned(const ClipId& id, bool pinned) {
  const auto it = clips_.find(id);
  if (it == clips_.end()) return Status::NotFound;
  if (it->second.header.pinned == pinned) return Status::Ok;
  it->second.header.pinned = pinned;
  return save();
}

void FlashFile::list(protocol::ClipIdList& out) {
  out.count = 0;
  for (const auto& [id, clip] : clips_)
    if (clip.committed && !out.push(id)) return;
}

FlashInfo FlashFile::info() {
  FlashInfo i;
  for (const auto& [id, clip] : clips_) {
    if (!clip.committed) continue;
    i.bytesUsed += clip.header.size;
    ++i.clipCount;
  }
  i.evictions = evictions_;
  i.maxEraseCount = 0;  // a file does not wear; the device store counts erases per block
  return i;
}

Status FlashFile::setWarmSeq(uint32_t seq) {
  warmSeq_ = seq;
  return save();
}

}  // namespace teddy::host
