// The views that draw Results (attention, heatmap, bar chart, summary), their state, colour maps
// and figure export to PNG/SVG/PDF — all with synthetic Results, offscreen.
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QSet>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/util/error.h"
#include "views/attention_view.h"
#include "views/bar_chart_view.h"
#include "views/colormap.h"
#include "views/figure_export.h"
#include "views/heatmap_view.h"
#include "views/summary_view.h"

using namespace mechscope;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTokens = {"<s>", "When", "Mary", "and", "John"};

// A 2-layer × 2-head causal pattern over 5 tokens; every row sums to 1.
Result attentionResult() {
  Result r;
  r.id = "attention-1";
  r.probe = "attention";
  r.title = "Attention — When Mary and John";
  Array a;
  a.shape = {2, 2, 5, 5};
  a.axes = {{"layer", {}}, {"head", {}}, {"query", kTokens}, {"key", kTokens}};
  for (int l = 0; l < 2; ++l)
    for (int h = 0; h < 2; ++h)
      for (int q = 0; q < 5; ++q) {
        float sum = 0;
        for (int k = 0; k <= q; ++k) sum += float(k + 1 + l + 2 * h);
        for (int k = 0; k < 5; ++k) a.data.push_back(k <= q ? float(k + 1 + l + 2 * h) / sum : 0.f);
      }
  r.arrays["pattern"] = a;
  r.meta = {{"inputs", {{"prompt", "When Mary and John"}}}};
  return r;
}

// A 3 × 4 grid of signed scores, e.g. [layer, head].
Result scoresResult() {
  Result r;
  r.id = "head_scores/2";
  r.probe = "head_scores";
  r.title = "Head scores";
  Array a;
  a.shape = {3, 4};
  a.axes = {{"layer", {"L0", "L1", "L2"}}, {"head", {"H0", "H1", "H2", "H3"}}};
  for (int i = 0; i < 12; ++i) a.data.push_back(float(i - 5) / 4.0f);
  r.arrays["score"] = a;
  return r;
}

Result barResult() {
  Result r;
  r.id = "logit-diff-1";
  r.probe = "logit_lens";
  r.title = "Logit difference per layer";
  Array a;
  a.shape = {4};
  a.axes = {{"layer", {}}};
  a.data = {0.5f, -1.25f, 2.0f, 3.5f};
  r.arrays["logit_diff"] = a;
  return r;
}

std::shared_ptr<const Result> shared(Result r) {
  return std::make_shared<const Result>(std::move(r));
}

int distinctColours(const QImage& image) {
  QSet<QRgb> colours;
  for (int y = 0; y < image.height(); y += 2)
    for (int x = 0; x < image.width(); x += 2) colours.insert(image.pixel(x, y));
  return colours.size();
}

QByteArray readAll(const fs::path& path) {
  QFile f(QString::fromStdString(path.string()));
  REQUIRE(f.open(QIODevice::ReadOnly));
  return f.readAll();
}

}  // namespace

TEST_CASE("Colour maps: viridis ends, a white diverging centre, JSON round trip", "[views]") {
  CHECK(sequentialColor(0) == QColor(68, 1, 84));
  CHECK(sequentialColor(1) == QColor(253, 231, 37));
  CHECK(sequentialColor(-3) == sequentialColor(0));  // clamped
  CHECK(divergingColor(0) == QColor(255, 255, 255));
  CHECK(divergingColor(-1).blue() > divergingColor(-1).red());
  CHECK(divergingColor(1).red() > divergingColor(1).blue());

  ColorScale s;
  s.kind = ColorScale::Kind::Diverging;
  const ColorScale r = s.resolved(-2.0, 1.0);
  CHECK(r.min == -2.0);
  CHECK(r.max == 2.0);
  CHECK(r.color(0.0) == QColor(255, 255, 255));
  CHECK(r.color(2.0) == divergingColor(1));
  CHECK(r.color(-2.0) == divergingColor(-1));

  ColorScale seq;
  seq.autoRange = false;
  seq.max = 0.5;
  seq.gamma = 0.5;
  CHECK(seq.resolved(0, 1).color(0.5) == sequentialColor(1));
  CHECK(seq.position(0.125) == Approx(0.5));  // (0.125 / 0.5) ^ 0.5
  CHECK(ColorScale::fromJson(seq.toJson()) == seq);
  CHECK(ColorScale::fromJson(r.toJson()) == r);
  // Bad values keep the fallback's.
  CHECK(ColorScale::fromJson({{"gamma", -1}, {"min", 3}, {"max", 1}}, seq) == seq);
  CHECK(formatValue(0.25) == QStringLiteral("0.25"));
  CHECK(formatValue(-1.5) == QStringLiteral("-1.5"));
}

