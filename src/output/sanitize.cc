#include "output/sanitize.h"

#include <cstdint>

#include <fmt/format.h>

#include "output/unicode_tables.h"

namespace lineage::output {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if invalid
// (overlong, surrogate, out of range or truncated).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string escape_text(std::string_view raw) {
  // Fast path: most names are plain printable ASCII.
  bool plain = true;
  for (char c : raw) {
    auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u >= 0x7F || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    uint32_t cp = 0;
    size_t len = decode_utf8(raw, i, cp);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(raw[i]));
      i += 1;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      switch (cp) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case 0x1B: out += "\\e"; break;
        default: out += fmt::format("\\x{:02x}", cp);
      }
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp >= 0x80 && is_hidden_code_point(cp)) {
      out += fmt::format("\\u{{{:04x}}}", cp);
    } else {
      out.append(raw.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string to_valid_utf8(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    uint32_t cp = 0;
    size_t len = decode_utf8(raw, i, cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += 1;
    } else {
      out.append(raw.substr(i, len));
      i += len;
    }
  }
  return out;
}

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return width;
}

std::string_view cut_to_width(std::string_view text, size_t width) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<uint8_t>(text[i]) & 0xC0) != 0x80) {
      if (seen == width) return text.substr(0, i);
      ++seen;
    }
  }
  return text;
}

}  // namespace lineage::output
