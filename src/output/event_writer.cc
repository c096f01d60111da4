#include "output/event_writer.h"

#include <fmt/format.h>

#include "events/event_json.h"
#include "output/format.h"
#include "output/json_writer.h"
#include "output/sanitize.h"

namespace lineage::output {

std::string render_event_json(const core::Event& e, const std::vector<std::string>& chain) {
  std::string line = events::to_json_line(e);
  line.pop_back();  // add the lineage to the object
  Json names = chain;
  line += ",\"lineage\":" + dump_json(names) + "}\n";
  return line;
}

std::string render_event_text(const core::Event& e, const std::vector<std::string>& chain, std::string_view user,
                              int64_t realtime_ns, uint64_t life_ns) {
  std::string when = format_rfc3339(realtime_ns).substr(11, 12);
  std::string what;
  switch (e.kind) {
    case core::EventKind::kFork:
      what = e.thread ? fmt::format("thread {} started", e.tid) : fmt::format("ppid {}", e.ppid);
      break;
    case core::EventKind::kExec: {
      std::string argv;
      for (const auto& a : e.argv) argv += (argv.empty() ? "" : " ") + a;
      what = escape_text(argv.empty() ? e.exe : argv);
      break;
    }
    case core::EventKind::kExit: {
      if (e.thread) {
        what = fmt::format("thread {} ended", e.tid);
        break;
      }
      std::string how = e.exit_code < 0                ? "exit status unknown"
                        : (e.exit_code & 0x7f) == 0 ? fmt::format("code {}", (e.exit_code >> 8) & 0xff)
                                                     : fmt::format("killed by signal {}", e.exit_code & 0x7f);
      what = fmt::format("{} after {:.3f}s", how, static_cast<double>(life_ns) / 1e9);
      break;
    }
    case core::EventKind::kLost: what = fmt::format("{} events lost", e.lost); break;
  }
  std::string names;
  for (const auto& n : chain) names += (names.empty() ? "" : " > ") + escape_text(n);
  return fmt::format("{} {:<5} {:>7} {:<8} {}  [{}]\n", when, events::kind_name(e.kind), e.pid,
                     e.kind == core::EventKind::kLost ? "" : escape_text(user), what, names);
}

}  // namespace lineage::output
