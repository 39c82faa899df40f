// The Probes menu, toolbar and options dialog come from the probe registry; a patching probe runs
// on the prompt panel's clean/corrupted prompts and answers and lands in the session.
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QPushButton>
#include <QLineEdit>
#include <QMenu>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <catch2/catch.hpp>

#include "app/gui/analysis_area.h"
#include "app/gui/main_window.h"
#include "app/gui/generate_panel.h"
#include "app/gui/image_slot.h"
#include "app/gui/task_picker.h"
#include "tests/test_paths.h"
#include "views/token_chips.h"
#include "app/gui/model_panel.h"
#include "core/model/model.h"
#include "app/gui/probe_actions.h"
#include "app/gui/probe_options_dialog.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/session_controller.h"
#include "core/model/default_model.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/gui/test_workbench_support.h"

using namespace mechscope;

namespace {
bool menuContains(QMenu* menu, QAction* action) {
  for (QAction* a : menu->actions()) {
    if (a == action) return true;
    if (a->menu() && menuContains(a->menu(), action)) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("Every registered probe is in the Probes menu and the toolbar chooser",
          "[gui][workbench][probes]") {
  test::Workbench wb;
  ProbeActions* probes = wb.w.probeActions();
  for (const auto& p : probes::ProbeRegistry::builtin().all()) {
    QAction* a = probes->probeAction(QString::fromStdString(p->name()));
    REQUIRE(a != nullptr);
    CHECK(a->text().startsWith(QString::fromStdString(p->info().title)));
    CHECK(a->text().endsWith(QStringLiteral("…")) == !p->info().options.empty());
    CHECK(menuContains(probes->menu(), a));
  }
  CHECK(probes->pluginAction(QStringLiteral("token_heads")) != nullptr);  // in the Plugins menu
  auto* box = wb.w.findChild<QComboBox*>(QStringLiteral("probeBox"));
  REQUIRE(box != nullptr);
  CHECK(box->findData(QStringLiteral("path_patching")) >= 0);
  CHECK(box->findData(QStringLiteral("token_heads")) >= 0);
}

TEST_CASE("The options dialog is built from a probe's schema", "[gui][probes]") {
  const auto& info = probes::ProbeRegistry::builtin().get("activation_patching").info();
  ProbeOptionsDialog dialog(info, {{"target", "z"}, {"top_k", 3}});
  auto* target = qobject_cast<QComboBox*>(dialog.editor("target"));
  auto* perPosition = qobject_cast<QCheckBox*>(dialog.editor("per_position"));
  auto* topK = qobject_cast<QSpinBox*>(dialog.editor("top_k"));
  REQUIRE(target != nullptr);
  REQUIRE(perPosition != nullptr);
  REQUIRE(topK != nullptr);
  CHECK(target->count() == 12);  // … block, sae_feature
  CHECK(target->currentText() == QStringLiteral("z"));
  CHECK(topK->value() == 3);
  CHECK(topK->maximum() == 100);
  CHECK(topK->minimum() == 1);
  CHECK_FALSE(topK->toolTip().isEmpty());
  perPosition->setChecked(true);
  CHECK(dialog.values() == nlohmann::json({{"target", "z"}, {"per_position", true},
                                           {"metric", "logit_diff"}, {"top_k", 3}, {"sae", ""}}));
  dialog.setValues(nlohmann::json::object());  // Restore defaults
  CHECK(dialog.values()["target"] == "resid_pre");
  // A folder option gets Browse… beside its text; what is typed is its value.
  CHECK(dialog.findChild<QPushButton*>(QStringLiteral("browse_sae")) != nullptr);
  CHECK(dialog.findChild<QPushButton*>(QStringLiteral("browse_metric")) == nullptr);
  auto* sae = qobject_cast<QLineEdit*>(dialog.editor("sae"));
  REQUIRE(sae != nullptr);
  sae->setText(QStringLiteral("/some/sae"));
  CHECK(dialog.values()["sae"] == "/some/sae");
}

TEST_CASE("Activation patching runs from the workbench on the default model",
          "[gui][workbench][probes]") {
  test::Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(default_model_path().string()));
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  PromptPanel* panel = w.promptPanel();
  panel->setPrompt(QStringLiteral("When Mary and John went to the store , John gave a drink to"));

  // Missing inputs are named, nothing runs.
  QSignalSpy errors(&w, &MainWindow::errorShown);
  CHECK_FALSE(w.probeActions()->runProbe(QStringLiteral("activation_patching")));
  REQUIRE(errors.count() == 1);
  CHECK(errors.front().at(0).toString().contains(QStringLiteral("a corrupted prompt and an answer")));
  CHECK(panel->patchingInputsVisible());

  panel->setCorruptPrompt(QStringLiteral("When Mary and John went to the store , Lisa gave a drink to"));
  panel->setAnswer(QStringLiteral("Mary"));
  panel->setWrongAnswer(QStringLiteral("John"));
  QSignalSpy added(&w, &MainWindow::resultAdded);
  REQUIRE(w.probeActions()->runProbe(QStringLiteral("activation_patching"),
                                     {{"target", "z"}, {"metric", "normalized"}}));
  REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
  const QString id = added.front().at(0).toString();
  CHECK(id == QStringLiteral("activation_patching-1"));
  const auto result = w.session()->find(id);
  REQUIRE(result != nullptr);
  CHECK(result->meta["options"]["target"] == "z");
  CHECK(result->meta["inputs"]["wrong"] == "John");
  CHECK(result->array("effect").shape == std::vector<int64_t>{5, 4});
  CHECK(w.analysisArea()->existingView(id) != nullptr);
  // The menu's way, without the dialog, reuses the options of the last run.
  w.probeActions()->setAskForOptions(false);
  QSignalSpy again(&w, &MainWindow::resultAdded);
  w.probeActions()->probeAction(QStringLiteral("activation_patching"))->trigger();
  REQUIRE(again.wait(test::kWorkbenchTimeoutMs));
  CHECK(w.session()->find(again.front().at(0).toString())->meta["options"]["target"] == "z");
}

TEST_CASE("The model panel's weight processing reopens the model with processed weights",
          "[gui][workbench][probes]") {
  test::Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(test::openWordModel(w));
  CHECK(w.modelPanel()->fieldText(QStringLiteral("processing")) == QStringLiteral("none"));
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  auto* fold = w.modelPanel()->findChild<QCheckBox*>(QStringLiteral("fold_ln"));
  REQUIRE(fold != nullptr);
  fold->setChecked(true);
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  CHECK(w.modelPanel()->fieldText(QStringLiteral("processing")) == QStringLiteral("fold_ln"));
  CHECK(w.host()->model()->processing() == std::vector<std::string>{"fold_ln"});
  CHECK(w.host()->identity()["processing"] == nlohmann::json::array({"fold_ln"}));
}

TEST_CASE("Generation with a clamped neuron follows the neuron", "[gui][workbench][probes]") {
  test::Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(default_model_path().string()));
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  w.promptPanel()->setPrompt(QStringLiteral("When Mary and John went to the store , John gave a drink to"));
  w.generatePanel()->setTokenCount(3);
  auto generateOnce = [&] {
    QSignalSpy done(w.host(), &ModelHost::generationFinished);
    w.onGenerate();
    REQUIRE(done.wait(test::kWorkbenchTimeoutMs));
    return done.front().at(0).toString();
  };
  const QString plain = generateOnce();
  // The last layer's neuron with the strongest decoded top logit (neuron_decoding) writes
  // towards its token: held high at every position it takes the continuation there.
  const Result dec = probes::run_probe(probes::ProbeRegistry::builtin().get("neuron_decoding"),
                                       *w.host()->model(), {}, {{"layers", "4"}});
  const Array& logit = dec.array("out_top_logit");
  int best = 0;
  for (int n = 1; n < logit.shape[1]; ++n)
    if (logit.at({0, n, 0}) > logit.at({0, best, 0})) best = n;
  w.generatePanel()->setClamp(GeneratePanel::Clamp{4, best, 40.0});
  const QString clamped = generateOnce();
  INFO("plain: " << plain.toStdString() << " / clamped: " << clamped.toStdString());
  CHECK(plain.startsWith(QStringLiteral(" Mary")));
  CHECK_FALSE(clamped.contains(QStringLiteral("Mary")));
}

TEST_CASE("A vision-language model reads the prompt panel's image", "[gui][workbench][probes]") {
  test::Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(default_vlm_path().string()));
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  PromptPanel* panel = w.promptPanel();
  ImageSlot* slot = panel->imageSlot();
  CHECK(slot->isVisible());
  CHECK(slot->patchGrid() == 6);

