#pragma once
// Figure export: a Result drawn by its view, offscreen, into PNG (raster), SVG and PDF (vector).
// The same paintFigure() code draws the screen, so an export looks like the view.
// Needs a QApplication (views are widgets); with QT_QPA_PLATFORM=offscreen no display is used.
#include <QByteArray>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/session/session.h"

namespace mechscope {

class ResultView;

/// What an export draws beyond each result's saved view state.
struct FigureSelection {
  std::vector<int> layers;  ///< Set as the view state's "layers" (empty: the saved state's).
  std::vector<int> heads;   ///< Set as the view state's "heads" (empty: the saved state's).
  /// One figure per layer the view draws (ResultView::figureLayers), each after
  /// setState({"layers": [k]}), named "<id>-L<k>.<ext>"; views without layers export one figure.
  bool perLayer = false;
};

/// How an export may run off the GUI thread: views are widgets, so they are made and destroyed
/// through `on_gui_thread`; drawing and writing happen on the calling thread (QPainter on QImage,
/// SVG and PDF is thread-safe). `progress` gets the fraction done; returning false cancels
/// (mechscope::Cancelled is thrown between figures).
struct ExportControl {
  std::function<void(const std::function<void()>&)> on_gui_thread;  ///< empty: call directly
  std::function<bool(double fraction)> progress;
};

/// Writes one file per format ("png", "svg", "pdf"; case-insensitive) to `dir` (created when
/// missing), named after the result id made safe for file names ("attention-1.png"), drawn by the
/// result's view after setState(view_state), `width_px` wide (PDF: 1 px = 0.75 pt). Returns the
/// files written. Throws mechscope::Error for an unknown format, a width outside [64, 16384], a
/// folder that cannot be created or a file that cannot be written, or when no QApplication exists.
/// `selection` narrows what is drawn (layers, heads) or splits it into one figure per layer.
std::vector<std::filesystem::path> export_result(
    const Result& result, const nlohmann::json& view_state, const std::filesystem::path& dir,
    const std::vector<std::string>& formats, int width_px, const FigureSelection& selection = {},
    const ExportControl& control = {});

/// export_result for every result of `session` with its saved view state
/// (session.views["results"][id]); names made unique when two ids sanitise alike.
std::vector<std::filesystem::path> export_session(const Session& session,
                                                  const std::filesystem::path& dir,
                                                  const std::vector<std::string>& formats,
                                                  int width_px,
                                                  const FigureSelection& selection = {},
                                                  const ExportControl& control = {});

/// One figure of `result` (drawn after setState(view_state)) into `file`, in the format its
/// suffix names (.png, .svg, .pdf), `width_px` wide. Throws mechscope::Error like export_result.
void export_figure_file(const Result& result, const nlohmann::json& view_state,
                        const std::filesystem::path& file, int width_px,
                        const ExportControl& control = {});

/// The figure of `view` encoded as `format` at width × height pixels (throws on a bad format).
QByteArray render_figure(const ResultView& view, const std::string& format, int width, int height);

/// `id` with everything but letters, digits, '.', '_' and '-' replaced by '_' ("result" if empty).
std::string export_file_stem(const std::string& id);

/// "png,SVG, pdf" → {"png", "svg", "pdf"}; throws mechscope::Error naming an unknown format.
std::vector<std::string> parse_export_formats(const std::string& list);

/// "0,2, 5" → {0, 2, 5}; throws mechscope::Error naming `what` ("--layers") for anything but
/// comma-separated non-negative integers.
std::vector<int> parse_index_list(const std::string& list, const std::string& what);

}  // namespace mechscope
