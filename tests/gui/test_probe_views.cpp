// The views of the causal probes — PatchingView, DlaView, LogitLensView — and the export of
// token-labelled, per-layer figures, with synthetic Results shaped as the probes write them.
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>

#include "views/attention_view.h"
#include "views/dla_view.h"
#include "views/figure_export.h"
#include "views/logit_lens_view.h"
#include "views/patching_view.h"
#include "views/probe_data.h"

#include "tests/gui/view_test_support.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPrompt = {"<s>", "When", " Mary", " and", " John"};
const nlohmann::json kTokenStrings = {
    {"7", " Mary"}, {"9", " John"}, {"11", " the"}, {"3", "Paris"}};

Axis layerAxis(int n, bool final = false) {
  Axis a{"layer", {}};
  for (int l = 0; l < n; ++l) a.labels.push_back("L" + std::to_string(l));
  if (final) a.labels.back() = "final";
  return a;
}

Axis headAxis(int n) {
  Axis a{"head", {}};
  for (int h = 0; h < n; ++h) a.labels.push_back("H" + std::to_string(h));
  return a;
}

// Activation patching over [layer 3, position 5] with the patched runs' top-2 tokens.
Result patchingResult(const std::string& probe = "activation_patching",
                      const std::string& metric = "logit_diff") {
  Result r;
  r.id = probe + "-1";
  r.probe = probe;
  r.title = "Patching — When Mary and John";
  r.arrays["effect"] = filled({3, 5}, {layerAxis(3), {"position", kPrompt}},
                              [](int64_t i) { return -1.5f + 0.25f * float(i); });
  r.arrays["top_token"] =
      filled({3, 5, 2}, {layerAxis(3), {"position", kPrompt}, {"rank", {"1", "2"}}},
             [](int64_t i) { return i % 2 ? 9.0f : 7.0f; });
  r.arrays["top_prob"] =
      filled({3, 5, 2}, {layerAxis(3), {"position", kPrompt}, {"rank", {"1", "2"}}},
             [](int64_t i) { return i % 2 ? 0.125f : 0.625f; });
  r.meta = {{"metric", metric},
            {"clean_metric", 3.0},
            {"corrupted_metric", -1.5},
            {"token_strings", kTokenStrings}};
  return r;
}

Result dlaResult() {
  Result r;
  r.id = "logit_attribution-1";
  r.probe = "logit_attribution";
  r.title = "Direct logit attribution";
  Array heads;
  heads.shape = {2, 3};
  heads.axes = {layerAxis(2), headAxis(3)};
  heads.data = {0.1f, -2.0f, 0.3f, 1.5f, 0.05f, -0.4f};
  r.arrays["heads"] = heads;
  r.arrays["mlp"] = Array{{2}, {0.7f, -0.2f}, {layerAxis(2)}};
  r.arrays["other"] = Array{{2}, {0.25f, -0.01f}, {{"term", {"embed", "pos_embed"}}}};
  r.arrays["neurons"] = Array{{2, 2}, {0.0f, 3.0f, -0.5f, 0.1f}, {layerAxis(2), {"neuron", {}}}};
  r.meta = {{"metric", "logit_diff"}, {"logit_diff", 0.99}};
  return r;
}

Result logitLensResult() {
  Result r;
  r.id = "logit_lens-1";
  r.probe = "logit_lens";
  r.title = "Logit lens";
  const std::vector<std::string> prompt = {"The", " capital", " of"};
  const std::vector<Axis> axes = {layerAxis(3, true), {"position", prompt}, {"rank", {"1", "2"}}};
  // Top-1 " the" early, "Paris" at the final layer's last position.
  Array tokens{{3, 3, 2}, {}, axes}, probs{{3, 3, 2}, {}, axes};
  for (int l = 0; l < 3; ++l)
    for (int p = 0; p < 3; ++p) {
      const bool paris = l == 2 && p == 2;
      tokens.data.insert(tokens.data.end(), {paris ? 3.0f : 11.0f, paris ? 11.0f : 9.0f});
      probs.data.insert(probs.data.end(), {0.2f + 0.3f * l, 0.05f});
    }
  r.arrays["top_token"] = tokens;
  r.arrays["top_prob"] = probs;
  r.arrays["answer_logprob"] =
      Array{{3, 3}, {-9, -8, -7, -6, -5, -4, -3, -2, -0.5f}, {axes[0], axes[1]}};
  r.meta = {{"token_strings", kTokenStrings}};
  return r;
}