TEST_CASE("AttentionView state round-trips through JSON", "[views]") {
  AttentionView view(shared(attentionResult()));
  CHECK(view.layers() == 2);
  CHECK(view.heads() == 2);
  CHECK(view.mode() == AttentionView::Mode::Layer);
  QSignalSpy spy(&view, &ResultView::stateChanged);
  const nlohmann::json state = {
      {"mode", "head"},
      {"layer", 1},
      {"head", 0},
      {"query", {1, 3}},
      {"key", {0, 2}},
      {"scale",
       {{"kind", "sequential"}, {"auto", false}, {"min", 0.0}, {"max", 0.5}, {"gamma", 0.7}}},
      {"zoom", 2.0}};
  view.setState(state);
  CHECK(spy.count() == 0);  // programmatic changes are not user changes
  CHECK(view.state() == state);
  CHECK(view.mode() == AttentionView::Mode::Head);

  AttentionView other(shared(attentionResult()));
  other.setState(view.state());
  CHECK(other.state() == view.state());

  // Out-of-range values are clamped, unknown keys ignored.
  other.setState({{"layer", 7}, {"head", -3}, {"query", {3, 99}}, {"bogus", true}});
  CHECK(other.layer() == 1);
  CHECK(other.head() == 0);
  CHECK(other.state()["query"] == nlohmann::json({3, 4}));
}

TEST_CASE("AttentionView: clicking a thumbnail opens that head; tooltips name tokens", "[views]") {
  AttentionView view(shared(attentionResult()));
  view.resize(900, 700);
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));
  view.setState({{"mode", "all"}});
  const QRect thumb = view.thumbnailRect(1, 1);
  REQUIRE(thumb.width() > 10);
  CHECK(view.thumbnailRect(0, 0).right() < thumb.left());  // heads left to right
  CHECK(view.thumbnailRect(0, 1).bottom() < thumb.top());  // layers top to bottom

  // Hovering a thumbnail cell already names the head and tokens.
  const QString gridTip = view.toolTipAt(thumb.center());
  CHECK(gridTip.contains(QStringLiteral("L1H1")));

  QSignalSpy spy(&view, &ResultView::stateChanged);
  QTest::mouseClick(view.canvas(), Qt::LeftButton, {}, thumb.center());
  CHECK(spy.count() == 1);
  CHECK(view.mode() == AttentionView::Mode::Head);
  CHECK(view.layer() == 1);
  CHECK(view.head() == 1);
  CHECK(view.state()["mode"] == "head");

  // Query "John" (4) attending to key "Mary" (2) in L1H1: (2 + 1 + 1 + 2) / (sum over k ≤ 4).
  const QRect cell = view.cellRect(4, 2);
  REQUIRE(cell.width() > 4);
  const float expected = 6.0f / (4 + 5 + 6 + 7 + 8);
  const QString tip = view.toolTipAt(cell.center());
  CHECK(tip.contains(QStringLiteral("query 4: “John”")));
  CHECK(tip.contains(QStringLiteral("key 2: “Mary”")));
  CHECK(tip.contains(QString::number(expected, 'f', 4)));
  CHECK(view.toolTipAt(QPoint(1, 1)).isEmpty());

  // A token range narrows the single-head figure: key 0 is no longer drawn.
  view.setState({{"key", {1, 4}}});
  CHECK(view.cellRect(4, 0).isNull());
  CHECK(view.toolTipAt(view.cellRect(4, 2).center()).contains(QStringLiteral("“Mary”")));

  // Grid mode: the layer's heads, and clicking the second one opens it.
  view.setState({{"mode", "layer"}, {"layer", 0}});
  const QRect second = view.thumbnailRect(0, 1);
  REQUIRE(!second.isNull());
  QTest::mouseClick(view.canvas(), Qt::LeftButton, {}, second.center());
  CHECK(view.layer() == 0);
  CHECK(view.head() == 1);
}

TEST_CASE("HeatmapView draws a signed grid with a diverging scale", "[views]") {
  HeatmapView view(shared(scoresResult()));
  CHECK(view.rows() == 3);
  CHECK(view.cols() == 4);
  CHECK(view.colorScale().kind == ColorScale::Kind::Diverging);
  const nlohmann::json state = view.state();
  CHECK(state["array"] == "score");

  HeatmapView other(shared(scoresResult()));
  nlohmann::json changed = state;
  changed["scale"]["auto"] = false;
  changed["scale"]["min"] = -4.0;
  changed["scale"]["max"] = 4.0;
  other.setState(changed);
  CHECK(other.state() == changed);

  view.resize(700, 500);
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));
  const QRect cell = view.cellRect(2, 3);  // value (11 - 5) / 4 = 1.5
  REQUIRE(cell.width() > 4);
  const QString tip = view.toolTipAt(cell.center());
  CHECK(tip.contains(QStringLiteral("L2")));
  CHECK(tip.contains(QStringLiteral("H3")));
  CHECK(tip.contains(QStringLiteral("1.5")));
  CHECK(!view.grab().toImage().isNull());
}

