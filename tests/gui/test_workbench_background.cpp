// The workbench stays responsive: session open/save and figure export run off the GUI thread with
// progress and Cancel; every probe on a long prompt stops within 1 s of Cancel; unsaved work is
// autosaved and offered back after the program is killed; the plugin dialog names each plugin's
// file and hash.
#include <QCryptographicHash>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <chrono>

#include "app/gui/file_job.h"
#include "app/gui/probe_actions.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/session_controller.h"
#include "app/gui/session_recovery.h"
#include "core/session/session.h"
#include "plugins/sdk/plugin_manager.h"
#include "tests/gui/test_workbench_support.h"

using namespace mechscope;
using test::Workbench;

namespace {

QLabel* statusLabel(MainWindow& w) { return w.findChild<QLabel*>(QStringLiteral("statusLabel")); }

/// Counts turns of the GUI thread's event loop (a 5 ms timer) while alive.
struct EventLoopTicks {
  QTimer timer;
  int ticks = 0;
  EventLoopTicks() {
    QObject::connect(&timer, &QTimer::timeout, [this] { ++ticks; });
    timer.start(5);
  }
};

/// Cancels the window's file job at its first progress report.
void cancelAtFirstProgress(MainWindow& w) {
  auto* once = new QObject(w.fileJob());
  QObject::connect(w.fileJob(), &FileJob::progress, once, [&w, once] {
    w.fileJob()->cancel();
    once->deleteLater();
  });
}

int filesIn(const std::filesystem::path& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) n += entry.is_regular_file();
  return n;
}

/// A window on the tiny model whose session holds `copies` attention Results of a long prompt.
struct BigSession {
  Workbench wb;
  MainWindow& w = wb.w;
  explicit BigSession(int copies) {
    REQUIRE(test::openWordModel(w));
    QString prompt;
    for (int i = 0; i < 4; ++i)
      prompt += QStringLiteral("when mary and john went to the store , john gave a drink to ");
    w.promptPanel()->setPrompt(prompt.trimmed());
    QSignalSpy errors(&w, &MainWindow::errorShown);
    const QString id = test::runAttention(w);
    INFO((errors.isEmpty() ? QString() : errors.front().at(0).toString()).toStdString());
    REQUIRE(!id.isEmpty());
    const Result first = *w.session()->results().front();
    for (int i = 1; i < copies; ++i) w.session()->addResult(first);
  }
};

}  // namespace

TEST_CASE("Saving, opening and exporting run in the background and Cancel stops each",
          "[gui][workbench][session]") {
  BigSession big(24);
  MainWindow& w = big.w;
  QTemporaryDir dir;
  const std::filesystem::path folder = dir.path().toStdString();
  const QString file = dir.filePath(QStringLiteral("big.mscope"));

  // Save: cancelled at its first progress report, nothing is written and the work stays unsaved.
  cancelAtFirstProgress(w);
  CHECK_FALSE(w.saveSessionAs(file));
  CHECK_FALSE(QFile::exists(file));
  CHECK(filesIn(folder) == 0);  // no temporary left behind
  CHECK(w.session()->isDirty());
  CHECK_FALSE(w.fileJob()->running());

  {
    EventLoopTicks loop;  // the GUI thread keeps turning while the file is written
    REQUIRE(w.saveSessionAs(file));
    CHECK(loop.ticks > 0);
  }
  CHECK_FALSE(w.session()->isDirty());

  {  // Open: cancelled, the other window's session is unchanged; then opened for real.
    Workbench other;
    MainWindow& w2 = other.w;
    cancelAtFirstProgress(w2);
    CHECK_FALSE(w2.openSession(file));
    CHECK(w2.session()->results().empty());
    CHECK(statusLabel(w2)->text().contains(QStringLiteral("cancelled")));
    EventLoopTicks loop;
    REQUIRE(w2.openSession(file));
    CHECK(loop.ticks > 0);
    CHECK(w2.session()->results().size() == 24);
  }

  // Export: cancelled part-way, then all 24 × 3 figures.
  const std::filesystem::path figures = folder / "figures";
  cancelAtFirstProgress(w);
  CHECK_FALSE(w.exportAllFigures(QString::fromStdString(figures.string())));
  CHECK(filesIn(figures) < 24 * 3);
  CHECK(statusLabel(w)->text().contains(QStringLiteral("cancelled")));
  {
    EventLoopTicks loop;
    REQUIRE(w.exportAllFigures(QString::fromStdString(figures.string())));
    CHECK(loop.ticks > 0);
  }
  CHECK(filesIn(figures) == 24 * 3);
  const QString svg = dir.filePath(QStringLiteral("one.svg"));
  REQUIRE(w.exportFigure(QString::fromStdString(w.session()->results().front()->id), svg));
  QFile out(svg);
  REQUIRE(out.open(QIODevice::ReadOnly));
  CHECK(out.readAll().contains("<svg"));
}

