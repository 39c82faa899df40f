// The views of the head probes — HeadScoresView (head_detector, retrieval_heads), HeadMaskingView
// (head_masking) and KnockoutView (attention_knockout, information_flow) — with synthetic Results
// shaped as the probes write them.
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "views/figure_export.h"
#include "views/head_masking_view.h"
#include "views/head_scores_view.h"
#include "views/knockout_view.h"
#include "views/line_figure.h"

#include "tests/gui/view_test_support.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

// Induction scores of 3 layers × 4 heads: above 0.5 are L2H0 0.99, L0H3 0.95, L2H2 0.62 and
// L1H0 0.55; per 0.1 bin: 3, 2, 1, 1, 1, 1, 1, 0, 0, 2.
const std::vector<float> kInduction = {0.05f, 0.15f, 0.12f, 0.95f, 0.55f, 0.08f,
                                       0.32f, 0.45f, 0.99f, 0.0f,  0.62f, 0.25f};
const std::vector<std::string> kTokens = {"<s>", " a", " b", " c", " a", " b"};

// A causal pattern: query q spreads its attention evenly over keys 0..q.
float causal(int64_t i) {
  const int64_t q = (i / 6) % 6, k = i % 6;
  return k <= q ? 1.0f / float(q + 1) : 0.0f;
}

Result headDetectorResult() {
  Result r;
  r.id = "head_detector-1";
  r.probe = "head_detector";
  r.title = "Head detector — 10 random repeated sequences";
  const Axis layer = labelled("layer", "L", 3), head = labelled("head", "H", 4);
  r.arrays["previous_token"] = filled({3, 4}, {layer, head}, [](int64_t i) { return 0.02f * i; });
  r.arrays["duplicate_token"] =
      filled({3, 4}, {layer, head}, [](int64_t i) { return 0.9f - 0.05f * i; });
  r.arrays["induction"] = array({3, 4}, kInduction, {layer, head});
  r.arrays["induction_offset"] = filled({3, 4, 5}, {layer, head, labelled("offset", "", 5)},
                                        [](int64_t i) { return 0.01f * float(i % 5 + i / 5); });
  r.arrays["pattern"] =
      filled({3, 4, 6, 6}, {layer, head, {"query", kTokens}, {"key", kTokens}}, causal);
  r.meta = {{"threshold", 0.5}, {"source", "random_repeat"}};
  return r;
}

Result retrievalResult(bool pattern) {
  Result r;
  r.id = "retrieval_heads-1";
  r.probe = "retrieval_heads";
  r.title = "Retrieval heads";
  const Axis layer = labelled("layer", "L", 2), head = labelled("head", "H", 3);
  r.arrays["score"] = array({2, 3}, {0.0f, 0.05f, 0.31f, 0.12f, 0.02f, 0.0f}, {layer, head});
  if (pattern)
    r.arrays["pattern"] =
        filled({2, 3, 2, 8}, {layer, head, labelled("step", "", 2), labelled("position", "p", 8)},
               [](int64_t i) { return 0.125f; });
  r.meta = {{"threshold", 0.1},
            {"retrieval_heads",
             {{{"head", "L0H2"}, {"score", 0.31}}, {{"head", "L1H0"}, {"score", 0.12}}}}};
  return r;
}

Result maskingResult() {
  Result r;
  r.id = "head_masking-1";
  r.probe = "head_masking";
  r.title = "Head masking — ioi";
  r.arrays["accuracy"] =
      array({3}, {0.95f, 0.4f, 0.9f}, {{"condition", {"none", "masked", "random"}}});
  r.arrays["random_accuracy"] =
      array({5}, {0.85f, 0.92f, 0.88f, 0.95f, 0.9f}, {labelled("draw", "", 5)});
  r.meta = {{"heads", {"L1H2", "L0H3"}}, {"mode", "uniform"}, {"task", "ioi"}};
  return r;
}

