// SaeFeaturesView with a synthetic Result shaped as the sae_features probe writes it: the token
// rows' feature chips, selecting a feature by click (chip, heatmap cell) or API fills the detail
// panel with its decoder tokens and top examples, state round-trips, and export renders.
#include <QComboBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <catch2/catch.hpp>
#include <filesystem>

#include "views/figure_export.h"
#include "views/sae_features_view.h"

#include "tests/gui/view_test_support.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

// 4 positions × 50 latents; latent 7 fires everywhere, 12 on " Mary", 30 on " and", 41 (not a
// detail feature) weakly on "When".
Result saeResult() {
  const std::vector<std::string> prompt = {"<s>", "When", " Mary", " and"};
  const int T = 4, D = 50, K = 3;
  std::vector<float> acts(T * D, 0.f);
  auto set = [&](int p, int f, float v) { acts[p * D + f] = v; };
  for (int p = 0; p < T; ++p) set(p, 7, 1.0f + 0.5f * p);  // 1, 1.5, 2, 2.5
  set(2, 12, 4.0f);
  set(3, 30, 3.0f);
  set(1, 41, 0.25f);
  std::vector<float> ids, vals;
  for (int p = 0; p < T; ++p) {
    std::vector<std::pair<float, int>> row;
    for (int f = 0; f < D; ++f) row.push_back({acts[p * D + f], f});
    std::stable_sort(row.begin(), row.end(), [](auto a, auto b) { return a.first > b.first; });
    for (int k = 0; k < K; ++k) {
      ids.push_back(float(row[k].second));
      vals.push_back(row[k].first);
    }
  }
  const Axis position{"position", prompt};
  const Axis rank{"rank", {"1", "2", "3"}};
  const Axis feature{"feature", {"12", "30", "7"}};
  Result r;
  r.id = "sae_features-1";
  r.probe = "sae_features";
  r.title = "SAE features — When Mary and";
  r.arrays["feature_acts"] = array({T, D}, acts, {position, {"latent", {}}});
  r.arrays["reconstruction_error"] = array({T}, {0.5f, 0.25f, 0.125f, 0.375f}, {position});
  r.arrays["top_features"] = array({T, K}, ids, {position, rank});
  r.arrays["top_values"] = array({T, K}, vals, {position, rank});
  r.arrays["feature_ids"] = array({3}, {12, 30, 7}, {feature});
  r.arrays["feature_logit_tokens"] =
      array({3, 2}, {7, 9, 11, 3, 9, 7}, {feature, {"rank", {"1", "2"}}});
  r.arrays["feature_logit_values"] =
      array({3, 2}, {3.5f, 1.25f, 2.0f, 0.5f, 1.0f, 0.75f}, {feature, {"rank", {"1", "2"}}});
  const Axis exRank{"example_rank", {"1", "2"}};
  r.arrays["example_acts"] = array({3, 2}, {5.5f, 2.0f, 4.0f, 1.0f, 3.0f, 2.5f}, {feature, exRank});
  r.arrays["example_index"] = array({3, 2}, {1, 0, 0, 1, 1, 0}, {feature, exRank});
  r.arrays["example_position"] = array({3, 2}, {2, 1, 3, 2, 4, 0}, {feature, exRank});
  r.meta = {{"hook", "blocks.2.hook_resid_pre"},
            {"architecture", "standard"},
            {"d_sae", D},
            {"token_strings", {{"7", " Mary"}, {"9", " John"}, {"11", " the"}, {"3", "Paris"}}},
            {"examples", {"the cat sat on the mat", "then John gave Mary a drink"}},
            {"example_tokens",
             {{"<s>", "the", "cat", "sat", "on", "the", "mat"},
              {"<s>", "then", "John", "gave", "Mary", "a", "drink"}}}};
  return r;
}

}  // namespace

