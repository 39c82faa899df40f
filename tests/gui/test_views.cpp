// The views draw plain data: TokenChips and PredictionsView without any model.
#include <QImage>
#include <catch2/catch.hpp>

#include "views/predictions_view.h"
#include "views/token_chips.h"
#include "views/token_text.h"

using namespace mechscope;

TEST_CASE("visibleWhitespace marks spaces, newlines and tabs", "[views]") {
  CHECK(visibleWhitespace(" the") == QStringLiteral("·the"));
  CHECK(visibleWhitespace("a\nb") == QStringLiteral("a↵b"));
  CHECK(visibleWhitespace("\t") == QStringLiteral("→"));
  CHECK(visibleWhitespace("") == QStringLiteral("∅"));
  CHECK(visibleWhitespace("plain") == QStringLiteral("plain"));
}

TEST_CASE("TokenChips shows one chip per token with visible whitespace", "[views]") {
  TokenChips chips;
  CHECK(chips.count() == 0);
  chips.setTokens({{"<s>", 1, true}, {" Once", 403}, {" upon", 407}, {"\n", 13}});
  REQUIRE(chips.count() == 4);
  CHECK(chips.chipText(0) == QStringLiteral("<s>"));
  CHECK(chips.chipText(1) == QStringLiteral("·Once"));
  CHECK(chips.chipText(3) == QStringLiteral("↵"));
  CHECK(chips.tokens()[2].id == 407);
  CHECK(chips.tokens()[0].special);
  CHECK(chips.chipText(4).isEmpty());

  // Chips wrap: a narrow widget needs more height than a wide one.
  QVector<TokenChip> many;
  for (int i = 0; i < 40; ++i) many.push_back({QStringLiteral(" token%1").arg(i), i});
  chips.setTokens(many);
  CHECK(chips.heightForWidth(200) > chips.heightForWidth(2000));

  // Renders offscreen, and the first chip is where chipAt says.
  chips.resize(600, chips.heightForWidth(600));
  const QImage image = chips.grab().toImage();
  CHECK(!image.isNull());
  CHECK(chips.chipAt(QPoint(8, 8)) == 0);
  CHECK(chips.chipAt(QPoint(599, chips.height() - 1)) == -1);
}

TEST_CASE("PredictionsView keeps one row per prediction", "[views]") {
  PredictionsView view;
  CHECK(view.rowCount() == 0);
  view.setPredictions({{" there", 403, 0.75, 12.5}, {",", 30, 0.2, 11.2}, {"\n", 13, 1e-6, -3}});
  REQUIRE(view.rowCount() == 3);
  CHECK(view.row(0).id == 403);
  CHECK(view.row(1).probability == Approx(0.2));
  CHECK(view.row(2).logit == Approx(-3));
  CHECK(view.rowText(0) == QStringLiteral("·there"));
  CHECK(view.rowText(2) == QStringLiteral("↵"));
  CHECK(PredictionsView::formatProbability(0.75) == QStringLiteral("75.0%"));
  CHECK(PredictionsView::formatProbability(0.0003) == QStringLiteral("0.030%"));

  view.resize(500, view.sizeHint().height());
  CHECK(!view.grab().toImage().isNull());
  CHECK(view.rowAt(QPoint(10, 2)) == -1);  // header
  view.clear();
  CHECK(view.rowCount() == 0);
}