TEST_CASE("create_result_view picks a view that draws something for every result", "[views]") {
  std::unique_ptr<ResultView> a(create_result_view(attentionResult()));
  CHECK(dynamic_cast<AttentionView*>(a.get()) != nullptr);
  std::unique_ptr<ResultView> h(create_result_view(scoresResult()));
  CHECK(dynamic_cast<HeatmapView*>(h.get()) != nullptr);
  std::unique_ptr<ResultView> b(create_result_view(barResult()));
  CHECK(dynamic_cast<BarChartView*>(b.get()) != nullptr);

  Result cube = scoresResult();  // 3-d arrays are flattened to rows × last axis
  cube.arrays["score"].shape = {3, 2, 2};
  cube.arrays["score"].axes = {{"layer", {}}, {"head", {}}, {"pos", {}}};
  std::unique_ptr<ResultView> c(create_result_view(cube));
  auto* cubeView = dynamic_cast<HeatmapView*>(c.get());
  REQUIRE(cubeView != nullptr);
  CHECK(cubeView->rows() == 6);
  CHECK(cubeView->cols() == 2);

  Result empty;
  empty.id = "note-1";
  empty.probe = "note";
  empty.meta = {{"text", "nothing to plot"}};
  std::unique_ptr<ResultView> s(create_result_view(empty));
  auto* summary = dynamic_cast<SummaryView*>(s.get());
  REQUIRE(summary != nullptr);
  CHECK(summary->lines().join('\n').contains(QStringLiteral("nothing to plot")));

  // Each draws a figure that is not blank.
  for (ResultView* v : {a.get(), h.get(), b.get(), c.get(), s.get()}) {
    QImage image(480, 360, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter p(&image);
    v->paintFigure(p, image.rect());
    p.end();
    CHECK(distinctColours(image) > 8);
  }
}

TEST_CASE("Figure export writes PNG, SVG and PDF from the view's code", "[views][export]") {
  QTemporaryDir tmp;
  const fs::path dir = fs::path(tmp.path().toStdString()) / "figures";
  const auto files = export_result(attentionResult(), {{"mode", "head"}, {"layer", 1}, {"head", 1}},
                                   dir, {"png", "SVG", "pdf"}, 640);
  REQUIRE(files.size() == 3);
  CHECK(files[0] == dir / "attention-1.png");
  CHECK(files[1] == dir / "attention-1.svg");
  CHECK(files[2] == dir / "attention-1.pdf");

  const QImage png(QString::fromStdString(files[0].string()));
  REQUIRE(!png.isNull());
  CHECK(png.width() == 640);
  CHECK(png.height() > 200);
  CHECK(distinctColours(png) > 30);

  QSvgRenderer svg(QString::fromStdString(files[1].string()));
  CHECK(svg.isValid());
  const QByteArray svgText = readAll(files[1]);
  CHECK(svgText.contains("<rect"));
  CHECK(svgText.count("<rect") >= 15);  // the 15 cells of a causal 5 × 5 head are vector rects
  CHECK(!svgText.contains("<image"));

  const QByteArray pdf = readAll(files[2]);
  CHECK(pdf.startsWith("%PDF"));
  CHECK(pdf.size() > 1000);

  // The grid modes and the other views export too.
  CHECK(export_result(attentionResult(), {{"mode", "all"}}, dir, {"png"}, 800).size() == 1);
  const auto scores = export_result(scoresResult(), {}, dir, {"png", "svg"}, 500);
  CHECK(scores[0].filename() == "head_scores_2.png");
  CHECK(distinctColours(QImage(QString::fromStdString(scores[0].string()))) > 12);
}

TEST_CASE("Figure export rejects bad formats, widths and folders", "[views][export]") {
  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());
  CHECK_THROWS_AS(export_result(attentionResult(), {}, dir, {"gif"}, 640), Error);
  CHECK_THROWS_AS(export_result(attentionResult(), {}, dir, {}, 640), Error);
  CHECK_THROWS_AS(export_result(attentionResult(), {}, dir, {"png"}, 10), Error);
  CHECK(fs::is_empty(dir));  // nothing written before the checks pass
  std::ofstream(dir / "file") << "x";
  CHECK_THROWS_AS(export_result(attentionResult(), {}, dir / "file" / "sub", {"png"}, 640), Error);
  CHECK(parse_export_formats("png, SVG,pdf") == std::vector<std::string>{"png", "svg", "pdf"});
  CHECK_THROWS_AS(parse_export_formats("png,jpeg"), Error);
  CHECK(export_file_stem("../a b/c") == "_a_b_c");
  CHECK(export_file_stem("") == "result");
}

TEST_CASE("export_session writes every result with its saved view state", "[views][export]") {
  Session session;
  session.results = {attentionResult(), scoresResult(), barResult()};
  session.views = {{"results", {{"attention-1", {{"mode", "head"}, {"layer", 0}, {"head", 1}}}}}};
  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());
  const auto files = export_session(session, dir, {"png"}, 480);
  REQUIRE(files.size() == 3);
  CHECK(files[0].filename() == "attention-1.png");
  CHECK(files[1].filename() == "head_scores_2.png");
  CHECK(files[2].filename() == "logit-diff-1.png");
  for (const auto& f : files) CHECK(QImage(QString::fromStdString(f.string())).width() == 480);
}
