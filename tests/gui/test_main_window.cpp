// The real window on the real stories260K model: open, tokenise, run, generate, cancel, errors.
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>
#include <catch2/catch.hpp>

#include "app/gui/generate_panel.h"
#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/model_panel.h"
#include "app/gui/prompt_panel.h"
#include "core/model/generate.h"
#include "core/model/loader.h"
#include "core/model/model.h"
#include "probes/next_token.h"
#include "tests/test_paths.h"
#include "views/token_text.h"

using namespace mechscope;
using namespace mechscope::probes;

namespace {

constexpr int kTimeoutMs = 60000;

std::filesystem::path modelFile() {
  return test::fixtures_dir() / "stories260K" / "stories260K.bin";
}
std::filesystem::path tokenizerFile() {
  return test::fixtures_dir() / "stories260K" / "tok512.bin";
}

bool haveModel() {
  if (std::filesystem::exists(modelFile()) && std::filesystem::exists(tokenizerFile())) return true;
  WARN("Skipped: the stories260K fixture is not at " << modelFile().string());
  return false;
}

/// The same model loaded directly, to compare the window with the core API.
const Model& referenceModel() {
  static std::unique_ptr<Model> model = [] {
    LoadOptions options;
    options.tokenizer = tokenizerFile();
    return load_model(modelFile(), options);
  }();
  return *model;
}

/// Opens stories260K in `w` and waits for it.
bool openStories(MainWindow& w) {
  QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
  w.openModel(QString::fromStdString(modelFile().string()),
              QString::fromStdString(tokenizerFile().string()));
  return loaded.wait(kTimeoutMs);
}

/// A shown window with error dialogs on, closed at the end of the test.
struct Window {
  MainWindow w;
  Window() {
    w.show();
    REQUIRE(QTest::qWaitForWindowExposed(&w));
  }
};

}  // namespace

TEST_CASE("The window opens empty with an 'Open a model' page", "[gui]") {
  Window win;
  auto* pages = win.w.findChild<QStackedWidget*>(QStringLiteral("pages"));
  REQUIRE(pages != nullptr);
  CHECK(pages->currentWidget()->objectName() == QStringLiteral("emptyPage"));
  CHECK_FALSE(win.w.promptPanel()->runButton()->isEnabled());
  CHECK_FALSE(win.w.generatePanel()->generateButton()->isEnabled());
}

TEST_CASE("The window opens stories260K and shows its summary", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  auto* pages = win.w.findChild<QStackedWidget*>(QStringLiteral("pages"));
  CHECK(pages->currentWidget()->objectName() != QStringLiteral("emptyPage"));
  ModelPanel* panel = win.w.modelPanel();
  CHECK(panel->fieldText("family") == QStringLiteral("llama"));
  const QString params = panel->fieldText("parameters").remove(QLatin1Char(','));
  CHECK(params.contains(QString::number(referenceModel().parameter_count())));
  CHECK(panel->fieldText("layers") == QString::number(referenceModel().config().n_layers));
  CHECK(panel->fieldText("vocab") == QStringLiteral("512"));
  CHECK(panel->fieldText("tokenizer") == QStringLiteral("yes"));
  CHECK(win.w.promptPanel()->runButton()->isEnabled());
}

TEST_CASE("Typing a prompt shows one chip per token", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  PromptPanel* prompt = win.w.promptPanel();
  const std::string text = "Once upon a time, there was a cat.";
  QTest::keyClicks(prompt->promptEdit(), QString::fromStdString(text));
  const Encoding expected = referenceModel().tokenizer()->encode(text, true);
  REQUIRE(prompt->chips()->count() == int(expected.ids.size()));
  for (int i = 0; i < prompt->chips()->count(); ++i) {
    CHECK(prompt->chips()->tokens()[i].id == expected.ids[i]);
    CHECK(prompt->chips()->chipText(i) ==
          visibleWhitespace(
              QString::fromStdString(referenceModel().tokenizer()->token_text(expected.ids[i]))));
  }
  CHECK(prompt->chips()->tokens()[0].special);  // BOS
  CHECK(prompt->chips()->chipText(1).startsWith(QStringLiteral("·")));

  prompt->promptEdit()->clear();
  CHECK(prompt->chips()->count() == 1);  // BOS only
}

