#pragma once
/// The probes a program knows: the built-in ones (one table, registry.cpp) and whatever it adds
/// (the workbench and the CLI add every loaded plugin, wrapped as a Probe). Menus, the toolbar,
/// `mechscope-cli probes` and `mechscope-cli run PROBE` all read this.
#include <memory>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace mechscope::probes {

class ProbeRegistry {
 public:
  /// Every built-in probe, in menu order (one shared instance; copy it to add plugins).
  static const ProbeRegistry& builtin();

  /// Adds a probe; throws mechscope::Error when one with its name is already registered.
  void add(std::shared_ptr<const Probe> probe);
  /// The probe called `name`, or nullptr.
  const Probe* find(const std::string& name) const;
  /// The probe called `name`; throws mechscope::Error listing the known names when absent.
  const Probe& get(const std::string& name) const;
  std::shared_ptr<const Probe> shared(const std::string& name) const;
  const std::vector<std::shared_ptr<const Probe>>& all() const { return probes_; }
  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<const Probe>> probes_;
};

}  // namespace mechscope::probes
