#include "output/sanitize.h"

#include <gtest/gtest.h>

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
