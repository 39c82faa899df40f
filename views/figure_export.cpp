#include "views/figure_export.h"

#include <QApplication>
#include <QBuffer>
#include <QImage>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

#include "core/util/error.h"
#include "views/result_view.h"

namespace mechscope {
namespace fs = std::filesystem;
namespace {

constexpr int kMinWidth = 64;
constexpr int kMaxWidth = 16384;
const char* kKnownFormats = "png, svg or pdf";

std::string normalised(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> checkedFormats(const std::vector<std::string>& formats) {
  std::vector<std::string> out;
  for (const std::string& f : formats) {
    const std::string n = normalised(f);
    if (n != "png" && n != "svg" && n != "pdf")
      throw Error("Unknown export format '" + f + "' (use " + kKnownFormats + ").");
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  if (out.empty()) throw Error(std::string("No export format given (use ") + kKnownFormats + ").");
  return out;
}

void checkCanExport(int width) {
  if (width < kMinWidth || width > kMaxWidth)
    throw Error("Export width " + std::to_string(width) + " px is outside " +
                std::to_string(kMinWidth) + "–" + std::to_string(kMaxWidth) + " px.");
  if (!qobject_cast<QApplication*>(QCoreApplication::instance()))
    throw Error("Figure export needs a QApplication (views are widgets).");
}

void makeFolder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("Cannot create the export folder " + dir.string() + ": " +
                (ec ? ec.message() : std::string("not a folder")) + ".");
}

void writeFile(const fs::path& path, const QByteArray& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(bytes.constData(), bytes.size());
  if (out) out.close();
  if (!out) throw Error("Cannot write " + path.string() + ": " + std::strerror(errno) + ".");
}

QByteArray renderPng(const ResultView& view, int w, int h) {
  QImage image(w, h, QImage::Format_RGB32);
  image.fill(Qt::white);
  {
    QPainter p(&image);
    view.paintFigure(p, QRect(0, 0, w, h));
  }
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return buffer.data();
}

QByteArray renderSvg(const ResultView& view, int w, int h) {
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setSize(QSize(w, h));
  svg.setViewBox(QRect(0, 0, w, h));
  svg.setResolution(96);
  svg.setTitle(view.figureTitle());
  svg.setDescription(QStringLiteral("mechscope figure"));
  {
    QPainter p(&svg);
    p.fillRect(QRect(0, 0, w, h), Qt::white);
    view.paintFigure(p, QRect(0, 0, w, h));
  }
  return buffer.data();
}

QByteArray renderPdf(const ResultView& view, int w, int h) {
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  {
    QPdfWriter pdf(&buffer);
    pdf.setCreator(QStringLiteral("mechscope"));
    pdf.setTitle(view.figureTitle());
    pdf.setPageSize(
        QPageSize(QSizeF(w * 0.75, h * 0.75), QPageSize::Point, QString(), QPageSize::ExactMatch));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setResolution(96);
    QPainter p(&pdf);
    // The page holds about w × h device units at 96 dpi; map the figure onto it exactly.
    p.scale(pdf.width() / double(w), pdf.height() / double(h));
    p.fillRect(QRect(0, 0, w, h), Qt::white);
    view.paintFigure(p, QRect(0, 0, w, h));
  }
  return buffer.data();
}

/// Runs widget work where widgets may live (the GUI thread when exporting from a worker).
void onGuiThread(const ExportControl& control, const std::function<void()>& f) {
  if (control.on_gui_thread)
    control.on_gui_thread(f);
  else
    f();
}

/// Throws Cancelled when the control's progress callback says stop.
void report(const ExportControl& control, double fraction) {
  if (control.progress && !control.progress(fraction)) throw Cancelled();
}

std::vector<fs::path> exportView(const ResultView& view, const fs::path& dir,
                                 const std::string& stem, const std::vector<std::string>& formats,
                                 int width, const ExportControl& control, double fraction) {
  const int height = std::max(kMinWidth / 2, view.figureHeightForWidth(width));
  std::vector<fs::path> written;
  for (const std::string& format : formats) {
    report(control, fraction);
    const fs::path path = dir / (stem + "." + format);
    writeFile(path, render_figure(view, format, width, height));
    written.push_back(path);
  }
  return written;
}

using ViewPtr = std::unique_ptr<ResultView, std::function<void(ResultView*)>>;

// A view over `result` without copying it (the view lives only while exporting), showing the
// saved state with the selection's layers and heads on top. Made and destroyed on the GUI thread.
ViewPtr offscreenView(const Result& result, const nlohmann::json& state,
                      const FigureSelection& selection, const ExportControl& control) {
  ResultView* view = nullptr;
  onGuiThread(control, [&] {
    view = create_result_view(std::shared_ptr<const Result>(std::shared_ptr<const Result>(), &result));
    view->setState(state);
    nlohmann::json chosen = nlohmann::json::object();
    if (!selection.layers.empty()) chosen["layers"] = selection.layers;
    if (!selection.heads.empty()) chosen["heads"] = selection.heads;
    if (!chosen.empty()) view->setState(chosen);
  });
  return ViewPtr(view, [control](ResultView* v) { onGuiThread(control, [v] { delete v; }); });
}

// The figure(s) of one result: one, or one per layer. `from`–`to` is the share of the progress
// this result covers.
std::vector<fs::path> exportResult(const Result& result, const nlohmann::json& state,
                                   const fs::path& dir, const std::string& stem,
                                   const std::vector<std::string>& formats, int width,
                                   const FigureSelection& selection, const ExportControl& control,
                                   double from, double to) {
  report(control, from);
  ViewPtr view = offscreenView(result, state, selection, control);
  const std::vector<int> layers = selection.perLayer ? view->figureLayers() : std::vector<int>();
  if (layers.empty()) return exportView(*view, dir, stem, formats, width, control, from);
  std::vector<fs::path> written;
  for (size_t i = 0; i < layers.size(); ++i) {
    const int layer = layers[i];
    onGuiThread(control, [&] { view->setState({{"layers", {layer}}}); });
    const double fraction = from + (to - from) * double(i) / double(layers.size());
    for (auto& path : exportView(*view, dir, stem + "-L" + std::to_string(layer), formats, width,
                                 control, fraction))
      written.push_back(path);
  }
  return written;
}

}  // namespace

QByteArray render_figure(const ResultView& view, const std::string& format, int width, int height) {
  const std::string f = normalised(format);
  if (f == "png") return renderPng(view, width, height);
  if (f == "svg") return renderSvg(view, width, height);
  if (f == "pdf") return renderPdf(view, width, height);
  throw Error("Unknown export format '" + format + "' (use " + kKnownFormats + ").");
}

std::string export_file_stem(const std::string& id) {
  std::string s;
  for (unsigned char c : id)
    s += (std::isalnum(c) || c == '.' || c == '_' || c == '-') ? char(c) : '_';
  s.erase(0, s.find_first_not_of('.'));  // no hidden files, no ".."
  return s.empty() ? "result" : s;
}

std::vector<std::string> parse_export_formats(const std::string& list) {
  std::vector<std::string> formats;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = normalised(list.substr(start, comma - start));
    if (!item.empty()) formats.push_back(item);
    start = comma + 1;
  }
  return checkedFormats(formats);
}

std::vector<int> parse_index_list(const std::string& list, const std::string& what) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = normalised(list.substr(start, comma - start));
    const bool digits =
        !item.empty() && item.size() <= 6 &&
        std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits)
      throw Error("Option " + what + " needs comma-separated numbers (e.g. 0,2), got '" + list +
                  "'.");
    out.push_back(std::stoi(item));
    start = comma + 1;
  }
  return out;
}