// 5 layers; blocking hurts most around L2 (−60%).
Result knockoutResult(int window) {
  Result r;
  r.id = "attention_knockout-1";
  r.probe = "attention_knockout";
  r.title = "Attention knockout question → last";
  const Axis layer = labelled("layer", "L", 5);
  r.arrays["relative_change"] = array({5}, {-0.1f, -0.3f, -0.6f, -0.2f, 0.05f}, {layer});
  r.arrays["p_blocked"] = array({5}, {0.54f, 0.42f, 0.24f, 0.48f, 0.63f}, {layer});
  r.arrays["example_change"] =
      array({2, 5}, {-0.2f, -0.4f, -0.7f, -0.1f, 0.0f, 0.0f, -0.2f, -0.5f, -0.3f, 0.1f},
            {labelled("example", "", 2), layer});
  r.meta = {{"window", window}, {"from", "question"}, {"to", "last"}, {"p_clean", 0.6}};
  return r;
}

// 4 layers, a 6 × 6 patch grid in regions of 2 × 2 patches, a 12 × 12 image.
Result flowResult() {
  Result r;
  r.id = "information_flow-1";
  r.probe = "information_flow";
  r.title = "Information flow";
  const Axis layer = labelled("layer", "L", 4);
  r.arrays["relative_change"] = array(
      {4, 4},
      {-0.5f, -0.2f, 0, 0, /**/ 0, -0.1f, -0.3f, 0, /**/ 0, 0, -0.8f, -0.1f, /**/ 0, 0, 0, -0.4f},
      {{"flow", {"Image→Question", "Image→Last", "Question→Last", "Last→Last"}}, layer});
  Axis patch{"patch", {}};
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 6; ++x)
      patch.labels.push_back("r" + std::to_string(y) + "c" + std::to_string(x));
  // Region (ry, rx) of layer l: −(l + 1) × (ry × 3 + rx) / 100.
  std::vector<float> relevance;
  for (int l = 0; l < 4; ++l)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 6; ++x)
        relevance.push_back(-float(l + 1) * float((y / 2) * 3 + x / 2) / 100);
  r.arrays["patch_relevance"] = array({4, 36}, relevance, {layer, patch});
  r.arrays["image"] = filled({12, 12, 3}, {{"y", {}}, {"x", {}}, {"channel", {"R", "G", "B"}}},
                             [](int64_t i) { return float(i % 3) * 0.4f + float(i / 36) / 24.0f; });
  r.meta = {{"window", 1}, {"patch_grid", 6}, {"region", 2}, {"p_clean", 0.5}};
  return r;
}

}  // namespace

TEST_CASE("create_result_view picks the head probes' views", "[head-views]") {
  auto is = [](const Result& r, auto* type) {
    std::unique_ptr<ResultView> v(create_result_view(r));
    return dynamic_cast<std::remove_pointer_t<decltype(type)>*>(v.get()) != nullptr;
  };
  CHECK(is(headDetectorResult(), static_cast<HeadScoresView*>(nullptr)));
  CHECK(is(retrievalResult(false), static_cast<HeadScoresView*>(nullptr)));
  CHECK(is(maskingResult(), static_cast<HeadMaskingView*>(nullptr)));
  CHECK(is(knockoutResult(3), static_cast<KnockoutView*>(nullptr)));
  CHECK(is(flowResult(), static_cast<KnockoutView*>(nullptr)));
  // Another probe with the same array names is not theirs.
  Result other = retrievalResult(false);
  other.probe = "something_else";
  CHECK(!is(other, static_cast<HeadScoresView*>(nullptr)));
  CHECK(!HeadMaskingView::canShow(other));
  CHECK(!KnockoutView::canShow(other));
}

