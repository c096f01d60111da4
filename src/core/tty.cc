#include "core/tty.h"

namespace lineage::core {

std::string tty_name(int32_t tty_nr) {
  if (tty_nr == 0) return "?";
  // Linux dev_t encoding as reported by stat: major in bits 8..19,
  // minor in bits 0..7 and 20..31.
  uint32_t dev = static_cast<uint32_t>(tty_nr);
  uint32_t major = (dev >> 8) & 0xfff;
  uint32_t minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
  if (major == 4) return "ttyS" + std::to_string(minor - 64);
  if (major == 5 && minor == 1) return "console";
  if (major == 5 && minor == 0) return "tty";
  return std::to_string(major) + ":" + std::to_string(minor);
}

}  // namespace lineage::core
