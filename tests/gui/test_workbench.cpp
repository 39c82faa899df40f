// The workbench window running probes: attention maps in the background (progress, Cancel), the
// Result in the results browser and drawn by its view, the example plugin from the Probes menu,
// deleting results, and the task picker filling the patching inputs.
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QTreeWidget>
#include <chrono>
#include <random>
#include <thread>

#include "app/gui/analysis_area.h"
#include "app/gui/probe_actions.h"
#include "app/gui/probe_options_dialog.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/results_browser.h"
#include "app/gui/session_controller.h"
#include "app/gui/task_picker.h"
#include "core/model/default_model.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "plugins/sdk/plugin_manager.h"
#include "probes/attention.h"
#include "probes/tasks/task.h"
#include "tests/gui/test_workbench_support.h"
#include "views/attention_view.h"

using namespace mechscope;
using test::Workbench;

namespace {

const QString kPrompt =
    QStringLiteral("when mary and john went to the store , john gave a drink to");

QLabel* statusLabel(MainWindow& w) { return w.findChild<QLabel*>(QStringLiteral("statusLabel")); }

}  // namespace

TEST_CASE("Attention maps run in the background and appear in the browser and the view",
          "[gui][workbench]") {
  Workbench wb;
  MainWindow& w = wb.w;
  CHECK_FALSE(w.probeActions()->attentionAction()->isEnabled());  // no model yet
  REQUIRE(test::openWordModel(w));
  CHECK(w.probeActions()->attentionAction()->isEnabled());
  w.promptPanel()->setPrompt(kPrompt);

  // The forward pass still works alongside.
  QSignalSpy predictions(w.host(), &ModelHost::predictionsReady);
  w.onRun();
  REQUIRE(predictions.wait(test::kWorkbenchTimeoutMs));
  CHECK(w.promptPanel()->predictions()->rowCount() == 10);

  QSignalSpy progress(w.host(), &ModelHost::probeProgress);
  const QString id = test::runAttention(w);
  REQUIRE(id == QStringLiteral("attention-1"));
  CHECK(progress.size() >= 2);  // 0 % … 100 %
  CHECK(progress.back().at(0).toInt() == 100);
  CHECK_FALSE(w.findChild<QProgressBar*>(QStringLiteral("jobProgress"))->isVisibleTo(&w));
  CHECK(statusLabel(w)->text().contains(QStringLiteral("ready")));

  // The session holds it; the browser lists it under its probe and selects it.
  REQUIRE(w.session()->results().size() == 1);
  const Result& r = *w.session()->results().front();
  CHECK(r.id == "attention-1");
  CHECK(r.meta["model"]["name"] == w.host()->identity()["name"]);
  CHECK(w.resultsBrowser()->ids() == QStringList{id});
  QTreeWidget* tree = w.resultsBrowser()->tree();
  REQUIRE(tree->topLevelItemCount() == 1);
  CHECK(tree->topLevelItem(0)->text(0) == QStringLiteral("attention (1)"));
  CHECK(tree->topLevelItem(0)->child(0)->text(0).contains(QStringLiteral("when mary and john")));
  CHECK(tree->topLevelItem(0)->child(0)->text(1) ==
        ResultsBrowser::formatCreated(r.meta["created"].get<std::string>()));
  CHECK(w.resultsBrowser()->selectedId() == id);
  CHECK(w.selectedResultId() == id);
  CHECK(w.isWindowModified());

  // The view draws the pattern: [layer, head, query, key] with the prompt's tokens on its axes.
  auto* view = qobject_cast<AttentionView*>(w.analysisArea()->currentWidget());
  REQUIRE(view != nullptr);
  const Model& model = *w.host()->model();
  const std::vector<int64_t> ids = model.tokenizer()->encode(kPrompt.toStdString(), true).ids;
  REQUIRE(ids.size() == 15);  // <bos> + 14 words
  CHECK(view->layers() == model.config().n_layers);
  CHECK(view->heads() == model.config().n_heads);
  CHECK(view->queries() == int(ids.size()));
  CHECK(view->keys() == int(ids.size()));
  const Array& pattern = r.array("pattern");
  CHECK(pattern.shape == std::vector<int64_t>{2, 4, 15, 15});
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK(pattern.axes[2].labels[i] == model.tokenizer()->token_text(ids[i]));
    CHECK(pattern.axes[3].labels[i] == model.tokenizer()->token_text(ids[i]));
  }
  CHECK(pattern.axes[2].labels[1] == "when");
  // The same numbers as the probe called directly; each query's weights sum to 1.
  const Result direct = probes::attention_result(model, ids);
  CHECK(direct.array("pattern").data == pattern.data);
  double rowSum = 0;
  for (int k = 0; k < 15; ++k) rowSum += pattern.at({1, 2, 14, k});
  CHECK(rowSum == Approx(1.0).epsilon(1e-5));

  // A second run gets the next id and becomes the selection; the first view stays alive. A
  // corrupted prompt of another length does not matter to a probe that does not read it.
  ResultView* first = w.analysisArea()->existingView(id);
  w.promptPanel()->setCorruptPrompt(QStringLiteral("when john"));
  QSignalSpy added(&w, &MainWindow::resultAdded);
  REQUIRE(w.runAttention());
  REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
  const QString second = added.front().at(0).toString();
  CHECK(second == QStringLiteral("attention-2"));
  CHECK(w.selectedResultId() == second);
  CHECK(tree->topLevelItem(0)->text(0) == QStringLiteral("attention (2)"));
  w.selectResult(id);
  CHECK(w.analysisArea()->currentWidget() == first);
}

