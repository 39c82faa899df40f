#include "app/gui/probe_actions.h"

#include "app/gui/image_slot.h"

#include <QAction>
#include <QComboBox>
#include <QMenu>
#include <QMessageBox>
#include <QToolBar>
#include <QWidget>

#include "app/gui/model_host.h"
#include "app/gui/probe_options_dialog.h"
#include "app/gui/prompt_panel.h"
#include "core/util/error.h"
#include "plugins/sdk/plugin_manager.h"
#include "plugins/sdk/plugin_probe.h"
#include "probes/options.h"
#include "probes/run_probe.h"

namespace mechscope {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

ProbeActions::ProbeActions(ModelHost* host, PromptPanel* prompt, QWidget* window)
    : QObject(window),
      host_(host),
      prompt_(prompt),
      window_(window),
      plugins_(std::make_unique<PluginManager>()),
      registry_(probes::ProbeRegistry::builtin()) {
  menu_ = new QMenu(tr("&Probes"), window);
  pluginMenu_ = new QMenu(tr("&Plugins"), window);
  pluginMenu_->setObjectName("pluginMenu");
  problems_ = new QAction(tr("Plugins and problems…"), this);
  problems_->setToolTip(tr("Each loaded plugin's file and SHA-256, and every file skipped"));
  connect(problems_, &QAction::triggered, this, &ProbeActions::showProblems);
  rebuildMenu();
}

ProbeActions::~ProbeActions() = default;

QAction* ProbeActions::probeAction(const QString& name) const {
  for (QAction* a : probeActions_)
    if (a->data().toString() == name) return a;
  return nullptr;
}

QAction* ProbeActions::pluginAction(const QString& name) const {
  const auto* p = dynamic_cast<const PluginProbe*>(registry_.find(name.toStdString()));
  return p ? probeAction(name) : nullptr;
}

nlohmann::json ProbeActions::lastOptions(const QString& name) const {
  auto it = lastOptions_.find(name.toStdString());
  return it == lastOptions_.end() ? nlohmann::json::object() : it->second;
}

void ProbeActions::scanDefaultPlugins() { scanPlugins(PluginManager::defaultDirectories()); }

void ProbeActions::scanPlugins(const QStringList& directories) {
  const size_t problemsBefore = plugins_->problems().size();
  const int loaded = plugins_->scan(directories);  // the manager logs each skipped file
  for (const std::string& p : register_plugins(*plugins_, registry_)) registryProblems_ << qs(p);
  rebuildMenu();
  const size_t skipped = plugins_->problems().size() - problemsBefore;
  if (skipped > 0)
    emit message(tr("Plugins: %1 skipped (Probes → Plugins and problems… says why).").arg(skipped));
  else if (loaded > 0)
    emit message(loaded == 1 ? tr("Loaded 1 plugin.") : tr("Loaded %1 plugins.").arg(loaded));
}

void ProbeActions::rebuildMenu() {
  menu_->clear();
  pluginMenu_->clear();
  qDeleteAll(probeActions_);
  probeActions_.clear();
  const QString chosen = probeBox_ ? probeBox_->currentData().toString() : QString();
  if (probeBox_) probeBox_->clear();
  bool anyPlugin = false;
  for (const auto& probe : registry_.all()) {
    const probes::ProbeInfo& info = probe->info();
    const QString name = qs(info.name);
    const bool plugin = dynamic_cast<const PluginProbe*>(probe.get()) != nullptr;
    auto* a = new QAction(qs(info.title) + (info.options.empty() ? "" : "…"), this);
    a->setObjectName(name + "Action");
    a->setData(name);
    a->setToolTip(qs(info.description));
    a->setStatusTip(a->toolTip());
    connect(a, &QAction::triggered, this, [this, name] { chooseAndRunProbe(name); });
    if (info.name == "attention") a->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    (plugin ? pluginMenu_ : menu_)->addAction(a);
    anyPlugin = anyPlugin || plugin;
    probeActions_ << a;
    if (probeBox_) probeBox_->addItem(qs(info.title), name);
  }
  if (!anyPlugin) pluginMenu_->addAction(tr("(no plugins found)"))->setEnabled(false);
  pluginMenu_->setToolTipsVisible(true);
  menu_->setToolTipsVisible(true);
  menu_->addSeparator();
  menu_->addMenu(pluginMenu_);
  menu_->addAction(problems_);
  menu_->addAction(tr("Rescan plugins"), this, &ProbeActions::scanDefaultPlugins);
  problems_->setEnabled(!plugins_->problems().empty() || !registryProblems_.isEmpty());
  if (probeBox_ && !chosen.isEmpty()) probeBox_->setCurrentIndex(std::max(0, probeBox_->findData(chosen)));
  updateState();
}

void ProbeActions::addToToolBar(QToolBar* toolbar) {
  probeBox_ = new QComboBox(toolbar);
  probeBox_->setObjectName("probeBox");
  probeBox_->setToolTip(tr("The probe the Probe button runs"));
  toolbar->addWidget(probeBox_);
  runChosen_ = toolbar->addAction(tr("Probe…"), this, [this] {
    if (probeBox_->count() > 0) chooseAndRunProbe(probeBox_->currentData().toString());
  });
  runChosen_->setObjectName("runProbeAction");
  runChosen_->setToolTip(tr("Run the chosen probe on the prompt (options first, if it has any)"));
  rebuildMenu();
}

void ProbeActions::updateState() {
  const bool ready = host_->hasModel() && !host_->busy();
  for (QAction* a : probeActions_) a->setEnabled(ready);
  if (runChosen_) runChosen_->setEnabled(ready);
}

bool ProbeActions::readInputs(const probes::ProbeInfo& info, probes::ProbeInputs& in) {
  using probes::Input;
  SessionPrompt record;
  record.text = prompt_->prompt().toStdString();
  record.corrupt = prompt_->corruptPrompt().trimmed().toStdString();
  record.answer = prompt_->answer().trimmed().toStdString();
  const QString title = tr("Cannot run %1").arg(qs(info.title));
  QStringList missing;
  try {
    if (info.needs(Input::Prompt)) {
      in.prompt = record.text;
      in.tokens = host_->encode(prompt_->prompt());
    }
    if (info.needs(Input::Corrupt) && !record.corrupt.empty()) {
      in.corrupt_prompt = record.corrupt;
      in.corrupt_tokens = host_->encode(prompt_->corruptPrompt().trimmed());
    }
  } catch (const std::exception& e) {
    emit failed(title, QString::fromUtf8(e.what()));
    return false;
  }
  // Answers keep their spacing: " Mary" and "Mary" are different tokens.
  if (info.needs(Input::Answer)) in.answer = prompt_->answer().toStdString();
  if (info.needs(Input::Wrong)) in.wrong = prompt_->wrongAnswer().toStdString();
  if (info.needs(Input::Image)) {
    in.image_rgb = prompt_->image();
    if (!in.image_rgb.empty()) in.image = prompt_->imageSlot()->name().toStdString();
  }
  for (const probes::InputSpec& s : info.inputs) {
    if (!s.required || in.has(s.input)) continue;
    switch (s.input) {
      case Input::Prompt: missing << tr("a prompt"); break;
      case Input::Corrupt: missing << tr("a corrupted prompt"); break;
      case Input::Answer: missing << tr("an answer"); break;
      case Input::Wrong: missing << tr("a wrong answer"); break;
      case Input::Image: missing << tr("an image"); break;
    }
  }
  if (!missing.isEmpty()) {
    prompt_->setPatchingInputsVisible(true);
    emit failed(title, tr("%1 needs %2: fill them in under the prompt (or pick a task example).")
                           .arg(qs(info.title), missing.join(tr(" and "))));
    return false;
  }
  if (in.corrupt_tokens && in.corrupt_tokens->size() != in.tokens.size()) {
    emit failed(title, tr("The corrupted prompt has %1 tokens and the prompt %2; %3 patches one "
                          "run into the other and needs the same number.")
                           .arg(in.corrupt_tokens->size())
                           .arg(in.tokens.size())
                           .arg(qs(info.title)));
    return false;
  }
  lastInputs_ = record;
  return true;
}

bool ProbeActions::chooseAndRunProbe(const QString& name) {
  const probes::Probe* probe = registry_.find(name.toStdString());
  if (!probe || !askForOptions_ || probe->info().options.empty()) return runProbe(name);
  // Window-modal, not blocking: the probe starts when the dialog is accepted.
  auto* dialog = new ProbeOptionsDialog(probe->info(), lastOptions(name), window_);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog, name] {
    lastOptions_[name.toStdString()] = dialog->values();
    runProbe(name);
  });
  dialog->open();
  return true;
}

