// The views of the weight probes — NeuronTableView (neuron_decoding), HeadSvdView (head_svd),
// CompositionView (composition), ChannelsView (channels), ClampView (neuron_clamp) — and the bar
// chart for neuron_agreement, with synthetic Results shaped as the probes write them.
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>

#include "views/bar_chart_view.h"
#include "views/channels_view.h"
#include "views/clamp_view.h"
#include "views/composition_view.h"
#include "views/figure_export.h"
#include "views/head_svd_view.h"
#include "views/neuron_table_model.h"
#include "views/neuron_table_view.h"
#include "views/probe_data.h"
#include "views/token_classes.h"

#include "tests/gui/view_test_support.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

const nlohmann::json kTokenStrings = {{"7", " Mary"}, {"9", " John"}, {"11", " the"},
                                      {"3", "Paris"}, {"5", "42"},    {"6", ","}};

// Layers L1 and L3 (a subset), 4 neurons, top 3 tokens each. " Mary" (7) is promoted by L1N0
// (logit 5), L3N1 (3) and L1N2 (1).
Result neuronDecodingResult() {
  Result r;
  r.id = "neuron_decoding-1";
  r.probe = "neuron_decoding";
  r.title = "LM-head neuron decoding";
  const std::vector<Axis> axes = {{"layer", {"L1", "L3"}}, {"neuron", {}}, labelled("rank", "", 3)};
  r.arrays["out_top_token"] = array({2, 4, 3},
                                    {7, 11, 3, 5, 6, 11, 11, 3, 7, 6, 5, 3,  //
                                     3, 11, 9, 9, 7, 11, 5, 9, 6, 11, 6, 9},
                                    axes);
  r.arrays["out_top_logit"] = array({2, 4, 3},
                                    {5, 4, 3, 2, 1, 0.5f, 6, 2, 1, 1.5f, 1, 0.2f,  //
                                     4, 3, 2, 7, 3, 1, 2.5f, 2, 1, 3, 2, 1},
                                    axes);
  std::vector<float> bottom(24), bottomLogit(24), in(24), inLogit(24);
  for (int i = 0; i < 24; ++i) {
    bottom[i] = (i % 2) ? 3 : 6;
    bottomLogit[i] = -1.0f - i;
    in[i] = 9;
    inLogit[i] = 0.5f;
  }
  r.arrays["out_bottom_token"] = array({2, 4, 3}, bottom, axes);
  r.arrays["out_bottom_logit"] = array({2, 4, 3}, bottomLogit, axes);
  r.arrays["in_top_token"] = array({2, 4, 3}, in, axes);
  r.arrays["in_top_logit"] = array({2, 4, 3}, inLogit, axes);
  r.meta = {{"layers", {1, 3}}, {"through_norm", true}, {"token_strings", kTokenStrings}};
  return r;
}

// 2 layers × 3 heads, 4 components with token lists for the first 2.
Result headSvdResult() {
  Result r;
  r.id = "head_svd-1";
  r.probe = "head_svd";
  r.title = "Attention-head SVD";
  const Axis layer = labelled("layer", "L", 2), head = labelled("head", "H", 3);
  std::vector<float> ov, qk;
  for (int i = 0; i < 24; ++i) {
    ov.push_back(10.0f - float(i % 4) * 2 + float(i / 4));
    qk.push_back(5.0f - float(i % 4));
  }
  r.arrays["ov_singular_values"] = array({2, 3, 4}, ov, {layer, head, labelled("component", "C", 4)});
  r.arrays["qk_singular_values"] = array({2, 3, 4}, qk, {layer, head, labelled("component", "C", 4)});
  std::vector<float> in(2 * 3 * 2 * 2, 9), out(2 * 3 * 2 * 2, 11);
  // L1H2, component 0: reads " Mary", "Paris"; writes " Mary", ",".
  const int base = ((1 * 3 + 2) * 2 + 0) * 2;
  in[base] = 7;
  in[base + 1] = 3;
  out[base] = 7;
  out[base + 1] = 6;
  const std::vector<Axis> tokAxes = {layer, head, labelled("component", "C", 2),
                                     labelled("rank", "", 2)};
  r.arrays["ov_in_top_token"] = array({2, 3, 2, 2}, in, tokAxes);
  r.arrays["ov_out_top_token"] = array({2, 3, 2, 2}, out, tokAxes);
  r.arrays["copying_score"] = array({2, 3}, {0.1f, -0.5f, 0.2f, 0.9f, 0, -0.8f}, {layer, head});
  r.meta = {{"token_strings", kTokenStrings}};
  return r;
}

