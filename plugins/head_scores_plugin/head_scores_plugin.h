#pragma once
/// The example probe plugin "token_heads": previous-token, duplicate-token or induction scores of
/// every head, on the user's prompt (prompt_scores.h) or on repeated random sequences
/// (probes/head_scores.h), as one [layer, head] array "score".
#include <QObject>

#include "plugins/sdk/probe_plugin.h"

namespace mechscope {

class HeadScoresPlugin : public QObject, public ProbePlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.mechscope.ProbePlugin/1.0" FILE "head_scores_plugin.json")
  Q_INTERFACES(mechscope::ProbePlugin)

 public:
  QString name() const override;
  QString description() const override;
  nlohmann::json optionsSchema() const override;
  Result run(const Model& model, const PluginInputs& inputs, const nlohmann::json& options,
             const std::function<bool(double)>& progress) override;
};

}  // namespace mechscope
