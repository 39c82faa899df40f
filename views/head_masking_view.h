#pragma once
// HeadMaskingView: head masking (probe "head_masking") — the task accuracy with no heads masked,
// with the chosen heads masked, and with as many random other heads masked: one bar per
// condition (`accuracy` [condition]: "none", "masked", "random"; y fixed to [0, 1]), each random
// draw (`random_accuracy` [draw]; "random" is their mean) a dot on the "random" bar with a
// min–max whisker, and a caption naming the masked heads (meta "heads"), the mode and the task.
#include <QStringList>

#include "views/bar_figure.h"
#include "views/result_view.h"

class QLabel;

namespace mechscope {

struct FigureStyle;

class HeadMaskingView : public ResultView {
  Q_OBJECT

 public:
  explicit HeadMaskingView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "head_masking" with a 1-d `accuracy`.
  static bool canShow(const Result& result);

  /// {"zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  /// The bars: one series over the conditions ("none 0.95": labels with their values), y fixed
  /// to [0, 1].
  BarFigure accuracyFigure() const;
  /// The condition labelled "random" (the last of three when unlabelled); -1 when there is none.
  int randomIndex() const { return random_; }
  /// The accuracy of each random draw (empty without `random_accuracy`).
  const std::vector<double>& randomDraws() const { return draws_; }
  /// meta["heads"] as listed.
  const QStringList& maskedHeads() const { return heads_; }
  /// "masked (mode uniform): L1H2, L3H0 · task ioi · random: mean of 20 draws".
  QString caption() const;
  /// What the panel under the figure shows.
  QString detailText() const;
  /// Canvas rectangle of condition `index`'s bar.
  QRect barRect(int index) const;
  /// Canvas centre of random draw `index`'s dot (null when out of range or without "random").
  QPointF drawPoint(int index) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, bars;
  };
  Layout layout(const QRectF& rect) const;
  std::vector<QPointF> drawPoints(const BarLayout& L, const BarFigure& f) const;

  QStringList conditions_;
  std::vector<double> accuracy_, draws_;
  QStringList heads_;
  int random_ = -1;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