TEST_CASE("A probe reports progress in the status bar and Cancel stops it", "[gui][workbench]") {
  Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(test::openWordModel(w));
  QSignalSpy progress(w.host(), &ModelHost::probeProgress);
  QSignalSpy cancelled(w.host(), &ModelHost::probeCancelled);
  QSignalSpy errors(&w, &MainWindow::errorShown);
  QSignalSpy added(&w, &MainWindow::resultAdded);
  // A slow probe that honours cancellation as real probes do.
  const bool started =
      w.host()->runProbe(QStringLiteral("Slow probe"),
                         [](const Model&, const std::function<bool(double)>& report) -> Result {
                           for (int i = 0;; ++i) {
                             if (!report(std::min(0.9, i / 2000.0))) throw Cancelled();
                             std::this_thread::sleep_for(std::chrono::milliseconds(2));
                           }
                         });
  REQUIRE(started);
  CHECK(w.host()->busy());
  CHECK_FALSE(w.probeActions()->attentionAction()->isEnabled());
  CHECK_FALSE(w.runAttention());  // one job at a time
  REQUIRE(progress.wait(test::kWorkbenchTimeoutMs));
  auto* bar = w.findChild<QProgressBar*>(QStringLiteral("jobProgress"));
  auto* cancel = w.findChild<QToolButton*>(QStringLiteral("statusCancel"));
  CHECK(bar->isVisibleTo(&w));
  REQUIRE(cancel->isVisibleTo(&w));
  REQUIRE(cancel->isEnabled());
  QTest::qWait(50);  // the window stays responsive meanwhile
  QTest::mouseClick(cancel, Qt::LeftButton);
  REQUIRE((cancelled.size() > 0 || cancelled.wait(test::kWorkbenchTimeoutMs)));
  CHECK(errors.isEmpty());
  CHECK(added.isEmpty());
  CHECK(statusLabel(w)->text().contains(QStringLiteral("cancelled")));
  CHECK_FALSE(bar->isVisibleTo(&w));
  CHECK_FALSE(w.host()->busy());
  CHECK(w.probeActions()->attentionAction()->isEnabled());
  CHECK(w.session()->results().empty());
}

TEST_CASE("A probe error is reported, not a crash", "[gui][workbench]") {
  Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy errors(&w, &MainWindow::errorShown);
  CHECK_FALSE(w.runAttention());  // no model: nothing starts
  REQUIRE(test::openWordModel(w));
  REQUIRE(w.host()->runProbe(QStringLiteral("Broken probe"),
                             [](const Model&, const std::function<bool(double)>&) -> Result {
                               throw Error("The broken probe broke.");
                             }));
  REQUIRE(errors.wait(test::kWorkbenchTimeoutMs));
  CHECK(errors.front().at(0).toString() == QStringLiteral("The broken probe broke."));
  CHECK(w.session()->results().empty());
  CHECK_FALSE(w.host()->busy());
}

