// mechscope-cli export: every Result of a session drawn by its view, offscreen, as PNG/SVG/PDF —
// the same figures the workbench shows, with each result's saved view state; --layers/--heads
// narrow what is drawn and --per-layer writes one figure per layer.
#include <QApplication>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/session/session.h"
#include "core/util/error.h"
#include "views/figure_export.h"

namespace mechscope::cli {
namespace {

// Qt's warnings (XDG_RUNTIME_DIR, fonts, offscreen platform notes) are not the user's business
// here; only critical messages reach stderr, so the output stays one file per line.
void quietQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
  if (type == QtCriticalMsg || type == QtFatalMsg)
    std::cerr << "Qt: " << message.toStdString() << "\n";
}

}  // namespace

int cmd_export(const std::vector<std::string>& argv) {
  const std::vector<OptionSpec> specs = {
      {"out", "DIR", "folder to write the figures to (created when missing)", true},
      {"formats", "LIST", "comma-separated png, svg, pdf (default: all three)"},
      {"width", "PX", "figure width in pixels (default 1600; PDF: 0.75 pt per pixel)"},
      {"result", "ID", "export only this result"},
      {"layers", "LIST", "draw only these layers, e.g. 0,2 (attention panels, heatmap rows)"},
      {"heads", "LIST", "draw only these heads, e.g. 1,3 (attention, per-head patching)"},
      {"per-layer", "", "one figure per layer, named ID-L<k>.<ext>"},
  };
  // The session file is the one argument without an option name; it comes first.
  std::vector<std::string> rest = argv;
  std::string session_path;
  if (!rest.empty() && rest.front().rfind("-", 0) != 0) {
    session_path = rest.front();
    rest.erase(rest.begin());
  }
  Args args(rest, specs);
  if (args.help()) {
    std::cout << usage("export SESSION.mscope",
                       "Draws every result of a session as it is shown in the workbench (with its "
                       "saved view state) and writes PNG, SVG and/or PDF files named after the "
                       "result ids. Without --layers/--heads the saved view state decides what is "
                       "drawn.",
                       specs);
    return 0;
  }
  if (session_path.empty())
    throw Error("Missing the session file: mechscope-cli export SESSION.mscope --out DIR.");
  const std::vector<std::string> formats = parse_export_formats(args.get("formats", "png,svg,pdf"));
  const int64_t width = args.integer("width", 1600);
  if (width < 64 || width > 16384) throw Error("Option --width must be in 64–16384 pixels.");
  FigureSelection selection;
  if (auto layers = args.optional("layers"))
    selection.layers = parse_index_list(*layers, "--layers");
  if (auto heads = args.optional("heads")) selection.heads = parse_index_list(*heads, "--heads");
  selection.perLayer = args.has("per-layer");

  Session session = load_session(session_path);
  if (auto id = args.optional("result")) {
    const Result* only = session.find(*id);
    if (!only) throw Error("The session " + session_path + " has no result '" + *id + "'.");
    Result kept = *only;
    session.results = {kept};
  }
  if (session.results.empty()) {
    std::cerr << "The session " << session_path << " has no results; nothing to export.\n";
    return 0;
  }

  // Views are widgets: they need a QApplication, which needs no display when offscreen.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  qInstallMessageHandler(quietQtMessages);
  int qt_argc = 1;
  char name[] = "mechscope-cli";
  char* qt_argv[] = {name, nullptr};
  QApplication app(qt_argc, qt_argv);
  for (const auto& path :
       export_session(session, args.get("out"), formats, static_cast<int>(width), selection))
    std::cout << path.string() << "\n";
  return 0;
}

}  // namespace mechscope::cli