// 3 layers × 2 heads. Meaningful q scores: L0H1→L2H0 0.9, L1H0→L2H1 0.5, L0H0→L1H1 0.25,
// L0H0→L1H0 0.15, the rest 0.05; L1H0→L1H1 (same layer) holds 0.7 that must not show.
Result compositionResult() {
  Result r;
  r.id = "composition-1";
  r.probe = "composition";
  r.title = "Head composition";
  std::vector<float> q(36, 0), k(36, 0), v(36, 0);
  auto at = [](int sl, int sh, int rl, int rh) { return ((sl * 2 + sh) * 3 + rl) * 2 + rh; };
  for (int s = 0; s < 6; ++s)
    for (int t = 0; t < 6; ++t)
      if (s / 2 < t / 2) {
        q[s * 6 + t] = 0.05f;
        k[s * 6 + t] = 0.3f;
        v[s * 6 + t] = 0.1f * float(s + t);
      }
  q[at(0, 1, 2, 0)] = 0.9f;
  q[at(1, 0, 2, 1)] = 0.5f;
  q[at(0, 0, 1, 1)] = 0.25f;
  q[at(0, 0, 1, 0)] = 0.15f;
  q[at(1, 0, 1, 1)] = 0.7f;
  const std::vector<Axis> axes = {labelled("sender_layer", "L", 3), labelled("sender_head", "H", 2),
                                  labelled("receiver_layer", "L", 3),
                                  labelled("receiver_head", "H", 2)};
  r.arrays["q"] = array({3, 2, 3, 2}, q, axes);
  r.arrays["k"] = array({3, 2, 3, 2}, k, axes);
  r.arrays["v"] = array({3, 2, 3, 2}, v, axes);
  r.meta = {{"baseline", {{"q", 0.1}, {"k", 0.2}, {"v", 0.05}}}};
  return r;
}

Result channelsResult(bool metric = true) {
  Result r;
  r.id = "channels-1";
  r.probe = "channels";
  r.title = "Channels L0H0 → L1H1 (q)";
  const Axis comp = labelled("component", "C", 4);
  r.arrays["component_score"] = array({4}, {0.4f, 0.1f, 0.05f, 0.2f}, {comp});
  r.arrays["singular_value"] = array({4}, {8, 4, 2, 1}, {comp});
  if (metric) r.arrays["metric"] = array({2}, {3.0f, -1.0f}, {{"condition", {"original", "scaled"}}});
  r.meta = {{"sender", "L0H0"}, {"receiver", "L1H1"}, {"mode", "q"}, {"composition_score", 0.3}};
  if (metric) r.meta["scale"] = {{"components", {0, 1}}, {"factor", 0.0}};
  return r;
}

Result clampResult() {
  Result r;
  r.id = "neuron_clamp-1";
  r.probe = "neuron_clamp";
  r.title = "Neuron clamp L0N5 = 10";
  const std::vector<Axis> axes = {{"condition", {"clean", "clamped"}}, labelled("rank", "", 3)};
  r.arrays["probs"] = array({2, 3}, {0.5f, 0.2f, 0.1f, 0.8f, 0.1f, 0.05f}, axes);
  r.arrays["tokens"] = array({2, 3}, {9, 11, 7, 7, 9, 3}, axes);
  r.meta = {{"continuation",
             {{"clean", {{"text", " John went home"}, {"tokens", {9}}}},
              {"clamped", {{"text", " Mary Mary Mary"}, {"tokens", {7, 7, 7}}}}}},
            {"answer_prob", {{"clean", 0.1}, {"clamped", 0.8}}},
            {"token_strings", kTokenStrings}};
  return r;
}