TEST_CASE("The example plugin runs from the Probes menu like a built-in probe",
          "[gui][workbench][plugins]") {
  Workbench wb;
  MainWindow& w = wb.w;
  const PluginManager& plugins = w.probeActions()->plugins();
  const LoadedPlugin* tokenHeads = plugins.find(QStringLiteral("token_heads"));
  REQUIRE(tokenHeads != nullptr);
  QAction* action = w.probeActions()->pluginAction(QStringLiteral("token_heads"));
  REQUIRE(action != nullptr);
  CHECK(action->toolTip().contains(tokenHeads->info.description));
  CHECK_FALSE(action->isEnabled());
  REQUIRE(test::openWordModel(w));
  CHECK(action->isEnabled());
  w.promptPanel()->setPrompt(kPrompt);
  QSignalSpy added(&w, &MainWindow::resultAdded);
  action->trigger();  // the plugin has options: its dialog (from the schema) opens first
  auto* dialog = w.findChild<mechscope::ProbeOptionsDialog*>(QStringLiteral("probeOptionsDialog"));
  REQUIRE(dialog != nullptr);
  CHECK(dialog->editor("kind") != nullptr);
  dialog->accept();
  REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
  const QString id = added.front().at(0).toString();
  CHECK(id == QStringLiteral("token_heads-1"));
  const auto result = w.session()->find(id);
  REQUIRE(result != nullptr);
  CHECK(result->probe == "token_heads");
  CHECK(result->meta["plugin"]["name"] == "token_heads");
  CHECK(w.resultsBrowser()->ids().contains(id));
  CHECK(w.selectedResultId() == id);
  CHECK(w.analysisArea()->existingView(id) != nullptr);
}

TEST_CASE("Broken plugins are reported in the status bar, not in dialogs",
          "[gui][workbench][plugins]") {
  Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy errors(&w, &MainWindow::errorShown);
  const size_t loaded = w.probeActions()->plugins().plugins().size();
  w.probeActions()->scanPlugins({QStringLiteral(MECHSCOPE_TEST_PLUGIN_DIR)});
  CHECK(w.probeActions()->plugins().problems().size() >= 3);
  CHECK(w.probeActions()->plugins().plugins().size() >= loaded);
  CHECK(statusLabel(w)->text().contains(QStringLiteral("skipped")));
  CHECK(errors.isEmpty());
  CHECK(w.findChild<QMessageBox*>() == nullptr);
  CHECK(w.probeActions()->pluginAction(QStringLiteral("token_heads")) != nullptr);

  // A loaded plugin whose run throws: an error message, no Result, the window goes on.
  REQUIRE(w.probeActions()->pluginAction(QStringLiteral("misbehaving")) != nullptr);
  REQUIRE(test::openWordModel(w));
  w.promptPanel()->setPrompt(kPrompt);
  REQUIRE(w.probeActions()->runPlugin(QStringLiteral("misbehaving")));
  REQUIRE(errors.wait(test::kWorkbenchTimeoutMs));
  CHECK(errors.front().at(0).toString().contains(QStringLiteral("Deliberate failure")));
  CHECK(w.session()->results().empty());
  CHECK(!test::runAttention(w).isEmpty());
}

TEST_CASE("Deleting a result from the browser's context menu", "[gui][workbench]") {
  Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(test::openWordModel(w));
  w.promptPanel()->setPrompt(kPrompt);
  const QString a = test::runAttention(w), b = test::runAttention(w);
  REQUIRE(!b.isEmpty());
  w.selectResult(a);
  const std::string file = test::scratch_path("delete").string() + ".mscope";
  REQUIRE(w.session()->saveAs(QString::fromStdString(file)));
  CHECK_FALSE(w.isWindowModified());

  std::unique_ptr<QMenu> menu(w.resultsBrowser()->contextMenu(a));
  QAction* remove = nullptr;
  for (QAction* act : menu->actions())
    if (act->text() == QStringLiteral("Delete result")) remove = act;
  REQUIRE(remove != nullptr);
  remove->trigger();
  CHECK(w.resultsBrowser()->ids() == QStringList{b});
  CHECK(w.session()->find(a) == nullptr);
  CHECK(w.analysisArea()->existingView(a) == nullptr);
  CHECK(w.selectedResultId() == b);  // the neighbour is shown
  CHECK(w.isWindowModified());

  // The Delete key deletes the selected row; the last one leaves the placeholder.
  w.resultsBrowser()->tree()->setFocus();
  QTest::keyClick(w.resultsBrowser()->tree(), Qt::Key_Delete);
  CHECK(w.session()->results().empty());
  CHECK(w.resultsBrowser()->tree()->topLevelItemCount() == 0);
  CHECK(w.selectedResultId().isEmpty());
  std::filesystem::remove(file);
}

