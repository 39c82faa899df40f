#pragma once
// The top-k next-token predictions as a small table: rank, token text, probability as a number and
// a horizontal bar, and the logit.
#include <QVector>
#include <QWidget>

namespace mechscope {

struct PredictionRow {
  QString text;            // the token's readable text
  qint64 id = 0;           // vocabulary id
  double probability = 0;  // softmax probability in [0, 1]
  double logit = 0;
};

class PredictionsView : public QWidget {
  Q_OBJECT

 public:
  explicit PredictionsView(QWidget* parent = nullptr);

  void setPredictions(const QVector<PredictionRow>& rows);
  void clear() { setPredictions({}); }
  int rowCount() const { return rows_.size(); }
  const PredictionRow& row(int index) const { return rows_.at(index); }
  /// The token text drawn in row `index` (whitespace made visible).
  QString rowText(int index) const;
  /// The probability as drawn, e.g. "42.1%".
  static QString formatProbability(double p);
  /// Shown when there are no rows.
  void setPlaceholderText(const QString& text);
  /// The row under a point in widget coordinates, or -1.
  int rowAt(const QPoint& pos) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  int rowHeight() const;
  int headerHeight() const { return rowHeight(); }

  QVector<PredictionRow> rows_;
  QString placeholder_;
};

}  // namespace mechscope