bool ProbeActions::runProbe(const QString& name, const nlohmann::json& options) {
  const std::shared_ptr<const probes::Probe> probe = registry_.shared(name.toStdString());
  if (!probe) {
    emit failed(tr("Cannot run the probe"), tr("No probe named '%1' is registered.").arg(name));
    return false;
  }
  if (!host_->hasModel() || host_->busy()) return false;
  probes::ProbeInputs inputs;
  if (!readInputs(probe->info(), inputs)) return false;
  nlohmann::json chosen = options.is_null() ? lastOptions(name) : options;
  try {
    probes::resolve_options(probe->info().options, chosen);  // a bad option fails here, not later
  } catch (const std::exception& e) {
    emit failed(tr("Cannot run %1").arg(qs(probe->info().title)), QString::fromUtf8(e.what()));
    return false;
  }
  lastOptions_[name.toStdString()] = chosen;
  const QString title = qs(probe->info().title);
  return host_->runProbe(title, [probe, inputs, chosen](const Model& model, const auto& progress) {
    return probes::run_probe(*probe, model, inputs, chosen, progress);
  });
}

void ProbeActions::showProblems() {
  QStringList lines;
  for (const LoadedPlugin& p : plugins_->plugins())
    lines << tr("Loaded %1 %2 from %3 (SHA-256 %4)")
                 .arg(p.info.name, p.info.version, p.file, p.sha256);
  if (!lines.isEmpty())
    lines << QString() << tr("Plugins run inside mechscope with your rights: load only plugins you trust, "
                             "from your plugin folders (%1 or $MECHSCOPE_PLUGIN_PATH).")
                              .arg(PluginManager::userDirectory())
          << QString();
  QStringList problems = registryProblems_;
  for (const PluginProblem& p : plugins_->problems()) problems << p.text();
  lines << problems;
  auto* box = new QMessageBox(QMessageBox::Information, tr("Plugins"),
                              tr("Plugins loaded: %1. Files skipped: %2.")
                                  .arg(plugins_->plugins().size())
                                  .arg(problems.size()),
                              QMessageBox::Close, window_);
  box->setObjectName("pluginProblemsBox");
  box->setDetailedText(lines.join(QLatin1Char('\n')));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // not blocking
}

}  // namespace mechscope
