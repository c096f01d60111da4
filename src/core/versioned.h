#pragma once
// A value with its history: (time, value) entries, appended, never edited.
// Bounded: beyond `cap` entries the oldest after the first are dropped (the
// first, what the process started as, is kept) and counted.
#include <cstdint>
#include <utility>
#include <vector>

namespace lineage::core {

template <class T>
class Versioned {
 public:
  static constexpr uint32_t kDefaultCap = 8;

  /// Appends a version that starts at time_ns. Versions arrive in time
  /// order from one source; an older time is kept in order of arrival.
  void set(uint64_t time_ns, T value) {
    if (!entries_.empty() && entries_.back().second == value) return;  // no change
    if (entries_.size() >= kDefaultCap) {
      entries_.erase(entries_.begin() + 1);
      ++dropped_;
    }
    entries_.emplace_back(time_ns, std::move(value));
  }
  /// The value as of time_ns: the last version that started at or before it.
  const T* at(uint64_t time_ns) const {
    const T* found = nullptr;
    for (const auto& [t, v] : entries_) {
      if (t > time_ns) break;
      found = &v;
    }
    return found;
  }
  const T* latest() const { return entries_.empty() ? nullptr : &entries_.back().second; }
  const T* first() const { return entries_.empty() ? nullptr : &entries_.front().second; }
  const std::vector<std::pair<uint64_t, T>>& entries() const { return entries_; }
  uint32_t dropped() const { return dropped_; }

 private:
  std::vector<std::pair<uint64_t, T>> entries_;
  uint32_t dropped_ = 0;
};

}  // namespace lineage::core