std::vector<int64_t> tableOrder(const NeuronTableModel& m) {
  std::vector<int64_t> out;
  for (int r = 0; r < m.rowCount(); ++r) out.push_back(m.neuronAt(r));
  return out;
}

}  // namespace

TEST_CASE("create_result_view picks the weight probes' views", "[views][weights]") {
  auto is = [](const Result& r, auto* type) {
    std::unique_ptr<ResultView> v(create_result_view(r));
    return dynamic_cast<std::remove_pointer_t<decltype(type)>*>(v.get()) != nullptr;
  };
  CHECK(is(neuronDecodingResult(), static_cast<NeuronTableView*>(nullptr)));
  CHECK(is(headSvdResult(), static_cast<HeadSvdView*>(nullptr)));
  CHECK(is(compositionResult(), static_cast<CompositionView*>(nullptr)));
  CHECK(is(channelsResult(), static_cast<ChannelsView*>(nullptr)));
  CHECK(is(clampResult(), static_cast<ClampView*>(nullptr)));

  // neuron_agreement: the generic bar chart, one labelled bar per layer.
  Result agreement;
  agreement.id = "neuron_agreement-1";
  agreement.probe = "neuron_agreement";
  agreement.title = "Neuron agreement";
  agreement.arrays["agreement"] = array({3}, {0.9f, 0.5f, 0.25f}, {{"layer", {"L0", "L2", "L4"}}});
  agreement.meta = {{"mean", 0.55}};
  auto bars = shown<BarChartView>(agreement);
  CHECK(bars->arrayName() == "agreement");
  CHECK(bars->toolTipAt(bars->barSlot(1).center()).contains(QStringLiteral("layer L2")));
  CHECK(bars->toolTipAt(bars->barSlot(1).center()).contains(QStringLiteral("0.5")));
}

TEST_CASE("Token classes: word starts, numbers, punctuation", "[views][weights]") {
  CHECK(tokenStartsWord(QStringLiteral(" the")));
  CHECK(tokenStartsWord(QStringLiteral("▁the")));
  CHECK(!tokenStartsWord(QStringLiteral("the")));
  CHECK(tokenIsDigits(QStringLiteral(" 42")));
  CHECK(!tokenIsDigits(QStringLiteral("4a")));
  CHECK(tokenIsPunctuation(QStringLiteral(",")));
  CHECK(tokenIsPunctuation(QStringLiteral(" ).")));
  CHECK(!tokenIsPunctuation(QStringLiteral(" ")));
}

