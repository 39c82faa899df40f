// mechscope: the Qt workbench. `mechscope [--model PATH] [--tokenizer PATH] [SESSION.mscope]`;
// with --screenshot FILE it runs --prompt once (then --generate N tokens and --probe NAME when
// asked), saves the window as FILE and exits.
#include <ATen/Parallel.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <thread>

#include "app/gui/analysis_area.h"
#include "app/gui/generate_panel.h"
#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/probe_actions.h"
#include "app/gui/prompt_panel.h"
#include "core/model/default_model.h"
#include "core/util/threads.h"
#include "views/result_view.h"

namespace {

/// What --screenshot does before saving the window.
struct ScreenshotPlan {
  QString file, prompt, probe;
  int generateTokens = 0;
  nlohmann::json viewState;     // applied to the probe's Result view
  nlohmann::json probeOptions;  // null: the probe's defaults
  bool loadsModel = false;
};

// Saves the window after the scripted steps finish: Run, then (when asked) generation, then the
// probe; with no model to load, once the session is shown. Quits with 1 on any error.
void scheduleScreenshot(mechscope::MainWindow& window, const ScreenshotPlan& plan) {
  using mechscope::ModelHost;
  ModelHost* host = window.host();
  auto grab = [&window, file = plan.file] {
    QTimer::singleShot(500, &window, [&window, file] {
      const bool ok = window.grab().save(file);
      if (!ok) qWarning("Could not save the screenshot to %s", qPrintable(file));
      QApplication::exit(ok ? 0 : 1);
    });
  };
  auto probe = [&window, plan, grab] {
    if (plan.probe.isEmpty()) return grab();
    const bool started = window.probeActions()->runProbe(plan.probe, plan.probeOptions);
    if (!started) QApplication::exit(1);
  };
  if (!plan.loadsModel) {
    QTimer::singleShot(0, &window, grab);
    return;
  }
  QObject::connect(host, &ModelHost::modelLoaded, &window, [&window, plan] {
    window.promptPanel()->setPrompt(plan.prompt);
    window.onRun();
  });
  QObject::connect(host, &ModelHost::predictionsReady, &window, [&window, plan, probe] {
    if (plan.generateTokens <= 0) return probe();
    window.generatePanel()->setTokenCount(plan.generateTokens);
    window.onGenerate();
  });
  QObject::connect(host, &ModelHost::generationFinished, &window, probe);
  QObject::connect(&window, &mechscope::MainWindow::resultAdded, &window,
                   [&window, plan, grab](const QString& id) {
                     if (!plan.viewState.is_null())
                       window.analysisArea()->view(id)->setState(plan.viewState);
                     grab();
                   });
  QObject::connect(host, &ModelHost::failed, &window, [] { QApplication::exit(1); });
}

}  // namespace

