// The plugin registry: slots with explicit-beats-default lookup and ordered collections.
#include "flyte/plugin/registry.h"

#include <algorithm>

namespace flyte::plugin {

PluginBase::~PluginBase() = default;
Lifecycle::~Lifecycle() = default;

struct Registry::Slot {
  std::string id;
  std::string name;
  std::string owner;
  bool is_default = false;
  std::shared_ptr<PluginBase> impl;
};

Registry::Registry() = default;
Registry::~Registry() { Clear(); }

Status Registry::Register(PluginId id, std::shared_ptr<PluginBase> impl, std::string_view owner) {
  if (!impl) return InvalidArgument("null implementation registered for [" + std::string(id) + "]");
  std::lock_guard lock(mu_);
  auto existing = explicit_.find(id);
  if (existing != explicit_.end()) {
    auto pref = preferred_.find(id);
    if (pref != preferred_.end() && pref->second == existing->second->owner) {
      return Status::Ok();  // the configured winner is already in place; this one is ignored
    }
    if (pref == preferred_.end() || pref->second != owner) {
      return AlreadyExists("an existing implementation has already been registered for [" +
                           std::string(id) + "] by plugin '" + existing->second->owner +
                           "'; plugin '" + std::string(owner) +
                           "' registers it too (set plugins.prefer." + std::string(id) +
                           " to choose)");
    }
  }
  auto slot = std::make_unique<Slot>(Slot{std::string(id), "", std::string(owner), false, std::move(impl)});
  explicit_[std::string(id)] = slot.get();
  order_.push_back(std::move(slot));
  return Status::Ok();
}

void Registry::RegisterDefault(PluginId id, std::shared_ptr<PluginBase> impl,
                               std::string_view owner) {
  if (!impl) return;
  std::lock_guard lock(mu_);
  auto slot = std::make_unique<Slot>(Slot{std::string(id), "", std::string(owner), true, std::move(impl)});
  defaults_[std::string(id)] = slot.get();
  order_.push_back(std::move(slot));
}

Status Registry::Add(PluginId id, std::string_view name, std::shared_ptr<PluginBase> impl,
                     std::string_view owner) {
  if (!impl) return InvalidArgument("null implementation added to [" + std::string(id) + "]");
  std::lock_guard lock(mu_);
  auto& members = collections_[std::string(id)];
  for (const Slot* s : members) {
    if (s->name == name) {
      return AlreadyExists("[" + std::string(id) + "] already has a member named '" +
                           std::string(name) + "' (from plugin '" + s->owner + "')");
    }
  }
  auto slot = std::make_unique<Slot>(Slot{std::string(id), std::string(name), std::string(owner), false, std::move(impl)});
  members.push_back(slot.get());
  order_.push_back(std::move(slot));
  return Status::Ok();
}

void Registry::Prefer(PluginId id, std::string_view owner) {
  std::lock_guard lock(mu_);
  preferred_[std::string(id)] = std::string(owner);
}

std::shared_ptr<PluginBase> Registry::GetBase(PluginId id) const {
  std::lock_guard lock(mu_);
  if (auto it = explicit_.find(id); it != explicit_.end()) return it->second->impl;
  if (auto it = defaults_.find(id); it != defaults_.end()) return it->second->impl;
  return nullptr;
}

std::vector<std::shared_ptr<PluginBase>> Registry::GetAllBase(PluginId id) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<PluginBase>> out;
  if (auto it = collections_.find(id); it != collections_.end()) {
    for (const Slot* s : it->second) out.push_back(s->impl);
  }
  return out;
}

std::vector<RegistryEntry> Registry::Entries() const {
  std::lock_guard lock(mu_);
  std::vector<RegistryEntry> out;
  for (const auto& s : order_) {
    // A replaced default or a losing explicit registration is not in effect: leave it out.
    bool live = false;
    if (!s->name.empty()) {
      live = true;
    } else if (s->is_default) {
      auto it = defaults_.find(s->id);
      live = it != defaults_.end() && it->second == s.get();
    } else {
      auto it = explicit_.find(s->id);
      live = it != explicit_.end() && it->second == s.get();
    }
    if (live) out.push_back({s->id, s->name, s->owner, s->is_default});
  }
  return out;
}

std::vector<std::shared_ptr<PluginBase>> Registry::AllImplementations() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<PluginBase>> all;
  for (const auto& s : order_) all.push_back(s->impl);
  return all;
}

void Registry::ServingAll() {
  // Outside the lock: a plugin may look plugins up from these.
  for (const auto& impl : AllImplementations()) {
    if (auto* lifecycle = dynamic_cast<Lifecycle*>(impl.get())) lifecycle->Serving();
  }
}

void Registry::StopAll() {
  auto all = AllImplementations();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (auto* lifecycle = dynamic_cast<Lifecycle*>(it->get())) lifecycle->Stop();
  }
}

void Registry::Clear() {
  std::vector<std::unique_ptr<Slot>> doomed;
  {
    std::lock_guard lock(mu_);
    explicit_.clear();
    defaults_.clear();
    collections_.clear();
    doomed.swap(order_);
  }
  while (!doomed.empty()) doomed.pop_back();  // newest first
}

}  // namespace flyte::plugin