TEST_CASE("NeuronTableView: the filter finds the neurons promoting a token, by its logit",
          "[views][weights]") {
  auto view = shown<NeuronTableView>(neuronDecodingResult());
  NeuronTableModel& m = *view->model();
  CHECK(m.rowCount() == 8);
  CHECK(m.layerLabels().join(QLatin1Char(' ')) == QStringLiteral("L1 L3"));
  CHECK(m.index(5, 0).data().toString() == QStringLiteral("L3"));
  CHECK(m.index(5, 1).data().toInt() == 1);
  CHECK(m.index(0, m.columnOf(NeuronTableModel::Column::Top)).data().toString() ==
        QStringLiteral("·Mary 5.00, ·the 4.00, Paris 3.00"));
  CHECK(m.columnOf(NeuronTableModel::Column::Gate) == -1);  // not a gated MLP

  // Per-layer shares of the top-1 token classes.
  REQUIRE(view->shares().size() == 2);
  CHECK(view->shares()[0].wordStart == Approx(0.5));
  CHECK(view->shares()[0].digit == Approx(0.25));
  CHECK(view->shares()[0].punctuation == Approx(0.25));
  CHECK(view->shares()[1].punctuation == Approx(0.0));

  QSignalSpy spy(view.get(), &ResultView::stateChanged);
  QTest::keyClicks(view->filterEdit(), QStringLiteral("Mary"));
  CHECK(spy.count() >= 1);
  CHECK(tableOrder(m) == std::vector<int64_t>{0, 5, 2});  // logits 5, 3, 1
  const int match = m.columnOf(NeuronTableModel::Column::Match);
  REQUIRE(match >= 0);
  CHECK(m.index(1, match).data().toString() == QStringLiteral("3.000"));
  CHECK(view->state()["sort_column"] == "match");
  CHECK(view->state()["sort_order"] == "descending");
  CHECK(view->figureTitle().contains(QStringLiteral("“Mary”")));
  CHECK(view->topRowLines(5).size() == 3);
  CHECK(view->topRowLines(5)[0].startsWith(QStringLiteral("L1 N0")));
  // "·Mary" (as the table shows it) and "#7" find the same neurons.
  m.setFilter(QStringLiteral("·Mary"));
  CHECK(tableOrder(m) == std::vector<int64_t>{0, 5, 2});
  m.setFilter(QStringLiteral("#7"));
  CHECK(tableOrder(m) == std::vector<int64_t>{0, 5, 2});

  // Without a filter: sorting by the top logit, from the header.
  view->setState({{"filter", ""}});
  CHECK(m.rowCount() == 8);
  CHECK(view->state()["sort_column"] == "layer");
  view->table()->sortByColumn(m.columnOf(NeuronTableModel::Column::Top), Qt::DescendingOrder);
  CHECK(tableOrder(m) == std::vector<int64_t>{5, 2, 0, 4, 7, 6, 1, 3});
  CHECK(view->state()["sort_column"] == "top");

  // Selecting a row, and the state round trip.
  view->table()->selectRow(1);  // L1N2
  CHECK(view->selectedNeuron() == 2);
  const nlohmann::json state = {
      {"filter", "Mary"}, {"sort_column", "match"}, {"sort_order", "ascending"}, {"selected", {1, 1}}};
  NeuronTableView other(shared(neuronDecodingResult()));
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(tableOrder(*other.model()) == std::vector<int64_t>{2, 5, 0});
  CHECK(other.selectedNeuron() == 5);
  CHECK(other.table()->selectionModel()->isRowSelected(1, {}));
  CHECK(other.filterEdit()->text() == QStringLiteral("Mary"));
  other.setState({{"selected", nullptr}, {"sort_column", "nonsense"}});
  CHECK(other.selectedNeuron() == -1);
  CHECK(other.state()["sort_column"] == "match");
}

TEST_CASE("NeuronTableView handles tens of thousands of neurons", "[views][weights]") {
  Result r = neuronDecodingResult();
  const int L = 12, N = 3072, K = 10;
  Axis layer{"layer", {}};
  for (int l = 0; l < L; ++l) layer.labels.push_back("L" + std::to_string(l));
  const std::vector<Axis> axes = {layer, {"neuron", {}}, labelled("rank", "", K)};
  std::vector<float> tokens(size_t(L) * N * K), logits(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = float(i % 13 == 0 ? 7 : 11);
    logits[i] = float(i % 1000) / 100.0f;
  }
  r.arrays.clear();
  r.arrays["out_top_token"] = array({L, N, K}, tokens, axes);
  r.arrays["out_top_logit"] = array({L, N, K}, logits, axes);
  NeuronTableView view(shared(r));
  CHECK(view.model()->rowCount() == L * N);
  view.model()->setFilter(QStringLiteral("Mary"));
  const NeuronTableModel& m = *view.model();
  REQUIRE(m.rowCount() > 1000);
  bool ranked = true;
  for (int i = 1; i < m.rowCount(); ++i)
    ranked = ranked && m.matchLogit(m.neuronAt(i - 1)) >= m.matchLogit(m.neuronAt(i));
  CHECK(ranked);
}

