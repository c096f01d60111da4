#include "audit/classify.h"

#include <array>

namespace lineage::audit {
namespace {

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool starts_with_any(std::string_view name, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (name == n) return true;
  }
  return false;
}

// "python3.11" -> true for prefix "python" when the rest is a version.
bool versioned(std::string_view name, std::string_view stem) {
  if (!name.starts_with(stem)) return false;
  for (char c : name.substr(stem.size())) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::string_view exe_name(const core::Process& p) {
  if (p.exe && !p.exe->path.empty()) return base_name(p.exe->path);
  return p.stat.comm;
}

std::string_view argv0_name(const core::Process& p) {
  if (!p.argv || p.argv->empty()) return {};
  std::string_view a0 = (*p.argv)[0];
  if (a0.starts_with('-')) a0.remove_prefix(1);  // a login shell: "-bash"
  return base_name(a0);
}

std::string_view program_name(const core::Process& p) {
  std::string_view exe = exe_name(p);
  if (exe == "busybox" || exe == "toybox") {
    std::string_view applet = argv0_name(p);
    if (!applet.empty()) return applet;
  }
  return exe;
}

bool is_shell(const core::Process& p) {
  std::string_view n = program_name(p);
  return one_of(n, {"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "ash", "fish", "csh", "tcsh",
                    "rbash", "yash", "busybox"});
}

bool is_interpreter(const core::Process& p) {
  std::string_view n = program_name(p);
  return versioned(n, "python") || versioned(n, "perl") || versioned(n, "ruby") || versioned(n, "php") ||
         versioned(n, "lua") || versioned(n, "luajit") || versioned(n, "tclsh") || one_of(n, {"node", "nodejs", "deno", "bun", "pwsh", "wish", "gawk", "awk", "mawk", "expect"});
}

bool is_netcat_like(const core::Process& p) {
  std::string_view n = program_name(p);
  return one_of(n, {"nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "pwncat", "telnet"});
}

bool is_one_liner(const core::Process& p) {
  if (!is_interpreter(p) || !p.argv) return false;
  std::string_view n = program_name(p);
  const auto& argv = *p.argv;
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (starts_with_any(n, {"python"})) {
      if (a == "-c" || (a.starts_with('-') && !a.starts_with("--") && a.find('c') != std::string_view::npos &&
                        a.find_first_not_of("-bBdEiIOqsSuvxc") == std::string_view::npos)) {
        return true;
      }
      if (a == "-m" || (!a.starts_with('-'))) return false;  // a module or a script file
    } else if (starts_with_any(n, {"perl", "ruby"})) {
      if (a == "-e" || a == "-E") return true;
      if (!a.starts_with('-')) return false;
    } else if (starts_with_any(n, {"php"})) {
      if (a == "-r") return true;
      if (!a.starts_with('-')) return false;
    } else if (one_of(n, {"node", "nodejs", "deno", "bun"})) {
      if (a == "-e" || a == "--eval" || a == "-p" || a == "--print" || a == "eval") return true;
      if (!a.starts_with('-')) return false;
    } else {
      if (a == "-e" || a == "-c") return true;
      if (!a.starts_with('-')) return false;
    }
  }
  return false;
}

std::string writable_by_path(std::string_view path) {
  if (path.starts_with("/memfd:")) return "a memfd";
  for (std::string_view dir : {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/var/crash/"}) {
    if (path.starts_with(dir)) return "in " + std::string(dir.substr(0, dir.size() - 1));
  }
  size_t pos = 0;
  while ((pos = path.find("/.", pos)) != std::string_view::npos) {
    std::string_view rest = path.substr(pos + 2);
    // "/./" and "/../" are not hidden names
    if (!rest.empty() && rest[0] != '/' && !(rest[0] == '.' && (rest.size() == 1 || rest[1] == '/'))) {
      return "a hidden path";
    }
    pos += 2;
  }
  return {};
}

bool in_system_dir(std::string_view path) {
  return starts_with_any(path, {"/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/opt/",
                                "/snap/"});
}

}  // namespace lineage::audit

namespace lineage::audit {

std::vector<std::string_view> preload_entries(std::string_view list) {
  std::vector<std::string_view> out;
  size_t i = 0;
  auto sep = [](char c) { return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < list.size()) {
    while (i < list.size() && sep(list[i])) ++i;
    size_t start = i;
    while (i < list.size() && !sep(list[i])) ++i;
    if (i > start) out.push_back(list.substr(start, i - start));
  }
  return out;
}

namespace {

bool is_container_id(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string_view container_in_cgroup(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  std::string_view leaf = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string_view parent = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  if (leaf.ends_with(".scope")) {
    std::string_view name = leaf.substr(0, leaf.size() - 6);
    for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"}) {
      if (name.starts_with(prefix) && is_container_id(name.substr(prefix.size()))) return name.substr(prefix.size());
    }
    return {};
  }
  if (!is_container_id(leaf)) return {};
  // cgroupfs driver: /docker/<id>, /kubepods/burstable/pod<uid>/<id>
  size_t pslash = parent.rfind('/');
  std::string_view pleaf = pslash == std::string_view::npos ? parent : parent.substr(pslash + 1);
  if (pleaf == "docker" || parent.find("kubepods") != std::string_view::npos) return leaf;
  return {};
}

}  // namespace lineage::audit
