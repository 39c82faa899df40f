// How long the workbench's GUI thread is blocked while it saves, opens and exports a big session
// (target: never more than 100 ms at a time). A 1 ms timer ticks on the GUI thread; the longest
// gap between ticks during an operation is the longest the window could not repaint or react.
//
//   build/tests/bench/bench_gui [--results N] [--words W]   (the embedded text model's attention)
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/session_controller.h"
#include "core/model/default_model.h"

using namespace mechscope;

namespace {

/// Runs `op` while a 1 ms timer measures the GUI thread's longest stall; prints both times.
void measure(const char* what, const std::function<bool()>& op) {
  QElapsedTimer clock, sinceTick;
  qint64 worst = 0;
  QTimer tick;
  QObject::connect(&tick, &QTimer::timeout, [&] {
    worst = std::max(worst, sinceTick.restart());
  });
  tick.start(1);
  clock.start();
  sinceTick.start();
  const bool ok = op();
  worst = std::max(worst, sinceTick.elapsed());
  std::printf("%-34s %s  total %7lld ms   longest GUI stall %5lld ms\n", what, ok ? "ok    " : "FAILED",
              static_cast<long long>(clock.elapsed()), static_cast<long long>(worst));
}

bool waitFor(QSignalSpy& spy) { return !spy.isEmpty() || spy.wait(120000); }

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QTemporaryDir data;
  qputenv("XDG_DATA_HOME", data.path().toUtf8());  // keep autosave copies out of $HOME
  QApplication app(argc, argv);
  int results = 200, words = 22;  // 22 × 7 words: 155 tokens of the 160 the model takes
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--results")) results = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--words")) words = std::atoi(argv[i + 1]);
  }

  MainWindow w;
  w.setErrorDialogsEnabled(false);
  QObject::connect(&w, &MainWindow::errorShown,
                   [](const QString& message) { std::fprintf(stderr, "%s\n", qPrintable(message)); });
  w.show();
  {
    QSignalSpy loaded(w.host(), &ModelHost::modelLoaded);
    w.openModel(QString::fromStdString(default_model_path().string()));
    if (!waitFor(loaded)) return 1;
  }
  QString prompt;
  for (int i = 0; i < words; ++i) prompt += QStringLiteral("the cat sat on the mat . ");
  w.promptPanel()->setPrompt(prompt.trimmed());
  {
    QSignalSpy added(&w, &MainWindow::resultAdded);
    if (!w.runAttention() || !waitFor(added)) return 1;
  }
  const Result first = *w.session()->results().front();
  for (int i = 1; i < results; ++i) w.session()->addResult(first);
  int64_t floats = 0;
  for (const auto& [name, array] : first.arrays) floats += array.numel();
  std::printf("%d attention results of %lld floats each (%.0f MB in all)\n", results,
              static_cast<long long>(floats), results * floats * 4.0 / 1e6);

  QTemporaryDir dir;
  const QString file = dir.filePath(QStringLiteral("big.mscope"));
  measure("save", [&] { return w.saveSessionAs(file); });
  MainWindow other;
  other.setErrorDialogsEnabled(false);
  other.show();
  measure("open (in a new window)", [&] { return other.openSession(file); });
  measure("export all (PNG, SVG, PDF)", [&] { return other.exportAllFigures(dir.filePath("fig")); });
  measure("export one figure (PNG)", [&] {
    return w.exportFigure(QString::fromStdString(first.id), dir.filePath("one.png"));
  });
  return 0;
}
