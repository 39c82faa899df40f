#pragma once
// ClampView: a neuron clamp (probe "neuron_clamp") — the clean and the clamped run's top next
// tokens side by side as probability bars, the answer's probability in both when given
// (meta["answer_prob"]), and the two greedy continuations (meta["continuation"]) as text.
// Arrays `probs`, `tokens` [condition (clean, clamped), rank]. Painting is in clamp_figure.cpp.
#include <QStringList>

#include "views/result_view.h"

class QSpinBox;

namespace mechscope {

struct FigureStyle;

class ClampView : public ResultView {
  Q_OBJECT

 public:
  explicit ClampView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "neuron_clamp" with 2-d `probs` and `tokens` of the same shape.
  static bool canShow(const Result& result);

  /// {"top": ranks drawn per column}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  int conditions() const { return conditions_; }
  int ranks() const { return ranks_; }
  int top() const { return top_; }
  /// "clean", "clamped".
  QString conditionName(int condition) const;
  /// The condition's drawn token texts, most probable first.
  QStringList tokens(int condition) const;
  float prob(int condition, int rank) const;
  /// meta["continuation"][condition]["text"] as written (or its tokens' texts, space-separated,
  /// when it has no text).
  QString continuation(int condition) const;
  /// "answer probability: clean 0.12 → clamped 0.55" (empty without meta["answer_prob"]).
  QString caption() const;
  /// Canvas rectangle of a token's bar slot.
  QRect barRect(int condition, int rank) const;

 private:
  struct Layout {
    QRectF title, caption, text;
    std::vector<QRectF> columns;
    double labelWidth = 0, slot = 0, lineHeight = 0;
  };
  Layout layout(const QRectF& rect) const;
  QStringList continuationLines() const;

  const Array* probs_ = nullptr;
  const Array* tokens_ = nullptr;
  int conditions_ = 0, ranks_ = 0;
  int top_ = 10;
  QStringList conditionNames_;
  QSpinBox* topSpin_ = nullptr;
};

}  // namespace mechscope