TEST_CASE(
    "HeadScoresView: scores, histogram, heads above the threshold, the clicked head's "
    "pattern",
    "[head-views]") {
  auto view = shown<HeadScoresView>(headDetectorResult());
  CHECK(view->arrayNames() == std::vector<std::string>{"previous_token", "duplicate_token",
                                                       "induction", "induction_offset"});
  CHECK(view->arrayName() == "induction");
  CHECK(view->offsets() == 5);
  CHECK(view->threshold() == Approx(0.5));
  CHECK(view->histogram() == std::vector<int>{3, 2, 1, 1, 1, 1, 1, 0, 0, 2});
  const auto above = view->headsAbove();
  REQUIRE(above.size() == 4);
  CHECK(above[0].label == QStringLiteral("L2H0"));
  CHECK(above[1].label == QStringLiteral("L0H3"));
  CHECK(above[3].label == QStringLiteral("L1H0"));
  CHECK(view->toolTipAt(view->binRect(9).center()).contains(QStringLiteral("2 head")));
  CHECK(!view->showsPattern());
  CHECK(view->patternRect().isEmpty());

  // Clicking a head selects it and draws its attention map under the scores.
  const QRect cell = view->headCellRect(1, 2);
  REQUIRE(cell.width() > 4);
  CHECK(view->toolTipAt(cell.center()).startsWith(QStringLiteral("L1H2: induction 0.32")));
  QSignalSpy spy(view.get(), &ResultView::stateChanged);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, cell.center());
  CHECK(spy.count() == 1);
  REQUIRE(view->selectedHead().has_value());
  CHECK(*view->selectedHead() == std::make_pair(1, 2));
  CHECK(view->state()["head"] == nlohmann::json({1, 2}));
  CHECK(view->showsPattern());
  const QRect pattern = view->patternRect();
  REQUIRE(pattern.height() > 20);
  CHECK(pattern.top() > view->headCellRect(2, 0).bottom());
  CHECK(view->toolTipAt(pattern.topLeft() + QPoint(2, 2)).contains(QStringLiteral("<s>")));
  CHECK(view->detailText().startsWith(QStringLiteral("L1H2: previous_token 0.12")));

  // Another array, and the offsets of induction_offset.
  nlohmann::json state = view->state();
  state["array"] = "induction_offset";
  state["offset"] = 2;
  HeadScoresView other(shared(headDetectorResult()));
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(other.score(0, 1) == Approx(0.01 * (1 + 2)));  // flat [0, 1, 2] = 7: 7 % 5 + 7 / 5
  CHECK(other.figureTitle().endsWith(QStringLiteral("induction offset d = 2")));
  other.setState(other.state());
  CHECK(other.state() == state);
  // Out of range: clamped; unknown arrays ignored; null clears the head.
  other.setState({{"offset", 99}, {"head", {7, -2}}, {"array", "nonsense"}, {"zoom", 100}});
  CHECK(other.offset() == 4);
  CHECK(*other.selectedHead() == std::make_pair(2, 0));
  CHECK(other.arrayName() == "induction_offset");
  CHECK(other.zoom() == 16);
  other.setState({{"head", nullptr}});
  CHECK(!other.selectedHead());
  CHECK(!other.showsPattern());
}

