#include "output/who_writer.h"

#include <sys/sysmacros.h>

#include <algorithm>

#include <fmt/format.h>

#include "output/sanitize.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

std::string dev_text(uint64_t dev) { return fmt::format("{}:{}", major(dev), minor(dev)); }

const procfs::SocketEntry* socket_of(const procfs::Hold& h, const std::vector<procfs::SocketEntry>& sockets) {
  for (const auto& s : sockets) {
    if (s.inode == h.inode) return &s;
  }
  return nullptr;
}

std::string_view state_name(const procfs::SocketEntry& s) { return procfs::socket_state_name(s); }

std::string endpoint(const std::string& address, uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

std::string socket_text(const procfs::SocketEntry& s) {
  std::string out = fmt::format("{} {}", procfs::protocol_name(s.proto), endpoint(s.local_address, s.local_port));
  if (s.remote_port != 0) out += " -> " + endpoint(s.remote_address, s.remote_port);
  return out + " " + std::string(state_name(s));
}

std::string header(const WhoReport& r) {
  if (r.kind == "port") {
    return fmt::format("port {}: {} socket{}", r.port, r.sockets.size(), r.sockets.size() == 1 ? "" : "s");
  }
  std::string path = escape_text(r.path);
  if (r.kind == "mount") {
    std::string what = r.fstype.empty() ? std::string() : escape_text(r.fstype) + " ";
    if (!r.source.empty()) what += "from " + escape_text(r.source) + ", ";
    return fmt::format("mount {} ({}device {})", path, what, dev_text(r.dev));
  }
  if (r.kind == "tree") return fmt::format("{} and everything below it", path);
  return fmt::format("{} ({}, device {}, inode {})", path, r.kind, dev_text(r.dev), r.ino);
}

}  // namespace

std::string hold_text(const procfs::Hold& h, const std::vector<procfs::SocketEntry>& sockets) {
  std::string out(procfs::hold_kind_name(h.kind));
  if (h.kind == procfs::HoldKind::kFd) {
    out += " " + std::to_string(h.fd);
    if (!h.mode.empty()) out += " " + h.mode;
    if (const auto* s = socket_of(h, sockets)) out += " " + socket_text(*s);
  }
  return out;
}

std::string render_who_text(const WhoReport& r, const WhoTextOptions& o) {
  auto paint = [&](const char* color, const std::string& text) {
    return o.color ? std::string(color) + text + kReset : text;
  };
  auto cut = [&](const std::string& text) {
    return o.width > 0 ? std::string(cut_to_width(text, o.width)) : text;
  };
  std::string out = paint(kBold, cut(header(r))) + "\n";
  const bool with_paths = r.kind == "tree" || r.kind == "mount";
  for (const auto& holder : r.holders) {
    std::string user = holder.user.empty() ? (holder.uid >= 0 ? std::to_string(holder.uid) : "?") : holder.user;
    std::string first = fmt::format("{:>7} {:<8} {}", holder.pid, escape_text(user), holder.why);
    out += cut(first) + "\n";
    size_t shown = 0;
    for (const auto& h : holder.holds) {
      if (shown == o.max_holds) {
        out += paint(kDim, fmt::format("{:17}... and {} more (--json lists all)", "", holder.holds.size() - shown)) + "\n";
        break;
      }
      std::string line = fmt::format("{:17}{}", "", hold_text(h, r.sockets));
      if (with_paths && !h.path.empty()) line += "  " + escape_text(h.path);
      out += cut(line) + "\n";
      ++shown;
    }
  }
  return out;
}

Json who_json(const WhoReport& r) {
  Json doc;
  doc["schema"] = "lineage.who/v1";
  Json res;
  res["query"] = r.resource;
  res["kind"] = r.kind;
  if (r.kind == "port") {
    res["port"] = r.port;
  } else {
    res["path"] = r.path;
    res["dev"] = dev_text(r.dev);
    if (r.kind != "mount" && r.kind != "tree") res["inode"] = r.ino;
    if (!r.fstype.empty()) res["fstype"] = r.fstype;
    if (!r.source.empty()) res["source"] = r.source;
  }
  if (!r.sockets.empty()) {
    Json sockets = Json::array();
    for (const auto& s : r.sockets) {
      Json j;
      j["protocol"] = procfs::protocol_name(s.proto);
      j["local_address"] = s.local_address;
      j["local_port"] = s.local_port;
      j["remote_address"] = s.remote_address;
      j["remote_port"] = s.remote_port;
      j["state"] = state_name(s);
      j["inode"] = s.inode;
      sockets.push_back(std::move(j));
    }
    res["sockets"] = std::move(sockets);
  }
  doc["resource"] = std::move(res);
  Json holders = Json::array();
  for (const auto& holder : r.holders) {
    Json j;
    j["pid"] = holder.pid;
    j["comm"] = holder.comm;
    if (!holder.user.empty()) j["user"] = holder.user;
    if (holder.uid >= 0) j["uid"] = holder.uid;
    Json holds = Json::array();
    for (const auto& h : holder.holds) {
      Json hj;
      hj["how"] = procfs::hold_kind_name(h.kind);
      if (h.kind == procfs::HoldKind::kFd) {
        hj["fd"] = h.fd;
        if (!h.mode.empty()) hj["mode"] = h.mode;
      }
      if (!h.path.empty()) hj["path"] = h.path;
      if (h.inode != 0) hj["inode"] = h.inode;
      holds.push_back(std::move(hj));
    }
    j["holds"] = std::move(holds);
    j["why"] = holder.summary;
    holders.push_back(std::move(j));
  }
  doc["holders"] = std::move(holders);
  doc["unreadable_processes"] = r.unreadable;
  doc["vanished"] = r.vanished;
  doc["method"] = r.method;
  return doc;
}

}  // namespace lineage::output
