#pragma once
// An open-addressing hash index from a small key to a slot number (uint32),
// for the live tree's hot path: one flat array, linear probing, deletion by
// backward shift (no tombstones), so lookups, inserts and erases allocate
// nothing once the table has grown to its working size.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace lineage::core {

template <class Key, class Hash>
class FlatIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit FlatIndex(size_t expected = 16) { rehash(capacity_for(expected)); }

  uint32_t find(const Key& key) const {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kNone) return kNone;
      if (s.key == key) return s.value;
    }
  }
  /// Inserts or overwrites.
  void put(const Key& key, uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kNone) {
        s = Slot{key, value};
        ++size_;
        return;
      }
      if (s.key == key) {
        s.value = value;
        return;
      }
    }
  }
  bool erase(const Key& key) {
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].value == kNone) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: pull later entries of the probe run into the hole
    // when their home is at or before it (cyclically).
    size_t hole = i;
    for (size_t j = (hole + 1) & mask_; slots_[j].value != kNone; j = (j + 1) & mask_) {
      size_t h = home(slots_[j].key);
      bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].value = kNone;
    --size_;
    return true;
  }
  /// Empties the index, keeping its capacity.
  void clear() {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
  }
  size_t size() const { return size_; }
  size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    Key key{};
    uint32_t value = kNone;
  };
  static size_t capacity_for(size_t n) { return std::bit_ceil(std::max<size_t>(16, n * 2)); }
  size_t home(const Key& key) const { return Hash()(key) & mask_; }
  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.value != kNone) put(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace lineage::core