std::vector<fs::path> export_result(const Result& result, const nlohmann::json& view_state,
                                    const fs::path& dir, const std::vector<std::string>& formats,
                                    int width_px, const FigureSelection& selection,
                                    const ExportControl& control) {
  const std::vector<std::string> checked = checkedFormats(formats);
  checkCanExport(width_px);
  makeFolder(dir);
  return exportResult(result, view_state, dir, export_file_stem(result.id), checked, width_px,
                      selection, control, 0.0, 1.0);
}

void export_figure_file(const Result& result, const nlohmann::json& view_state,
                        const fs::path& file, int width_px, const ExportControl& control) {
  std::string format = file.extension().string();
  if (!format.empty()) format.erase(0, 1);
  const std::vector<std::string> checked = checkedFormats({format});
  checkCanExport(width_px);
  report(control, 0.0);
  ViewPtr view = offscreenView(result, view_state, {}, control);
  const int height = std::max(kMinWidth / 2, view->figureHeightForWidth(width_px));
  writeFile(file, render_figure(*view, checked.front(), width_px, height));
}

std::vector<fs::path> export_session(const Session& session, const fs::path& dir,
                                     const std::vector<std::string>& formats, int width_px,
                                     const FigureSelection& selection,
                                     const ExportControl& control) {
  const std::vector<std::string> checked = checkedFormats(formats);
  checkCanExport(width_px);
  makeFolder(dir);
  const nlohmann::json& states = session.views.is_object() && session.views.contains("results")
                                     ? session.views["results"]
                                     : nlohmann::json::object();
  std::set<std::string> stems;
  std::vector<fs::path> written;
  const double n = double(session.results.size());
  for (size_t i = 0; i < session.results.size(); ++i) {
    const Result& result = session.results[i];
    std::string stem = export_file_stem(result.id);
    for (int n = 2; stems.count(stem); ++n)
      stem = export_file_stem(result.id) + "-" + std::to_string(n);
    stems.insert(stem);
    const nlohmann::json state =
        states.is_object() && states.contains(result.id) ? states[result.id] : nlohmann::json();
    for (auto& path : exportResult(result, state, dir, stem, checked, width_px, selection, control,
                                   double(i) / n, double(i + 1) / n))
      written.push_back(path);
  }
  return written;
}

}  // namespace mechscope
