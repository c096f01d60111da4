#include "cli/who_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "explain/report.h"
#include "output/sanitize.h"
#include "output/who_writer.h"
#include "output/why_writer.h"
#include "procfs/reader.h"
#include "resolve/who.h"

namespace lineage::cli {
namespace {

std::string what_text(const resolve::Resource& r) {
  if (r.kind == resolve::Resource::Kind::kPort) {
    return r.tcp ? fmt::format("{}/{}", *r.tcp ? "tcp" : "udp", r.port) : fmt::format("port {}", r.port);
  }
  std::string path = output::escape_text(r.path);
  if (r.kind == resolve::Resource::Kind::kTree) return path + " or anything below it";
  if (r.kind == resolve::Resource::Kind::kMount) return "the filesystem of " + path;
  return path;
}

// Groups the holds by process and explains each process once.
std::vector<output::WhoHolder> explain_holders(const procfs::ProcReader& reader, const WhoOptions& o,
                                               std::vector<procfs::Hold> holds, size_t& vanished) {
  core::SystemInfo sys = reader.system_info();
  explain::ReportOptions ropts;
  ropts.want_git = false;
  output::WhyTextOptions topts;
  topts.short_form = true;
  std::vector<output::WhoHolder> out;
  for (size_t i = 0; i < holds.size();) {
    size_t j = i;
    while (j < holds.size() && holds[j].pid == holds[i].pid) ++j;
    output::WhoHolder h;
    h.pid = holds[i].pid;
    h.holds.assign(std::make_move_iterator(holds.begin() + static_cast<std::ptrdiff_t>(i)),
                   std::make_move_iterator(holds.begin() + static_cast<std::ptrdiff_t>(j)));
    i = j;
    auto report = explain::explain_pid(reader, sys, o.paths, h.pid, ropts);
    if (!report) {
      // Exited between the scan and its explanation: churn, not a holder now.
      if (report.error().kind == ErrorKind::kNotFound) {
        ++vanished;
        continue;
      }
      h.why = output::escape_text(report.error().message);
    } else {
      const core::Process& t = report->target();
      h.comm = t.stat.comm;
      if (t.status) {
        h.user = t.user;
        h.uid = t.status->uid.effective;
      }
      h.summary = report->summary;
      h.why = output::render_why_text(*report, sys, topts);
      while (!h.why.empty() && h.why.back() == '\n') h.why.pop_back();
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

Result<WhoOutput> run_who(const WhoOptions& o) {
  auto resource = resolve::parse_resource(o.resource, o.dir, o.mount);
  if (!resource) return resource.error();
  auto method = resolve::parse_method(o.method);
  if (!method) return usage_error("--method takes auto, bpf or proc");
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  auto answer = resolve::find_holders(*reader, *resource, *method);
  if (!answer) return answer.error();

  output::WhoReport report;
  report.resource = o.resource;
  report.kind = answer->kind;
  report.path = answer->path;
  report.fstype = answer->fstype;
  report.source = answer->source;
  report.dev = answer->dev;
  report.ino = answer->ino;
  report.port = resource->port;
  report.sockets = answer->sockets;
  report.unreadable = answer->stats.denied;
  report.method = answer->method;
  report.holders = explain_holders(*reader, o, std::move(answer->holds), report.vanished);

  WhoOutput out;
  const bool none = report.holders.empty();
  if (none) out.exit_code = report.unreadable > 0 ? 3 : 2;
  else if (report.unreadable > 0) out.exit_code = 1;
  if (o.common.json) {
    out.text = output::dump_json(output::who_json(report)) + "\n";
  } else if (!none) {
    Terminal term = detect_terminal(o.common);
    output::WhoTextOptions topts;
    topts.color = term.color;
    topts.width = o.wide ? 0 : term.width;
    out.text = output::render_who_text(report, topts);
  }
  std::string what = what_text(*resource);
  const std::string unreadable = fmt::format("{} process{} could not be read{}", report.unreadable,
                                             report.unreadable == 1 ? "" : "es",
                                             ::geteuid() == 0 ? "" : " (run as root)");
  if (none && report.unreadable > 0) {
    out.notes = fmt::format("lineage: no visible process holds {}; {}\n", what, unreadable);
  } else if (none) {
    out.notes = fmt::format("lineage: no process holds {}\n", what);
  } else if (report.unreadable > 0) {
    out.notes = fmt::format("lineage: note: {}: their holds are unknown\n", unreadable);
  }
  return out;
}

Command add_who_command(CLI::App& app) {
  auto o = std::make_shared<WhoOptions>();
  CLI::App* cmd = app.add_subcommand("who", "Which processes hold a file, directory, mount, port or socket");
  cmd->footer(
      "RESOURCE is a path (file, directory, device, fifo, unix socket), :PORT, tcp/PORT or udp/PORT.\n"
      "Examples:\n"
      "  lineage who /var/log/app.log        who has it open, mapped, or runs it\n"
      "  lineage who --dir /srv/data         anything open below /srv/data (like lsof +D)\n"
      "  lineage who --mount /mnt/usb        what keeps that filesystem busy (like fuser -m)\n"
      "  lineage who :8080                   servers and clients on port 8080 (tcp and udp)\n"
      "  lineage who /run/docker.sock --json\n"
      "Each holder comes with how it holds it (fd N r/w, cwd, root, exe, mmap) and its why line.\n"
      "Exit: 0 held, 1 held but some processes could not be read, 2 nobody holds it or it does not\n"
      "exist, 3 nobody visible holds it and some processes could not be read, 4 usage.");
  add_common(*cmd, o->common);
  cmd->add_option("RESOURCE", o->resource, "PATH, :PORT, tcp/PORT or udp/PORT")->required();
  cmd->add_flag("--dir", o->dir, "The directory and anything open below it");
  cmd->add_flag("--mount", o->mount, "Anything open on the filesystem PATH is on");
  cmd->add_flag("-w,--wide", o->wide, "Do not cut lines to the terminal width");
  cmd->add_option("--method", o->method, "auto, bpf or proc (testing)")->group("");
  return {cmd, [o] {
            auto out = run_who(*o);
            if (!out) return print_error(out.error());
            int rc = write_out(out->text);
            if (!out->notes.empty()) std::fputs(out->notes.c_str(), stderr);
            return rc != 0 ? rc : out->exit_code;
          }};
}

}  // namespace lineage::cli
