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

// --- Added for web-server-spawned-shell, exec-from-writable-dir,
// cron-runs-writable-script, reverse-shell, unexpected-listener. ---

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace lineage::audit {
namespace {

// A program name judged as if a process ran it (the predicates above take
// a process; comm is what they fall back to without an exe).
core::Process named(std::string_view name) {
  core::Process p;
  p.stat.comm = std::string(name);
  return p;
}

bool names_server_program(std::string_view arg) {
  std::string_view b = base_name(arg);
  for (std::string_view s : {"gunicorn", "uvicorn", "flask", "puma", "unicorn", "uwsgi"}) {
    if (b.starts_with(s) && (b.size() == s.size() || b[s.size()] == ':' || b[s.size()] == ' ')) return true;
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An absolute path without "." or ".." components or characters a shell
// would expand: a path the command names as it is written.
bool plain_absolute(std::string_view w) {
  if (!w.starts_with('/')) return false;
  if (w.find_first_of("'\"$`*?[]{}~\\") != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos < w.size()) {
    size_t next = w.find('/', pos + 1);
    std::string_view comp = w.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    if (comp == "." || comp == "..") return false;
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return true;
}

bool assignment(std::string_view w) {
  size_t eq = w.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (size_t k = 0; k < eq; ++k) {
    char c = w[k];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_') || (k == 0 && std::isdigit(static_cast<unsigned char>(c)))) {
      return false;
    }
  }
  return true;
}

void add_unique(std::vector<std::string>& out, std::string_view path) {
  if (std::find(out.begin(), out.end(), path) == out.end()) out.emplace_back(path);
}

// The script a shell or interpreter is given in words[from..]: the first
// word that is not an option; nothing when an option makes it run code
// from its command line (-c, -e, -m, -r) or reads the script from stdin.
// A shell's -c (and -s: stdin) are such options; an interpreter's -c, -e,
// -E, -m, -r too.
std::optional<std::string_view> script_word(const std::vector<std::string_view>& words, size_t from, bool shell) {
  std::string_view code_options = shell ? "cs" : "ceEmr";
  for (size_t k = from; k < words.size(); ++k) {
    std::string_view w = words[k];
    if (w == "--") return k + 1 < words.size() ? std::optional(words[k + 1]) : std::nullopt;
    if (w == "-") return std::nullopt;
    if (w.starts_with('-') || w.starts_with('+')) {
      if (w.find_first_of(code_options) != std::string_view::npos && !w.starts_with("--")) return std::nullopt;
      if (w == "-o" || w == "+o" || w == "-O" || w == "+O" || w == "-W" || w == "-X" || w == "-I") ++k;  // takes a value
      continue;
    }
    return w;
  }
  return std::nullopt;
}

}  // namespace

bool is_web_server(const core::Process& p) {
  std::string_view n = program_name(p);
  if (one_of(n, {"nginx", "apache2", "httpd", "lighttpd", "caddy", "uwsgi", "gunicorn", "uvicorn", "puma", "unicorn",
                 "node", "nodejs", "mysqld", "mariadbd", "postmaster"}) ||
      n.starts_with("php-fpm")) {
    return true;
  }
  if (n == "postgres") {
    // The process title: "postgres: 15/main: archiver", "postgres: startup".
    std::string_view title = p.argv && !p.argv->empty() ? std::string_view((*p.argv)[0]) : std::string_view();
    for (std::string_view role : {": archiver", ": startup", ": walreceiver"}) {
      size_t at = title.find(role);
      if (at != std::string_view::npos &&
          (at + role.size() == title.size() || title[at + role.size()] == ' ')) {
        return false;
      }
    }
    return true;
  }
  if (!p.argv) return false;
  const auto& argv = *p.argv;
  if (n == "java") {
    for (const std::string& a : argv) {
      std::string l = lower(a);
      for (std::string_view c : {"catalina", "tomcat", "jetty", "wildfly", "jboss"}) {
        if (l.find(c) != std::string::npos) return true;
      }
    }
    return false;
  }
  if (versioned(n, "python") || versioned(n, "ruby")) {
    for (size_t k = 0; k < argv.size(); ++k) {
      std::string_view a = argv[k];
      if (a == "http.server" || a.find("CGIHTTPRequestHandler") != std::string_view::npos) return true;
      if (names_server_program(a)) return true;
      if (a.ends_with("manage.py") && std::find(argv.begin() + static_cast<long>(k) + 1, argv.end(), "runserver") != argv.end()) {
        return true;
      }
    }
  }
  return false;
}

bool is_recon_tool(const core::Process& p) {
  std::string_view n = program_name(p);
  if (one_of(n, {"id", "whoami", "uname", "hostname", "ifconfig", "ip", "netstat", "ss", "ps", "w", "w.procps", "who",
                 "last", "lastlog", "curl", "wget"}) ||
      is_netcat_like(p)) {
    return true;
  }
  if (one_of(n, {"cat", "head", "tail", "less", "more"}) && p.argv) {
    for (size_t k = 1; k < p.argv->size(); ++k) {
      const std::string& a = (*p.argv)[k];
      if (a == "/etc/passwd" || a == "/etc/shadow") return true;
    }
  }
  return false;
}

bool is_cron_daemon(const core::Process& p) {
  return one_of(program_name(p), {"cron", "crond", "atd", "anacron"});
}

std::optional<double> lifetime_cpu_share(const core::Process& p, const core::SystemInfo& sys, uint64_t min_age_ns) {
  if (sys.boot_ns_now == 0 || p.key.start_time_ns >= sys.boot_ns_now) return std::nullopt;
  uint64_t age = sys.boot_ns_now - p.key.start_time_ns;
  if (age < min_age_ns || age == 0) return std::nullopt;
  double cpu = static_cast<double>(p.stat.utime_ticks + p.stat.stime_ticks) * static_cast<double>(sys.tick_ns());
  return cpu / static_cast<double>(age);
}

std::vector<std::string> command_files(std::string_view command) {
  std::vector<std::string> out;
  size_t cut = command.find_first_of(";|&<>()\n#");
  std::string_view simple = command.substr(0, cut);
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < simple.size()) {
    size_t start = simple.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = simple.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = simple.size();
    words.push_back(simple.substr(start, end - start));
    pos = end;
  }
  size_t first = 0;
  while (first < words.size() && (assignment(words[first]) || words[first] == "exec")) ++first;
  if (first >= words.size()) return out;
  std::string_view program = words[first];
  if (program.find_first_of("'\"$`*?[]{}~\\") != std::string_view::npos) return out;
  if (plain_absolute(program)) add_unique(out, program);
  core::Process as = named(base_name(program));
  if (is_shell(as) || is_interpreter(as)) {
    if (auto script = script_word(words, first + 1, is_shell(as)); script && plain_absolute(*script)) {
      add_unique(out, *script);
    }
  }
  return out;
}

std::vector<std::string> job_files(const core::Process& p) {
  std::vector<std::string> out;
  if (p.exe && !p.exe->deleted && plain_absolute(p.exe->path)) add_unique(out, p.exe->path);
  if (!p.argv || p.argv->size() < 2) return out;
  const auto& argv = *p.argv;
  if (is_shell(p)) {
    for (size_t k = 1; k < argv.size(); ++k) {
      std::string_view a = argv[k];
      if (a == "--" || !a.starts_with('-')) break;
      if (!a.starts_with("--") && a.find('c') != std::string_view::npos) {
        if (k + 1 < argv.size()) {
          for (auto& f : command_files(argv[k + 1])) add_unique(out, f);
        }
        return out;
      }
    }
  }
  if (is_shell(p) || is_interpreter(p)) {
    std::vector<std::string_view> words(argv.begin(), argv.end());
    if (auto script = script_word(words, 1, is_shell(p)); script && plain_absolute(*script)) add_unique(out, *script);
  }
  return out;
}

std::string others_can_write(const struct stat& st, bool sticky_counts, const std::vector<uint32_t>& owners) {
  if (S_ISLNK(st.st_mode)) return {};  // a symlink's own bits mean nothing
  if (S_ISDIR(st.st_mode)) {
    if ((st.st_mode & S_IWOTH) != 0) {
      bool sticky = (st.st_mode & S_ISVTX) != 0;
      if (!sticky) return "world-writable directory without sticky bit (mode " + mode_text(st.st_mode) + ")";
      if (sticky_counts) return "world-writable directory (mode " + mode_text(st.st_mode) + ", sticky)";
    }
  } else if ((st.st_mode & S_IWOTH) != 0) {
    return "world-writable (mode " + mode_text(st.st_mode) + ")";
  }
  if (!owners.empty() && std::find(owners.begin(), owners.end(), st.st_uid) == owners.end()) {
    return fmt::format("owned by uid {} (mode {})", st.st_uid, mode_text(st.st_mode));
  }
  return {};
}

std::string mode_text(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

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
