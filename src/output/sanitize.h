#pragma once
// Text from /proc is hostile: comm and argv may hold newlines, terminal
// escape sequences, bidi overrides and invalid UTF-8. Nothing read from a
// process reaches a terminal without passing through here.
#include <cstddef>
#include <string>
#include <string_view>

namespace lineage::output {

/// Escapes for a terminal, visibly and unambiguously: control bytes become
/// \n, \t, \r, \e or \xNN; invalid UTF-8 bytes \xNN; code points a
/// terminal would hide, reorder or not show as themselves (C1 controls,
/// line separators, Default_Ignorable_Code_Point, Bidi_Control, unassigned
/// and private use: see unicode_tables.h) \u{NNNN}; '\' becomes "\\".
std::string escape_text(std::string_view raw);

/// Valid UTF-8 for JSON: each invalid sequence becomes U+FFFD.
std::string to_valid_utf8(std::string_view raw);

/// Display columns of already escaped UTF-8 text (one per code point).
size_t display_width(std::string_view text);

/// Cuts escaped text to at most `width` display columns, on a code point
/// boundary.
std::string_view cut_to_width(std::string_view text, size_t width);

}  // namespace lineage::output
