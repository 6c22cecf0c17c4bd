#include "teddy/clip_store.h"

#include <cstring>

#include "teddy/crc32.h"
#include "teddy/sha256.h"

namespace teddy {

namespace {

constexpr uint32_t kIndexMagic = 0x58494454;   // "TDIX"
constexpr uint32_t kCommitMagic = 0x54494D43;  // "CMIT"
constexpr uint32_t kClipMagic = 0x4C434454;    // "TDCL"
constexpr uint16_t kIndexVersion = 1;
constexpr uint32_t kIndexHeaderBytes = 32;
constexpr uint32_t kClipFieldsBytes = 48;  // magic, id, sha256, size (the rest of the 64 is the bitmap)
constexpr uint32_t kBitmapOffset = 52;

void putU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void putU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t getU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t getU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint32_t minU32(uint32_t a, uint32_t b) { return a < b ? a : b; }
/** The policy's ghost remembers a clip by its id's first 4 bytes (ids are digests). */
uint32_t ghostKey(const ClipId& id) { return getU32(id.data()); }

/** Streams an index payload to flash through a small buffer, keeping its CRC. The first error sticks. */
class IndexWriter {
 public:
  IndexWriter(BlockDevice& dev, uint32_t address, uint8_t* buf, size_t capacity)
      : dev_(dev), address_(address), buf_(buf), cap_(capacity) {}
  void u8(uint8_t v) { bytes(&v, 1); }
  void u16(uint16_t v) {
    uint8_t b[2];
    putU16(b, v);
    bytes(b, 2);
  }
  void u32(uint32_t v) {
    uint8_t b[4];
    putU32(b, v);
    bytes(b, 4);
  }
  void bytes(const uint8_t* p, size_t n) {
    while (n > 0) {
      const size_t take = n < cap_ - fill_ ? n : cap_ - fill_;
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == cap_) flush();
    }
  }
  Status finish(uint32_t& length, uint32_t& crc) {
    flush();
    length = written_;
    crc = crc_;
    return status_;
  }

 private:
  void flush() {
    if (fill_ == 0) return;
    crc_ = crc32(crc_, buf_, fill_);
    if (status_ == Status::Ok) status_ = dev_.program(address_ + written_, buf_, fill_);
    written_ += static_cast<uint32_t>(fill_);
    fill_ = 0;
  }
  BlockDevice& dev_;
  uint32_t address_;
  uint8_t* buf_;
  size_t cap_;
  size_t fill_ = 0;
  uint32_t written_ = 0;
  uint32_t crc_ = 0;
  Status status_ = Status::Ok;
};

/** Reads an index payload back through the same small buffer; past `length` it fails. */
class IndexReader {
 public:
  IndexReader(BlockDevice& dev, uint32_t address, uint32_t length, uint8_t* buf, size_t capacity)
      : dev_(dev), address_(address), length_(length), buf_(buf), cap_(capacity) {}
  bool bytes(uint8_t* out, size_t n) {
    while (n > 0) {
      if (pos_ == fill_ && !refill()) return false;
      const size_t take = n < fill_ - pos_ ? n : fill_ - pos_;
      std::memcpy(out, buf_ + pos_, take);
      pos_ += take;
      out += take;
      n -= take;
    }
    return true;
  }
  bool u8(uint8_t& v) { return bytes(&v, 1); }
  bool u16(uint16_t& v) {
    uint8_t b[2];
    if (!bytes(b, 2)) return false;
    v = getU16(b);
    return true;
  }
  bool u32(uint32_t& v) {
    uint8_t b[4];
    if (!bytes(b, 4)) return false;
    v = getU32(b);
    return true;
  }

 private:
  bool refill() {
    if (consumed_ >= length_) return false;
    fill_ = minU32(static_cast<uint32_t>(cap_), length_ - consumed_);
    if (dev_.read(address_ + consumed_, buf_, fill_) != Status::Ok) return false;
    consumed_ += static_cast<uint32_t>(fill_);
    pos_ = 0;
    return true;
  }
  BlockDevice& dev_;
  uint32_t address_;
  uint32_t length_;
  uint8_t* buf_;
  size_t cap_;
  size_t fill_ = 0;
  size_t pos_ = 0;
  uint32_t consumed_ = 0;
};

}  // namespace

