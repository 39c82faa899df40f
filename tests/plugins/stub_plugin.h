#pragma once
// A minimal ProbePlugin for the broken test plugins: each derives from it, adds the Qt plugin
// boilerplate and breaks one thing (metadata, SDK version, a missing symbol, run()).
#include "plugins/sdk/probe_plugin.h"

namespace mechscope::test {

class StubPlugin : public ProbePlugin {
 public:
  QString name() const override { return QStringLiteral("stub"); }
  QString description() const override { return QStringLiteral("A test plugin."); }
  nlohmann::json optionsSchema() const override {
    return {{"type", "object"}, {"properties", nlohmann::json::object()}};
  }
  /// One array "value" = [1].
  Result run(const Model&, const PluginInputs&, const nlohmann::json&,
             const std::function<bool(double)>&) override {
    Result r;
    r.arrays["value"] = Array{{1}, {1.0f}, {{"x", {}}}};
    return r;
  }
};

}  // namespace mechscope::test