TEST_CASE("HeadSvdView: clicking a head shows its spectrum and tokens", "[views][weights]") {
  auto view = shown<HeadSvdView>(headSvdResult());
  CHECK(view->layer() == 0);
  CHECK(view->head() == 0);
  const QRect cell = view->headCellRect(1, 2);
  REQUIRE(cell.width() > 4);
  QSignalSpy spy(view.get(), &ResultView::stateChanged);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, cell.center());
  CHECK(spy.count() == 1);
  CHECK(view->layer() == 1);
  CHECK(view->head() == 2);
  // L1H2 is flat head 5: OV 10 - 2c + 5.
  CHECK(view->spectrum(false) == std::vector<double>{15, 13, 11, 9});
  CHECK(view->spectrum(true) == std::vector<double>{5, 4, 3, 2});
  const QStringList lines = view->componentLines();
  REQUIRE(lines.size() == 2);  // token lists only for the leading components
  CHECK(lines[0] == QStringLiteral("C0 σ 15: reads ·Mary, Paris → writes ·Mary, ,"));
  CHECK(view->detailText().contains(QStringLiteral("L1H2: copying score -0.8")));
  CHECK(view->figureTitle().endsWith(QStringLiteral("L1H2 OV")));
  CHECK(view->toolTipAt(cell.center()).contains(QStringLiteral("L1H2: copying score -0.8")));

  const nlohmann::json state = {{"layer", 1}, {"head", 1}, {"circuit", "qk"}, {"zoom", 1.0}};
  HeadSvdView other(shared(headSvdResult()));
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(other.qk());
  CHECK(other.figureTitle().endsWith(QStringLiteral("L1H1 QK")));
  other.setState({{"layer", 9}, {"head", -3}, {"circuit", "ov"}});
  CHECK(other.layer() == 1);
  CHECK(other.head() == 0);
  CHECK(!other.qk());
}

TEST_CASE("CompositionView: the threshold fades weak pairs and lists the strongest",
          "[views][weights]") {
  auto view = shown<CompositionView>(compositionResult());
  CHECK(view->rowLabels().join(QLatin1Char(' ')) == QStringLiteral("L0H0 L0H1 L1H0 L1H1"));
  CHECK(view->colLabels().join(QLatin1Char(' ')) == QStringLiteral("L1H0 L1H1 L2H0 L2H1"));
  CHECK(view->mode() == "q");
  CHECK(view->baseline().value() == Approx(0.1));
  CHECK(view->threshold() == Approx(0.2));  // twice the baseline
  CHECK(std::isnan(view->cellValue(2, 1)));  // L1H0 → L1H1: same layer
  CHECK(view->cellValue(1, 2) == Approx(0.9f));
  CHECK(view->faded(0, 0));   // 0.15 < 0.2
  CHECK(!view->faded(0, 1));  // 0.25

  auto names = [](const std::vector<CompositionView::Pair>& pairs) {
    QStringList out;
    for (const auto& p : pairs) out << p.sender + QStringLiteral(">") + p.receiver;
    return out.join(QLatin1Char(' '));
  };
  CHECK(names(view->strongestPairs()) == QStringLiteral("L0H1>L2H0 L1H0>L2H1 L0H0>L1H1"));
  CHECK(view->strongestPairs()[0].value == Approx(0.9));
  CHECK(view->toolTipAt(view->cellRect(1, 2).center()).contains(QStringLiteral("L0H1 → L2H0")));

  view->setState({{"threshold", 0.3}});
  CHECK(names(view->strongestPairs()) == QStringLiteral("L0H1>L2H0 L1H0>L2H1"));
  CHECK(view->faded(0, 1));
  CHECK(view->toolTipAt(view->cellRect(0, 1).center()).contains(QStringLiteral("below")));

  // Another mode gets its own default threshold unless one is given.
  view->setState({{"mode", "k"}});
  CHECK(view->threshold() == Approx(0.4));
  CHECK(view->strongestPairs().empty());
  const nlohmann::json state = {{"mode", "v"}, {"threshold", 0.55}, {"zoom", 1.0}};
  CompositionView other(shared(compositionResult()));
  other.setState(state);
  CHECK(other.state() == state);
  for (const auto& p : other.strongestPairs()) CHECK(p.value >= 0.55);
  CHECK(!other.strongestPairs().empty());
}

