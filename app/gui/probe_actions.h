#pragma once
// The Probes menu: the built-in attention probe and every loaded probe plugin, each run on the
// prompt panel's inputs as a background job of the model host (progress and Cancel in the status
// bar). Finished Results come back through ModelHost::probeFinished; the window adds them to the
// session. Plugin problems (bad files, failed runs) are reported as messages, never dialogs.
#include <QObject>
#include <QStringList>
#include <memory>

#include "app/gui/model_host.h"
#include "core/session/session.h"

class QAction;
class QMenu;
class QWidget;

namespace mechscope {

class ModelHost;
class PluginManager;
class PromptPanel;
struct LoadedPlugin;

class ProbeActions : public QObject {
  Q_OBJECT

 public:
  ProbeActions(ModelHost* host, PromptPanel* prompt, QWidget* window);
  ~ProbeActions() override;

  /// "Probes": Attention maps, the Plugins submenu, plugin problems, rescan.
  QMenu* menu() const { return menu_; }
  QAction* attentionAction() const { return attention_; }
  /// The action that runs the plugin called `name`, or nullptr.
  QAction* pluginAction(const QString& name) const;
  PluginManager& plugins() { return *plugins_; }

  /// Scans `directories` for plugins (default: PluginManager::defaultDirectories()), lists the
  /// loaded ones in the Plugins submenu and reports what was skipped through message().
  void scanPlugins(const QStringList& directories);
  void scanDefaultPlugins();
  /// The inputs of the probe started last (for the session's prompt list).
  SessionPrompt lastInputs() const { return lastInputs_; }

 public slots:
  /// Every head's attention pattern on the prompt. False when it could not start.
  bool runAttention();
  /// Runs the loaded plugin `name` with its default options on the prompt panel's inputs.
  bool runPlugin(const QString& name);
  /// Enables the actions when a model is open and idle.
  void updateState();

 signals:
  /// Something to tell the user in the status bar (and the log).
  void message(const QString& text);
  /// A probe could not start (no tokenizer, empty prompt, ...).
  void failed(const QString& title, const QString& message);

 private:
  void rebuildPluginMenu();
  /// The prompt panel's inputs, checked; false (after failed()) when they cannot be used.
  bool readInputs(const QString& what);
  void showProblems();
  /// Starts the job; tells about note_ once it runs.
  bool start(const QString& title, ProbeWork work);

  ModelHost* host_;
  PromptPanel* prompt_;
  QWidget* window_;
  std::unique_ptr<PluginManager> plugins_;
  QMenu* menu_;
  QMenu* pluginMenu_;
  QAction* attention_;
  QAction* problems_;
  QList<QAction*> pluginActions_;
  SessionPrompt lastInputs_;
  std::vector<int64_t> tokens_, corruptTokens_;  // of lastInputs_
  QString note_;  // something about the inputs worth knowing (they still run)
};

}  // namespace mechscope
