#pragma once
// A value with its history: (time, value) entries, appended, never edited.
// The first version lives inline (most processes never change), later ones
// in a vector. Bounded: beyond kCap versions the oldest after the first are
// dropped (the first, what the process started as, is kept) and counted.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace lineage::core {

template <class T>
class Versioned {
 public:
  static constexpr uint32_t kCap = 8;
  using Entry = std::pair<uint64_t, T>;

  /// Appends a version that starts at time_ns (versions arrive in time order).
  void set(uint64_t time_ns, T value) {
    if (!first_) {
      first_.emplace(time_ns, std::move(value));
      return;
    }
    if (*latest() == value) return;  // no change
    if (later_.size() + 1 >= kCap) {
      later_.erase(later_.begin());
      ++dropped_;
    }
    later_.emplace_back(time_ns, std::move(value));
  }
  /// The value as of time_ns: the last version that started at or before it.
  const T* at(uint64_t time_ns) const {
    if (!first_ || first_->first > time_ns) return nullptr;
    const T* found = &first_->second;
    for (const auto& [t, v] : later_) {
      if (t > time_ns) break;
      found = &v;
    }
    return found;
  }
  const T* latest() const {
    if (!later_.empty()) return &later_.back().second;
    return first_ ? &first_->second : nullptr;
  }
  const T* first() const { return first_ ? &first_->second : nullptr; }
  size_t size() const { return (first_ ? 1 : 0) + later_.size(); }
  uint32_t dropped() const { return dropped_; }

 private:
  std::optional<Entry> first_;
  std::vector<Entry> later_;
  uint32_t dropped_ = 0;
};

}  // namespace lineage::core
