#pragma once
// SummaryView: for results with nothing to plot (no arrays, or only scalars): the title, probe,
// each array's shape (and value, for scalars) and the metadata, as text.
#include <QStringList>

#include "views/result_view.h"

namespace mechscope {

class SummaryView : public ResultView {
  Q_OBJECT

 public:
  explicit SummaryView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);

  /// Always {} (there is nothing to choose).
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  /// The lines drawn under the title.
  const QStringList& lines() const { return lines_; }

 private:
  QStringList lines_;
};

}  // namespace mechscope