TEST_CASE("Every probe on a long prompt on stories260K stops at Cancel instead of finishing",
          "[gui][workbench][model]") {
  const auto model = test::fixtures_dir() / "stories260K" / "stories260K.bin";
  const auto tokenizer = test::fixtures_dir() / "stories260K" / "tok512.bin";
  if (!std::filesystem::exists(model)) {
    WARN("Skipped: the stories260K fixture is not at " << model.string());
    return;
  }
  Workbench wb;
  MainWindow& w = wb.w;
  {
    QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
    w.openModel(QString::fromStdString(model.string()), QString::fromStdString(tokenizer.string()));
    REQUIRE(loaded.wait(test::kWorkbenchTimeoutMs));
  }
  QString story;
  for (int i = 0; i < 14; ++i)
    story += QStringLiteral("Once upon a time, there was a little girl named Lily. She liked to "
                            "play with her ball in the park. ");
  w.promptPanel()->setPrompt(story + QStringLiteral("Lily saw a big"));
  w.promptPanel()->setCorruptPrompt(story + QStringLiteral("Lily saw a happy"));  // same length
  w.promptPanel()->setAnswer(QStringLiteral("mom"));  // one token (" mom": SentencePiece adds the space)
  REQUIRE(w.host()->encode(w.promptPanel()->prompt()).size() > 400);  // n_ctx is 512

  int stopped = 0;
  for (const std::string& name : w.probeActions()->registry().names()) {
    QSignalSpy progress(w.host(), &ModelHost::probeProgress);
    QSignalSpy cancelled(w.host(), &ModelHost::probeCancelled);
    QSignalSpy finished(w.host(), &ModelHost::probeFinished);
    QSignalSpy failed(w.host(), &ModelHost::failed);
    QSignalSpy refused(w.probeActions(), &ProbeActions::failed);
    if (!w.probeActions()->runProbe(QString::fromStdString(name), nlohmann::json::object())) {
      if (qEnvironmentVariableIsSet("MECHSCOPE_TEST_VERBOSE"))
        WARN(name << ": not started "
                  << (refused.isEmpty() ? QString() : refused.front().at(1).toString()).toStdString());
      continue;  // needs inputs this prompt does not have (an image, …)
    }
    auto ended = [&] { return !cancelled.isEmpty() || !finished.isEmpty() || !failed.isEmpty(); };
    QTRY_VERIFY_WITH_TIMEOUT(ended() || !progress.isEmpty(), test::kWorkbenchTimeoutMs);
    QElapsedTimer clock;
    clock.start();
    w.onCancel();
    QTRY_VERIFY_WITH_TIMEOUT(ended(), test::kWorkbenchTimeoutMs);
    const qint64 ms = clock.elapsed();
    INFO(name << " took " << ms << " ms to stop");
    // A hang guard, not a timing target (those are in tests/bench/): the stop comes between two
    // blocks of a forward pass (core/util/cancel.h), 50–200 ms here.
    CHECK(ms < 10000);
    if (qEnvironmentVariableIsSet("MECHSCOPE_TEST_VERBOSE"))
      WARN(name << ": " << (cancelled.isEmpty() ? "ended" : "cancelled") << " " << ms
                << " ms after Cancel "
                << (failed.isEmpty() ? QString() : failed.front().at(1).toString()).toStdString());
    stopped += !cancelled.isEmpty();
    QTRY_VERIFY_WITH_TIMEOUT(!w.host()->busy(), test::kWorkbenchTimeoutMs);
  }
  CHECK(stopped >= 5);  // the long ones were really stopped, not finished
}

