#include "output/files_writer.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "output/sanitize.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

std::string name_text(const FileRow& row) {
  const procfs::OpenFile& f = row.file;
  if (row.socket) {
    const SocketInfo& s = *row.socket;
    std::string out = s.protocol;
    if (!s.local.empty()) out += " " + escape_text(s.local);
    if (!s.remote.empty()) out += "->" + escape_text(s.remote);
    if (!s.kind.empty()) out += " " + s.kind;
    if (!s.state.empty()) out += " (" + s.state + ")";
    if (s.rqueue && s.wqueue) out += fmt::format(" rq {} wq {}", *s.rqueue, *s.wqueue);
    return out;
  }
  std::string out = escape_text(f.path);
  if (f.deleted) out += " (deleted)";
  return out;
}

std::string peer_text(const FilePeer& p, int32_t self) {
  std::string who = p.pid == self ? fmt::format("this process, fd {}", p.fd)
                                  : fmt::format("{} (pid {}) fd {}", escape_text(p.comm), p.pid, p.fd);
  if (!p.mode.empty()) who += " " + p.mode;
  if (!p.why.empty() && p.pid != self) who += ": " + escape_text(p.why);
  return who;
}

std::string cut(const std::string& line, size_t width) {
  if (width == 0) return line;
  return std::string(cut_to_width(line, width));
}

}  // namespace

std::string device_text(const procfs::OpenFile& f) {
  if (!f.dev_major || !f.dev_minor) return "";
  return fmt::format("{}:{}", *f.dev_major, *f.dev_minor);  // as mountinfo and who write it
}

std::string render_files_text(const FilesReport& r, bool color, size_t width) {
  constexpr size_t kColumns = 9;
  using Cells = std::array<std::string, kColumns>;
  std::vector<Cells> table;
  table.push_back({"FD", "MODE", "FLAGS", "TYPE", "DEVICE", "SIZE", "OFFSET", "NODE", "NAME"});
  for (const FileRow& row : r.rows) {
    const procfs::OpenFile& f = row.file;
    std::string flags;
    if (f.info) flags = procfs::flag_names(f.info->flags);
    table.push_back({escape_text(f.label), f.info ? std::string(procfs::mode_string(f.info->flags)) : "-",
                     flags.empty() ? "-" : flags, escape_text(f.type), device_text(f),
                     f.size ? std::to_string(*f.size) : "-", f.info ? std::to_string(f.info->pos) : "-",
                     f.inode != 0 ? std::to_string(f.inode) : "-", name_text(row)});
  }
  std::array<size_t, kColumns> widths{};
  for (const Cells& c : table) {
    for (size_t i = 0; i + 1 < kColumns; ++i) widths[i] = std::max(widths[i], display_width(c[i]));
  }
  std::string out;
  auto paint = [&](const char* code, const std::string& text) {
    out += color ? code + text + kReset : text;
    out += '\n';
  };
  std::string user = r.user.empty() ? "?" : escape_text(r.user);
  paint(kBold, cut(fmt::format("{} (pid {})  user {}", escape_text(r.comm), r.pid, user), width));
  for (size_t n = 0; n < table.size(); ++n) {
    const Cells& c = table[n];
    std::string line;
    for (size_t i = 0; i + 1 < kColumns; ++i) {
      line += c[i];
      line += std::string(widths[i] - display_width(c[i]) + 2, ' ');
    }
    line += c[kColumns - 1];
    if (n == 0) {
      paint(kDim, cut(line, width));
      continue;
    }
    out += cut(line, width) + '\n';
    const FileRow& row = r.rows[n - 1];
    if (!row.peers_searched) continue;
    std::string indent(widths[0] + 2, ' ');
    if (row.peers.empty()) {
      std::string none = r.peer_scan_denied > 0
                             ? fmt::format("{}-> other end: not found ({} processes' fds not readable)", indent,
                                           r.peer_scan_denied)
                             : indent + "-> other end: no other holder";
      paint(kDim, cut(none, width));
    }
    for (size_t i = 0; i < row.peers.size() && i < kTextPeers; ++i) {
      out += cut(indent + "-> " + peer_text(row.peers[i], r.pid), width) + '\n';
    }
    size_t more = row.peers_omitted + (row.peers.size() > kTextPeers ? row.peers.size() - kTextPeers : 0);
    if (more > 0) paint(kDim, cut(fmt::format("{}-> and {} more (--json lists them)", indent, more), width));
  }
  if (!r.not_readable.empty()) {
    std::string list;
    for (const auto& what : r.not_readable) list += (list.empty() ? "" : ", ") + what;
    out += cut("Not readable (permission denied): " + list, width) + '\n';
  }
  return out;
}

