// SaeCircuitView (probe "sae_circuit"): ranked heads, the circuit graph and its edge threshold,
// the ROC curve, the state and the export — with a synthetic Result shaped as the probe writes it.
#include <QImage>
#include <QTemporaryDir>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>

#include "tests/gui/view_test_support.h"
#include "views/figure_export.h"
#include "views/result_view.h"
#include "views/sae_circuit_view.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

// 3 layers × 2 heads. Flat heads: 0 L0H0, 1 L0H1, 2 L1H0, 3 L1H1, 4 L2H0, 5 L2H1.
Result saeCircuitResult(bool withRoc = true) {
  Result r;
  r.id = "sae_circuit-1";
  r.probe = "sae_circuit";
  r.title = "SAE circuit — ioi (10 examples)";
  const Axis layer = labelled("layer", "L", 3), head = labelled("head", "H", 2);
  r.arrays["head_score"] = array({3, 2}, {0.05f, 0.3f, 0.1f, 0.02f, 0.45f, 0.08f}, {layer, head});
  r.arrays["head_count"] = array({3, 2}, {0, 2, 1, 0, 3, 1}, {layer, head});
  r.arrays["truth_effect"] = array({3, 2}, {0.0f, 0.4f, 0.05f, 0.0f, 0.6f, -0.2f}, {layer, head});
  std::vector<float> edges(36, 0.0f);
  edges[1 * 6 + 4] = 4;  // L0H1 → L2H0
  edges[1 * 6 + 2] = 2;  // L0H1 → L1H0
  edges[0 * 6 + 5] = 1;  // L0H0 → L2H1
  edges[2 * 6 + 4] = 3;  // L1H0 → L2H0
  edges[4 * 6 + 1] = 9;  // L2H0 → L0H1: not a forward pair, never drawn
  r.arrays["edge_score"] =
      array({3, 2, 3, 2}, edges,
            {labelled("sender_layer", "L", 3), labelled("sender_head", "H", 2),
             labelled("receiver_layer", "L", 3), labelled("receiver_head", "H", 2)});
  const Axis xy{"axis", {"fpr", "tpr"}};
  if (withRoc) {
    r.arrays["roc"] =
        array({4, 2}, {0, 0, 0, 0.6667f, 0.3333f, 1, 1, 1}, {labelled("point", "", 4), xy});
    r.arrays["edge_roc"] = array({3, 2}, {0, 0, 0.5f, 1, 1, 1}, {labelled("point", "", 3), xy});
  }
  r.meta = {
      {"truth_heads", {"L0H1", "L2H0", "L2H1"}},
      {"truth_threshold", 0.1},
      {"auc", withRoc ? nlohmann::json(0.875) : nlohmann::json()},
      {"edge_auc", withRoc ? nlohmann::json(0.75) : nlohmann::json()},
      {"seconds_sae", 1.25},
      {"seconds_patching", 0.5},
      {"sae",
       {{"latents", 200}, {"l1", 0.02}, {"distinct_codes", 42}, {"explained_variance", 0.36}}}};
  return r;
}

QStringList labels(const std::vector<SaeCircuitView::RankedHead>& heads) {
  QStringList out;
  for (const auto& h : heads) out << h.label + (h.truth ? QStringLiteral("*") : QString());
  return out;
}

QString edgeList(const std::vector<GraphEdge>& edges) {
  QStringList out;
  for (const auto& e : edges) out << QStringLiteral("%1>%2:%3").arg(e.from).arg(e.to).arg(e.value);
  return out.join(QLatin1Char(' '));
}

}  // namespace

TEST_CASE("SaeCircuitView ranks heads, marks the patching truth and is the sae_circuit view",
          "[views][sae_circuit]") {
  const auto result = shared(saeCircuitResult());
  CHECK(SaeCircuitView::canShow(*result));
  std::unique_ptr<ResultView> picked(create_result_view(result));
  CHECK(dynamic_cast<SaeCircuitView*>(picked.get()) != nullptr);
  Result other = saeCircuitResult();
  other.probe = "head_detector";
  CHECK_FALSE(SaeCircuitView::canShow(other));

  auto view = shown<SaeCircuitView>(saeCircuitResult());
  CHECK(view->figure() == SaeCircuitView::Figure::Heads);
  CHECK(labels(view->rankedHeads()).join(QLatin1Char(' ')) ==
        QStringLiteral("L2H0* L0H1* L1H0 L2H1* L0H0 L1H1"));
  CHECK(view->isTruth(2, 1));
  CHECK_FALSE(view->isTruth(1, 0));
  CHECK(view->auc().value() == Approx(0.875));
  const BarFigure bars = view->headsFigure();
  REQUIRE(bars.series.size() == 1);
  CHECK(bars.series[0].values.front() == Approx(0.45));
  CHECK(bars.line.values.front() == Approx(0.6));  // L2H0's patching effect, right axis
  CHECK(view->detailText().contains(QStringLiteral("L2H0* 0.45")));
  CHECK(view->detailText().contains(QStringLiteral("42 distinct codes, explained variance 0.36")));
}