  // The shapes VQA example fills the prompt and the image; the <image> chip stands for 36
  // positions.
  panel->taskPicker()->setTaskName(QStringLiteral("shapes_vqa"));
  panel->taskPicker()->newExample();
  REQUIRE(slot->hasImage());
  CHECK(slot->image().size() == QSize(48, 48));
  CHECK(panel->prompt().startsWith(QStringLiteral("<image>")));
  const auto& chips = panel->chips()->tokens();
  REQUIRE(chips.size() >= 3);
  CHECK(chips[1].image_patches == 36);
  CHECK(panel->chips()->chipText(1).contains(QStringLiteral("36")));

  // A typed question with an opened image: the image goes after BOS, shown as a chip.
  panel->setPrompt(QStringLiteral("What color is the circle ?"));
  REQUIRE(slot->openFile(QString::fromStdString((test::golden_dir() / "images" / "shapes.png").string())));
  CHECK(panel->chips()->tokens()[1].image_patches == 36);
  QSignalSpy predicted(w.host(), &ModelHost::predictionsReady);
  w.onRun();
  REQUIRE(predicted.wait(test::kWorkbenchTimeoutMs));
  REQUIRE(panel->predictions()->rowCount() > 0);
  CHECK(panel->predictions()->row(0).text.trimmed() == QStringLiteral("red"));  // shapes.png's circle

  QSignalSpy added(&w, &MainWindow::resultAdded);
  REQUIRE(w.probeActions()->runProbe(QStringLiteral("attention")));
  REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
  const auto result = w.session()->find(added.front().at(0).toString());
  REQUIRE(result != nullptr);
  CHECK(result->array("pattern").shape[2] == 7 + 36);
  CHECK(result->meta["inputs"]["image"].get<std::string>().find("shapes.png") != std::string::npos);

  // A file that is not an image is refused with its name.
  QSignalSpy errors(&w, &MainWindow::errorShown);
  CHECK_FALSE(slot->openFile(QString::fromStdString((test::golden_dir() / "images" / "README.md").string())));
  REQUIRE(errors.count() == 1);
  CHECK(errors.front().at(0).toString().contains(QStringLiteral("README.md")));
  CHECK(slot->hasImage());  // the previous image stays
}