TEST_CASE("HeadScoresView: retrieval heads, with and without a pattern", "[head-views]") {
  auto view = shown<HeadScoresView>(retrievalResult(false));
  CHECK(view->arrayNames() == std::vector<std::string>{"score"});
  CHECK(view->threshold() == Approx(0.1));
  const auto above = view->headsAbove();
  REQUIRE(above.size() == 2);
  CHECK(above[0].label == QStringLiteral("L0H2"));
  CHECK(above[1].label == QStringLiteral("L1H0"));
  CHECK(view->histogram() == std::vector<int>{4, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, view->headCellRect(0, 2).center());
  CHECK(*view->selectedHead() == std::make_pair(0, 2));
  CHECK(!view->showsPattern());

  auto withPattern = shown<HeadScoresView>(retrievalResult(true));
  QTest::mouseClick(withPattern->canvas(), Qt::LeftButton, {},
                    withPattern->headCellRect(1, 0).center());
  CHECK(withPattern->showsPattern());
  CHECK(withPattern->patternRect().width() > withPattern->patternRect().height());  // 2 × 8
}

TEST_CASE("HeadMaskingView: accuracy bars with the random draws", "[head-views]") {
  auto view = shown<HeadMaskingView>(maskingResult());
  const BarFigure f = view->accuracyFigure();
  CHECK(f.categories.join(QLatin1Char(',')) == QStringLiteral("none 0.95,masked 0.4,random 0.9"));
  REQUIRE(f.series.size() == 1);
  CHECK(f.series[0].values == std::vector<double>{0.95f, 0.4f, 0.9f});
  CHECK(f.fixedRange);
  CHECK(f.lo == 0);
  CHECK(f.hi == 1);
  CHECK(f.yTitle == QStringLiteral("accuracy"));
  CHECK(view->randomIndex() == 2);
  CHECK(view->randomDraws().size() == 5);
  CHECK(view->caption().contains(QStringLiteral("L1H2, L0H3")));
  CHECK(view->caption().contains(QStringLiteral("uniform")));
  CHECK(view->caption().contains(QStringLiteral("ioi")));
  // The bars scale with accuracy on the fixed axis; each draw sits on the "random" bar.
  CHECK(view->barRect(0).height() > view->barRect(1).height() * 2);
  const QRect random = view->barRect(2);
  for (int i = 0; i < 5; ++i) {
    const QPointF pt = view->drawPoint(i);
    CHECK(pt.x() >= random.left());
    CHECK(pt.x() <= random.right());
  }
  CHECK(view->drawPoint(3).y() < view->drawPoint(0).y());  // 0.95 above 0.85
  CHECK(view->toolTipAt(view->drawPoint(1).toPoint()) ==
        QStringLiteral("random draw 1: accuracy 0.92"));
  CHECK(view->toolTipAt(view->barRect(1).center()).startsWith(QStringLiteral("masked 0.4: ")));
  view->setState({{"zoom", 2.0}});
  CHECK(view->state() == nlohmann::json({{"zoom", 2.0}}));
  view->setState(view->state());
  CHECK(view->state() == nlohmann::json({{"zoom", 2.0}}));
}

TEST_CASE("KnockoutView: the window of the selected layer, clicking a layer", "[head-views]") {
  CHECK(KnockoutView::windowLayers(2, 3, 5) == std::vector<int>{1, 2, 3});
  CHECK(KnockoutView::windowLayers(2, 4, 5) == std::vector<int>{1, 2, 3, 4});
  CHECK(KnockoutView::windowLayers(0, 3, 5) == std::vector<int>{0, 1});
  CHECK(KnockoutView::windowLayers(4, 5, 5) == std::vector<int>{2, 3, 4});
  CHECK(KnockoutView::windowLayers(2, 0, 5).empty());

  auto view = shown<KnockoutView>(knockoutResult(3));
  CHECK(view->layers() == 5);
  CHECK(view->window() == 3);
  CHECK(view->layer() == 2);  // the largest drop
  CHECK(view->figureLayers() == std::vector<int>{0, 1, 2, 3, 4});
  const LineFigure f = view->chartFigure();
  REQUIRE(f.series.size() == 3);  // the mean and two examples
  CHECK(!f.series[0].secondary);
  CHECK(f.series[1].secondary);
  CHECK(f.series[0].values[2] == Approx(-60));  // in %
  CHECK(f.series[0].name == QStringLiteral("question → last"));

  // The band covers L1–L3 and nothing else.
  const QRect band = view->bandRect();
  REQUIRE(band.width() > 10);
  for (int l = 1; l <= 3; ++l) CHECK(band.contains(view->layerRect(l).center()));
  CHECK(!band.contains(view->layerRect(0).center()));
  CHECK(!band.contains(view->layerRect(4).center()));
  CHECK(view->detailText().contains(QStringLiteral("blocks L1–L3")));
  CHECK(view->detailText().contains(QStringLiteral("-60%")));
  CHECK(view->detailText().contains(QStringLiteral("0.24 blocked")));

  QSignalSpy spy(view.get(), &ResultView::stateChanged);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, view->layerRect(4).center());
  CHECK(spy.count() == 1);
  CHECK(view->layer() == 4);
  CHECK(view->blockedLayers() == std::vector<int>{3, 4});
  CHECK(view->bandRect().contains(view->layerRect(3).center()));
  CHECK(!view->bandRect().contains(view->layerRect(2).center()));
  CHECK(view->toolTipAt(view->layerRect(0).center()).startsWith(QStringLiteral("L0: question")));

  // State: round trip, clamping, and "layers" from a per-layer export.
  const nlohmann::json state = {{"layer", 1}, {"zoom", 1.0}};
  view->setState(state);
  CHECK(view->state() == state);
  view->setState(view->state());
  CHECK(view->state() == state);
  view->setState({{"layer", 42}});
  CHECK(view->layer() == 4);
  view->setState({{"layer", -3}});
  CHECK(view->layer() == 0);
  view->setState({{"layers", {3}}});
  CHECK(view->layer() == 3);

  // Window 0 blocks nothing: no band.
  auto none = shown<KnockoutView>(knockoutResult(0));
  CHECK(none->blockedLayers().empty());
  CHECK(none->bandRect().isEmpty());
  CHECK(none->detailText().contains(QStringLiteral("nothing blocked")));
}