TEST_CASE("ChannelsView: a bar per component, the whole-matrix line, the metric pair",
          "[views][weights]") {
  auto view = shown<ChannelsView>(channelsResult());
  const BarFigure f = view->componentFigure();
  CHECK(f.categories.size() == 4);
  REQUIRE(f.series.size() == 1);
  CHECK(f.series[0].values == std::vector<double>{0.4f, 0.1f, 0.05f, 0.2f});
  CHECK(f.line.values == std::vector<double>{8, 4, 2, 1});
  REQUIRE(f.references.size() == 1);
  CHECK(f.references[0].value == Approx(0.3));
  CHECK(view->hasMetric());
  CHECK(view->metricFigure().categories.join(QLatin1Char(' ')) ==
        QStringLiteral("original scaled"));
  CHECK(view->caption().contains(QStringLiteral("L0H0 → L1H1, Q-composition")));
  CHECK(view->caption().contains(QStringLiteral("C0,C1 × 0")));
  const QRect bar = view->barRect(0);
  REQUIRE(bar.height() > 4);
  CHECK(view->barRect(0).height() > view->barRect(1).height());
  CHECK(view->toolTipAt(bar.center()).startsWith(QStringLiteral("C0: component score 0.4")));

  ChannelsView plain(shared(channelsResult(false)));
  CHECK(!plain.hasMetric());
  plain.setState({{"singular_values", false}, {"zoom", 1.0}});
  CHECK(plain.state() == nlohmann::json({{"singular_values", false}, {"zoom", 1.0}}));
  CHECK(plain.componentFigure().line.values.empty());
}

TEST_CASE("ClampView: top tokens clean and clamped, and the continuations", "[views][weights]") {
  auto view = shown<ClampView>(clampResult());
  CHECK(view->conditions() == 2);
  CHECK(view->tokens(0).join(QLatin1Char(' ')) == QStringLiteral("·John ·the ·Mary"));
  CHECK(view->tokens(1).join(QLatin1Char(' ')) == QStringLiteral("·Mary ·John Paris"));
  CHECK(view->prob(1, 0) == Approx(0.8f));
  CHECK(view->continuation(1) == QStringLiteral(" Mary Mary Mary"));
  CHECK(view->caption() == QStringLiteral("answer probability: clean 0.1 → clamped 0.8"));
  CHECK(view->toolTipAt(view->barRect(1, 0).center()) ==
        QStringLiteral("clamped, rank 1: “·Mary” p = 0.8"));
  ClampView other(shared(clampResult()));
  other.setState({{"top", 2}});
  CHECK(other.state() == nlohmann::json({{"top", 2}}));
  CHECK(other.tokens(0).size() == 2);
  other.setState({{"top", 99}});
  CHECK(other.top() == 3);
}

TEST_CASE("Export of the weight views: PNG, SVG, PDF", "[views][weights][export]") {
  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());
  struct Case {
    Result result;
    nlohmann::json state;
    const char* text;  // in the SVG
  };
  const std::vector<Case> cases = {
      {neuronDecodingResult(), {{"filter", "Mary"}}, "Mary"},
      {headSvdResult(), {{"layer", 1}, {"head", 2}}, "Paris"},
      {compositionResult(), {}, "L0H1"},
      {channelsResult(), {}, "whole matrix"},
      {clampResult(), {}, "Mary"},
  };
  for (const Case& c : cases) {
    const auto files = export_result(c.result, c.state, dir, {"png", "svg", "pdf"}, 900);
    REQUIRE(files.size() == 3);
    for (const auto& f : files) CHECK(fs::file_size(f) > 0);
    CHECK(QImage(QString::fromStdString(files[0].string())).width() == 900);
    INFO(c.result.probe);
    CHECK(readAll(files[1]).contains(c.text));
    CHECK(readAll(files[2]).startsWith("%PDF"));
  }
}