Result attentionResult() {
  Result r;
  r.id = "attention-1";
  r.probe = "attention";
  r.title = "Attention";
  r.arrays["pattern"] =
      filled({2, 2, 5, 5}, {{"layer", {}}, {"head", {}}, {"query", kPrompt}, {"key", kPrompt}},
             [](int64_t i) { return float(i % 5) / 5.0f; });
  return r;
}

}  // namespace

TEST_CASE("create_result_view picks the probe views by probe name", "[views][probes]") {
  for (const char* probe : {"activation_patching", "attribution_patching", "path_patching"}) {
    std::unique_ptr<ResultView> v(create_result_view(patchingResult(probe)));
    CHECK(dynamic_cast<PatchingView*>(v.get()) != nullptr);
  }
  std::unique_ptr<ResultView> d(create_result_view(dlaResult()));
  CHECK(dynamic_cast<DlaView*>(d.get()) != nullptr);
  std::unique_ptr<ResultView> l(create_result_view(logitLensResult()));
  CHECK(dynamic_cast<LogitLensView*>(l.get()) != nullptr);
  std::unique_ptr<ResultView> a(create_result_view(attentionResult()));
  CHECK(dynamic_cast<AttentionView*>(a.get()) != nullptr);
}

TEST_CASE("PatchingView centres colours on the corrupted metric, or 0 for differences",
          "[views][probes]") {
  PatchingView act(shared(patchingResult()));
  CHECK(act.rows() == 3);
  CHECK(act.cols() == 5);
  CHECK(act.colorScale().center == -1.5);
  CHECK(act.colorScale().kind == ColorScale::Kind::Diverging);
  CHECK(act.figureLayers() == std::vector<int>{0, 1, 2});
  PatchingView path(shared(patchingResult("path_patching")));
  CHECK(path.colorScale().center == -1.5);
  PatchingView normalized(shared(patchingResult("activation_patching", "normalized")));
  CHECK(normalized.colorScale().center == 0.0);
  PatchingView attribution(shared(patchingResult("attribution_patching")));
  CHECK(attribution.colorScale().center == 0.0);

  // The centre is white; values equally far either side get the two ends of the map.
  ColorScale s = act.colorScale().resolved(-1.5, 2.0);
  CHECK(s.min == Approx(-5.0));
  CHECK(s.max == Approx(2.0));
  CHECK(s.color(-1.5) == QColor(255, 255, 255));
  CHECK(s.color(2.0) == divergingColor(1));
  CHECK(ColorScale::fromJson(s.toJson()) == s);
  CHECK(s.toJson()["center"] == -1.5);
}

TEST_CASE("PatchingView: clicking a cell shows its exact value and the top tokens",
          "[views][probes]") {
  auto view = shown<PatchingView>(patchingResult());
  CHECK(view->detailText().isEmpty());
  const QRect cell = view->cellRect(1, 2);  // layer 1, position 2 " Mary": flat 7
  REQUIRE(cell.width() > 4);
  QSignalSpy spy(view.get(), &ResultView::stateChanged);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, cell.center());
  CHECK(spy.count() == 1);
  const QString detail = view->detailText();
  const float value = -1.5f + 0.25f * 7;
  CHECK(detail.contains(exactValue(value)));
  CHECK(detail.contains(QStringLiteral("layer L1")));
  CHECK(detail.contains(QStringLiteral("position 2 “·Mary”")));
  CHECK(detail.contains(QStringLiteral("1. “·Mary” 0.625")));
  CHECK(detail.contains(QStringLiteral("2. “·John” 0.125")));
  CHECK(view->state()["cell"] == nlohmann::json({1, 2}));
  CHECK(view->toolTipAt(cell.center()) == detail);
  // The panel shows the ranks as one paragraph, so it stays short for any k.
  CHECK(compactDetail(QStringLiteral("a\n1. x\n2. y\nb")) == QStringLiteral("a\n1. x    2. y\nb"));

  // State round trip, and the clicked cell comes back with it.
  PatchingView other(shared(patchingResult()));
  nlohmann::json state = view->state();
  state["layers"] = {0, 1};
  state["scale"]["gamma"] = 0.5;
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(other.detailText() == detail);
  CHECK(other.rows() == 2);
  CHECK(other.figureLayers() == std::vector<int>{0, 1});
  other.setState({{"cell", nullptr}, {"layers", {2, 9}}});
  CHECK(other.detailText().isEmpty());
  CHECK(other.figureLayers() == std::vector<int>{2});
}

