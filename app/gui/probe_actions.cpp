#include "app/gui/probe_actions.h"

#include <QAction>
#include <QMenu>
#include <QMessageBox>
#include <QWidget>

#include "app/gui/model_host.h"
#include "app/gui/prompt_panel.h"
#include "core/util/error.h"
#include "plugins/sdk/plugin_manager.h"
#include "plugins/sdk/plugin_run.h"
#include "probes/attention.h"

namespace mechscope {

ProbeActions::ProbeActions(ModelHost* host, PromptPanel* prompt, QWidget* window)
    : QObject(window),
      host_(host),
      prompt_(prompt),
      window_(window),
      plugins_(std::make_unique<PluginManager>()) {
  menu_ = new QMenu(tr("&Probes"), window);
  attention_ = menu_->addAction(tr("&Attention maps"), this, &ProbeActions::runAttention);
  attention_->setObjectName("attentionAction");
  attention_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
  attention_->setToolTip(tr("Every head's attention pattern on the prompt (in the background)"));
  attention_->setStatusTip(attention_->toolTip());
  menu_->addSeparator();
  pluginMenu_ = menu_->addMenu(tr("&Plugins"));
  pluginMenu_->setObjectName("pluginMenu");
  problems_ = menu_->addAction(tr("Plugin problems…"), this, &ProbeActions::showProblems);
  menu_->addAction(tr("Rescan plugins"), this, &ProbeActions::scanDefaultPlugins);
  rebuildPluginMenu();
  updateState();
}

ProbeActions::~ProbeActions() = default;

QAction* ProbeActions::pluginAction(const QString& name) const {
  for (QAction* a : pluginActions_)
    if (a->data().toString() == name) return a;
  return nullptr;
}

void ProbeActions::scanDefaultPlugins() { scanPlugins(PluginManager::defaultDirectories()); }

void ProbeActions::scanPlugins(const QStringList& directories) {
  const size_t problemsBefore = plugins_->problems().size();
  const int loaded = plugins_->scan(directories);  // the manager logs each skipped file
  rebuildPluginMenu();
  const size_t skipped = plugins_->problems().size() - problemsBefore;
  if (skipped > 0)
    emit message(tr("Plugins: %1 skipped (Probes → Plugin problems… says why).").arg(skipped));
  else if (loaded > 0)
    emit message(loaded == 1 ? tr("Loaded 1 plugin.") : tr("Loaded %1 plugins.").arg(loaded));
}

void ProbeActions::rebuildPluginMenu() {
  pluginMenu_->clear();
  pluginActions_.clear();
  for (const LoadedPlugin& p : plugins_->plugins()) {
    QAction* a =
        pluginMenu_->addAction(p.info.name, this, [this, name = p.info.name] { runPlugin(name); });
    a->setData(p.info.name);
    a->setToolTip(tr("%1 (%2): %3").arg(p.info.name, p.info.version, p.info.description));
    a->setStatusTip(a->toolTip());
    pluginActions_ << a;
  }
  if (pluginActions_.isEmpty()) pluginMenu_->addAction(tr("(no plugins found)"))->setEnabled(false);
  pluginMenu_->setToolTipsVisible(true);
  problems_->setEnabled(!plugins_->problems().empty());
  updateState();
}

void ProbeActions::updateState() {
  const bool ready = host_->hasModel() && !host_->busy();
  attention_->setEnabled(ready);
  for (QAction* a : pluginActions_) a->setEnabled(ready);
}

bool ProbeActions::readInputs(const QString& what) {
  SessionPrompt inputs;
  inputs.text = prompt_->prompt().toStdString();
  inputs.corrupt = prompt_->corruptPrompt().trimmed().toStdString();
  inputs.answer = prompt_->answer().trimmed().toStdString();
  try {
    tokens_ = host_->encode(prompt_->prompt());
    corruptTokens_.clear();
    if (!inputs.corrupt.empty()) corruptTokens_ = host_->encode(prompt_->corruptPrompt().trimmed());
  } catch (const std::exception& e) {
    emit failed(tr("Cannot run %1").arg(what), QString::fromUtf8(e.what()));
    return false;
  }
  note_.clear();
  if (!corruptTokens_.empty() && corruptTokens_.size() != tokens_.size())
    note_ = tr("Note: the corrupted prompt has %1 tokens and the prompt %2; probes that patch "
               "one run into the other need the same number.")
                .arg(corruptTokens_.size())
                .arg(tokens_.size());
  lastInputs_ = inputs;
  return true;
}

bool ProbeActions::runAttention() {
  if (!host_->hasModel() || host_->busy() || !readInputs(tr("attention maps"))) return false;
  const std::vector<int64_t> tokens = tokens_;
  const std::string prompt = lastInputs_.text;
  return start(tr("Attention maps"), [tokens, prompt](const Model& model, const auto& progress) {
    probes::AttentionOptions options;
    options.prompt = prompt;
    options.progress = progress;
    return probes::attention_result(model, tokens, options);
  });
}

bool ProbeActions::start(const QString& title, ProbeWork work) {
  if (!host_->runProbe(title, std::move(work))) return false;
  if (!note_.isEmpty()) emit message(title + QStringLiteral(": running… ") + note_);
  return true;
}

bool ProbeActions::runPlugin(const QString& name) {
  const LoadedPlugin* plugin = plugins_->find(name);
  if (!plugin) {
    emit failed(tr("Cannot run the plugin"), tr("No plugin named '%1' is loaded.").arg(name));
    return false;
  }
  if (!host_->hasModel() || host_->busy() || !readInputs(tr("plugin %1").arg(name))) return false;
  PluginInputs inputs;
  inputs.tokens = tokens_;
  inputs.prompt = lastInputs_.text;
  if (!corruptTokens_.empty()) inputs.corrupt_tokens = corruptTokens_;
  if (!lastInputs_.answer.empty()) inputs.answer = lastInputs_.answer;
  const LoadedPlugin loaded = *plugin;  // the manager outlives the job (the window waits for it)
  return start(tr("Plugin %1").arg(name),
               [loaded, inputs](const Model& model, const auto& progress) {
                 PluginRunOutcome outcome = run_plugin(loaded, model, inputs, nullptr, progress);
                 if (outcome.cancelled) throw Cancelled();
                 if (!outcome.ok()) throw Error(outcome.error);
                 return std::move(*outcome.result);
               });
}

void ProbeActions::showProblems() {
  QStringList lines;
  for (const PluginProblem& p : plugins_->problems()) lines << p.text();
  auto* box = new QMessageBox(QMessageBox::Information, tr("Plugin problems"),
                              tr("Files skipped while looking for plugins: %1.").arg(lines.size()),
                              QMessageBox::Close, window_);
  box->setObjectName("pluginProblemsBox");
  box->setDetailedText(lines.join(QLatin1Char('\n')));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // not blocking
}

}  // namespace mechscope
