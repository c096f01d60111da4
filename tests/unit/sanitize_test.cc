#include "output/sanitize.h"

#include <cstdint>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "output/unicode_tables.h"

namespace lineage::output {
namespace {

TEST(EscapeText, PlainTextUnchanged) {
  EXPECT_EQ(escape_text("nginx: worker process"), "nginx: worker process");
  EXPECT_EQ(escape_text("grüße 日本"), "grüße 日本");
}

TEST(EscapeText, ControlBytesVisible) {
  EXPECT_EQ(escape_text("a\nb"), "a\\nb");
  EXPECT_EQ(escape_text("\x1b[31mred"), "\\e[31mred");
  EXPECT_EQ(escape_text(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape_text("\t\r\x7f"), "\\t\\r\\x7f");
  EXPECT_EQ(escape_text("back\\slash"), "back\\\\slash");
}

TEST(EscapeText, InvalidUtf8AndDeceptiveCodePoints) {
  EXPECT_EQ(escape_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");        // overlong '/'
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(escape_text("\xe2\x82"), "\\xe2\\x82");        // truncated
  EXPECT_EQ(escape_text("\xc2\x9b" "2J"), "\\u{009b}2J");  // C1 CSI
  EXPECT_EQ(escape_text("abc\xe2\x80\xae" "cba"), "abc\\u{202e}cba");  // RLO
}

// The UTF-8 encoding of one code point.
std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Each code point a terminal would hide, reorder or draw as something else
// is shown as an escape, between visible neighbours.
TEST(EscapeText, InvisibleAndBidiCodePointsVisible) {
  const uint32_t hidden[] = {
      0x0085,                                    // C1 next line
      0x00AD,                                    // soft hyphen
      0x034F,                                    // combining grapheme joiner
      0x061C,                                    // Arabic letter mark (bidi)
      0x115F, 0x1160, 0x3164, 0xFFA0,            // Hangul fillers
      0x17B4, 0x180B, 0x180E,                    // Khmer, Mongolian
      0x200B, 0x200C, 0x200D, 0x200E, 0x200F,    // zero width, LRM, RLM
      0x2028, 0x2029,                            // line, paragraph separators
      0x202A, 0x202B, 0x202C, 0x202D, 0x202E,    // embeddings, overrides
      0x2060, 0x2064, 0x2065,                    // word joiner, invisible plus
      0x2066, 0x2067, 0x2068, 0x2069,            // isolates
      0xFE00, 0xFE0F, 0xFEFF,                    // variation selectors, BOM
      0xFFF0, 0xFFF8,                            // reserved specials
      0x1BCA0, 0x1D173,                          // shorthand, musical format
      0xE0000, 0xE0001, 0xE0020, 0xE0041, 0xE007F,  // tag characters
      0xE0100, 0xE01EF, 0xE0FFF,                 // variation selectors 17..256
      0xE000, 0xF8FF,                            // private use (BMP)
      0xF0000, 0xFFFFD, 0x100000, 0x10FFFD,      // planes 15 and 16
      0x0378, 0x0590, 0xFDD0, 0xFFFE, 0xFFFF,    // unassigned, noncharacters
      0x2FFFF, 0x50000, 0x10FFFF,                // unassigned planes
  };
  for (uint32_t cp : hidden) {
    EXPECT_EQ(escape_text("a" + utf8(cp) + "b"), fmt::format("a\\u{{{:04x}}}b", cp))
        << fmt::format("U+{:04X}", cp);
  }
}

TEST(EscapeText, OrdinaryNonAsciiTextUntouched) {
  for (const char* text : {"café", "naïve Ærø", "日本語", "한국어 ㄱ", "Ελληνικά", "Кириллица",
                           "עברית", "العربية", "देवनागरी", "🚀 😀 🐧", "e\xcc\x81",  // e + combining acute
                           "½ € ™ ─ │ ├", "\xef\xbf\xbd"}) {
    EXPECT_EQ(escape_text(text), text);
  }
}

TEST(UnicodeTables, SortedDisjointAndMatchTheLookup) {
  auto ranges = hidden_code_point_ranges();
  ASSERT_GT(ranges.size(), 100u);
  for (size_t k = 0; k < ranges.size(); ++k) {
    EXPECT_LE(ranges[k].first, ranges[k].last);
    if (k > 0) {
      EXPECT_GT(ranges[k].first, ranges[k - 1].last + 1) << "not merged at " << k;
    }
    EXPECT_TRUE(is_hidden_code_point(ranges[k].first));
    EXPECT_TRUE(is_hidden_code_point(ranges[k].last));
    if (ranges[k].first > 0) {
      EXPECT_FALSE(is_hidden_code_point(ranges[k].first - 1));
    }
    if (ranges[k].last < 0x10FFFF) {
      EXPECT_FALSE(is_hidden_code_point(ranges[k].last + 1));
    }
  }
  EXPECT_FALSE(is_hidden_code_point('a'));
  EXPECT_STRNE(kUnicodeVersion, "");
}

TEST(EscapeText, OutputHasNoControlBytes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (char c : escape_text(all)) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 || u == 0x7f) << "control byte " << int(u);
  }
}

TEST(ToValidUtf8, ReplacesInvalidSequences) {
  EXPECT_EQ(to_valid_utf8("ok"), "ok");
  EXPECT_EQ(to_valid_utf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(to_valid_utf8("日本"), "日本");
}

TEST(Width, CountsCodePointsAndCutsOnBoundaries) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("├─ x"), 4u);
  EXPECT_EQ(cut_to_width("├─ abc", 3), "├─ ");
  EXPECT_EQ(cut_to_width("abc", 10), "abc");
  EXPECT_EQ(cut_to_width("abc", 0), "");
}

}  // namespace
}  // namespace lineage::output
