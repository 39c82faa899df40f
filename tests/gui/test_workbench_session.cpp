// The workbench's sessions: save a window's results, view states and prompts, reopen them in a
// new window without a model, export every figure, the unsaved-changes question, bad files.
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QStackedWidget>
#include <QSvgRenderer>
#include <fstream>

#include "app/gui/analysis_area.h"
#include "app/gui/probe_actions.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/results_browser.h"
#include "app/gui/session_controller.h"
#include "core/session/session.h"
#include "tests/gui/test_workbench_support.h"
#include "views/attention_view.h"
#include "views/color_scale_editor.h"

using namespace mechscope;
using test::Workbench;

namespace {

const QString kPrompt =
    QStringLiteral("when mary and john went to the store , john gave a drink to");
const QString kCorrupt =
    QStringLiteral("when mary and john went to the store , mary gave a drink to");
const QString kSecondPrompt = QStringLiteral("once upon a time there was a cat and a dog");

/// A scratch file or folder path for this test process, removed at the end of the test.
struct Scratch {
  std::filesystem::path path;
  explicit Scratch(const std::string& name) : path(test::scratch_path(name)) {
    std::filesystem::remove_all(path);
  }
  ~Scratch() { std::filesystem::remove_all(path); }
  QString q() const { return QString::fromStdString(path.string()); }
};

/// Changes an attention view the way a user does: "One head", layer 1, head 2, gamma 0.5.
void changeLikeAUser(AttentionView& view) {
  auto* mode = view.findChild<QComboBox*>(QString(), Qt::FindDirectChildrenOnly);
  REQUIRE(mode != nullptr);
  mode->setCurrentIndex(2);
  emit mode->activated(2);
  const auto spins = view.findChildren<QSpinBox*>(QString(), Qt::FindDirectChildrenOnly);
  REQUIRE(spins.size() >= 2);
  spins[0]->setValue(1);  // layer
  spins[1]->setValue(2);  // head
  auto* scale = view.findChild<ColorScaleEditor*>();
  REQUIRE(scale != nullptr);
  const auto gamma = scale->findChildren<QDoubleSpinBox*>();
  REQUIRE(gamma.size() == 2);  // maximum, gamma
  gamma[1]->setValue(0.5);
}

/// A window on the tiny model with three results: attention on a prompt with patching inputs,
/// the token_heads plugin on it, and attention on a second prompt.
struct ThreeResults {
  Workbench wb;
  MainWindow& w = wb.w;
  ThreeResults() {
    REQUIRE(test::openWordModel(w));
    w.promptPanel()->setPrompt(kPrompt);
    w.promptPanel()->setCorruptPrompt(kCorrupt);
    w.promptPanel()->setAnswer(QStringLiteral("mary"));
    REQUIRE(test::runAttention(w) == QStringLiteral("attention-1"));
    QSignalSpy added(&w, &MainWindow::resultAdded);
    REQUIRE(w.probeActions()->runPlugin(QStringLiteral("token_heads")));
    REQUIRE(added.wait(test::kWorkbenchTimeoutMs));
    w.promptPanel()->setPrompt(kSecondPrompt);
    w.promptPanel()->setCorruptPrompt({});
    w.promptPanel()->setAnswer({});
    REQUIRE(test::runAttention(w) == QStringLiteral("attention-2"));
  }
};

}  // namespace

