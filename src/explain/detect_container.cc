// Container: decided from the target's cgroup path (never from process
// names), then named from the runtime's own state files (never a CLI).
//
//   docker       /docker/<id>, docker-<id>.scope   containers/<id>/config.v2.json
//   containerd   cri-containerd-<id>.scope,        containerd task config.json
//                /kubepods/.../pod<uid>/<id>       (annotations)
//   podman       libpod-<id>[.scope]               containers/storage containers.json
//   cri-o        crio-<id>[.scope]                 userdata/config.json (annotations)
//   lxc          /lxc/<name>, lxc.payload.<name>, /lxc.payload/<name>
//
// Every file is read with a size cap and parsed as hostile: a state file
// that is missing, unreadable or malformed still leaves the container
// reported, with the reason in the evidence.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/unique_fd.h"
#include "explain/detectors.h"
#include "explain/file_read.h"

namespace lineage::explain {
namespace {

using nlohmann::json;

constexpr size_t kMaxStateBytes = 4u << 20;  // config.v2.json holds no logs
constexpr size_t kMaxJsonDepth = 16;         // every field we read is within 4
constexpr size_t kMaxValueBytes = 1024;      // longer names are not names
constexpr size_t kMaxNesting = 4;            // containers inside containers
constexpr size_t kMaxComponents = 256;
constexpr size_t kMaxNamespaceDirs = 64;
constexpr size_t kShortId = 12;

// ---------------------------------------------------------------- cgroups

/// One container named by a cgroup path component.
struct Match {
  std::string runtime;  // empty: a bare id under kubepods (docker or containerd)
  std::string id;       // 64 hex digits, or the LXC container name
  std::string pod_uid;  // Kubernetes pod, from a pod<uid> component above it
  std::string rootless_uid;  // under user@UID.service: a per-user runtime
};

bool is_hex_id(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// "<prefix><64 hex><suffix>": the id, or empty.
std::string_view id_between(std::string_view comp, std::string_view prefix,
                            std::string_view suffix) {
  if (!comp.starts_with(prefix) || !comp.ends_with(suffix) ||
      comp.size() < prefix.size() + suffix.size()) {
    return {};
  }
  std::string_view id = comp.substr(prefix.size(), comp.size() - prefix.size() - suffix.size());
  return is_hex_id(id) ? id : std::string_view{};
}

/// libpod-<id> and crio-<id> come with ".scope" (systemd) or without
/// (cgroupfs). The conmon monitors (libpod-conmon-<id>, crio-conmon-<id>)
/// are not the container and fail the hex check.
std::string_view id_scope_optional(std::string_view comp, std::string_view prefix) {
  std::string_view id = id_between(comp, prefix, ".scope");
  return id.empty() ? id_between(comp, prefix, "") : id;
}

bool is_lxc_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '+' || c == '@' || c == ':';
    if (!ok) return false;
  }
  return true;
}

/// "pod<uid>" (cgroupfs) or "kubepods[-qos]-pod<uid_with_underscores>.slice".
std::string pod_uid_of(std::string_view comp) {
  std::string_view uid;
  if (comp.starts_with("pod")) {
    uid = comp.substr(3);
  } else if (comp.starts_with("kubepods") && comp.ends_with(".slice")) {
    size_t at = comp.rfind("-pod");
    if (at == std::string_view::npos) return {};
    uid = comp.substr(at + 4, comp.size() - at - 4 - 6);
  } else {
    return {};
  }
  if (uid.empty() || uid.size() > 64) return {};
  std::string out;
  for (char c : uid) {
    if (c == '_') c = '-';
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '-';
    if (!ok) return {};
    out += c;
  }
  return out;
}

/// "user@1000.service": the uid whose systemd instance owns this subtree.
std::string delegated_uid(std::string_view comp) {
  if (!comp.starts_with("user@") || !comp.ends_with(".service")) return {};
  std::string_view uid = comp.substr(5, comp.size() - 5 - 8);
  if (uid.empty() || uid.size() > 10) return {};
  for (char c : uid) {
    if (c < '0' || c > '9') return {};
  }
  return std::string(uid);
}

/// Every container named along one cgroup path, outermost first.
std::vector<Match> parse_container_path(std::string_view path) {
  std::vector<std::string_view> comps;
  while (!path.empty() && comps.size() < kMaxComponents) {
    size_t slash = path.find('/');
    std::string_view comp = path.substr(0, slash);
    if (!comp.empty()) comps.push_back(comp);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  std::vector<Match> found;
  bool in_kubepods = false;
  std::string pod_uid, rootless_uid;
  auto add = [&](std::string runtime, std::string_view id) {
    if (found.size() >= kMaxNesting) return;
    found.push_back({std::move(runtime), std::string(id), pod_uid, rootless_uid});
    pod_uid.clear();
  };
  for (size_t i = 0; i < comps.size(); ++i) {
    std::string_view c = comps[i];
    std::string_view next = i + 1 < comps.size() ? comps[i + 1] : std::string_view{};
    std::string_view id;
    if (std::string uid = delegated_uid(c); !uid.empty()) {
      rootless_uid = uid;
    } else if (c.starts_with("kubepods")) {
      in_kubepods = true;
      if (std::string uid2 = pod_uid_of(c); !uid2.empty()) pod_uid = uid2;
    } else if (in_kubepods && c.starts_with("pod") && !pod_uid_of(c).empty()) {
      pod_uid = pod_uid_of(c);
    } else if (c == "docker" && is_hex_id(next)) {
      add("docker", next);
      ++i;
    } else if (!(id = id_between(c, "docker-", ".scope")).empty()) {
      add("docker", id);
    } else if (!(id = id_between(c, "cri-containerd-", ".scope")).empty()) {
      add("containerd", id);
    } else if (!(id = id_scope_optional(c, "libpod-")).empty()) {
      add("podman", id);
    } else if (!(id = id_scope_optional(c, "crio-")).empty()) {
      add("cri-o", id);
    } else if ((c == "lxc" || c == "lxc.payload") && is_lxc_name(next)) {
      add("lxc", next);
      ++i;
    } else if (c.starts_with("lxc.payload.") && is_lxc_name(c.substr(12))) {
      add("lxc", c.substr(12));
    } else if (in_kubepods && !pod_uid.empty() && is_hex_id(c)) {
      add("", c);
    }
  }
  return found;
}

bool is_v2(const core::CgroupEntry& e) { return e.hierarchy == 0 && e.controllers.empty(); }

/// The first cgroup line naming a container: the v2 line first (it is the
/// one the kernel enforces on unified and hybrid systems), then v1 lines.
struct Found {
  const core::CgroupEntry* line = nullptr;
  std::vector<Match> matches;
};

std::optional<Found> find_container(const core::Process& p) {
  if (!p.cgroups) return std::nullopt;
  for (bool want_v2 : {true, false}) {
    for (const auto& e : *p.cgroups) {
      if (is_v2(e) != want_v2) continue;
      auto matches = parse_container_path(e.path);
      if (!matches.empty()) return Found{&e, std::move(matches)};
    }
  }
  return std::nullopt;
}

bool in_container(const core::Process& p, const Match& m) {
  auto found = find_container(p);
  if (!found) return false;
  for (const auto& other : found->matches) {
    if (other.id == m.id && (other.runtime == "lxc") == (m.runtime == "lxc")) return true;
  }
  return false;
}

// ------------------------------------------------------------ state files

/// Parses untrusted JSON; anything nested deeper than we ever look is
/// dropped while parsing, so its size cannot hurt.
std::optional<json> parse_json(std::string_view text) {
  try {
    json::parser_callback_t keep_shallow = [](int depth, json::parse_event_t, json&) {
      return depth <= static_cast<int>(kMaxJsonDepth);
    };
    json j = json::parse(text.begin(), text.end(), keep_shallow, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

/// A string member that is short enough to be a name; empty otherwise.
std::string string_member(const json* obj, const char* key) {
  if (obj == nullptr) return {};
  const json* v = member(*obj, key);
  if (v == nullptr || !v->is_string()) return {};
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > kMaxValueBytes || s.find('\0') != std::string::npos) return {};
  return s;
}

/// What a runtime's state says about one container.
struct State {
  std::string name, image, pod, pod_namespace, container;
  std::string file;     // the file read (or looked for)
  FileStatus status = FileStatus::kNotFound;
  std::string problem;  // set when the file was read but is not usable
  bool ok() const { return status == FileStatus::kOk && problem.empty(); }
};

/// Reads and parses one JSON state file into `state` (file, status, problem).
std::optional<json> load_json(const std::string& path, State& state) {
  state.file = path;
  std::string text;
  state.status = read_bounded(path, kMaxStateBytes, text);
  if (state.status != FileStatus::kOk) return std::nullopt;
  auto j = parse_json(text);
  if (!j || !(j->is_object() || j->is_array())) {
    state.problem = "not valid JSON";
    return std::nullopt;
  }
  return j;
}

State docker_state(const Paths& paths, const std::string& id) {
  State st;
  auto j = load_json(fmt::format("{}/containers/{}/config.v2.json", paths.docker, id), st);
  if (!j) return st;
  // The file must describe the container the cgroup names.
  if (std::string file_id = string_member(&*j, "ID"); !file_id.empty() && file_id != id) {
    st.problem = "it names another container";
    return st;
  }
  st.name = string_member(&*j, "Name");
  if (st.name.starts_with('/')) st.name.erase(0, 1);
  const json* config = member(*j, "Config");
  st.image = string_member(config, "Image");
  const json* labels = config ? member(*config, "Labels") : nullptr;
  st.pod = string_member(labels, "io.kubernetes.pod.name");
  st.pod_namespace = string_member(labels, "io.kubernetes.pod.namespace");
  st.container = string_member(labels, "io.kubernetes.container.name");
  return st;
}

/// Subdirectory names of dir (containerd namespaces), at most a few dozen.
std::vector<std::string> list_dirs(const std::string& dir) {
  std::vector<std::string> names;
  OpenedFile opened = open_safe(dir, OpenAs::kDirectory);
  if (!opened.ok()) return names;
  UniqueDir d = UniqueDir::from_fd(std::move(opened.fd));
  if (!d) return names;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n == "." || n == ".." || n.find('/') != std::string_view::npos) continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    names.emplace_back(n);
    if (names.size() >= kMaxNamespaceDirs) break;
  }
  return names;
}

/// OCI config.json written by containerd for each task, in any namespace
/// (k8s.io for Kubernetes, moby for Docker, default for ctr).
State containerd_state(const Paths& paths, const std::string& id) {
  State st;
  std::string tried;
  for (const char* runtime : {"io.containerd.runtime.v2.task", "io.containerd.runtime.v1.linux"}) {
    std::string base = fmt::format("{}/containerd/{}", paths.run, runtime);
    for (const auto& ns : list_dirs(base)) {
      std::string path = fmt::format("{}/{}/{}/config.json", base, ns, id);
      State attempt;
      auto j = load_json(path, attempt);
      if (attempt.status == FileStatus::kNotFound) continue;
      st = attempt;
      if (!j) return st;
      const json* ann = member(*j, "annotations");
      st.container = string_member(ann, "io.kubernetes.cri.container-name");
      st.pod = string_member(ann, "io.kubernetes.cri.sandbox-name");
      st.pod_namespace = string_member(ann, "io.kubernetes.cri.sandbox-namespace");
      st.image = string_member(ann, "io.kubernetes.cri.image-name");
      st.name = st.container;
      return st;
    }
  }
  st.file = fmt::format("{}/containerd/io.containerd.runtime.v2.task/*/{}/config.json", paths.run, id);
  return st;
}

/// cri-o writes each container's OCI bundle under its run root; the
/// Kubernetes labels travel as one JSON string annotation.
State crio_state(const Paths& paths, const std::string& id) {
  State st;
  auto j = load_json(
      fmt::format("{}/containers/storage/overlay-containers/{}/userdata/config.json", paths.run, id),
      st);
  if (!j) return st;
  const json* ann = member(*j, "annotations");
  st.image = string_member(ann, "io.kubernetes.cri-o.ImageName");
  std::optional<json> labels;
  if (std::string raw = string_member(ann, "io.kubernetes.cri-o.Labels"); !raw.empty()) {
    labels = parse_json(raw);
  }
  const json* from = labels ? &*labels : ann;
  st.pod = string_member(from, "io.kubernetes.pod.name");
  st.pod_namespace = string_member(from, "io.kubernetes.pod.namespace");
  st.container = string_member(from, "io.kubernetes.container.name");
  st.name = st.container;
  return st;
}

/// Rootful podman: containers/storage keeps one containers.json beside the
/// graph root (/var/lib/containers/storage, a sibling of /var/lib/docker);
/// libpod's metadata is a JSON string inside each entry.
State podman_state(const Paths& paths, const std::string& id) {
  std::string docker = paths.docker;
  while (docker.size() > 1 && docker.ends_with('/')) docker.pop_back();
  size_t slash = docker.rfind('/');
  std::string var_lib = slash == std::string::npos ? "." : docker.substr(0, slash);
  State first;
  for (const char* file : {"containers.json", "volatile-containers.json"}) {
    State st;
    auto j = load_json(
        fmt::format("{}/containers/storage/overlay-containers/{}", var_lib, file), st);
    if (first.file.empty()) first = st;
    if (!j || !j->is_array()) continue;
    for (const auto& entry : *j) {
      if (string_member(&entry, "id") != id) continue;
      const json* names = member(entry, "names");
      if (names && names->is_array() && !names->empty() && names->front().is_string()) {
        const auto& n = names->front().get_ref<const std::string&>();
        if (n.size() <= kMaxValueBytes) st.name = n;
      }
      if (std::string raw = string_member(&entry, "metadata"); !raw.empty()) {
        auto meta = parse_json(raw);
        st.image = string_member(meta ? &*meta : nullptr, "image-name");
        if (st.name.empty()) st.name = string_member(meta ? &*meta : nullptr, "name");
      }
      return st;
    }
  }
  if (first.ok()) first.problem = "it has no entry for this container";
  return first;
}

/// "name, image and pod" for the evidence line.
std::string fields_read(const State& st) {
  std::vector<std::string_view> f;
  if (!st.name.empty()) f.push_back("name");
  if (!st.image.empty()) f.push_back("image");
  if (!st.pod.empty()) f.push_back("pod");
  if (!st.pod_namespace.empty()) f.push_back("namespace");
  if (!st.container.empty()) f.push_back("container");
  if (f.empty()) return {};
  std::string out(f[0]);
  for (size_t i = 1; i < f.size(); ++i) {
    out += i + 1 == f.size() ? " and " : ", ";
    out += f[i];
  }
  return out;
}

std::string state_evidence(const State& st) {
  if (st.ok()) {
    std::string fields = fields_read(st);
    if (fields.empty()) return fmt::format("state read from {}, but it holds no name or image", st.file);
    return fmt::format("{} from {}", fields, st.file);
  }
  if (!st.problem.empty()) return fmt::format("state not usable: {} is read but {}", st.file, st.problem);
  if (st.status == FileStatus::kNotFound) return fmt::format("state not found: {}", st.file);
  return fmt::format("state not read: {} ({})", st.file, describe(st.status));
}

/// The state of m's container from its runtime (which, for a bare id
/// under kubepods, is decided here), with what was read or why not in
/// evidence. An unusable state comes back empty.
State runtime_state(const Paths& paths, const Match& m, std::string& runtime,
                    std::vector<std::string>& evidence) {
  if (!m.rootless_uid.empty()) {
    evidence.push_back(fmt::format(
        "cgroup is under user@{}.service: a rootless runtime whose state is in that user's home, "
        "not read",
        m.rootless_uid));
    return {};
  }
  State st;
  if (runtime == "docker") {
    st = docker_state(paths, m.id);
  } else if (runtime == "containerd") {
    st = containerd_state(paths, m.id);
  } else if (runtime == "podman") {
    st = podman_state(paths, m.id);
  } else if (runtime == "cri-o") {
    st = crio_state(paths, m.id);
  } else if (runtime.empty()) {
    // kubepods/.../pod<uid>/<id>: the cgroupfs layout of both dockershim
    // and containerd; whichever runtime holds state for the id ran it.
    State from_docker = docker_state(paths, m.id);
    st = containerd_state(paths, m.id);
    runtime = "containerd";
    if (from_docker.ok() || (!st.ok() && from_docker.status != FileStatus::kNotFound)) {
      st = from_docker;
      runtime = "docker";
    } else if (!st.ok() && st.status == FileStatus::kNotFound) {
      evidence.push_back(fmt::format("state not found: neither {} nor {} exists",
                                     from_docker.file, st.file));
      return {};
    }
  } else {
    return {};  // lxc: the cgroup path holds its name; there is no image
  }
  evidence.push_back(state_evidence(st));
  return st.ok() ? st : State{};
}

// ---------------------------------------------------------------- sources

Source make_source(const Context& ctx, const Found& found, const Match& m, bool innermost) {
  const core::Process& target = ctx.target();
  Source s;
  s.kind = "container";
  s.evidence.push_back(fmt::format("cgroup {}:{}:{}", found.line->hierarchy,
                                   found.line->controllers, found.line->path));
  // Only root can make a cgroup outside a delegated subtree: a rootless
  // runtime's cgroup (or one a user named like a container) is a claim.
  Verification v = ctx.exe_verifier().check_cgroup(target, *found.line);
  s.verified = v.verified;
  if (!v.verified) s.unverified_reason = v.text;
  s.evidence.push_back(fmt::format("{}: {}", v.verified ? "verified" : "unverified", v.text));

  std::string runtime = m.runtime;
  State st = runtime_state(ctx.paths, m, runtime, s.evidence);

  s.name = !st.name.empty() ? st.name
           : runtime == "lxc" ? m.id
                              : m.id.substr(0, kShortId);
  s.detail("runtime", runtime);
  s.detail("id", m.id);
  if (!st.name.empty()) s.detail("name", st.name);
  if (!st.image.empty()) s.detail("image", st.image);
  if (!st.pod.empty()) s.detail("pod", st.pod);
  if (!st.pod_namespace.empty()) s.detail("namespace", st.pod_namespace);
  if (!st.container.empty()) s.detail("container", st.container);
  if (!m.pod_uid.empty()) s.detail("pod_uid", m.pod_uid);
  if (!m.rootless_uid.empty()) s.detail("rootless_uid", m.rootless_uid);

  // The container's first process on the chain is where it starts.
  s.anchor = ctx.chain.size() - 1;
  for (size_t i = 0; i < ctx.chain.size(); ++i) {
    if (in_container(ctx.chain[i], m)) {
      s.anchor = i;
      s.pid = ctx.chain[i].pid();
      break;
    }
  }
  if (s.pid != 0 && s.pid != target.pid()) {
    s.evidence.push_back(
        fmt::format("pid {} is the first process of the chain in this container", s.pid));
  }

  if (innermost && target.status && target.status->ns_pids.size() > 1) {
    int32_t inner = target.status->ns_pids.back();
    s.detail("pid_in_container", std::to_string(inner));
    std::string nspid;
    for (int32_t p : target.status->ns_pids) nspid += fmt::format(" {}", p);
    s.evidence.push_back(
        fmt::format("NSpid{}: pid {} in the container's pid namespace", nspid, inner));
  }
  return s;
}

}  // namespace

void detect_container(const Context& ctx, std::vector<Source>& out) {
  if (ctx.chain.empty()) return;
  auto found = find_container(ctx.target());
  if (!found) return;
  // Innermost first: nearer the target is more specific.
  const auto& matches = found->matches;
  for (size_t i = matches.size(); i-- > 0;) {
    out.push_back(make_source(ctx, *found, matches[i], i + 1 == matches.size()));
  }
}

}  // namespace lineage::explain
