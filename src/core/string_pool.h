#pragma once
// Interned, reference-counted strings for the live tree: the same exe path
// or command line (a build runs `cc1 ...`, a cron job the same line every
// minute) is stored once, and processes hold 4-byte ids. A string is freed
// when its last holder is evicted, so hostile churn of unique strings stays
// bounded by the tree's process budget.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lineage::core {

class StringPool {
 public:
  using Id = uint32_t;
  static constexpr Id kEmpty = 0;  // the empty string: no storage, no count

  /// The id of s with one more reference (kEmpty for "").
  Id intern(std::string_view s) {
    if (s.empty()) return kEmpty;
    if (auto it = index_.find(s); it != index_.end()) {
      ++slots_[it->second - 1].refs;
      return it->second;
    }
    Id id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      slots_[id - 1].text.assign(s);
    } else {
      slots_.push_back(Slot{std::string(s), 0});
      id = static_cast<Id>(slots_.size());
    }
    slots_[id - 1].refs = 1;
    bytes_ += s.size();
    index_.emplace(std::string_view(slots_[id - 1].text), id);  // deque: the text never moves
    return id;
  }
  /// One more reference to an id already held.
  void retain(Id id) {
    if (id != kEmpty) ++slots_[id - 1].refs;
  }
  void release(Id id) {
    if (id == kEmpty) return;
    Slot& s = slots_[id - 1];
    if (--s.refs != 0) return;
    index_.erase(std::string_view(s.text));
    bytes_ -= s.text.size();
    s.text = std::string();  // give the heap block back
    free_.push_back(id);
  }
  std::string_view view(Id id) const { return id == kEmpty ? std::string_view() : slots_[id - 1].text; }
  size_t size() const { return index_.size(); }
  size_t text_bytes() const { return bytes_; }

 private:
  struct Slot {
    std::string text;
    uint32_t refs = 0;
  };
  std::deque<Slot> slots_;
  std::vector<Id> free_;
  std::unordered_map<std::string_view, Id> index_;
  size_t bytes_ = 0;
};

}  // namespace lineage::core