TEST_CASE("A saved session reopens in a new window without its model",
          "[gui][workbench][session]") {
  Scratch file("workbench_roundtrip.mscope");
  nlohmann::json savedState, savedIdentity;
  std::vector<Result> savedResults;
  {
    ThreeResults three;
    MainWindow& w = three.w;
    // The user looks at attention-1 and changes its view; that is an unsaved change.
    w.selectResult(QStringLiteral("attention-1"));
    auto* view = qobject_cast<AttentionView*>(w.analysisArea()->currentWidget());
    REQUIRE(view != nullptr);
    REQUIRE(w.saveSessionAs(file.q()));
    CHECK_FALSE(w.isWindowModified());
    changeLikeAUser(*view);
    CHECK(view->mode() == AttentionView::Mode::Head);
    CHECK(view->layer() == 1);
    CHECK(view->head() == 2);
    CHECK(w.isWindowModified());
    CHECK(w.windowTitle().contains(QStringLiteral("[*]")));
    savedState = view->state();
    CHECK(savedState["scale"]["gamma"] == 0.5);
    w.promptPanel()->setPrompt(kPrompt);  // what the prompt panel shows when saved
    w.promptPanel()->setCorruptPrompt(kCorrupt);
    w.modelDock()->hide();

    // File → Save (Ctrl+S) saves to the session's file.
    QAction* save = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
      if (a->shortcut() == QKeySequence(QKeySequence::Save)) save = a;
    REQUIRE(save != nullptr);
    save->trigger();
    CHECK_FALSE(w.isWindowModified());
    CHECK(w.session()->path() == QFileInfo(file.q()).absoluteFilePath());
    for (const auto& r : w.session()->results()) savedResults.push_back(*r);
    savedIdentity = w.host()->identity();
  }

  // The file itself: every result, the model, the prompts and the view state.
  const Session onDisk = load_session(file.path);
  REQUIRE(onDisk.results.size() == 3);
  CHECK(onDisk.model["path"] == savedIdentity["path"]);
  CHECK(onDisk.model["hash"] == savedIdentity["hash"]);
  REQUIRE(onDisk.prompts.size() == 2);
  CHECK(onDisk.prompts[0].text == kPrompt.toStdString());
  CHECK(onDisk.prompts[0].corrupt == kCorrupt.toStdString());
  CHECK(onDisk.prompts[0].answer == "mary");
  CHECK(onDisk.prompts[1].text == kSecondPrompt.toStdString());
  CHECK(onDisk.views["results"]["attention-1"] == savedState);
  CHECK(onDisk.views["workbench"]["selected"] == "attention-1");

  Workbench wb;
  MainWindow& w2 = wb.w;
  REQUIRE(w2.openSession(file.q()));
  CHECK_FALSE(w2.host()->hasModel());
  CHECK_FALSE(w2.isWindowModified());
  CHECK(w2.findChild<QStackedWidget*>(QStringLiteral("pages"))->currentIndex() == 1);
  REQUIRE(w2.session()->results().size() == savedResults.size());
  for (size_t i = 0; i < savedResults.size(); ++i) {
    const Result& a = savedResults[i];
    const Result& b = *w2.session()->results()[i];
    CHECK(a.id == b.id);
    CHECK(a.probe == b.probe);
    CHECK(a.title == b.title);
    CHECK(a.meta == b.meta);
    REQUIRE(a.arrays.size() == b.arrays.size());
    for (const auto& [name, array] : a.arrays) {
      INFO(a.id << " " << name);
      CHECK(array.shape == b.array(name).shape);
      CHECK(array.data == b.array(name).data);
      for (size_t d = 0; d < array.axes.size(); ++d)
        CHECK(array.axes[d].labels == b.array(name).axes[d].labels);
    }
  }
  CHECK(w2.resultsBrowser()->ids() ==
        QStringList({"attention-1", "attention-2", "token_heads-1"}));  // grouped by probe
  CHECK(w2.selectedResultId() == QStringLiteral("attention-1"));
  CHECK(w2.resultsBrowser()->selectedId() == QStringLiteral("attention-1"));
  auto* view = qobject_cast<AttentionView*>(w2.analysisArea()->currentWidget());
  REQUIRE(view != nullptr);
  CHECK(view->state() == savedState);
  CHECK(w2.promptPanel()->prompt() == kPrompt);
  CHECK(w2.promptPanel()->corruptPrompt() == kCorrupt);
  CHECK(w2.promptPanel()->answer().isEmpty());  // cleared before saving
  CHECK(w2.modelDock()->isHidden());
  CHECK_FALSE(w2.resultsDock()->isHidden());
  CHECK(w2.session()->model()["hash"] == savedIdentity["hash"]);

  // View state survives switching between results.
  w2.selectResult(QStringLiteral("token_heads-1"));
  CHECK(w2.selectedResultId() == QStringLiteral("token_heads-1"));
  w2.selectResult(QStringLiteral("attention-1"));
  CHECK(w2.analysisArea()->currentWidget() == view);
  CHECK(view->state() == savedState);
  CHECK_FALSE(w2.isWindowModified());
  CHECK_FALSE(w2.probeActions()->attentionAction()->isEnabled());  // no model to run probes
}

TEST_CASE("Export all figures writes PNG, SVG and PDF for every result",
          "[gui][workbench][export]") {
  Scratch dir("workbench_export");
  ThreeResults three;
  MainWindow& w = three.w;
  REQUIRE(w.exportAllFigures(dir.q()));
  for (const char* id : {"attention-1", "token_heads-1", "attention-2"}) {
    INFO(id);
    const std::string stem = (dir.path / id).string();
    QImage png(QString::fromStdString(stem + ".png"));
    REQUIRE_FALSE(png.isNull());
    CHECK(png.width() == MainWindow::kExportWidth);
    bool drawn = false;  // not blank: some pixel is not the white background
    for (int y = 0; y < png.height() && !drawn; y += 3)
      for (int x = 0; x < png.width() && !drawn; x += 3)
        drawn = png.pixel(x, y) != qRgb(255, 255, 255);
    CHECK(drawn);
    QSvgRenderer svg(QString::fromStdString(stem + ".svg"));
    CHECK(svg.isValid());
    QFile pdf(QString::fromStdString(stem + ".pdf"));
    REQUIRE(pdf.open(QIODevice::ReadOnly));
    CHECK(pdf.read(5) == QByteArray("%PDF-"));
  }

  // One figure from the browser's Export figure… path, in the format its name says.
  const QString svgFile = QString::fromStdString((dir.path / "one.svg").string());
  REQUIRE(w.exportFigure(QStringLiteral("attention-2"), svgFile));
  CHECK(QSvgRenderer(svgFile).isValid());
  const QString noSuffix = QString::fromStdString((dir.path / "two").string());
  REQUIRE(w.exportFigure(QStringLiteral("attention-2"), noSuffix));
  CHECK_FALSE(QImage(noSuffix + ".png").isNull());
}