TEST_CASE("Unsaved work survives kill -9: the next start offers it back", "[gui][workbench][session]") {
#ifndef MECHSCOPE_GUI_BINARY
  WARN("Skipped: no workbench binary in this build.");
#else
  QTemporaryDir data;
  QProcess gui;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("XDG_DATA_HOME"), data.path());
  env.insert(QStringLiteral("XDG_CONFIG_HOME"), data.filePath(QStringLiteral("config")));
  env.insert(QStringLiteral("MECHSCOPE_AUTOSAVE_SECONDS"), QStringLiteral("0.5"));
  env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
  gui.setProcessEnvironment(env);
  gui.start(QStringLiteral(MECHSCOPE_GUI_BINARY),
            {QStringLiteral("--model"), test::wordModelDir(), QStringLiteral("--prompt"),
             QStringLiteral("when mary and john went to the store"), QStringLiteral("--probe"),
             QStringLiteral("attention")});
  REQUIRE(gui.waitForStarted());
  QString recoveryDir;
  auto findCopy = [&] {
    QDirIterator it(data.path(), {QStringLiteral("session-*.json")}, QDir::Files,
                    QDirIterator::Subdirectories);
    if (it.hasNext()) recoveryDir = QFileInfo(it.next()).absolutePath();
    return !recoveryDir.isEmpty();
  };
  QTRY_VERIFY_WITH_TIMEOUT(findCopy(), test::kWorkbenchTimeoutMs);
  gui.kill();  // SIGKILL: no clean-up runs
  REQUIRE(gui.waitForFinished());

  Workbench wb;
  MainWindow& w = wb.w;
  w.recovery()->setDirectory(recoveryDir);
  const auto pending = w.recovery()->pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending.front().results == 1);
  CHECK(pending.front().original.isEmpty());  // it was an untitled session
  w.setRecoveryAnswer(QMessageBox::Open);
  REQUIRE(w.offerRecovery());
  REQUIRE(w.session()->results().size() == 1);
  CHECK(w.session()->results().front()->probe == "attention");
  CHECK(w.session()->isDirty());  // recovered work is unsaved work
  CHECK(w.session()->path().isEmpty());
  CHECK(w.recovery()->pending().empty());  // the dead instance's copy is gone…
  QSignalSpy autosaved(w.recovery(), &SessionRecovery::autosaved);
  QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(w.recovery()->file()), test::kWorkbenchTimeoutMs);
  // …and this instance keeps its own until the work is saved.
  QTemporaryDir saved;
  REQUIRE(w.saveSessionAs(saved.filePath(QStringLiteral("recovered.mscope"))));
  CHECK_FALSE(QFile::exists(w.recovery()->file()));
#endif
}

TEST_CASE("A running instance's autosave is not offered, and a clean exit removes it",
          "[gui][session]") {
  QTemporaryDir dir;
  SessionSnapshot session;
  Result r;
  r.probe = "attention";
  r.id = "attention-1";
  r.title = "Attention";
  r.arrays["pattern"] = Array{{1}, {0.5f}, {Axis{"layer", {}}}};
  session.results.push_back(std::make_shared<const Result>(r));
  quint64 changes = 1;
  {
    SessionRecovery running;
    running.setDirectory(dir.path());
    running.watch([&] { return session; }, [] { return QStringLiteral("/work/a.mscope"); },
                  [&] { return changes; });
    QSignalSpy saved(&running, &SessionRecovery::autosaved);
    running.autosave();
    REQUIRE(saved.wait(10000));
    CHECK(QFile::exists(running.file()));
    SessionRecovery other;
    other.setDirectory(dir.path());
    CHECK(other.pending().empty());  // its owner is alive
    changes = 0;                      // saved: nothing to recover
    running.autosave();
    CHECK_FALSE(QFile::exists(running.file()));
    changes = 2;
    running.autosave();
    REQUIRE(saved.wait(10000));
  }
  SessionRecovery later;
  later.setDirectory(dir.path());
  CHECK(later.pending().empty());  // a clean exit leaves nothing behind
  CHECK(QDir(dir.path()).entryList({QStringLiteral("*.mscope")}, QDir::Files).isEmpty());
}

TEST_CASE("The plugin dialog names each plugin's file and SHA-256", "[gui][plugins]") {
  Workbench wb;
  MainWindow& w = wb.w;
  w.probeActions()->showProblems();
  auto* box = w.findChild<QMessageBox*>(QStringLiteral("pluginProblemsBox"));
  REQUIRE(box != nullptr);
  const QString details = box->detailedText();
  bool named = false;
  QDirIterator it(QStringLiteral(MECHSCOPE_PLUGIN_DIR), QDir::Files);
  while (it.hasNext()) {
    const QString path = it.next();
    if (!details.contains(path)) continue;
    QFile file(path);
    REQUIRE(file.open(QIODevice::ReadOnly));
    const QByteArray sha =
        QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex();
    CHECK(details.contains(QString::fromLatin1(sha)));
    named = true;
  }
  CHECK(named);
  CHECK(details.contains(QStringLiteral("trust")));
  box->close();
}
