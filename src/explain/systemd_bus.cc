#include "explain/systemd_bus.h"

#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <type_traits>

namespace lineage::explain {
namespace {

// libsystemd is opened only when systemd runs: linking it costs every
// invocation several milliseconds of library start-up (libgcrypt & co),
// more than the whole of `why PID`.
struct SdBusApi {
  decltype(&sd_bus_open_system) open_system = nullptr;
  decltype(&sd_bus_open_user_machine) open_user_machine = nullptr;
  decltype(&sd_bus_flush_close_unref) flush_close_unref = nullptr;
  decltype(&sd_bus_set_method_call_timeout) set_method_call_timeout = nullptr;
  decltype(&sd_bus_call_method) call_method = nullptr;
  decltype(&sd_bus_message_read) message_read = nullptr;
  decltype(&sd_bus_message_unref) message_unref = nullptr;
  decltype(&sd_bus_get_property_string) get_property_string = nullptr;
  decltype(&sd_bus_get_property_trivial) get_property_trivial = nullptr;
  decltype(&sd_bus_get_property_strv) get_property_strv = nullptr;
  decltype(&sd_bus_error_free) error_free = nullptr;
};

const SdBusApi* sd_bus_api() {
  static const SdBusApi* api = []() -> const SdBusApi* {
    void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return nullptr;
    static SdBusApi a;
    bool ok = true;
    auto load = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      ok &= fn != nullptr;
    };
    load(a.open_system, "sd_bus_open_system");
    load(a.open_user_machine, "sd_bus_open_user_machine");
    load(a.flush_close_unref, "sd_bus_flush_close_unref");
    load(a.set_method_call_timeout, "sd_bus_set_method_call_timeout");
    load(a.call_method, "sd_bus_call_method");
    load(a.message_read, "sd_bus_message_read");
    load(a.message_unref, "sd_bus_message_unref");
    load(a.get_property_string, "sd_bus_get_property_string");
    load(a.get_property_trivial, "sd_bus_get_property_trivial");
    load(a.get_property_strv, "sd_bus_get_property_strv");
    load(a.error_free, "sd_bus_error_free");
    return ok ? &a : nullptr;
  }();
  return api;
}

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr uint64_t kTimeoutUsec = 500'000;

struct BusDeleter {
  void operator()(sd_bus* bus) const { sd_bus_api()->flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusDeleter>;

struct ErrorGuard {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~ErrorGuard() { sd_bus_api()->error_free(&error); }
};

std::string take_string(char* s) {
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

std::optional<std::string> get_string(sd_bus* bus, const char* path, const char* iface, const char* name) {
  ErrorGuard e;
  char* value = nullptr;
  if (sd_bus_api()->get_property_string(bus, kService, path, iface, name, &e.error, &value) < 0) return std::nullopt;
  return take_string(value);
}

}  // namespace

std::optional<UnitProperties> query_unit(const std::string& unit, bool user_manager, uint32_t user_uid) {
  if (::access("/run/systemd/system", F_OK) != 0) return std::nullopt;  // systemd not booted
  const SdBusApi* api = sd_bus_api();
  if (api == nullptr) return std::nullopt;
  sd_bus* raw = nullptr;
  int rc;
  if (user_manager) {
    std::string machine = std::to_string(user_uid) + "@.host";
    rc = api->open_user_machine(&raw, machine.c_str());
  } else {
    rc = api->open_system(&raw);
  }
  if (rc < 0 || raw == nullptr) return std::nullopt;
  Bus bus(raw);
  api->set_method_call_timeout(bus.get(), kTimeoutUsec);

  ErrorGuard e;
  sd_bus_message* reply = nullptr;
  if (api->call_method(bus.get(), kService, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                         "GetUnit", &e.error, &reply, "s", unit.c_str()) < 0) {
    return std::nullopt;
  }
  const char* object = nullptr;
  std::string path;
  if (api->message_read(reply, "o", &object) >= 0 && object) path = object;
  api->message_unref(reply);
  if (path.empty()) return std::nullopt;

  UnitProperties props;
  const char* unit_iface = "org.freedesktop.systemd1.Unit";
  props.description = get_string(bus.get(), path.c_str(), unit_iface, "Description").value_or("");
  props.fragment_path = get_string(bus.get(), path.c_str(), unit_iface, "FragmentPath").value_or("");
  if (unit.ends_with(".service")) {
    ErrorGuard re;
    uint32_t restarts = 0;
    if (api->get_property_trivial(bus.get(), kService, path.c_str(), "org.freedesktop.systemd1.Service",
                                    "NRestarts", &re.error, 'u', &restarts) >= 0) {
      props.restarts = restarts;
    }
  }
  ErrorGuard te;
  char** triggers = nullptr;
  if (api->get_property_strv(bus.get(), kService, path.c_str(), unit_iface, "TriggeredBy", &te.error,
                               &triggers) >= 0 && triggers) {
    for (char** t = triggers; *t; ++t) {
      props.triggered_by.push_back(*t);
      std::free(*t);
    }
    std::free(triggers);
  }
  return props;
}

}  // namespace lineage::explain