TEST_CASE("Closing asks about unsaved changes only when there are some",
          "[gui][workbench][session]") {
  Scratch file("workbench_unsaved.mscope");
  Workbench wb;
  MainWindow& w = wb.w;
  QSignalSpy asked(w.session(), &SessionController::unsavedChangesAsked);
  REQUIRE(test::openWordModel(w));
  w.promptPanel()->setPrompt(kPrompt);
  CHECK(w.close());  // clean: closes without asking
  CHECK(asked.isEmpty());
  w.show();

  REQUIRE(!test::runAttention(w).isEmpty());
  CHECK(w.isWindowModified());
  w.setUnsavedChangesAnswer(QMessageBox::Cancel);
  CHECK_FALSE(w.close());
  CHECK(asked.size() == 1);
  CHECK(w.isVisible());
  CHECK_FALSE(w.newSession());  // cancelled too
  CHECK(w.session()->results().size() == 1);

  // Save without a file asks where (answered here), then closes.
  w.session()->setSavePathProvider([&file](QWidget*) { return file.q(); });
  w.setUnsavedChangesAnswer(QMessageBox::Save);
  CHECK(w.close());
  CHECK(asked.size() == 3);
  CHECK(load_session(file.path).results.size() == 1);
  w.show();

  // Prompt edits after saving are changes; Discard closes without saving them.
  w.promptPanel()->setPrompt(kSecondPrompt);
  CHECK(w.isWindowModified());
  w.setUnsavedChangesAnswer(QMessageBox::Discard);
  CHECK(w.newSession());
  CHECK(asked.size() == 4);
  CHECK(w.session()->results().empty());
  CHECK(w.resultsBrowser()->ids().isEmpty());
  CHECK(w.session()->path().isEmpty());
  CHECK_FALSE(w.isWindowModified());
  CHECK(load_session(file.path).prompts.front().text == kPrompt.toStdString());
  CHECK(w.close());
  CHECK(asked.size() == 4);
}

TEST_CASE("Opening a bad session file shows an error naming it", "[gui][workbench][session]") {
  Scratch file("workbench_corrupt.mscope");
  {
    std::ofstream out(file.path, std::ios::binary);
    out << "this is not an HDF5 file";
  }
  Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(test::openWordModel(w));
  w.promptPanel()->setPrompt(kPrompt);
  REQUIRE(!test::runAttention(w).isEmpty());
  QSignalSpy errors(&w, &MainWindow::errorShown);
  QSignalSpy asked(w.session(), &SessionController::unsavedChangesAsked);
  w.setUnsavedChangesAnswer(QMessageBox::Discard);  // were it asked, it would not block

  CHECK_FALSE(w.openSession(file.q()));
  CHECK(asked.isEmpty());  // the bad file is reported before asking about unsaved changes
  REQUIRE(errors.size() == 1);
  CHECK(errors.back().at(0).toString().contains(
      QString::fromStdString(file.path.filename().string())));
  CHECK(w.session()->results().size() == 1);  // the open session is untouched
  CHECK(w.resultsBrowser()->ids().size() == 1);
  CHECK(w.session()->path().isEmpty());

  CHECK_FALSE(w.openSession(QStringLiteral("/nonexistent/mechscope/session.mscope")));
  REQUIRE(errors.size() == 2);
  CHECK(errors.back().at(0).toString().contains(QStringLiteral("/nonexistent/mechscope")));

  // Saving where it cannot be written is an error too, and the session stays unsaved.
  CHECK_FALSE(w.saveSessionAs(QStringLiteral("/nonexistent/mechscope/out.mscope")));
  CHECK(errors.size() == 3);
  CHECK(w.isWindowModified());
}

TEST_CASE("A session written without window state opens on its newest result and prompt",
          "[gui][workbench][session]") {
  Scratch file("workbench_cli.mscope");
  {
    Workbench wb;  // make two Results the way the CLI does, then save them without view state
    REQUIRE(test::openWordModel(wb.w));
    wb.w.promptPanel()->setPrompt(kPrompt);
    REQUIRE(!test::runAttention(wb.w).isEmpty());
    REQUIRE(!test::runAttention(wb.w).isEmpty());
    Session s = wb.w.session()->snapshot().take();
    s.views = nlohmann::json::object();
    s.prompts = {{kSecondPrompt.toStdString(), "", ""}};
    save_session(s, file.path);
  }
  Workbench wb;
  MainWindow& w = wb.w;
  REQUIRE(w.openSession(file.q()));
  CHECK(w.selectedResultId() == QStringLiteral("attention-2"));
  CHECK(w.promptPanel()->prompt() == kSecondPrompt);
  CHECK(qobject_cast<AttentionView*>(w.analysisArea()->currentWidget()) != nullptr);
  CHECK_FALSE(w.isWindowModified());
}
