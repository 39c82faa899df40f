#include "views/figure_canvas.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolTip>

#include "views/result_view.h"

namespace mechscope {

FigureCanvas::FigureCanvas(ResultView* view) : QWidget(view), view_(view) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void FigureCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  view_->paintFigure(p, rect());
}

bool FigureCanvas::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString text = view_->toolTipAt(help->pos());
    if (text.isEmpty()) {
      QToolTip::hideText();
      event->ignore();
    } else {
      QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
  }
  return QWidget::event(event);
}

void FigureCanvas::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
  pressed_ = true;
  dragged_ = false;
  pressPos_ = event->globalPosition().toPoint();
  pressScroll_ = QPoint(view_->scroll_->horizontalScrollBar()->value(),
                        view_->scroll_->verticalScrollBar()->value());
}

void FigureCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (!pressed_) return QWidget::mouseMoveEvent(event);
  const QPoint delta = event->globalPosition().toPoint() - pressPos_;
  if (delta.manhattanLength() > 4) dragged_ = true;
  if (dragged_ && view_->zoom() > 1.0) {  // pan the zoomed canvas
    view_->scroll_->horizontalScrollBar()->setValue(pressScroll_.x() - delta.x());
    view_->scroll_->verticalScrollBar()->setValue(pressScroll_.y() - delta.y());
    setCursor(Qt::ClosedHandCursor);
  }
}

void FigureCanvas::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !pressed_) return QWidget::mouseReleaseEvent(event);
  pressed_ = false;
  unsetCursor();
  if (!dragged_) view_->canvasClicked(event->position().toPoint());
}

void FigureCanvas::wheelEvent(QWheelEvent* event) {
  if (view_->canvasWheel(event))
    event->accept();
  else
    QWidget::wheelEvent(event);
}

}  // namespace mechscope