TEST_CASE("The task picker fills the prompt, the corrupted prompt and the answer",
          "[gui][workbench]") {
  Workbench wb;
  MainWindow& w = wb.w;
  PromptPanel* panel = w.promptPanel();
  TaskPicker* picker = panel->taskPicker();
  CHECK(picker->taskNames().contains(QStringLiteral("ioi")));
  CHECK(picker->taskNames().contains(QStringLiteral("induction")));
  CHECK(picker->taskNames().contains(QStringLiteral("shapes_vqa")));  // it fills the image slot too
  CHECK_FALSE(panel->patchingInputsVisible());

  auto expected = [](uint64_t index, int64_t maxWords) {
    std::mt19937_64 rng(tasks::example_seed(TaskPicker::kSeed, index));
    tasks::TaskOptions options;
    options.max_words = maxWords;
    return tasks::make_task("ioi")->sample(rng, options);
  };

  // Without a model: rendered for people ("store, John").
  picker->setTaskName(QStringLiteral("ioi"));
  QTest::mouseClick(picker->newExampleButton(), Qt::LeftButton);
  const tasks::Example first = expected(0, 128);
  CHECK(panel->prompt() == QString::fromStdString(first.text()));
  CHECK(panel->corruptPrompt() == QString::fromStdString(tasks::render_words(first.corrupt)));
  CHECK(panel->answer() == QString::fromStdString(tasks::render_words(first.answer)));
  CHECK(panel->patchingInputsVisible());
  CHECK(panel->corruptEdit()->isVisibleTo(panel));

  // A word-level model reads words: they are joined by spaces, within its context.
  REQUIRE(test::openWordModel(w));
  QTest::mouseClick(picker->newExampleButton(), Qt::LeftButton);
  const tasks::Example second = expected(1, w.host()->model()->config().n_ctx - 1);
  std::string spaced;
  for (const std::string& word : second.prompt) spaced += (spaced.empty() ? "" : " ") + word;
  CHECK(panel->prompt() == QString::fromStdString(spaced));
  CHECK(picker->drawn() == 2);

  // Typing in a session without results is not worth a save prompt; with results it is.
  CHECK_FALSE(w.isWindowModified());
  panel->answerEdit()->setText(QStringLiteral(" mary"));
  CHECK_FALSE(w.isWindowModified());
}

TEST_CASE("The window on the embedded default model: a task example, a forward pass, attention maps",
          "[gui][workbench][default-models]") {
  const std::filesystem::path dir = default_model_path();
  if (!std::filesystem::exists(dir / "config.json")) {
    WARN("No embedded default model at " << dir.string() << ": skipping");
    return;
  }
  Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(dir.string()));
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  const Model& model = *w.host()->model();

  // An IOI example from the task picker; the model names the indirect object.
  w.promptPanel()->taskPicker()->setTaskName(QStringLiteral("ioi"));
  w.promptPanel()->taskPicker()->newExample();
  const QString answer = w.promptPanel()->answer();
  REQUIRE_FALSE(answer.isEmpty());
  QSignalSpy predictions(w.host(), &ModelHost::predictionsReady);
  w.onRun();
  REQUIRE(predictions.wait(test::kWorkbenchTimeoutMs));
  const auto rows = predictions.front().at(0).value<QVector<PredictionRow>>();
  REQUIRE_FALSE(rows.isEmpty());
  CHECK(rows.front().text.trimmed() == answer.trimmed());

  const QString id = test::runAttention(w);
  REQUIRE_FALSE(id.isEmpty());
  const Array& pattern = w.session()->results().front()->array("pattern");
  const auto ids = model.tokenizer()->encode(w.promptPanel()->prompt().toStdString(), true).ids;
  CHECK(pattern.shape == std::vector<int64_t>{model.config().n_layers, model.config().n_heads,
                                             int64_t(ids.size()), int64_t(ids.size())});
}
