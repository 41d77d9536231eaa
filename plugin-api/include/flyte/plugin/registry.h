// The typed plugin registry: named slots with "explicit registration beats default", plus
// ordered collections (interceptors). Filled at start-up, read-only while serving.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/export.h"
#include "flyte/plugin/plugin_id.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// Base of every plugin interface. Its destructor is defined in the plugin-API library so each
// interface's type information has one home and dynamic_cast works across shared objects.
class FLYTE_PLUGIN_API_EXPORT PluginBase {
 public:
  virtual ~PluginBase();
};

// Implemented besides PluginBase by a registered object whose work outlives the calls made to
// it (the local executor runs each execution on a thread of its own). The host calls Serving()
// on each, oldest first, once its ports are bound and calls are served (never in a command that
// only loads plugins, nor in a server that failed to start): the place to start such work. At
// shutdown it calls Stop() on each, newest first, before it releases any of them, while every
// plugin is still registered; Stop() returns once that work is done. Releasing a registered
// object may otherwise happen on one of its own threads (the last reference held there), or
// never (a cycle through another plugin).
class FLYTE_PLUGIN_API_EXPORT Lifecycle {
 public:
  virtual ~Lifecycle();
  virtual void Serving() {}
  virtual void Stop() {}
};

// One registration, as `flyteadmin plugins` lists it.
struct RegistryEntry {
  std::string id;
  std::string name;   // instance name within a collection; empty for slots
  std::string owner;  // the plugin (by its declared name) that registered it
  bool is_default = false;
};

class FLYTE_PLUGIN_API_EXPORT Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers the explicit implementation of a slot. A second explicit registration for the same
  // id fails (ALREADY_EXISTS, naming both owners) unless Prefer() named one of them, which then
  // wins. Thread-safe.
  Status Register(PluginId id, std::shared_ptr<PluginBase> impl, std::string_view owner);

  // Registers the default of a slot, used only when no explicit registration exists. A later
  // default replaces an earlier one, as upstream; it never hides an explicit registration.
  void RegisterDefault(PluginId id, std::shared_ptr<PluginBase> impl, std::string_view owner);

  // Adds a named member to a collection (e.g. kInterceptor). Duplicate (id, name) fails.
  Status Add(PluginId id, std::string_view name, std::shared_ptr<PluginBase> impl,
             std::string_view owner);

  // Config says which owner wins when two plugins register the same slot explicitly.
  void Prefer(PluginId id, std::string_view owner);

  // The explicit implementation if any, else the default, else null; null also when the
  // registered object is not a T (as upstream's typed Get).
  template <typename T>
  std::shared_ptr<T> Get(PluginId id) const {
    return std::dynamic_pointer_cast<T>(GetBase(id));
  }

  // Members of a collection in registration order that are of type T.
  template <typename T>
  std::vector<std::shared_ptr<T>> GetAll(PluginId id) const {
    std::vector<std::shared_ptr<T>> out;
    for (auto& base : GetAllBase(id)) {
      if (auto typed = std::dynamic_pointer_cast<T>(base)) out.push_back(std::move(typed));
    }
    return out;
  }

  std::shared_ptr<PluginBase> GetBase(PluginId id) const;
  std::vector<std::shared_ptr<PluginBase>> GetAllBase(PluginId id) const;
  std::vector<RegistryEntry> Entries() const;

  // Lifecycle::Serving() of every registered object that has one, oldest first.
  void ServingAll();
  // Lifecycle::Stop() of every registered object that has one, newest first (the host calls it
  // before Clear).
  void StopAll();

  // Releases every registered object, newest first. The host calls it before exit; the
  // libraries that defined the objects stay loaded.
  void Clear();

 private:
  struct Slot;
  std::vector<std::shared_ptr<PluginBase>> AllImplementations() const;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> order_;  // every registration, in order, for Clear()
  std::map<std::string, Slot*, std::less<>> explicit_;
  std::map<std::string, Slot*, std::less<>> defaults_;
  std::map<std::string, std::vector<Slot*>, std::less<>> collections_;
  std::map<std::string, std::string, std::less<>> preferred_;
};

}  // namespace flyte::plugin
