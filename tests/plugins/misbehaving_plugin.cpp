// A compatible plugin whose run() fails as option "mode" says: a std::exception, something that
// is not one, an inconsistent Result, or stopping when progress asks it to cancel.
#include <stdexcept>

#include "tests/plugins/stub_plugin.h"

class MisbehavingPlugin : public QObject, public mechscope::test::StubPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.mechscope.ProbePlugin/1.0" FILE "misbehaving_plugin.json")
  Q_INTERFACES(mechscope::ProbePlugin)

 public:
  QString name() const override { return QStringLiteral("misbehaving"); }
  nlohmann::json optionsSchema() const override {
    return {{"type", "object"},
            {"properties",
             {{"mode",
               {{"type", "string"},
                {"enum", {"std_exception", "other_exception", "inconsistent", "cancellable"}},
                {"default", "std_exception"}}}}}};
  }
  mechscope::Result run(const mechscope::Model& model, const mechscope::PluginInputs& inputs,
                        const nlohmann::json& options,
                        const std::function<bool(double)>& progress) override {
    const std::string mode = options.at("mode").get<std::string>();
    if (mode == "std_exception") throw std::runtime_error("Deliberate failure in run().");
    if (mode == "other_exception") throw 42;
    if (mode == "cancellable" && !progress(0.5)) throw std::runtime_error("Stopped on request.");
    mechscope::Result r = StubPlugin::run(model, inputs, options, progress);
    if (mode == "inconsistent") r.arrays["value"].shape = {3};  // 1 value for a shape of 3
    return r;
  }
};

#include "misbehaving_plugin.moc"