TEST_CASE("SaeCircuitView's edge threshold hides weaker edges in the graph",
          "[views][sae_circuit]") {
  auto view = shown<SaeCircuitView>(saeCircuitResult());
  // The largest forward edge is 4 (the backward 9 is ignored): the default is half, rounded up.
  CHECK(view->edgeMax() == Approx(4));
  CHECK(view->threshold() == Approx(2));
  CHECK(edgeList(view->visibleEdges()) == QStringLiteral("1>2:2 1>4:4 2>4:3"));

  view->setState({{"figure", "graph"}, {"threshold", 0}});
  CHECK(edgeList(view->visibleEdges()) == QStringLiteral("0>5:1 1>2:2 1>4:4 2>4:3"));
  const QImage all = QImage::fromData(render_figure(*view, "png", 800, 600));
  view->setState({{"threshold", 3.5}});
  CHECK(edgeList(view->visibleEdges()) == QStringLiteral("1>4:4"));
  CHECK(view->graphFigure().edges.size() == 1);
  const QImage few = QImage::fromData(render_figure(*view, "png", 800, 600));
  REQUIRE(!all.isNull());
  CHECK(all.size() == few.size());
  CHECK(all != few);
  // Nodes: tooltips name the head, its score, its truth and its edges at this threshold.
  const QRect node = view->nodeRect(2, 0);
  REQUIRE(!node.isEmpty());
  const QString tip = view->toolTipAt(node.center());
  CHECK(tip.contains(QStringLiteral("L2H0")));
  CHECK(tip.contains(QStringLiteral("truth head")));
  CHECK(tip.contains(QStringLiteral("0 edge(s) out, 1 in")));
  CHECK(view->detailText().contains(QStringLiteral("1 edge(s) at or above 3.5")));
}

TEST_CASE("SaeCircuitView's state round-trips and the ROC figure has the AUC in its legend",
          "[views][sae_circuit]") {
  auto view = shown<SaeCircuitView>(saeCircuitResult());
  const nlohmann::json state = {{"figure", "roc"}, {"threshold", 3.0}, {"zoom", 1.0}};
  view->setState(state);
  CHECK(view->state() == state);
  SaeCircuitView other(shared(saeCircuitResult()));
  other.setState(state);
  CHECK(other.state() == state);
  other.setState({{"figure", "no such figure"}, {"threshold", "x"}});  // ignored
  CHECK(other.state() == state);

  const RocFigure roc = view->rocFigure();
  REQUIRE(roc.curves.size() == 2);
  CHECK(rocLegendText(roc.curves[0]) == QStringLiteral("heads (AUC 0.875)"));
  CHECK(roc.curves[1].points.size() == 3);

  SaeCircuitView empty(shared(saeCircuitResult(false)));
  CHECK(empty.rocFigure().curves.empty());
}

TEST_CASE("Export of SaeCircuitView: each figure as PNG and SVG", "[views][sae_circuit][export]") {
  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());
  struct Case {
    nlohmann::json state;
    const char* text;  // in the SVG
  };
  const std::vector<Case> cases = {{{{"figure", "heads"}}, "L2H0"},
                                   {{{"figure", "graph"}, {"threshold", 1}}, "patching truth"},
                                   {{{"figure", "roc"}}, "AUC 0.875"}};
  for (const Case& c : cases) {
    INFO(c.state.dump());
    const fs::path sub = dir / c.state["figure"].get<std::string>();
    const auto files = export_result(saeCircuitResult(), c.state, sub, {"png", "svg"}, 900);
    REQUIRE(files.size() == 2);
    const QImage png(QString::fromStdString(files[0].string()));
    CHECK(png.width() == 900);
    CHECK(distinctColours(png) > 8);
    CHECK(readAll(files[1]).contains(c.text));
  }
  const auto files =
      export_result(saeCircuitResult(false), {{"figure", "roc"}}, dir / "empty", {"svg"}, 900);
  CHECK(readAll(files[0]).contains("No ROC curve"));
}
