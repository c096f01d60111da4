#pragma once
// A value with its history: (time, value) entries, appended, never edited.
// The first version lives inline (most processes never change), later ones
// in a separately allocated vector, so an unchanged value costs no
// allocation and one pointer. Bounded: beyond kCap versions the oldest
// after the first are dropped (the first, what the process started as, is
// kept), handed back to the caller and counted.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace lineage::core {

template <class T>
class Versioned {
 public:
  static constexpr uint32_t kCap = 8;
  using Entry = std::pair<uint64_t, T>;

  /// Appends a version that starts at time_ns (versions arrive in time
  /// order). An equal value adds nothing. Returns the version dropped to
  /// stay within kCap, if any (the caller may own resources in it).
  std::optional<T> set(uint64_t time_ns, T value) {
    if (!has_first_) {
      first_ = Entry(time_ns, std::move(value));
      has_first_ = true;
      return std::nullopt;
    }
    if (*latest() == value) return std::nullopt;
    // Versions stay in time order whatever the caller's clock says: a
    // version dated before the latest one starts with it.
    time_ns = std::max(time_ns, latest_time());
    if (!later_) later_ = std::make_unique<std::vector<Entry>>();
    std::optional<T> dropped;
    if (later_->size() + 1 >= kCap) {
      dropped = std::move(later_->front().second);
      later_->erase(later_->begin());
      ++dropped_;
    }
    later_->emplace_back(time_ns, std::move(value));
    return dropped;
  }
  /// The value as of time_ns: the last version that started at or before it.
  const T* at(uint64_t time_ns) const {
    if (!has_first_ || first_.first > time_ns) return nullptr;
    const T* found = &first_.second;
    if (later_) {
      for (const auto& [t, v] : *later_) {
        if (t > time_ns) break;
        found = &v;
      }
    }
    return found;
  }
  const T* latest() const {
    if (later_ && !later_->empty()) return &later_->back().second;
    return has_first_ ? &first_.second : nullptr;
  }
  /// When the latest version started (0 when there is none).
  uint64_t latest_time() const {
    if (later_ && !later_->empty()) return later_->back().first;
    return has_first_ ? first_.first : 0;
  }
  const T* first() const { return has_first_ ? &first_.second : nullptr; }
  size_t size() const { return (has_first_ ? 1 : 0) + (later_ ? later_->size() : 0); }
  uint32_t dropped() const { return dropped_; }
  /// Calls f(time_ns, value) for every version, oldest first.
  template <class F>
  void for_each(F&& f) const {
    if (!has_first_) return;
    f(first_.first, first_.second);
    if (later_) {
      for (const auto& [t, v] : *later_) f(t, v);
    }
  }
  void clear() {
    has_first_ = false;
    first_ = Entry{};
    later_.reset();
    dropped_ = 0;
  }

 private:
  Entry first_{};
  std::unique_ptr<std::vector<Entry>> later_;
  uint32_t dropped_ = 0;
  bool has_first_ = false;
};

}  // namespace lineage::core
