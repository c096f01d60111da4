// lineage doctor's pure parts: mountinfo, /proc restrictions, capabilities.
#include "doctor/doctor.h"

#include <gtest/gtest.h>

namespace lineage::doctor {
namespace {

TEST(Doctor, ProcMountOptionsFromMountinfoLastMountWins) {
  const char* info =
      "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
      "30 22 0:26 / /proc/sys/fs/binfmt_misc rw - autofs systemd-1 rw,fd=29\n"
      "41 22 0:40 / /proc rw,relatime - proc proc rw,hidepid=invisible,subset=pid\n";
  EXPECT_EQ(mount_options(info, "/proc"), "rw,hidepid=invisible,subset=pid");
  EXPECT_EQ(mount_options(info, "/sys"), "");
  EXPECT_EQ(mount_options("garbage line\n - \n", "/proc"), "");
}

TEST(Doctor, RestrictionsAreHidepidAndSubset) {
  EXPECT_EQ(proc_restrictions("rw"), "");
  EXPECT_EQ(proc_restrictions("rw,hidepid=0"), "");
  EXPECT_EQ(proc_restrictions("rw,hidepid=off"), "");
  EXPECT_EQ(proc_restrictions("rw,hidepid=2"), "hidepid=2");
  EXPECT_EQ(proc_restrictions("rw,hidepid=invisible,subset=pid"), "hidepid=invisible,subset=pid");
}

TEST(Doctor, MissingCapabilitiesByBit) {
  EXPECT_TRUE(missing_capabilities(~0ull).empty());
  auto none = missing_capabilities(0);
  EXPECT_EQ(none.size(), 5u);
  auto no_bpf = missing_capabilities(~0ull & ~(1ull << 39));
  ASSERT_EQ(no_bpf.size(), 1u);
  EXPECT_EQ(no_bpf[0], "CAP_BPF");
}

TEST(Doctor, RenderCountsOnlyRequiredChecksAndEscapes) {
  std::vector<Check> checks = {{"bpf", "eBPF", false, true, "libbpf: \x1b[31mdenied", "watch uses netlink"},
                               {"history", "history", false, false, "none", "run lineage record"}};
  std::string text = render_text(checks, false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("1 thing lineage uses is missing"), std::string::npos);
  EXPECT_NE(text.find("-> watch uses netlink"), std::string::npos);
  std::string json = render_json(checks);
  EXPECT_NE(json.find("\"ok\":false"), std::string::npos);
  checks[0].ok = true;
  EXPECT_NE(render_json(checks).find("\"schema\":\"lineage.doctor/v1\",\"ok\":true"), std::string::npos);
}

}  // namespace
}  // namespace lineage::doctor