TEST_CASE("PatchingView chooses heads or components of 3-d effects", "[views][probes]") {
  Result heads = patchingResult();
  heads.arrays["effect"] = filled({2, 5, 3}, {layerAxis(2), {"position", kPrompt}, headAxis(3)},
                                  [](int64_t i) { return float(i); });
  heads.arrays.erase("top_token");
  heads.arrays.erase("top_prob");
  PatchingView hv(shared(heads));
  CHECK(hv.rows() == 6);  // all heads: layer × head rows
  CHECK(hv.cols() == 5);
  CHECK(hv.figureTitle().contains(QStringLiteral("all heads")));
  hv.setState({{"slice", 2}});
  CHECK(hv.rows() == 2);
  CHECK(hv.figureTitle().contains(QStringLiteral("H2")));
  // [layer 1, position 3, head 2] is flat (1 * 5 + 3) * 3 + 2 = 26.
  hv.setState({{"cell", {1, 3, 2}}});
  CHECK(hv.detailText().contains(QStringLiteral("= 26")));
  hv.setState({{"slice", -1}, {"heads", {1}}});
  CHECK(hv.rows() == 2);

  Result block = patchingResult();
  block.arrays["effect"] = filled(
      {3, 2, 5},
      {{"component", {"resid_pre", "attn_out", "mlp_out"}}, layerAxis(2), {"position", kPrompt}},
      [](int64_t i) { return float(i) / 10; });
  block.arrays.erase("top_token");
  block.arrays.erase("top_prob");
  PatchingView bv(shared(block));
  CHECK(bv.rows() == 2);
  CHECK(bv.figureTitle().contains(QStringLiteral("resid_pre")));
  bv.setState({{"slice", 1}, {"cell", {1, 1, 4}}});
  CHECK(bv.figureTitle().contains(QStringLiteral("attn_out")));
  CHECK(bv.detailText().contains(QStringLiteral("component attn_out")));
  CHECK(bv.detailText().contains(exactValue(float(19) / 10)));
}

TEST_CASE("PatchingView compares attribution with activation patching", "[views][probes]") {
  Result r = patchingResult("attribution_patching");
  r.arrays["activation_effect"] = filled({3, 5}, {layerAxis(3), {"position", kPrompt}},
                                         [](int64_t i) { return float((i * 7) % 5); });
  const Array& a = r.arrays["effect"];
  const Array& b = r.arrays["activation_effect"];
  double ma = 0, mb = 0;
  for (int i = 0; i < 15; ++i) ma += a.data[i] / 15.0, mb += b.data[i] / 15.0;
  double sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < 15; ++i) {
    sab += (a.data[i] - ma) * (b.data[i] - mb);
    saa += (a.data[i] - ma) * (a.data[i] - ma);
    sbb += (b.data[i] - mb) * (b.data[i] - mb);
  }
  auto view = shown<PatchingView>(r);
  CHECK(view->comparing());
  CHECK(view->correlation() == Approx(sab / std::sqrt(saa * sbb)));
  CHECK(view->figureTitle().contains(QString::number(view->correlation(), 'f', 3)));
  const QRect left = view->cellRect(0, 1), right = view->cellRect(0, 1, true);
  REQUIRE(right.width() > 4);
  CHECK(left.right() < right.left());
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, right.center());
  CHECK(view->detailText().contains(QStringLiteral("activation patching = 2")));

  r.meta["correlation"] = 0.5;
  PatchingView given(shared(r));
  CHECK(given.correlation() == 0.5);
  given.setState({{"compare", false}});
  CHECK(!given.comparing());
}