TEST_CASE("Run shows the top 10 predictions", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  PromptPanel* prompt = win.w.promptPanel();
  prompt->setPrompt("Once upon a time");
  QSignalSpy ready(win.w.host(), &ModelHost::predictionsReady);
  QTest::mouseClick(prompt->runButton(), Qt::LeftButton);
  REQUIRE(ready.wait(kTimeoutMs));
  const PredictionsView* view = prompt->predictions();
  REQUIRE(view->rowCount() == 10);
  double sum = 0;
  for (int i = 0; i < view->rowCount(); ++i) {
    sum += view->row(i).probability;
    if (i > 0) CHECK(view->row(i).probability <= view->row(i - 1).probability);
  }
  CHECK(sum <= 1.0 + 1e-6);
  CHECK(sum > 0.5);  // this model is confident after "Once upon a time"
  auto ids = referenceModel().tokenizer()->encode("Once upon a time", true).ids;
  const auto direct = top_predictions(referenceModel(), ids, 10);
  CHECK(view->row(0).id == direct[0].token);
  CHECK(view->row(0).probability == Approx(direct[0].probability).epsilon(1e-4));

  // Ctrl+Enter in the prompt runs too.
  QSignalSpy again(win.w.host(), &ModelHost::predictionsReady);
  QTest::keyClick(prompt->promptEdit(), Qt::Key_Return, Qt::ControlModifier);
  CHECK(again.wait(kTimeoutMs));
  CHECK(prompt->prompt() == QStringLiteral("Once upon a time"));  // no newline inserted
}

TEST_CASE("Generate streams the greedy continuation that generate() gives", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  win.w.promptPanel()->setPrompt("Once upon a time");
  GeneratePanel* gen = win.w.generatePanel();
  gen->setTokenCount(20);
  QSignalSpy progress(win.w.host(), &ModelHost::generationProgress);
  QSignalSpy finished(win.w.host(), &ModelHost::generationFinished);
  QTest::mouseClick(gen->generateButton(), Qt::LeftButton);
  REQUIRE(finished.wait(kTimeoutMs));

  const Tokenizer* tok = referenceModel().tokenizer();
  const auto prompt = tok->encode("Once upon a time", true).ids;
  GenerateOptions options;
  options.max_new_tokens = 20;
  const auto all = generate(referenceModel(), prompt, options);
  const std::vector<int64_t> continuation(all.begin() + prompt.size(), all.end());
  // The continuation is what decoding prompt + continuation adds to the decoded prompt.
  const std::string decodedPrompt = tok->decode(prompt, true);
  const std::string decodedAll = tok->decode(all, true);
  REQUIRE(decodedAll.compare(0, decodedPrompt.size(), decodedPrompt) == 0);
  const QString expected = QString::fromStdString(decodedAll.substr(decodedPrompt.size()));
  INFO("continuation: " << gen->continuation().toStdString());
  CHECK(gen->continuation() == expected);
  CHECK(gen->continuation().startsWith(QStringLiteral(", there was")));
  CHECK(gen->output()->toPlainText() == QStringLiteral("Once upon a time") + expected);
  CHECK(finished.front().at(1).toInt() == int(continuation.size()));
  CHECK_FALSE(finished.front().at(2).toBool());  // not cancelled
  CHECK(progress.size() == int(continuation.size()));
  CHECK(progress.back().at(1).toInt() == int(continuation.size()));
  CHECK(gen->generateButton()->isEnabled());
  CHECK_FALSE(gen->cancelButton()->isEnabled());
}

TEST_CASE("A continuation keeps the leading space of its first token", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  // Greedy continues with " g" + "irl": decoding the new tokens alone would give "girl".
  win.w.promptPanel()->setPrompt("Once upon a time, there was a little");
  win.w.generatePanel()->setTokenCount(5);
  QSignalSpy finished(win.w.host(), &ModelHost::generationFinished);
  win.w.onGenerate();
  REQUIRE(finished.wait(kTimeoutMs));
  INFO("continuation: " << win.w.generatePanel()->continuation().toStdString());
  CHECK(win.w.generatePanel()->continuation().startsWith(QStringLiteral(" girl")));
}

TEST_CASE("Cancel stops a long generation early", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  win.w.promptPanel()->setPrompt("Once upon a time");
  GeneratePanel* gen = win.w.generatePanel();
  const int total = 100000;
  gen->setTokenCount(total);
  QSignalSpy progress(win.w.host(), &ModelHost::generationProgress);
  QSignalSpy finished(win.w.host(), &ModelHost::generationFinished);
  QTest::mouseClick(gen->generateButton(), Qt::LeftButton);
  CHECK(gen->cancelButton()->isEnabled());
  CHECK_FALSE(gen->generateButton()->isEnabled());
  REQUIRE(progress.wait(kTimeoutMs));
  QTest::mouseClick(gen->cancelButton(), Qt::LeftButton);
  REQUIRE(finished.wait(kTimeoutMs));
  CHECK(finished.front().at(2).toBool());  // cancelled
  const int generated = finished.front().at(1).toInt();
  CHECK(generated >= 1);
  CHECK(generated < total);
  CHECK(gen->output()->toPlainText().endsWith(QStringLiteral("[cancelled]")));
  CHECK(gen->generateButton()->isEnabled());
  CHECK_FALSE(gen->cancelButton()->isEnabled());
}

