#pragma once
// The canvas a ResultView paints its figure on: forwards tooltips, clicks and wheel events to the
// view, and pans the enclosing scroll area when dragged while zoomed.
#include <QPoint>
#include <QWidget>

namespace mechscope {

class ResultView;

class FigureCanvas : public QWidget {
  Q_OBJECT

 public:
  explicit FigureCanvas(ResultView* view);

  QSize sizeHint() const override { return {640, 480}; }
  QSize minimumSizeHint() const override { return {160, 120}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;

 private:
  ResultView* view_;
  QPoint pressPos_;
  QPoint pressScroll_;
  bool pressed_ = false;
  bool dragged_ = false;
};

}  // namespace mechscope