TEST_CASE("DlaView ranks components by |value| and sums them", "[views][probes]") {
  auto view = shown<DlaView>(dlaResult());
  // Joined to one string: test_gui's precompiled header brings glog's operator<< for vectors,
  // which cannot print QStrings.
  auto labels = [&view] {
    QStringList out;
    for (const auto& c : view->shownComponents()) out << c.label;
    return out.join(QLatin1Char(' '));
  };
  CHECK(labels() == QStringLiteral("L0H1 L1H0 MLP0 L1H2 L0H2 embed MLP1 L0H0 L1H1 pos_embed"));
  CHECK(view->shownComponents()[0].value == Approx(-2.0));
  CHECK(view->componentSum() ==
        Approx(0.1 - 2.0 + 0.3 + 1.5 + 0.05 - 0.4 + 0.7 - 0.2 + 0.25 - 0.01));
  CHECK(view->figureTitle().contains(QStringLiteral("logit diff 0.99")));
  CHECK(view->figureTitle().contains(formatValue(view->componentSum(), 4)));

  view->setState({{"top", 3}, {"neurons", true}});
  CHECK(labels() == QStringLiteral("L0N1 L0H1 L1H0"));
  CHECK(view->toolTipAt(view->barRect(0).center()) == QStringLiteral("L0N1: 3"));
  CHECK(view->toolTipAt(view->headCellRect(1, 0).center()).contains(QStringLiteral("L1H0: 1.5")));

  const nlohmann::json state = {{"top", 5},
                                {"neurons", false},
                                {"layers", {1}},
                                {"scale", view->colorScale().toJson()},
                                {"zoom", 1.0}};
  DlaView other(shared(dlaResult()));
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(other.figureLayers() == std::vector<int>{1});
  for (const auto& c : other.shownComponents()) CHECK(c.layer != 0);
}

TEST_CASE("LogitLensView shows each cell's top-1 token and the top-k on click", "[views][probes]") {
  auto view = shown<LogitLensView>(logitLensResult());
  CHECK(view->layers() == 3);
  CHECK(view->positions() == 3);
  CHECK(view->position() == 2);  // the answer chart starts at the last position
  CHECK(view->cellText(0, 0) == QStringLiteral("·the"));
  CHECK(view->cellText(2, 2) == QStringLiteral("Paris"));
  CHECK(view->cellText(2, 2) == tokenText(view->result(), 3));

  const QRect cell = view->cellRect(2, 2);
  REQUIRE(cell.width() > 4);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, view->cellRect(1, 0).center());
  CHECK(view->position() == 0);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, cell.center());
  const QString detail = view->detailText();
  CHECK(detail.contains(QStringLiteral("final, position 2 “·of”")));
  CHECK(detail.contains(QStringLiteral("1. “Paris” 0.8")));
  CHECK(detail.contains(QStringLiteral("2. “·the” 0.05")));
  CHECK(detail.contains(QStringLiteral("answer log-prob = -0.5")));
  CHECK(view->toolTipAt(cell.center()) == detail);

  const nlohmann::json state = view->state();
  CHECK(state["cell"] == nlohmann::json({2, 2}));
  LogitLensView other(shared(logitLensResult()));
  other.setState(state);
  CHECK(other.state() == state);
  other.setState({{"layers", {0, 2}}, {"position", 1}});
  CHECK(other.figureLayers() == std::vector<int>{0, 2});
  CHECK(other.position() == 1);

  // Every cell's text is drawn: the figure is not blank and contains the token in SVG.
  QTemporaryDir tmp;
  const auto files =
      export_result(logitLensResult(), {}, fs::path(tmp.path().toStdString()), {"svg"}, 900);
  const QByteArray svg = readAll(files.at(0));
  CHECK(svg.contains("Paris"));
  CHECK(svg.contains("capital"));
}