TEST_CASE("Opening a bad model shows an error instead of crashing", "[gui]") {
  Window win;
  QSignalSpy errors(&win.w, &MainWindow::errorShown);

  SECTION("a path that does not exist") {
    const QString path = QStringLiteral("/nonexistent/mechscope/model.bin");
    win.w.openModel(path);
    REQUIRE((errors.size() > 0 || errors.wait(kTimeoutMs)));
    CHECK(errors.front().at(0).toString().contains(QStringLiteral("/nonexistent/mechscope")));
  }
  SECTION("a folder without a model") {
    QTemporaryDir empty;
    win.w.openModel(empty.path());
    REQUIRE((errors.size() > 0 || errors.wait(kTimeoutMs)));
    CHECK(!errors.front().at(0).toString().isEmpty());
  }
  // The message box names the problem; it is window-modal but does not block, so close it.
  auto* box = win.w.findChild<QMessageBox*>(QStringLiteral("errorBox"));
  REQUIRE(box != nullptr);
  CHECK(box->isVisible());
  CHECK(box->text() == errors.front().at(0).toString());
  box->accept();
  CHECK_FALSE(win.w.host()->hasModel());
  CHECK(win.w.findChild<QStackedWidget*>(QStringLiteral("pages"))->currentWidget()->objectName() ==
        QStringLiteral("emptyPage"));
  CHECK(win.w.modelPanel()->findChild<QLabel*>("modelStatus")->text().contains("failed"));
}

TEST_CASE("A failed load keeps the open model", "[gui][model]") {
  if (!haveModel()) return;
  Window win;
  REQUIRE(openStories(win.w));
  win.w.setErrorDialogsEnabled(false);
  QSignalSpy errors(&win.w, &MainWindow::errorShown);
  win.w.openModel(QStringLiteral("/nonexistent/model.bin"));
  REQUIRE(errors.wait(kTimeoutMs));
  CHECK(win.w.host()->hasModel());
  CHECK(win.w.modelPanel()->fieldText("family") == QStringLiteral("llama"));
  CHECK(win.w.promptPanel()->runButton()->isEnabled());
}

TEST_CASE("Closing the window during a generation stops it cleanly", "[gui][model]") {
  if (!haveModel()) return;
  auto* w = new MainWindow();
  REQUIRE(openStories(*w));
  w->promptPanel()->setPrompt("Once upon a time");
  w->generatePanel()->setTokenCount(100000);
  QSignalSpy progress(w->host(), &ModelHost::generationProgress);
  w->onGenerate();
  REQUIRE(progress.wait(kTimeoutMs));
  delete w;  // cancels and waits for the job; queued progress events are dropped
  QTest::qWait(50);
  SUCCEED();
}

TEST_CASE("The model panel lists the models installed in .models/", "[gui]") {
  QTemporaryDir dir;
  QDir(dir.path()).mkpath(QStringLiteral("smollm2"));
  QDir(dir.path()).mkpath(QStringLiteral("hf-folder"));
  QDir(dir.path()).mkpath(QStringLiteral("not-a-model"));
  for (const char* name : {"smollm2/SmolLM2.Q4_1.gguf", "hf-folder/config.json", "notes.txt"}) {
    QFile f(dir.filePath(QString::fromLatin1(name)));
    REQUIRE(f.open(QIODevice::WriteOnly));
  }
  qputenv("MECHSCOPE_MODELS_DIR", dir.path().toUtf8());
  MainWindow w;
  qunsetenv("MECHSCOPE_MODELS_DIR");
  auto* list = w.findChild<QListWidget*>(QStringLiteral("installedModels"));
  REQUIRE(list != nullptr);
  REQUIRE(list->count() == 2);
  CHECK(list->item(0)->text() == QStringLiteral("hf-folder"));
  CHECK(list->item(1)->text() == QStringLiteral("SmolLM2.Q4_1.gguf"));
  QSignalSpy activated(w.modelPanel(), &ModelPanel::recentActivated);
  emit list->itemActivated(list->item(1));
  REQUIRE(activated.size() == 1);
  CHECK(activated.front().at(0).toString() == dir.filePath(QStringLiteral("smollm2/SmolLM2.Q4_1.gguf")));
}