ClipStore::ClipStore(BlockDevice& device, uint32_t budgetBytes)
    : dev_(device), blockSize_(device.blockSize()), budgetBlocks_(0), policy_(policyState_, kMaxClips) {
  const uint32_t deviceData = device.blockCount() > kIndexBlocks ? device.blockCount() - kIndexBlocks : 0;
  budgetBlocks_ = minU32(minU32(blockSize_ ? budgetBytes / blockSize_ : 0, deviceData), static_cast<uint32_t>(kMaxDataBlocks));
  std::memset(owner_, 0, sizeof owner_);
  std::memset(order_, 0, sizeof order_);
  std::memset(eraseCount_, 0, sizeof eraseCount_);
}

// ---- lookup and bookkeeping ----

int ClipStore::find(const ClipId& id, SlotState state) const {
  for (size_t i = 0; i < kMaxClips; ++i) {
    if (slots_[i].state == state && slots_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int ClipStore::freeSlot() const {
  for (size_t i = 0; i < kMaxClips; ++i) {
    if (slots_[i].state == SlotState::Free) return static_cast<int>(i);
  }
  return -1;
}

uint32_t ClipStore::freeBlocks() const {
  uint32_t n = 0;
  for (uint32_t b = 0; b < budgetBlocks_; ++b) n += owner_[b] == 0 ? 1 : 0;
  return n;
}

uint32_t ClipStore::blockOf(int slot, uint32_t order) const {
  for (uint32_t b = 0; b < budgetBlocks_; ++b) {
    if (owner_[b] == slot + 1 && order_[b] == order) return b;
  }
  return UINT32_MAX;  // unreachable while consistent()
}

uint32_t ClipStore::dataAddress(int slot, uint32_t offset) const {
  const uint32_t pos = offset + kClipHeaderBytes;
  return (kIndexBlocks + blockOf(slot, pos / blockSize_)) * blockSize_ + pos % blockSize_;
}

void ClipStore::release(int slot) {
  for (uint32_t b = 0; b < budgetBlocks_; ++b) {
    if (owner_[b] == slot + 1) owner_[b] = 0;
  }
  slots_[slot] = Slot{};
  policyState_[slot] = PolicyState{};
  if (writing_ == slot) writing_ = -1;
}

Status ClipStore::makeRoom(uint32_t blocks, int self) {
  while (freeBlocks() < blocks) {
    int victim = policy_.victim(self);
    if (victim >= 0) {
      policy_.evicting(static_cast<size_t>(victim), ghostKey(slots_[victim].id));
      ++evictions_;
    } else {
      // No stored clip may go: give up an interrupted write that is not this one.
      for (size_t i = 0; i < kMaxClips && victim < 0; ++i) {
        if (slots_[i].state == SlotState::Pending && static_cast<int>(i) != self) victim = static_cast<int>(i);
      }
      if (victim < 0) return Status::NoSpace;
    }
    release(victim);
  }
  return Status::Ok;
}

Status ClipStore::allocate(int slot, uint32_t blocks) {
  // Least-worn free blocks first: wear levelling by choice, not by moving data.
  for (uint32_t k = 0; k < blocks; ++k) {
    uint32_t best = UINT32_MAX;
    for (uint32_t b = 0; b < budgetBlocks_; ++b) {
      if (owner_[b] != 0) continue;
      if (best == UINT32_MAX || eraseCount_[kIndexBlocks + b] < eraseCount_[kIndexBlocks + best]) best = b;
    }
    if (best == UINT32_MAX) return Status::NoSpace;
    owner_[best] = static_cast<uint8_t>(slot + 1);
    order_[best] = static_cast<uint8_t>(k);
  }
  return Status::Ok;
}

Status ClipStore::eraseBlock(uint32_t block) {
  const Status s = dev_.erase(block);
  if (eraseCount_[block] < UINT16_MAX) ++eraseCount_[block];
  return s;
}

// ---- writing a clip ----

Status ClipStore::begin(const ClipHeader& clip, bool onDemand, uint32_t& resumeAt) {
  resumeAt = 0;
  if (writing_ >= 0) pause();
  const uint32_t blocks = clipBlocks(clip.size, blockSize_);
  if (clip.size == 0 || blocks > kMaxClipBlocks || blocks > budgetBlocks_) return Status::TooLarge;
  if (onDemand && !admitOnDemand(blocks, budgetBlocks_)) return Status::TooLarge;
  if (find(clip.id, SlotState::Stored) >= 0) return Status::Invalid;

  int slot = find(clip.id, SlotState::Pending);
  if (slot >= 0 && slots_[slot].sha256 == clip.sha256 && slots_[slot].size == clip.size) {
    policyState_[slot].pinned = clip.pinned;
    writing_ = slot;
    resumeAt = slots_[slot].written;
    return Status::Ok;
  }
  if (slot >= 0) release(slot);  // another version of the clip: start over

  const uint32_t lastUse = policy_.beginInsert();
  Status s = makeRoom(blocks, -1);
  slot = freeSlot();
  while (s == Status::Ok && slot < 0) {  // every index slot taken: evict one more clip for a slot
    const int victim = policy_.victim(-1);
    if (victim < 0) {
      s = Status::NoSpace;
      break;
    }
    policy_.evicting(static_cast<size_t>(victim), ghostKey(slots_[victim].id));
    ++evictions_;
    release(victim);
    slot = victim;
  }
  if (s != Status::Ok) {
    const Status persisted = writeIndex();  // the evictions made stand, as in the policy
    return persisted == Status::Ok ? s : persisted;
  }
  Slot& n = slots_[slot];
  n = Slot{};
  n.id = clip.id;
  n.sha256 = clip.sha256;
  n.size = clip.size;
  n.state = SlotState::Pending;
  n.blocks = static_cast<uint8_t>(blocks);
  policyState_[slot].pinned = clip.pinned;
  policy_.placed(static_cast<size_t>(slot), lastUse, blocks, ghostKey(clip.id));
  s = allocate(slot, blocks);
  if (s == Status::Ok) s = writeIndex();  // the blocks are reserved before the first byte lands
  if (s != Status::Ok) return s;
  writing_ = slot;
  return Status::Ok;
}

Status ClipStore::prepareBlock(int slot, uint32_t order) {
  Slot& s = slots_[slot];
  if (order < s.erasedBlocks) return Status::Ok;
  const uint32_t block = kIndexBlocks + blockOf(slot, order);
  Status st = eraseBlock(block);
  if (st != Status::Ok) return st;
  if (order == 0) {
    uint8_t header[kClipFieldsBytes];
    putU32(header, kClipMagic);
    std::memcpy(header + 4, s.id.data(), 8);
    std::memcpy(header + 12, s.sha256.data(), 32);
    putU32(header + 44, s.size);
    st = dev_.program(block * blockSize_, header, sizeof header);
    if (st != Status::Ok) return st;
  }
  s.erasedBlocks = static_cast<uint8_t>(order + 1);
  return Status::Ok;
}

Status ClipStore::markBlockDone(int slot, uint32_t order) {
  // Blocks complete in order, so this bitmap byte has bits 0..order%8 clear.
  const uint8_t value = static_cast<uint8_t>(0xFFu << (order % 8 + 1));
  const uint32_t address = (kIndexBlocks + blockOf(slot, 0)) * blockSize_ + kBitmapOffset + order / 8;
  return dev_.program(address, &value, 1);
}

Status ClipStore::write(const uint8_t* data, size_t size) {
  if (writing_ < 0) return Status::Invalid;
  Slot& s = slots_[writing_];
  if (size > s.size - s.written) return Status::TooLarge;
  while (size > 0) {
    const uint32_t pos = s.written + kClipHeaderBytes;
    const uint32_t order = pos / blockSize_;
    const uint32_t within = pos % blockSize_;
    Status st = prepareBlock(writing_, order);
    if (st != Status::Ok) return st;
    const uint32_t chunk = minU32(static_cast<uint32_t>(size), blockSize_ - within);
    st = dev_.program((kIndexBlocks + blockOf(writing_, order)) * blockSize_ + within, data, chunk);
    if (st != Status::Ok) return st;
    s.written += chunk;
    data += chunk;
    size -= chunk;
    if (within + chunk == blockSize_ || s.written == s.size) {
      st = markBlockDone(writing_, order);
      if (st != Status::Ok) return st;
    }
  }
  return Status::Ok;
}

Status ClipStore::commit() {
  if (writing_ < 0) return Status::Invalid;
  const int slot = writing_;
  writing_ = -1;
  if (slots_[slot].written != slots_[slot].size) return dropCorrupt(slot);  // short: cannot match its SHA-256
  const Status v = verify(slot);
  if (v == Status::Corrupt) return dropCorrupt(slot);
  if (v != Status::Ok) return v;
  slots_[slot].state = SlotState::Stored;
  slots_[slot].verified = true;
  policyState_[slot].live = true;
  return writeIndex();  // the commit record: until this lands, the clip does not exist
}

void ClipStore::pause() { writing_ = -1; }

Status ClipStore::resumePoint(int slot) {
  Slot& s = slots_[slot];
  s.written = 0;
  s.erasedBlocks = 0;
  uint8_t header[kClipHeaderBytes];
  const Status st = dev_.read((kIndexBlocks + blockOf(slot, 0)) * blockSize_, header, sizeof header);
  if (st != Status::Ok) return st;
  if (getU32(header) != kClipMagic || std::memcmp(header + 4, s.id.data(), 8) != 0 ||
      std::memcmp(header + 12, s.sha256.data(), 32) != 0 || getU32(header + 44) != s.size) {
    return Status::Ok;  // the header never made it: start from the beginning
  }
  uint32_t done = 0;
  while (done < s.blocks && ((header[kBitmapOffset + done / 8] >> (done % 8)) & 1u) == 0) ++done;
  s.erasedBlocks = static_cast<uint8_t>(done);
  s.written = done == 0 ? 0 : minU32(s.size, done * blockSize_ - kClipHeaderBytes);
  return Status::Ok;
}

// ---- reading a clip ----

Status ClipStore::verify(int slot) {
  const Slot& s = slots_[slot];
  Sha256 sha;
  for (uint32_t offset = 0; offset < s.size;) {
    const uint32_t pos = offset + kClipHeaderBytes;
    const uint32_t chunk = minU32(minU32(static_cast<uint32_t>(sizeof buf_), s.size - offset), blockSize_ - pos % blockSize_);
    const Status st = dev_.read(dataAddress(slot, offset), buf_, chunk);
    if (st != Status::Ok) return st;
    sha.update(buf_, chunk);
    offset += chunk;
  }
  return sha.finish() == s.sha256 ? Status::Ok : Status::Corrupt;
}

Status ClipStore::dropCorrupt(int slot) {
  release(slot);
  ++corruptDropped_;
  const Status s = writeIndex();
  return s == Status::Ok ? Status::Corrupt : s;
}

bool ClipStore::contains(const ClipId& id) { return find(id, SlotState::Stored) >= 0; }

Status ClipStore::read(const ClipId& id, uint32_t offset, uint8_t* out, size_t capacity, size_t& read) {
  read = 0;
  const int slot = find(id, SlotState::Stored);
  if (slot < 0) return Status::NotFound;
  if (!slots_[slot].verified) {
    const Status v = verify(slot);
    if (v == Status::Corrupt) return dropCorrupt(slot);
    if (v != Status::Ok) return v;
    slots_[slot].verified = true;
  }
  const uint32_t size = slots_[slot].size;
  while (offset < size && read < capacity) {
    const uint32_t pos = offset + kClipHeaderBytes;
    const uint32_t chunk =
        minU32(minU32(static_cast<uint32_t>(capacity - read), size - offset), blockSize_ - pos % blockSize_);
    const Status st = dev_.read(dataAddress(slot, offset), out + read, chunk);
    if (st != Status::Ok) return st;
    read += chunk;
    offset += chunk;
  }
  return Status::Ok;
}

void ClipStore::recordHit(const ClipId& id) {
  const int slot = find(id, SlotState::Stored);
  if (slot >= 0) policy_.hit(static_cast<size_t>(slot));
}

// ---- the rest of the FlashCache seam ----

Status ClipStore::setPinned(const ClipId& id, bool pinned) {
  int slot = find(id, SlotState::Stored);
  if (slot < 0) slot = find(id, SlotState::Pending);
  if (slot < 0) return Status::NotFound;
  if (policyState_[slot].pinned == pinned) return Status::Ok;
  policyState_[slot].pinned = pinned;
  return writeIndex();
}

void ClipStore::list(protocol::ClipIdList& out) {
  out.count = 0;
  for (size_t i = 0; i < kMaxClips; ++i) {
    if (slots_[i].state == SlotState::Stored && !out.push(slots_[i].id)) break;
  }
}

FlashInfo ClipStore::info() {
  const ClipStoreStats s = stats();
  FlashInfo i;
  i.bytesUsed = (s.usedBlocks - s.pendingBlocks) * blockSize_;
  i.clipCount = s.clips;
  i.evictions = s.evictions;
  i.maxEraseCount = s.maxEraseCount;
  return i;
}

Status ClipStore::setWarmSeq(uint32_t seq) {
  if (seq == warmSeq_) return Status::Ok;
  warmSeq_ = seq;
  return writeIndex();
}

Status ClipStore::remove(const ClipId& id) {
  int slot = find(id, SlotState::Stored);
  if (slot < 0) slot = find(id, SlotState::Pending);
  if (slot < 0) return Status::NotFound;
  release(slot);
  return writeIndex();
}

ClipStoreStats ClipStore::stats() const {
  ClipStoreStats s;
  s.budgetBlocks = budgetBlocks_;
  s.usedBlocks = budgetBlocks_ - freeBlocks();
  for (size_t i = 0; i < kMaxClips; ++i) {
    if (slots_[i].state == SlotState::Stored) ++s.clips;
    if (slots_[i].state == SlotState::Pending) s.pendingBlocks += slots_[i].blocks;
  }
  s.evictions = evictions_;
  s.corruptDropped = corruptDropped_;
  for (uint32_t b = 0; b < kIndexBlocks + budgetBlocks_; ++b) s.maxEraseCount = eraseCount_[b] > s.maxEraseCount ? eraseCount_[b] : s.maxEraseCount;
  return s;
}

bool ClipStore::consistent() const {
  uint32_t owned[kMaxClips] = {};
  for (uint32_t b = 0; b < budgetBlocks_; ++b) {
    if (owner_[b] == 0) continue;
    const int slot = owner_[b] - 1;
    if (slot >= static_cast<int>(kMaxClips) || slots_[slot].state == SlotState::Free) return false;
    if (order_[b] >= slots_[slot].blocks) return false;
    ++owned[slot];
  }
  for (size_t i = 0; i < kMaxClips; ++i) {
    if (slots_[i].state == SlotState::Free) continue;
    if (owned[i] != slots_[i].blocks) return false;
    for (uint32_t k = 0; k < slots_[i].blocks; ++k) {
      if (blockOf(static_cast<int>(i), k) == UINT32_MAX) return false;
    }
  }
  return true;
}

// ---- the index ----
//
// Payload: u16 budget blocks; per slot: u8 state, and unless free: id, sha256, u32 size,
// u8 blocks, u8 pinned; per data block: u8 owner, u8 order; per block (index blocks first):
// u32 erase count. Header (32 bytes, programmed last): magic, u16 version, u16 0, u32 seq,
// u32 warm seq, u32 payload length, u32 payload CRC, u32 CRC of the 24 bytes before, commit magic.

uint32_t ClipStore::indexLength() const { return kIndexCopyBlocks * blockSize_ - kIndexHeaderBytes; }

Status ClipStore::writeIndex() {
  const uint32_t copy = 1 - activeCopy_;
  const uint32_t base = copy * kIndexCopyBlocks;
  for (uint32_t b = 0; b < kIndexCopyBlocks; ++b) {
    const Status s = eraseBlock(base + b);
    if (s != Status::Ok) return s;
  }
  // Staged through the first half of buf_; the header is built in the second.
  IndexWriter w(dev_, base * blockSize_ + kIndexHeaderBytes, buf_, sizeof buf_ / 2);
  w.u16(static_cast<uint16_t>(budgetBlocks_));
  for (size_t i = 0; i < kMaxClips; ++i) {
    const Slot& s = slots_[i];
    w.u8(static_cast<uint8_t>(s.state));
    if (s.state == SlotState::Free) continue;
    w.bytes(s.id.data(), s.id.size());
    w.bytes(s.sha256.data(), s.sha256.size());
    w.u32(s.size);
    w.u8(s.blocks);
    w.u8(policyState_[i].pinned ? 1 : 0);
  }
  for (uint32_t b = 0; b < budgetBlocks_; ++b) {
    w.u8(owner_[b]);
    w.u8(order_[b]);
  }
  for (uint32_t b = 0; b < kIndexBlocks + budgetBlocks_; ++b) w.u32(eraseCount_[b]);
  uint32_t length = 0;
  uint32_t crc = 0;
  Status s = w.finish(length, crc);
  if (s != Status::Ok) return s;
  if (length > indexLength()) return Status::TooLarge;

  uint8_t* h = buf_ + sizeof buf_ / 2;
  putU32(h, kIndexMagic);
  putU16(h + 4, kIndexVersion);
  putU16(h + 6, 0);
  putU32(h + 8, seq_ + 1);
  putU32(h + 12, warmSeq_);
  putU32(h + 16, length);
  putU32(h + 20, crc);
  putU32(h + 24, crc32(0, h, 24));
  putU32(h + 28, kCommitMagic);
  s = dev_.program(base * blockSize_, h, kIndexHeaderBytes);
  if (s != Status::Ok) return s;
  seq_ += 1;
  activeCopy_ = copy;
  return Status::Ok;
}

bool ClipStore::readHeader(uint32_t copy, uint32_t& seq, uint32_t& warmSeq, uint32_t& length, uint32_t& crc) {
  uint8_t h[kIndexHeaderBytes];
  if (dev_.read(copy * kIndexCopyBlocks * blockSize_, h, sizeof h) != Status::Ok) return false;
  if (getU32(h) != kIndexMagic || getU16(h + 4) != kIndexVersion || getU32(h + 28) != kCommitMagic) return false;
  if (getU32(h + 24) != crc32(0, h, 24)) return false;
  seq = getU32(h + 8);
  warmSeq = getU32(h + 12);
  length = getU32(h + 16);
  crc = getU32(h + 20);
  if (length > indexLength()) return false;
  // The payload must match its CRC too: a copy torn after its header cannot be, but a
  // device that lost bits can.
  uint32_t actual = 0;
  for (uint32_t off = 0; off < length;) {
    const uint32_t chunk = minU32(static_cast<uint32_t>(sizeof buf_), length - off);
    if (dev_.read(copy * kIndexCopyBlocks * blockSize_ + kIndexHeaderBytes + off, buf_, chunk) != Status::Ok) return false;
    actual = crc32(actual, buf_, chunk);
    off += chunk;
  }
  return actual == crc;
}

Status ClipStore::loadIndex(uint32_t copy, uint32_t& seq) {
  uint32_t warm = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
  if (!readHeader(copy, seq, warm, length, crc)) return Status::Corrupt;
  IndexReader r(dev_, copy * kIndexCopyBlocks * blockSize_ + kIndexHeaderBytes, length, buf_, sizeof buf_);
  uint16_t budget = 0;
  if (!r.u16(budget)) return Status::Corrupt;
  if (budget != budgetBlocks_) return Status::Unsupported;  // another budget: the caller formats
  for (size_t i = 0; i < kMaxClips; ++i) {
    Slot& s = slots_[i];
    s = Slot{};
    policyState_[i] = PolicyState{};
    uint8_t state = 0;
    if (!r.u8(state) || state > static_cast<uint8_t>(SlotState::Stored)) return Status::Corrupt;
    s.state = static_cast<SlotState>(state);
    if (s.state == SlotState::Free) continue;
    uint8_t pinned = 0;
    if (!r.bytes(s.id.data(), s.id.size()) || !r.bytes(s.sha256.data(), s.sha256.size()) || !r.u32(s.size) ||
        !r.u8(s.blocks) || !r.u8(pinned)) {
      return Status::Corrupt;
    }
    policyState_[i].pinned = pinned != 0;
    policyState_[i].live = s.state == SlotState::Stored;
    policyState_[i].blocks = s.blocks == 0 ? 1 : s.blocks;
  }
  for (uint32_t b = 0; b < budgetBlocks_; ++b) {
    if (!r.u8(owner_[b]) || !r.u8(order_[b]) || owner_[b] > kMaxClips) return Status::Corrupt;
  }
  for (uint32_t b = 0; b < kIndexBlocks + budgetBlocks_; ++b) {
    uint32_t erases = 0;
    if (!r.u32(erases)) return Status::Corrupt;
    eraseCount_[b] = static_cast<uint16_t>(erases < UINT16_MAX ? erases : UINT16_MAX);
  }
  warmSeq_ = warm;
  return consistent() ? Status::Ok : Status::Corrupt;
}

Status ClipStore::mount() {
  if (blockSize_ < 2 * kClipHeaderBytes || budgetBlocks_ == 0) return Status::Invalid;
  writing_ = -1;
  uint32_t seq[2] = {0, 0};
  uint32_t ignored[3];
  bool valid[2];
  for (uint32_t c = 0; c < 2; ++c) valid[c] = readHeader(c, seq[c], ignored[0], ignored[1], ignored[2]);
  // Newest first; if it will not load (another budget, inconsistent), the older one, then format.
  const uint32_t first = valid[0] && valid[1] ? (seq[1] > seq[0] ? 1 : 0) : (valid[1] ? 1 : 0);
  for (uint32_t attempt = 0; attempt < 2; ++attempt) {
    const uint32_t copy = attempt == 0 ? first : 1 - first;
    if (!valid[copy]) continue;
    uint32_t loadedSeq = 0;
    if (loadIndex(copy, loadedSeq) != Status::Ok) continue;
    seq_ = seq[0] > seq[1] ? seq[0] : seq[1];
    activeCopy_ = copy;
    for (size_t i = 0; i < kMaxClips; ++i) {
      if (slots_[i].state != SlotState::Pending) continue;
      const Status s = resumePoint(static_cast<int>(i));
      if (s != Status::Ok) return s;
    }
    policy_.rebooted();
    return Status::Ok;
  }
  seq_ = seq[0] > seq[1] ? seq[0] : seq[1];
  return format();
}

Status ClipStore::format() {
  for (size_t i = 0; i < kMaxClips; ++i) {
    slots_[i] = Slot{};
    policyState_[i] = PolicyState{};
  }
  std::memset(owner_, 0, sizeof owner_);
  std::memset(order_, 0, sizeof order_);
  warmSeq_ = 0;
  writing_ = -1;
  policy_.rebooted();
  return writeIndex();
}

}  // namespace teddy
