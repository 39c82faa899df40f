// Model ▸ Train SAE…: the dialog lists the model's hook points, trains on a pool thread with live
// progress, writes the SAELens folder and training.json, and Cancel leaves a checkpoint that Train
// continues.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>

#include "app/gui/sae_train_dialog.h"
#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "probes/sae_train.h"
#include "tests/gui/test_workbench_support.h"

using namespace mechscope;
using test::Workbench;

TEST_CASE("Train SAE…: the dialog trains an SAE on the open model in the background",
          "[gui][workbench][sae_train]") {
  Workbench wb;
  MainWindow& w = wb.w;
  QAction* action = w.findChild<QAction*>(QStringLiteral("trainSaeAction"));
  REQUIRE(action != nullptr);
  CHECK_FALSE(action->isEnabled());  // no model yet
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(default_model_path().string()));
  REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  REQUIRE(action->isEnabled());
  action->trigger();
  auto* dialog = w.findChild<SaeTrainDialog*>(QStringLiteral("saeTrainDialog"));
  REQUIRE(dialog != nullptr);
  REQUIRE(QTest::qWaitForWindowExposed(dialog));

  auto* hook = dialog->findChild<QComboBox*>(QStringLiteral("saeHook"));
  REQUIRE(hook != nullptr);
  CHECK(hook->currentText() == QStringLiteral("blocks.2.hook_resid_pre"));  // the middle layer
  CHECK(hook->findText(QStringLiteral("blocks.4.mlp.hook_post")) >= 0);
  CHECK(hook->findText(QStringLiteral("blocks.1.attn.hook_pattern")) < 0);
  auto* task = dialog->findChild<QComboBox*>(QStringLiteral("saeTask"));
  task->setCurrentIndex(task->findText(QStringLiteral("induction")));
  dialog->findChild<QSpinBox*>(QStringLiteral("saeLatents"))->setValue(32);
  dialog->findChild<QSpinBox*>(QStringLiteral("saeSteps"))->setValue(30);
  auto* l1 = dialog->findChild<QDoubleSpinBox*>(QStringLiteral("saeL1"));
  auto* k = dialog->findChild<QSpinBox*>(QStringLiteral("saeK"));
  CHECK(l1->isEnabled());
  CHECK_FALSE(k->isEnabled());
  auto* train = dialog->findChild<QPushButton*>(QStringLiteral("saeTrain"));
  auto* stop = dialog->findChild<QPushButton*>(QStringLiteral("saeCancel"));
  auto* status = dialog->findChild<QLabel*>(QStringLiteral("saeStatus"));
  auto* problem = dialog->findChild<QLabel*>(QStringLiteral("saeProblem"));

  // No output folder: refused with a sentence.
  QSignalSpy failed(dialog, &SaeTrainDialog::failed);
  QTest::mouseClick(train, Qt::LeftButton);
  CHECK(failed.count() == 1);
  CHECK(problem->text() == QStringLiteral("Choose an output folder for the SAE."));

  QTemporaryDir tmp;
  const QString out = tmp.filePath(QStringLiteral("sae"));
  dialog->findChild<QLineEdit*>(QStringLiteral("saeOut"))->setText(out);
  QSignalSpy finished(dialog, &SaeTrainDialog::finished);
  QSignalSpy progressed(dialog, &SaeTrainDialog::progressed);
  QTest::mouseClick(train, Qt::LeftButton);
  CHECK(dialog->running());
  CHECK_FALSE(train->isEnabled());
  CHECK(stop->isEnabled());
  CHECK_FALSE(hook->isEnabled());
  REQUIRE(finished.wait(test::kWorkbenchTimeoutMs));
  CHECK(finished.front().at(0).toString() == out);
  CHECK_FALSE(dialog->running());
  CHECK(train->isEnabled());
  CHECK(problem->text().isEmpty());
  CHECK(progressed.count() >= 1);
  CHECK(progressed.back().at(0).toInt() == 30);
  CHECK(status->text().startsWith(QStringLiteral("Trained 30 steps")));
  CHECK(dialog->resultText().contains(QStringLiteral("explained variance")));
  CHECK(dialog->resultText().contains(QStringLiteral("SAE spliced")));
  const std::filesystem::path dir = out.toStdString();
  for (const char* f : {"cfg.json", "sae_weights.safetensors", "training.json"})
    CHECK(std::filesystem::exists(dir / f));
  const auto log = nlohmann::json::parse(read_text_file(dir / "training.json"));
  CHECK(log.at("recipe").at("latents") == 32);
  CHECK(log.at("recipe").at("task") == "induction");
  CHECK(log.at("model").at("name") == "mechscope-tiny-text");

  // Cancel at the first progress report: a checkpoint remains, and Train continues it.
  dialog->findChild<QSpinBox*>(QStringLiteral("saeSteps"))->setValue(400);
  dialog->findChild<QLineEdit*>(QStringLiteral("saeOut"))->setText(tmp.filePath(QStringLiteral("c")));
  QSignalSpy cancelled(dialog, &SaeTrainDialog::cancelled);
  auto* once = new QObject(dialog);
  QObject::connect(dialog, &SaeTrainDialog::progressed, once, [stop, once] {
    QTest::mouseClick(stop, Qt::LeftButton);
    once->deleteLater();
  });
  REQUIRE(dialog->start());
  REQUIRE(cancelled.wait(test::kWorkbenchTimeoutMs));
  const int at = cancelled.front().at(0).toInt();
  CHECK(at >= 1);
  CHECK(at < 400);
  CHECK(status->text().startsWith(QStringLiteral("Cancelled at step %1").arg(at)));
  CHECK(std::filesystem::exists(probes::sae_checkpoint_path(tmp.filePath("c").toStdString())));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(tmp.filePath("c").toStdString()) / "cfg.json"));
  dialog->findChild<QSpinBox*>(QStringLiteral("saeSteps"))->setValue(at + 5);
  finished.clear();
  REQUIRE(dialog->start());
  REQUIRE(finished.wait(test::kWorkbenchTimeoutMs));
  const auto resumed = nlohmann::json::parse(
      read_text_file(std::filesystem::path(tmp.filePath("c").toStdString()) / "training.json"));
  CHECK(resumed.at("resumed_from_step") == at);
  CHECK(resumed.at("steps") == at + 5);
  dialog->close();
}