TEST_CASE("Export: token labels on token axes, every format, one file per layer",
          "[views][export][probes]") {
  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());

  // Attention's default figure (one layer's heads) labels each head's queries and keys.
  AttentionView attention(shared(attentionResult()));
  CHECK(attention.gridHasTokenLabels(QRectF(0, 0, 1200, 900)));
  const auto att = export_result(attentionResult(), {}, dir, {"svg"}, 1200);
  const QByteArray attSvg = readAll(att.at(0));
  CHECK(attSvg.contains("Mary"));
  CHECK(attSvg.contains("John"));

  for (const Result& r : {patchingResult(), dlaResult(), logitLensResult()}) {
    const auto files = export_result(r, {}, dir, {"png", "svg", "pdf"}, 800);
    REQUIRE(files.size() == 3);
    for (const auto& f : files) CHECK(fs::file_size(f) > 0);
    CHECK(QImage(QString::fromStdString(files[0].string())).width() == 800);
    CHECK(readAll(files[2]).startsWith("%PDF"));
    if (r.probe == "activation_patching") CHECK(readAll(files[1]).contains("Mary"));
  }

  // Per layer: one figure per layer, named <id>-L<k>; --layers narrows which.
  FigureSelection perLayer;
  perLayer.perLayer = true;
  auto files = export_result(attentionResult(), {}, dir / "att", {"png"}, 600, perLayer);
  REQUIRE(files.size() == 2);
  CHECK(files[0].filename() == "attention-1-L0.png");
  CHECK(files[1].filename() == "attention-1-L1.png");
  files = export_result(patchingResult(), {}, dir / "patch", {"png", "svg"}, 600, perLayer);
  CHECK(files.size() == 6);
  CHECK(files[4].filename() == "activation_patching-1-L2.png");
  perLayer.layers = {0, 2};
  files = export_result(patchingResult(), {}, dir / "some", {"png"}, 600, perLayer);
  REQUIRE(files.size() == 2);
  CHECK(files[1].filename() == "activation_patching-1-L2.png");

  // --heads on attention: only those heads' panels; the figure still exports.
  FigureSelection heads;
  heads.heads = {1};
  heads.layers = {1};
  files = export_result(attentionResult(), {{"mode", "all"}}, dir / "heads", {"png"}, 600, heads);
  CHECK(files.size() == 1);
  CHECK(parse_index_list("0, 2,5", "--layers") == std::vector<int>{0, 2, 5});
  CHECK_THROWS(parse_index_list("0,x", "--layers"));
}

TEST_CASE("PatchingView shows the SAE latents whose patch moved the metric, strongest first",
          "[views][probes][sae]") {
  Result r;
  r.id = "activation_patching-1";
  r.probe = "activation_patching";
  std::vector<std::string> latents;
  for (int i = 0; i < 200; ++i) latents.push_back("F" + std::to_string(i));
  // [position 5, latent 200]: the corrupted metric (-1.5) except latents 17, 120 and 3.
  r.arrays["effect"] = filled({5, 200}, {{"position", kPrompt}, {"latent", latents}},
                              [](int64_t i) {
                                const int64_t p = i / 200, f = i % 200;
                                if (f == 120 && p == 2) return 0.5f;   // Δ 2
                                if (f == 17 && p == 4) return -2.0f;   // Δ 0.5
                                if (f == 3 && p == 3) return -0.5f;    // Δ 1
                                return -1.5f;
                              });
  r.meta = {{"metric", "logit_diff"}, {"corrupted_metric", -1.5}, {"target", "sae_feature"}};
  PatchingView view(shared(r));
  REQUIRE(view.rows() == 5);
  REQUIRE(view.cols() == 3);
  CHECK(view.flatIndex(0, 0) == 120);
  CHECK(view.flatIndex(0, 1) == 3);
  CHECK(view.flatIndex(0, 2) == 17);
  CHECK(view.flatIndex(2, 0) == 2 * 200 + 120);
}
