#include "cli/snapshot_command.h"

#include <unistd.h>

#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "cli/history_command.h"
#include "cli/record_command.h"
#include "core/heap.h"
#include "core/time_spec.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"

namespace lineage::cli {
namespace {

// lineage-snapshot-HOST-YYYYmmdd-HHMMSS.json, the host name cut to what a
// file name may hold.
std::string default_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string h;
  for (const char* c = host; *c != '\0' && h.size() < 64; ++c) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '.' || *c == '_';
    h += ok ? *c : '_';
  }
  if (h.empty()) h = "host";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return fmt::format("lineage-snapshot-{}-{}.json", h, stamp);
}

}  // namespace

Result<int> run_snapshot(const SnapshotOptions& o) {
  snapshot::BuildOptions b;
  b.db = history_path(o.db);
  b.paths = o.paths;
  if (o.history != "0") {
    auto span = core::parse_duration(o.history);
    if (!span) return usage_error(fmt::format("--history: {}", span.error().message));
    b.history_ns = static_cast<int64_t>(*span);
  }
  std::string path = o.output.empty() ? default_name() : o.output;
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::prefer_huge_pages(size_t{512} << 20);  // ~250 MB of small objects at 10,000 processes
  if (path == "-") {
    auto text = snapshot::build(*reader, b);
    if (!text) return text.error();
    return write_out(*text);
  }
  // The file first: a name taken is said at once, not after the scan.
  auto fd = snapshot::create_output(path, o.force);
  if (!fd) return fd.error();
  auto text = snapshot::build(*reader, b);
  auto written = text ? snapshot::write_output(fd->get(), path, *text) : Result<bool>(text.error());
  if (!written) {
    if (!o.force) ::unlink(path.c_str());  // made by this run, and empty or partial
    return written.error();
  }
  if (o.common.json) {
    output::Json j = {{"schema", "lineage.snapshot-written/v1"}, {"output", path}, {"bytes", text->size()},
                      {"compressed", path.ends_with(".zst")}};
    return write_out(output::dump_json(j) + "\n");
  }
  return write_out(fmt::format("snapshot written to {} ({} bytes of JSON{})\n", output::escape_text(path),
                               text->size(), path.ends_with(".zst") ? ", zstd-compressed" : ""));
}

Command add_snapshot_command(CLI::App& app) {
  auto o = std::make_shared<SnapshotOptions>();
  CLI::App* cmd = app.add_subcommand("snapshot", "The whole scene in one file, readable later with --from");
  cmd->footer(
      "Every process with its columns and why, open sockets and their holders, zombies, and the\n"
      "last --history of recorded events (when a history database exists), as lineage.snapshot/v1.\n"
      "Examples:\n"
      "  lineage snapshot                          ./lineage-snapshot-HOST-YYYYmmdd-HHMMSS.json\n"
      "  lineage snapshot -o /tmp/scene.json.zst   zstd-compressed\n"
      "  lineage tree --from scene.json.zst        the forest as it was\n"
      "  lineage why 4242 --from scene.json.zst    why pid 4242 ran, as it was\n"
      "  lineage zombies --from scene.json.zst\n"
      "The file is created with mode 0600 (it holds command lines), never through a symbolic link,\n"
      "and an existing file is not replaced without --force.\n"
      "Exit: 0 written, 3 permission denied, 4 usage (the file exists, bad --history), 5 internal.");
  add_common(*cmd, o->common);
  cmd->add_option("-o,--output", o->output, "The file to write ('.zst': zstd; '-': standard output)");
  cmd->add_flag("--force", o->force, "Replace the file if it exists");
  cmd->add_option("--db", o->db, fmt::format("History database (default {})", kDefaultDb));
  cmd->add_option("--history", o->history, "Recorded events of this last span (default 10m; 0: none)");
  return {cmd, [o] { return finish(run_snapshot(*o)); }};
}

}  // namespace lineage::cli
