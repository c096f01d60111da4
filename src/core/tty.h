#pragma once
// Terminal names from the kernel's device numbers: a pure function.
#include <cstdint>
#include <string>

namespace lineage::core {

/// Name of a controlling terminal from stat's tty_nr ("pts/3", "tty1",
/// "ttyS0"); "?" for none, "MAJ:MIN" for a device we do not know.
std::string tty_name(int32_t tty_nr);

}  // namespace lineage::core
