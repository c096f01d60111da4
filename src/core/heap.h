#pragma once
// The heap of a command that builds a large document in memory.
#include <cstddef>

namespace lineage::core {

/// Makes the next `bytes` of the heap come from transparent huge pages
/// where the kernel allows them (THP "madvise" mode, the common default):
/// one arena for every thread, the heap grown by `bytes` at once (virtual
/// memory: untouched pages cost nothing), large blocks kept in the heap
/// rather than mapped and unmapped one by one, and that range marked
/// MADV_HUGEPAGE. A snapshot of 10,000 processes allocates ~250 MB of small
/// objects; in 4 KiB pages that is ~70,000 page faults, which on a
/// virtual machine cost more than the JSON they hold. Best effort: where
/// any step is refused (a sanitizer's allocator, THP off) nothing changes
/// but the page size.
void prefer_huge_pages(size_t bytes);

}  // namespace lineage::core
