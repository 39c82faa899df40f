// Model ▸ Splice SAE: the host splices an SAE into every forward pass, the model panel says so,
// probes record it, and mistakes come back as errors naming the problem.
#include <QLineEdit>
#include <QPushButton>
#include <QDialogButtonBox>
#include <QSignalSpy>
#include <catch2/catch.hpp>

#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/probe_actions.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/sae_splice_dialog.h"
#include "app/gui/session_controller.h"
#include "core/model/model.h"
#include "core/sae/sae_io.h"
#include "tests/gui/test_workbench_support.h"
#include "tests/sae_test_utils.h"

using namespace mechscope;

TEST_CASE("An SAE spliced from the workbench reaches probes and can be removed",
          "[gui][workbench][sae]") {
  QTemporaryDir dir;
  const std::string fits = dir.filePath("fits").toStdString();
  const std::string misfit = dir.filePath("misfit").toStdString();
  sae::save_sae(test::random_sae("blocks.0.hook_resid_post", 32, 16, 2), fits);
  sae::save_sae(test::random_sae("blocks.0.hook_resid_post", 24, 16, 2), misfit);

  test::Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(test::openWordModel(w));
  ModelHost* host = w.host();
  QSignalSpy changed(host, &ModelHost::saeChanged);
  REQUIRE(host->spliceSae(QString::fromStdString(fits), true, true, {{3, 1.5}}));
  REQUIRE(changed.wait(test::kWorkbenchTimeoutMs));
  const QString description = changed.front().at(0).toString();
  CHECK(description.contains(QStringLiteral("blocks.0.hook_resid_post")));
  CHECK(description.contains(QStringLiteral("error term")));
  CHECK(description.contains(QStringLiteral("steer F3")));
  CHECK(host->summary().splice == description);

  w.promptPanel()->setPrompt(QStringLiteral("when mary and john went to the store"));
  QSignalSpy added(&w, &MainWindow::resultAdded);
  REQUIRE(w.probeActions()->runProbe(QStringLiteral("logit_lens")));
  REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
  const auto result = w.session()->find(added.front().at(0).toString());
  REQUIRE(result != nullptr);
  CHECK(result->meta["standing_hooks"]["hook"] == "blocks.0.hook_resid_post");
  CHECK(result->meta["standing_hooks"]["steer"] == nlohmann::json::parse("[[3, 1.5]]"));

  // An SAE of another width is refused; the earlier splice stays.
  QSignalSpy failed(host, &ModelHost::failed);
  REQUIRE(host->spliceSae(QString::fromStdString(misfit), false, true, {}));
  REQUIRE(failed.wait(test::kWorkbenchTimeoutMs));
  CHECK(failed.front().at(1).toString().contains(QStringLiteral("d_in 24")));
  CHECK(host->summary().splice == description);

  QSignalSpy removed(host, &ModelHost::saeChanged);
  REQUIRE(host->spliceSae({}, false, true, {}));
  REQUIRE(removed.wait(test::kWorkbenchTimeoutMs));
  CHECK(removed.front().at(0).toString().isEmpty());
  CHECK(host->model()->standing_hooks() == nullptr);
}

TEST_CASE("The splice dialog checks its steering list", "[gui][sae]") {
  SaeSpliceDialog dialog;
  auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
  CHECK_FALSE(ok->isEnabled());  // no folder yet
  dialog.setFolder(QStringLiteral("/some/sae"));
  CHECK(ok->isEnabled());
  dialog.setSteerText(QStringLiteral("12=4, 7=-2.5"));
  CHECK(ok->isEnabled());
  CHECK(dialog.steer() == std::vector<std::pair<int64_t, double>>{{12, 4.0}, {7, -2.5}});
  dialog.setSteerText(QStringLiteral("12=4, seven"));
  CHECK_FALSE(ok->isEnabled());
  dialog.setMode(2);
  CHECK_FALSE(dialog.replace());
  dialog.setMode(1);
  CHECK(dialog.errorTerm());
  CHECK(dialog.replace());
}