int main(int argc, char** argv) {
  // Model jobs run on pool threads; LibTorch's intra-op threads follow the one policy
  // (core/util/threads.h: 1 unless MECHSCOPE_THREADS / OMP_NUM_THREADS say otherwise).
  mechscope::configure_threads();

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
      // Not --session: QGuiApplication takes -session/--session (X11 session management).
      {"session-file", "A saved session (.mscope) to open (or give it as the argument).", "FILE"},
      {"prompt", "Prompt to start with.", "TEXT"},
      {"screenshot", "Run the prompt once, save the window to FILE (PNG) and exit.", "FILE"},
      {"generate", "With --screenshot: also generate N tokens before saving.", "N"},
      {"probe", "Run the probe NAME (any of `mechscope-cli probes`) once the model is open "
                "(with --screenshot: before saving the window).",
       "NAME"},
      {"probe-options", "With --probe: the probe's options as JSON, e.g. {\"target\":\"z\"}.",
       "JSON"},
      {"corrupt", "Corrupted prompt to start with (patching probes).", "TEXT"},
      {"process", "Weight processing: fold_ln,center_writing_weights,center_unembed,"
                  "fold_value_biases (or all).", "STEPS"},
      {"answer", "Answer to start with.", "TEXT"},
      {"wrong", "Wrong answer to start with.", "TEXT"},
      {"view-state", "With --probe: the Result view's state as JSON, e.g. {\"mode\":\"all\"}.",
       "JSON"},
  });
  parser.addPositionalArgument("session", "A saved session (.mscope) to open.", "[SESSION]");
  parser.process(app);
  QString session = parser.value("session-file");
  if (session.isEmpty() && !parser.positionalArguments().isEmpty())
    session = parser.positionalArguments().front();

  mechscope::MainWindow window;
  const QString prompt = parser.isSet("prompt") ? parser.value("prompt") : QString();
  if (!prompt.isEmpty()) window.promptPanel()->setPrompt(prompt);
  if (parser.isSet("corrupt")) window.promptPanel()->setCorruptPrompt(parser.value("corrupt"));
  if (parser.isSet("answer")) window.promptPanel()->setAnswer(parser.value("answer"));
  if (parser.isSet("wrong")) window.promptPanel()->setWrongAnswer(parser.value("wrong"));
  if (parser.isSet("process")) {
    try {
      window.setWeightProcessing(
          mechscope::WeightProcessing::parse(parser.value("process").toStdString()));
    } catch (const std::exception& e) {
      qCritical("%s", e.what());
      return 2;
    }
  }
  QString model = parser.value("model"), tokenizer = parser.value("tokenizer");
  if (model.isEmpty() && std::filesystem::exists(mechscope::default_model_path() / "config.json"))
    model = QString::fromStdString(mechscope::default_model_path().string());

  if (parser.isSet("screenshot")) {
    window.setErrorDialogsEnabled(false);
    window.setUnsavedChangesAnswer(QMessageBox::Discard);
    QObject::connect(&window, &mechscope::MainWindow::errorShown,
                     [](const QString& message) { qCritical("%s", qPrintable(message)); });
    ScreenshotPlan plan;
    plan.file = parser.value("screenshot");
    plan.prompt = prompt.isEmpty() ? QStringLiteral("Once upon a time") : prompt;
    plan.generateTokens = parser.value("generate").toInt();
    plan.probe = parser.value("probe");
    plan.loadsModel = !model.isEmpty();
    if (parser.isSet("probe-options")) {
      plan.probeOptions =
          nlohmann::json::parse(parser.value("probe-options").toStdString(), nullptr, false);
      if (plan.probeOptions.is_discarded()) {
        qCritical("--probe-options is not valid JSON.");
        return 2;
      }
    }
    if (parser.isSet("view-state")) {
      plan.viewState =
          nlohmann::json::parse(parser.value("view-state").toStdString(), nullptr, false);
      if (plan.viewState.is_discarded()) {
        qCritical("--view-state is not valid JSON.");
        return 2;
      }
    }
    scheduleScreenshot(window, plan);
  } else if (parser.isSet("probe")) {
    const QString probe = parser.value("probe");
    const nlohmann::json options =
        nlohmann::json::parse(parser.value("probe-options").toStdString(), nullptr, false);
    if (parser.isSet("probe-options") && !options.is_object()) {
      qCritical("--probe-options is not a JSON object.");
      return 2;
    }
    auto* once = new QObject(&window);  // run once, after the first model load
    QObject::connect(window.host(), &mechscope::ModelHost::modelLoaded, once,
                     [&window, once, probe, options] {
                       window.probeActions()->runProbe(probe, options.is_object() ? options
                                                                                  : nlohmann::json());
                       once->deleteLater();
                     });
  }
  window.show();
  if (!parser.isSet("screenshot")) window.offerRecovery();
  if (!session.isEmpty() && !window.openSession(session) && parser.isSet("screenshot")) return 1;
  if (!model.isEmpty()) window.openModel(model, tokenizer);
  return app.exec();
}
