#include "views/color_bar.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace mechscope {
namespace {

double barThickness(const FigureStyle& style) { return style.fontPx * 1.1; }

// The values a bar shows ticks for: nice round numbers, plus the ends when they are far from one.
std::vector<double> ticksFor(const ColorScale& scale, double barHeight, const FigureStyle& style) {
  const double line = QFontMetricsF(style.font(0.85)).height();
  const int maxCount = std::clamp(static_cast<int>(barHeight / (line * 1.8)), 2, 9);
  return niceTicks(scale.min, scale.max, maxCount);
}

}  // namespace

std::vector<double> niceTicks(double lo, double hi, int maxCount) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  maxCount = std::max(2, maxCount);
  const double raw = (hi - lo) / (maxCount - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if ((hi - lo) / step <= maxCount - 1 + 1e-9) break;
  }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9; v += step)
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return ticks;
}

double colorBarWidth(const ColorScale& scale, const QString& title, const FigureStyle& style) {
  const QFontMetricsF fm(style.font(0.85));
  double labels = 0;
  for (double v : niceTicks(scale.min, scale.max, 9))
    labels = std::max(labels, fm.horizontalAdvance(formatValue(v)));
  for (double v : {scale.min, scale.max})
    labels = std::max(labels, fm.horizontalAdvance(formatValue(v)));
  double width = barThickness(style) + style.fontPx * 0.5 + labels;
  if (!title.isEmpty()) width += style.fontPx * 0.5 + QFontMetricsF(style.font(0.9)).height();
  return width;
}

void paintColorBar(QPainter& p, const QRectF& area, const ColorScale& scale, const QString& title,
                   const FigureStyle& style) {
  p.save();
  const QFontMetricsF fm(style.font(0.85));
  const double inset = fm.height() / 2;
  const QRectF bar(area.left(), area.top() + inset, barThickness(style),
                   std::max(1.0, area.height() - 2 * inset));
  const bool diverging = scale.kind == ColorScale::Kind::Diverging;

  // Gradient from the bottom (map start) to the top (map end), sampled densely enough that the
  // piecewise-linear map is reproduced exactly at its control points.
  QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
  constexpr int kStops = 40;
  for (int i = 0; i <= kStops; ++i) {
    const double f = static_cast<double>(i) / kStops;
    gradient.setColorAt(f, scale.colorAt(diverging ? 2 * f - 1 : f));
  }
  p.setPen(Qt::NoPen);
  p.setBrush(gradient);
  p.drawRect(bar);
  p.setBrush(Qt::NoBrush);
  p.setPen(QPen(style.frame, 0));
  p.drawRect(bar);

  // Ticks: placed by the scale's own mapping, so gamma moves them as it moves the colours.
  p.setFont(style.font(0.85));
  const double tick = style.fontPx * 0.3;
  for (double v : ticksFor(scale, bar.height(), style)) {
    const double pos = scale.position(v);
    const double f = diverging ? (pos + 1) / 2 : pos;
    const double y = bar.bottom() - f * bar.height();
    p.setPen(QPen(style.text, 0));
    p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + tick, y));
    p.drawText(QRectF(bar.right() + tick + style.fontPx * 0.2, y - fm.height() / 2,
                      area.right() - bar.right(), fm.height()),
               Qt::AlignLeft | Qt::AlignVCenter, formatValue(v));
  }
  if (!title.isEmpty()) {
    p.setFont(style.font(0.9));
    p.setPen(style.muted);
    const double h = QFontMetricsF(p.font()).height();
    drawVerticalText(p, QPointF(area.right() - h / 2, bar.center().y()), title);
  }
  p.restore();
}

double colorBarY(const QRectF& area, const ColorScale& scale, double value,
                 const FigureStyle& style) {
  const double inset = QFontMetricsF(style.font(0.85)).height() / 2;
  const double top = area.top() + inset, height = std::max(1.0, area.height() - 2 * inset);
  const double pos = scale.position(value);
  const double f = scale.kind == ColorScale::Kind::Diverging ? (pos + 1) / 2 : pos;
  return top + height - std::clamp(std::isfinite(f) ? f : 0.0, 0.0, 1.0) * height;
}

void paintColorBarMark(QPainter& p, const QRectF& area, const ColorScale& scale, double value,
                       const QString& label, const QColor& color, const FigureStyle& style) {
  p.save();
  const double y = colorBarY(area, scale, value, style);
  const double w = barThickness(style);
  p.setPen(QPen(color, std::max(1.5, style.fontPx * 0.18)));
  p.drawLine(QPointF(area.left() - style.fontPx * 0.3, y), QPointF(area.left() + w, y));
  if (!label.isEmpty()) {
    p.setFont(style.font(0.75));
    const QFontMetricsF fm(p.font());
    const double tw = fm.horizontalAdvance(label);
    p.drawText(QRectF(area.left() - style.fontPx * 0.4 - tw, y - fm.height() / 2, tw, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, label);
  }
  p.restore();
}

}  // namespace mechscope
