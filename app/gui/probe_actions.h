#pragma once
// The Probes menu and toolbar, built from the probe registry (probes/registry.h): every built-in
// probe and every loaded plugin, each run on the prompt panel's inputs as a background job of the
// model host (progress and Cancel in the status bar), after an options dialog built from its
// schema when it has options. Finished Results come back through ModelHost::probeFinished; the
// window adds them to the session. Plugin problems are reported as messages, never dialogs.
#include <QObject>
#include <QStringList>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/gui/model_host.h"
#include "core/session/session.h"
#include "probes/registry.h"

class QAction;
class QComboBox;
class QMenu;
class QToolBar;
class QWidget;

namespace mechscope {

class ModelHost;
class PluginManager;
class PromptPanel;

class ProbeActions : public QObject {
  Q_OBJECT

 public:
  ProbeActions(ModelHost* host, PromptPanel* prompt, QWidget* window);
  ~ProbeActions() override;

  /// "Probes": one action per registered probe, the Plugins submenu, plugin problems, rescan.
  QMenu* menu() const { return menu_; }
  /// Adds the probe chooser and its Run and Options buttons to `toolbar`.
  void addToToolBar(QToolBar* toolbar);
  /// The menu action of probe `name` (built-in or plugin), or nullptr.
  QAction* probeAction(const QString& name) const;
  QAction* attentionAction() const { return probeAction(QStringLiteral("attention")); }
  /// The menu action of the plugin `name`, or nullptr.
  QAction* pluginAction(const QString& name) const;
  PluginManager& plugins() { return *plugins_; }
  const probes::ProbeRegistry& registry() const { return registry_; }

  /// Scans `directories` for plugins (default: PluginManager::defaultDirectories()), registers
  /// the loaded ones as probes and reports what was skipped through message().
  void scanPlugins(const QStringList& directories);
  void scanDefaultPlugins();
  /// The inputs of the probe started last (for the session's prompt list).
  SessionPrompt lastInputs() const { return lastInputs_; }
  /// The options probe `name` ran with last (or will run with: the dialog's starting values).
  nlohmann::json lastOptions(const QString& name) const;
  /// When false, menu actions run with the last options instead of asking (tests, scripts).
  void setAskForOptions(bool ask) { askForOptions_ = ask; }

 public slots:
  /// Runs probe `name` on the prompt panel's inputs with `options` (null: the last options).
  /// False when it could not start (unknown probe, missing inputs, busy, no model).
  bool runProbe(const QString& name, const nlohmann::json& options = nullptr);
  /// The menu's way: opens the options dialog first when the probe has options (and asking is
  /// on; the probe starts when the dialog is accepted), else runs at once.
  bool chooseAndRunProbe(const QString& name);
  bool runAttention() { return runProbe(QStringLiteral("attention")); }
  bool runPlugin(const QString& name) { return runProbe(name); }
  /// Enables the actions when a model is open and idle.
  void updateState();

 public slots:
  /// The "Plugins and problems…" dialog: each loaded plugin's file and SHA-256, every file
  /// skipped and why (not blocking).
  void showProblems();

 signals:
  /// Something to tell the user in the status bar (and the log).
  void message(const QString& text);
  /// A probe could not start (no tokenizer, empty prompt, missing inputs, ...).
  void failed(const QString& title, const QString& message);

 private:
  void rebuildMenu();
  /// The prompt panel's inputs that `info` declares, checked; false (after failed()) when they
  /// cannot be used.
  bool readInputs(const probes::ProbeInfo& info, probes::ProbeInputs& inputs);

  ModelHost* host_;
  PromptPanel* prompt_;
  QWidget* window_;
  std::unique_ptr<PluginManager> plugins_;
  probes::ProbeRegistry registry_;
  std::map<std::string, nlohmann::json> lastOptions_;
  bool askForOptions_ = true;
  QMenu* menu_;
  QMenu* pluginMenu_;
  QAction* problems_;
  QList<QAction*> probeActions_;  // built-in and plugin probes, data() = name
  QComboBox* probeBox_ = nullptr;
  QAction* runChosen_ = nullptr;
  SessionPrompt lastInputs_;
  QStringList registryProblems_;
};

}  // namespace mechscope