TEST_CASE("SaeFeaturesView: token rows of feature chips, click a feature for its detail",
          "[views][sae_features]") {
  std::unique_ptr<ResultView> picked(create_result_view(saeResult()));
  CHECK(dynamic_cast<SaeFeaturesView*>(picked.get()) != nullptr);

  auto view = shown<SaeFeaturesView>(saeResult());
  CHECK(view->positions() == 4);
  CHECK(view->latents() == 50);
  CHECK(view->detailFeatures() == std::vector<int64_t>{12, 30, 7});
  CHECK(view->feature() == 12);  // the strongest detail feature
  CHECK(view->position() == -1);
  CHECK(view->chipTexts(2) == QStringList{"#12 4", "#7 2"});  // zeros are not listed
  CHECK(view->chipTexts(1) == QStringList{"#7 1.5", "#41 0.25"});
  CHECK(view->decoderTokens() == QStringList{"“·Mary” 3.5", "“·John” 1.25"});
  CHECK(view->exampleLines() ==
        QStringList{"5.5: <s> then [John] gave Mary a drink", "2: <s> [the] cat sat on the…"});

  // A chip: position 3's top feature, #30.
  QSignalSpy changed(view.get(), &ResultView::stateChanged);
  const QRect chip = view->chipRect(3, 0);
  REQUIRE(chip.width() > 8);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, chip.center());
  CHECK(changed.count() >= 1);
  CHECK(view->feature() == 30);
  CHECK(view->position() == 3);
  QString detail = view->detailText();
  CHECK(detail.contains(QStringLiteral("Feature #30: peak 3 at position 3 “·and”")));
  CHECK(detail.contains(QStringLiteral("Position 3 “·and”: activation 3, reconstruction error 0.375")));
  CHECK(detail.contains(QStringLiteral("Decoder → tokens: “·the” 2, “Paris” 0.5")));
  CHECK(detail.contains(QStringLiteral("4: <s> the cat [sat] on the mat")));
  CHECK(view->findChild<QComboBox*>()->currentIndex() == 1);
  CHECK(view->toolTipAt(chip.center()).contains(QStringLiteral("#30 at position 3")));

  // A feature that is not a detail feature: activations only.
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, view->chipRect(1, 1).center());
  CHECK(view->feature() == 41);
  CHECK(view->detailText().contains(QStringLiteral("Not among the detail features")));
  CHECK(view->decoderTokens().isEmpty());
  CHECK(view->findChild<QComboBox*>()->currentIndex() == -1);

  // A heatmap cell: feature #7 at position 1.
  const QRect cell = view->heatmapCellRect(7, 1);
  REQUIRE(cell.width() > 2);
  QTest::mouseClick(view->canvas(), Qt::LeftButton, {}, cell.center());
  CHECK(view->feature() == 7);
  CHECK(view->position() == 1);
  CHECK(view->activation(1, 7) == 1.5f);
  CHECK(view->detailText().contains(QStringLiteral("3: <s> then John gave [Mary] a drink")));

  // The chooser.
  auto* box = view->findChild<QComboBox*>();
  REQUIRE(box->count() == 3);
  CHECK(box->itemText(0) == QStringLiteral("#12 (peak 4)"));
  emit box->activated(0);
  CHECK(view->feature() == 12);
}

TEST_CASE("SaeFeaturesView: state round-trips and the figure exports", "[views][sae_features]") {
  auto view = shown<SaeFeaturesView>(saeResult());
  view->setState({{"feature", 30}, {"position", 2}});
  const nlohmann::json state = view->state();
  CHECK(state["feature"] == 30);
  CHECK(state["position"] == 2);
  SaeFeaturesView other(shared(saeResult()));
  other.setState(state);
  CHECK(other.state() == state);
  CHECK(other.feature() == 30);
  other.setState({{"feature", 999}, {"position", 99}});  // clamped
  CHECK(other.feature() == 49);
  CHECK(other.position() == 3);

  QTemporaryDir tmp;
  const fs::path dir(tmp.path().toStdString());
  const auto files = export_result(saeResult(), state, dir, {"svg", "png"}, 1100);
  REQUIRE(files.size() == 2);
  const QByteArray svg = readAll(files.at(0));
  CHECK(svg.contains("#30"));                  // the title and chips
  CHECK(svg.contains("blocks.2.hook_resid_pre"));  // the caption
  CHECK(svg.contains("Paris"));                // #30's decoder tokens
  CHECK(svg.contains("sat"));                  // its top example's peak token
  const QImage png(QString::fromStdString(files.at(1).string()));
  REQUIRE(!png.isNull());
  CHECK(png.width() == 1100);
  CHECK(distinctColours(png) > 20);
}