Json files_json(const FilesReport& r) {
  Json doc;
  doc["schema"] = "lineage.files/v1";
  Json proc;
  proc["pid"] = r.pid;
  proc["comm"] = to_valid_utf8(r.comm);
  proc["user"] = r.user.empty() ? Json() : Json(to_valid_utf8(r.user));
  proc["uid"] = r.uid ? Json(*r.uid) : Json();
  doc["process"] = std::move(proc);
  Json files = Json::array();
  for (const FileRow& row : r.rows) {
    const procfs::OpenFile& f = row.file;
    Json j;
    j["fd"] = f.fd >= 0 ? Json(f.fd) : Json();
    j["label"] = f.label;
    if (f.info) {
      j["mode"] = procfs::mode_string(f.info->flags);
      Json flags = Json::array();
      std::string names = procfs::flag_names(f.info->flags);
      for (size_t pos = 0; pos < names.size();) {
        size_t comma = names.find(',', pos);
        if (comma == std::string::npos) comma = names.size();
        flags.push_back(names.substr(pos, comma - pos));
        pos = comma + 1;
      }
      j["flags"] = std::move(flags);
      j["flags_octal"] = fmt::format("0{:o}", f.info->flags);
      j["offset"] = f.info->pos;
      j["mnt_id"] = f.info->mnt_id ? Json(*f.info->mnt_id) : Json();
    } else {
      j["mode"] = Json();
      j["flags"] = Json();
      j["offset"] = Json();
    }
    j["type"] = f.type;
    j["path"] = to_valid_utf8(f.path);
    j["deleted"] = f.deleted;
    j["link"] = to_valid_utf8(f.link);
    std::string dev = device_text(f);
    j["device"] = dev.empty() ? Json() : Json(dev);
    j["inode"] = f.inode;
    j["size"] = f.size ? Json(*f.size) : Json();
    if (row.socket) {
      const SocketInfo& s = *row.socket;
      Json sock;
      sock["protocol"] = s.protocol;
      sock["local"] = to_valid_utf8(s.local);
      sock["remote"] = to_valid_utf8(s.remote);
      sock["state"] = s.state;
      if (!s.kind.empty()) sock["type"] = s.kind;
      sock["rqueue"] = s.rqueue ? Json(*s.rqueue) : Json();
      sock["wqueue"] = s.wqueue ? Json(*s.wqueue) : Json();
      if (s.protocol == "UNIX") sock["peer_inode"] = s.peer_inode;
      j["socket"] = std::move(sock);
    }
    if (row.peers_searched) {
      Json peers = Json::array();
      for (const FilePeer& p : row.peers) {
        Json pj;
        pj["pid"] = p.pid;
        pj["comm"] = to_valid_utf8(p.comm);
        pj["fd"] = p.fd;
        pj["mode"] = p.mode.empty() ? Json() : Json(p.mode);
        pj["self"] = p.pid == r.pid;
        pj["why"] = p.why.empty() ? Json() : Json(to_valid_utf8(p.why));
        peers.push_back(std::move(pj));
      }
      j["peers"] = std::move(peers);
      j["peers_omitted"] = row.peers_omitted;
    }
    files.push_back(std::move(j));
  }
  doc["files"] = std::move(files);
  Json denied = Json::array();
  for (const auto& what : r.not_readable) denied.push_back(what);
  doc["not_readable"] = std::move(denied);
  Json scan;
  scan["done"] = r.peer_scan;
  scan["processes_not_readable"] = r.peer_scan_denied;
  scan["method"] = r.peer_method.empty() ? Json() : Json(r.peer_method);
  doc["peer_scan"] = std::move(scan);
  return doc;
}

}  // namespace lineage::output
