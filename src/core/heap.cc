#include "core/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace lineage::core {

void prefer_huge_pages(size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  // Worker threads would each get an arena of their own (mmap'ed 64 MiB
  // heaps, outside the range marked below).
  ::mallopt(M_ARENA_MAX, 1);
  // Blocks up to 32 MiB (glibc's ceiling for this setting: the 20 MB
  // document fits) from the heap too, and freed memory kept for reuse
  // instead of unmapped and faulted in again.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_TOP_PAD, static_cast<int>(bytes));
  auto before = reinterpret_cast<uintptr_t>(::sbrk(0));
  // One request above what the heap's top holds makes malloc grow it by
  // the request plus M_TOP_PAD; freed, the block returns to the top.
  void* grow = std::malloc(4 << 20);
  std::free(grow);
  ::mallopt(M_TOP_PAD, 128 << 10);  // glibc's default again: later growth as usual
  auto after = reinterpret_cast<uintptr_t>(::sbrk(0));
  if (before == static_cast<uintptr_t>(-1) || after <= before) return;
  uintptr_t lo = (before + kHuge - 1) & ~(kHuge - 1);
  uintptr_t hi = after & ~(kHuge - 1);
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
}

}  // namespace lineage::core
