// mechscope: the Qt workbench. `mechscope [--model PATH] [--tokenizer PATH]`; with --screenshot
// FILE it runs --prompt once (and --generate N tokens), saves the window as FILE and exits.
#include <ATen/Parallel.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <thread>

#include "app/gui/generate_panel.h"
#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/prompt_panel.h"
#include "core/model/default_model.h"

namespace {

// Saves the window after the first Run (and generation, when asked) completes, then quits.
void scheduleScreenshot(mechscope::MainWindow& window, const QString& file, const QString& prompt,
                        int generateTokens) {
  using mechscope::ModelHost;
  ModelHost* host = window.host();
  auto grab = [&window, file] {
    QTimer::singleShot(300, &window, [&window, file] {
      const bool ok = window.grab().save(file);
      if (!ok) qWarning("Could not save the screenshot to %s", qPrintable(file));
      QApplication::exit(ok ? 0 : 1);
    });
  };
  QObject::connect(host, &ModelHost::modelLoaded, &window, [&window, prompt] {
    window.promptPanel()->setPrompt(prompt);
    window.onRun();
  });
  QObject::connect(host, &ModelHost::predictionsReady, &window, [&window, generateTokens, grab] {
    if (generateTokens <= 0) return grab();
    window.generatePanel()->setTokenCount(generateTokens);
    window.onGenerate();
  });
  QObject::connect(host, &ModelHost::generationFinished, &window, grab);
  QObject::connect(host, &ModelHost::failed, &window, [] { QApplication::exit(1); });
}

}  // namespace

int main(int argc, char** argv) {
  // Model jobs run on pool threads; give LibTorch's intra-op pool every core.
  at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));

  QApplication app(argc, argv);
  QApplication::setOrganizationName("mechscope");
  QApplication::setApplicationName("mechscope");
  QApplication::setApplicationVersion(MECHSCOPE_VERSION);

  QCommandLineParser parser;
  parser.setApplicationDescription("mechscope: a workbench for mechanistic interpretability.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({
      {"model", "Model folder or llama2.c .bin file to open (default: the embedded model).",
       "PATH"},
      {"tokenizer", "tokenizer.json or llama2.c tokenizer.bin (default: next to the model).",
       "PATH"},
      {"prompt", "Prompt to start with.", "TEXT"},
      {"screenshot", "Run the prompt once, save the window to FILE (PNG) and exit.", "FILE"},
      {"generate", "With --screenshot: also generate N tokens before saving.", "N"},
  });
  parser.process(app);

  mechscope::MainWindow window;
  const QString prompt = parser.isSet("prompt") ? parser.value("prompt") : QString();
  if (!prompt.isEmpty()) window.promptPanel()->setPrompt(prompt);
  if (parser.isSet("screenshot")) {
    window.setErrorDialogsEnabled(false);
    QObject::connect(&window, &mechscope::MainWindow::errorShown,
                     [](const QString& message) { qCritical("%s", qPrintable(message)); });
    scheduleScreenshot(window, parser.value("screenshot"),
                       prompt.isEmpty() ? QStringLiteral("Once upon a time") : prompt,
                       parser.value("generate").toInt());
  }
  window.show();
  if (parser.isSet("model")) {
    window.openModel(parser.value("model"), parser.value("tokenizer"));
  } else if (std::filesystem::exists(mechscope::default_model_path() / "config.json")) {
    window.openModel(QString::fromStdString(mechscope::default_model_path().string()));
  }
  return app.exec();
}
