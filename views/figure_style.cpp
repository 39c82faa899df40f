#include "views/figure_style.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace mechscope {

FigureStyle FigureStyle::forSize(double width, double height) {
  FigureStyle s;
  s.fontPx = std::clamp(std::min(width / 60.0, height / 30.0), 10.0, 26.0);
  return s;
}

QFont FigureStyle::font(double scale, bool bold) const {
  QFont f;
  f.setPixelSize(std::max(6, static_cast<int>(std::lround(fontPx * scale))));
  f.setBold(bold);
  f.setStyleStrategy(QFont::PreferAntialias);
  return f;
}

void drawElidedText(QPainter& p, const QRectF& rect, const QString& text, int flags) {
  const QFontMetricsF fm(p.font());
  p.drawText(rect, flags, fm.elidedText(text, Qt::ElideRight, rect.width()));
}

void drawVerticalText(QPainter& p, const QPointF& center, const QString& text) {
  const QFontMetricsF fm(p.font());
  p.save();
  p.translate(center);
  p.rotate(-90);
  const double w = fm.horizontalAdvance(text);
  p.drawText(QRectF(-w / 2 - 2, -fm.height() / 2, w + 4, fm.height()), Qt::AlignCenter, text);
  p.restore();
}

double titleHeight(const QString& title, const FigureStyle& style) {
  if (title.isEmpty()) return 0;
  return QFontMetricsF(style.font(1.25, true)).height() + style.fontPx * 0.6;
}

void paintTitle(QPainter& p, const QRectF& rect, const QString& title, const FigureStyle& style) {
  if (title.isEmpty()) return;
  p.save();
  p.setFont(style.font(1.25, true));
  p.setPen(style.text);
  const QRectF r(rect.left(), rect.top(), rect.width(), QFontMetricsF(p.font()).height());
  drawElidedText(p, r, title, Qt::AlignCenter);
  p.restore();
}

FigureHeading layoutHeading(const QRectF& rect, const QString& title, const FigureStyle& style) {
  const double pad = style.pad();
  FigureHeading h;
  h.title = QRectF(rect.left() + pad, rect.top() + pad * 0.8, rect.width() - 2 * pad,
                   titleHeight(title, style));
  h.caption = QRectF(h.title.left(), h.title.bottom() - style.fontPx * 0.3, h.title.width(),
                     QFontMetricsF(style.font(1.0)).height() + style.fontPx * 0.5);
  return h;
}

void paintHeading(QPainter& p, const FigureHeading& heading, const QString& title,
                  const QString& caption, const FigureStyle& style) {
  paintTitle(p, heading.title, title, style);
  p.setFont(style.font(1.0));
  p.setPen(style.muted);
  drawElidedText(p, heading.caption, caption, Qt::AlignHCenter | Qt::AlignTop);
}

}  // namespace mechscope
