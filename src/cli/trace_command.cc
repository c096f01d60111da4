#include "cli/trace_command.h"

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "output/trace_writer.h"
#include "snapshot/file.h"
#include "trace/runner.h"

namespace lineage::cli {

Result<int> run_trace(const TraceOptions& o) {
  std::string format = o.format.empty() ? (o.common.json ? "json" : "text") : o.format;
  if (o.common.json && format != "json") return usage_error("--json and --format " + format + " disagree");
  if (o.command.empty()) return usage_error("no command to trace: lineage trace [OPTIONS] -- CMD ARGS...");
  // The output file is made before the command runs: a refusal costs no run.
  UniqueFd out_fd;
  if (!o.output.empty() && o.output != "-") {
    auto fd = snapshot::create_output(o.output, true);
    if (!fd) return fd.error();
    out_fd = std::move(*fd);
  }
  trace::RunOptions ro;
  ro.argv = o.command;
  ro.source = o.source;
  ro.proc_root = o.common.proc_root;
  for (const auto& e : o.events) {
    if (e == "file") ro.trace_files = true;
    else if (e == "net") ro.trace_net = true;
    else return usage_error("-e takes file or net, not '" + e + "'");
  }
  trace::LiveSink live;
  if (o.live) {
    live = [](const trace::TracedProcess& p, const core::Event& e, uint64_t start_ns) {
      std::string line = output::render_trace_live(p, e, start_ns);
      if (line.empty()) return;
      std::fputs(line.c_str(), stderr);
      std::fflush(stderr);
    };
  }
  trace::IoLiveSink live_io;
  if (o.live) {
    live_io = [](const events::IoCall& c, uint64_t start_ns) {
      std::fputs(output::render_trace_live_io(c, start_ns).c_str(), stderr);
    };
  }
  auto result = trace::run_traced(ro, live, live_io);
  if (!result) {
    if (result.error().kind != ErrorKind::kNotFound) return result.error();
    print_error(result.error());
    return 127;  // as a shell says of a command it cannot run
  }
  // Lines are cut to a terminal's width, never in a file or with --wide.
  size_t width = o.wide || out_fd.valid() ? 0 : detect_terminal(o.common).width;
  std::string text = format == "json"     ? output::dump_json(output::trace_json(*result)) + "\n"
                     : format == "chrome" ? output::dump_json(output::trace_chrome_json(*result)) + "\n"
                                          : output::render_trace_text(*result, width);
  int status = trace::shell_exit_status(result->wait_status);
  if (out_fd.valid()) {
    auto written = snapshot::write_output(out_fd.get(), o.output, text);
    if (!written) {
      print_error(written.error());
      return status != 0 ? status : static_cast<int>(ErrorKind::kInternal);
    }
  } else if (int rc = write_out(text); rc != 0 && status == 0) {
    return rc;
  }
  return status;
}

Command add_trace_command(CLI::App& app) {
  auto o = std::make_shared<TraceOptions>();
  CLI::App* cmd = app.add_subcommand("trace", "Run a command and show the process tree it spawned");
  cmd->footer(
      "Examples:\n"
      "  lineage trace -- make -j2                    every process the build ran: argv, times, exit, CPU\n"
      "  lineage trace --live -- ./ci.sh              also print each exec and exit as it happens (stderr)\n"
      "  lineage trace --format chrome --output build.json -- make\n"
      "                                               a timeline for Perfetto or chrome://tracing\n"
      "  lineage trace --json -- sh -c 'sleep 30 &'   lineage.trace/v1; the sleep is left running\n"
      "  lineage trace -e file,net -- make           also every open (path, flags, fd or -errno) and\n"
      "                                               connect/bind/listen/accept (address, result); bpf\n"
      "CMD runs as you, with your environment and terminal, through execvp (no shell). Every process\n"
      "it forks is followed through kernel events (bpf, else the netlink proc connector: root needed).\n"
      "The report comes when CMD exits; processes that outlive it are listed as left running.\n"
      "-e file / -e net need bpf: the kernel follows CMD's subtree and reports its calls only.\n"
      "Exit: CMD's status (128 + N when killed by signal N), 127 CMD cannot be run, 3 no event\n"
      "source (not root; with -e: bpf refused), 4 usage.");
  add_common(*cmd, o->common);
  cmd->add_option("-o,--output", o->output, "Write the report to FILE (created 0600; never through a link; -: stdout)");
  cmd->add_option("--format", o->format, "Report format: text, json (lineage.trace/v1) or chrome (Trace Event Format)")
      ->check(CLI::IsMember({"text", "json", "chrome"}));
  cmd->add_flag("--live", o->live, "Print each exec and exit (and -e call) on stderr as it happens");
  cmd->add_flag("-w,--wide", o->wide, "Do not cut the report's lines to the terminal width");
  cmd->add_option("--source", o->source, "Event source: auto (bpf, else netlink), bpf or netlink")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bpf", "netlink"}));
  cmd->add_option("-e,--events", o->events, "Also trace calls: file (opens), net (connect, bind, listen, accept); bpf only")
      ->delimiter(',')
      ->allow_extra_args(false)  // one value each: `-e file -- CMD` leaves `--` to CMD
      ->check(CLI::IsMember({"file", "net"}));
  cmd->add_option("CMD", o->command, "The command and its arguments, after --");
  return {cmd, [o] { return finish(run_trace(*o)); }};
}

}  // namespace lineage::cli