TEST_CASE("KnockoutView: information flow's curves and patch relevance", "[head-views]") {
  auto view = shown<KnockoutView>(flowResult());
  const LineFigure f = view->chartFigure();
  REQUIRE(f.series.size() == 4);
  CHECK(f.series[1].name == QStringLiteral("Image→Last"));
  CHECK(view->layer() == 2);  // the largest drop of any flow: Question→Last −80%
  CHECK(view->hasPatches());
  CHECK(view->patchGrid() == 6);
  CHECK(view->region() == 2);
  CHECK(view->bandRect() == view->layerRect(2));  // window 1: the layer itself
  CHECK(view->detailText().startsWith(QStringLiteral("L2 (blocks L2): ")));
  // Patch (3, 5) lies in region (1, 2): −(l + 1) × 5 %.
  CHECK(view->patchRelevance(3, 5) == Approx(-15.0));
  const QRect patch = view->patchRect(3, 5);
  REQUIRE(patch.width() > 4);
  CHECK(view->toolTipAt(patch.center()).contains(QStringLiteral("r3c5 (region r1c2)")));
  for (const char* flow : {"Image→Question", "Image→Last", "Question→Last", "Last→Last"})
    CHECK(view->detailText().contains(QString::fromUtf8(flow)));
  CHECK(view->detailText().contains(QStringLiteral("Question→Last -80%")));
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, view->layerRect(0).center());
  CHECK(view->layer() == 0);
  CHECK(view->patchRelevance(3, 5) == Approx(-5.0));
}

TEST_CASE("Export of the head views: PNG and SVG, one figure per layer", "[head-views][export]") {
  QTemporaryDir tmp;
  REQUIRE(tmp.isValid());
  const fs::path dir(tmp.path().toStdString());
  struct Case {
    Result result;
    nlohmann::json state;
    const char* text;  // in the SVG
  };
  const std::vector<Case> cases = {
      {headDetectorResult(), {{"head", {2, 0}}}, "L2H0 attention"},
      {retrievalResult(true), {{"head", {0, 2}}}, "Heads above"},
      {maskingResult(), {}, "L1H2, L0H3"},
      {knockoutResult(3), {{"layer", 1}}, "L1 blocks L0–L2"},
      {flowResult(), {}, "Patch relevance at L2"},
  };
  for (const Case& c : cases) {
    INFO(c.result.probe);
    const auto files = export_result(c.result, c.state, dir, {"png", "svg"}, 900);
    REQUIRE(files.size() == 2);
    const QImage png(QString::fromStdString(files[0].string()));
    CHECK(png.width() == 900);
    CHECK(distinctColours(png) > 20);
    CHECK(readAll(files[1]).contains(c.text));
  }
  FigureSelection perLayer;
  perLayer.perLayer = true;
  const auto layers = export_result(flowResult(), {}, dir / "layers", {"png"}, 600, perLayer);
  REQUIRE(layers.size() == 4);
  CHECK(layers[3].filename() == "information_flow-1-L3.png");
}
