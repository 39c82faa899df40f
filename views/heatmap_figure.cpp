#include "views/heatmap_figure.h"

#include <QFontMetricsF>
#include <QImage>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <limits>

#include "views/color_bar.h"

namespace mechscope {
namespace {

constexpr double kMaxLabelEms = 9;   // longer token labels are elided
constexpr double kGridMinCell = 14;  // a grid between cells only from this size on

QString labelAt(const QStringList& labels, int i) {
  return i < labels.size() ? labels[i] : QString::number(i);
}

// Labels as drawn: elided to a few ems so one long token cannot squeeze the plot.
QStringList drawnLabels(const QStringList& labels, int count, const QFontMetricsF& fm,
                        const FigureStyle& style) {
  QStringList out;
  out.reserve(count);
  for (int i = 0; i < count; ++i)
    out << fm.elidedText(labelAt(labels, i), Qt::ElideRight, style.fontPx * kMaxLabelEms);
  return out;
}

double maxAdvance(const QStringList& labels, const QFontMetricsF& fm) {
  double w = 0;
  for (const QString& s : labels) w = std::max(w, fm.horizontalAdvance(s));
  return w;
}

double axisTitleHeight(const QString& title, const FigureStyle& style) {
  return title.isEmpty() ? 0 : QFontMetricsF(style.font(0.95)).height() + style.fontPx * 0.3;
}

}  // namespace

MatrixRef MatrixRef::block(int r0, int c0, int nRows, int nCols) const {
  MatrixRef m = *this;
  r0 = std::clamp(r0, 0, rows);
  c0 = std::clamp(c0, 0, cols);
  m.rows = std::clamp(nRows, 0, rows - r0);
  m.cols = std::clamp(nCols, 0, cols - c0);
  if (data) m.data = data + r0 * rowStride + c0;
  return m;
}

std::pair<float, float> MatrixRef::range() const {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float v = at(r, c);
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  return lo <= hi ? std::make_pair(lo, hi) : std::make_pair(0.0f, 0.0f);
}

QRectF HeatmapLayout::cellRect(int row, int col) const {
  return QRectF(plot.left() + col * cellWidth, plot.top() + row * cellHeight, cellWidth,
                cellHeight);
}

QPoint HeatmapLayout::cellAt(const QPointF& pos) const {
  if (cellWidth <= 0 || cellHeight <= 0 || !plot.contains(pos)) return {-1, -1};
  const int cols = static_cast<int>(std::lround(plot.width() / cellWidth));
  const int rows = static_cast<int>(std::lround(plot.height() / cellHeight));
  const int c = std::clamp(static_cast<int>((pos.x() - plot.left()) / cellWidth), 0, cols - 1);
  const int r = std::clamp(static_cast<int>((pos.y() - plot.top()) / cellHeight), 0, rows - 1);
  return {c, r};
}

HeatmapLayout layoutHeatmap(const HeatmapFigure& f, const QRectF& rect, const FigureStyle& style) {
  HeatmapLayout L;
  const int rows = std::max(1, f.matrix.rows), cols = std::max(1, f.matrix.cols);
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const double lineH = fm.height();
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  const double titleH = titleHeight(f.title, style);
  const double top = R.top() + titleH;

  const double maxY = maxAdvance(drawnLabels(f.yLabels, f.matrix.rows, fm, style), fm);
  const double maxX = maxAdvance(drawnLabels(f.xLabels, f.matrix.cols, fm, style), fm);
  const double leftW = axisTitleHeight(f.yTitle, style) + maxY + tick + gap;
  const double barGap = style.fontPx * 1.2;
  const double rightW = barGap + colorBarWidth(f.scale, f.colorBarTitle, style);
  const double availW = R.width() - leftW - rightW;
  auto bottomFor = [&](bool rotated) {
    return tick + gap + (rotated ? maxX : lineH) + axisTitleHeight(f.xTitle, style);
  };
  auto cells = [&](bool rotated) {
    double cw = availW / cols, ch = (R.bottom() - top - bottomFor(rotated)) / rows;
    if (f.squareCells) cw = ch = std::min(cw, ch);
    return std::make_pair(std::max(0.0, cw), std::max(0.0, ch));
  };

  auto [cw, ch] = cells(false);
  const double need = maxX + style.fontPx * 0.6;
  if (cw >= need) {
    L.xStep = 1;
  } else if (maxX <= style.fontPx * 2.6) {  // short labels (numbers): thin them, keep them level
    L.xStep = static_cast<int>(std::ceil(need / std::max(cw, 1e-9)));
  } else {
    L.rotateX = true;
    std::tie(cw, ch) = cells(true);
    L.xStep = static_cast<int>(std::ceil(lineH * 1.15 / std::max(cw, 1e-9)));
  }
  L.yStep = static_cast<int>(std::ceil(lineH * 1.1 / std::max(ch, 1e-9)));
  L.xStep = std::clamp(L.xStep, 1, cols);
  L.yStep = std::clamp(L.yStep, 1, rows);
  L.cellWidth = cw;
  L.cellHeight = ch;

  // The title, plot and labels stay together, centred in whatever space is left over.
  const double plotW = cols * cw, plotH = rows * ch;
  const double blockW = leftW + plotW + rightW, blockH = plotH + bottomFor(L.rotateX);
  const double x0 = R.left() + std::max(0.0, (R.width() - blockW) / 2);
  const double y0 = top + std::max(0.0, (R.bottom() - top - blockH) / 2);
  L.title = QRectF(R.left(), y0 - titleH, R.width(), titleH);
  L.plot = QRectF(x0 + leftW, y0, plotW, plotH);
  const double barH = std::min(std::max(plotH, style.fontPx * 10), R.bottom() - y0);
  L.colorBar = QRectF(L.plot.right() + barGap, y0, rightW - barGap, std::max(0.0, barH));
  L.naturalHeight = 1.6 * pad + titleH + std::max(blockH, std::max(plotH, style.fontPx * 10));
  return L;
}

int heatmapHeightForWidth(const HeatmapFigure& figure, int width) {
  // The text size depends on the height: settle it in two rounds.
  double height = width;
  for (int round = 0; round < 2; ++round) {
    const FigureStyle style = FigureStyle::forSize(width, height);
    height = layoutHeatmap(figure, QRectF(0, 0, width, width * 3.0), style).naturalHeight;
  }
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.3, width * 2.0)));
}

QColor contrastingText(const QColor& c) {
  const double luminance = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF();
  return luminance > 0.55 ? QColor(20, 20, 20) : QColor(250, 250, 250);
}

void paintCells(QPainter& p, const QRectF& plot, const MatrixRef& m, const ColorScale& scale,
                const FigureStyle& style, bool annotate, int64_t maxVectorCells,
                const QStringList* texts) {
  if (m.empty() || plot.isEmpty()) return;
  p.save();
  const double cw = plot.width() / m.cols, ch = plot.height() / m.rows;
  const QTransform& device = p.deviceTransform();
  const double sx = std::hypot(device.m11(), device.m12());
  const double sy = std::hypot(device.m21(), device.m22());

  if (cw * sx < 1.5 || ch * sy < 1.5 || int64_t(m.rows) * m.cols > maxVectorCells) {
    // Sub-pixel cells: one image with a pixel per cell, scaled without smoothing.
    QImage image(m.cols, m.rows, QImage::Format_RGB32);
    for (int r = 0; r < m.rows; ++r) {
      auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
      for (int c = 0; c < m.cols; ++c) line[c] = scale.color(m.at(r, c)).rgb();
    }
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(plot, image);
    p.restore();
    return;
  }

  const bool grid = cw >= kGridMinCell && ch >= kGridMinCell;
  // Without a grid, cells overlap their right/bottom neighbour by half a device pixel so that
  // anti-aliasing viewers (PDF, SVG) show no hairline seams.
  const double ox = grid ? 0 : 0.5 / sx, oy = grid ? 0 : 0.5 / sy;
  p.setRenderHint(QPainter::Antialiasing, false);
  p.setPen(Qt::NoPen);
  for (int r = 0; r < m.rows; ++r) {
    const double y = plot.top() + r * ch;
    const double h = ch + (r + 1 < m.rows ? oy : 0);
    for (int c = 0; c < m.cols; ++c) {
      const double w = cw + (c + 1 < m.cols ? ox : 0);
      p.fillRect(QRectF(plot.left() + c * cw, y, w, h), scale.color(m.at(r, c)));
    }
  }
  if (grid) {
    p.setPen(QPen(style.background, 1.0));
    for (int c = 1; c < m.cols; ++c)
      p.drawLine(QPointF(plot.left() + c * cw, plot.top()),
                 QPointF(plot.left() + c * cw, plot.bottom()));
    for (int r = 1; r < m.rows; ++r)
      p.drawLine(QPointF(plot.left(), plot.top() + r * ch),
                 QPointF(plot.right(), plot.top() + r * ch));
  }

  if (texts && texts->size() == m.rows * m.cols && cw >= style.fontPx * 1.2 &&
      ch >= style.fontPx * 1.1) {
    const QFont font = style.font(std::min(0.8, ch * 0.5 / style.fontPx));
    p.setFont(font);
    const QFontMetricsF fm(font);
    p.setRenderHint(QPainter::TextAntialiasing, true);
    for (int r = 0, i = 0; r < m.rows; ++r)
      for (int c = 0; c < m.cols; ++c, ++i) {
        p.setPen(contrastingText(scale.color(m.at(r, c))));
        const QString text = fm.elidedText((*texts)[i], Qt::ElideRight, cw - style.fontPx * 0.3);
        p.drawText(QRectF(plot.left() + c * cw, plot.top() + r * ch, cw, ch), Qt::AlignCenter,
                   text);
      }
  } else if (annotate && cw >= style.fontPx * 2.4 && ch >= style.fontPx * 1.3) {
    QFont font = style.font(std::min(0.8, ch * 0.45 / style.fontPx));
    p.setFont(font);
    const QFontMetricsF fm(font);
    QStringList texts;
    double widest = 0;
    for (int r = 0; r < m.rows; ++r)
      for (int c = 0; c < m.cols; ++c) {
        texts << formatValue(m.at(r, c), 2);
        widest = std::max(widest, fm.horizontalAdvance(texts.back()));
      }
    if (widest <= cw - style.fontPx * 0.4) {
      p.setRenderHint(QPainter::TextAntialiasing, true);
      for (int r = 0, i = 0; r < m.rows; ++r)
        for (int c = 0; c < m.cols; ++c, ++i) {
          p.setPen(contrastingText(scale.color(m.at(r, c))));
          p.drawText(QRectF(plot.left() + c * cw, plot.top() + r * ch, cw, ch), Qt::AlignCenter,
                     texts[i]);
        }
    }
  }
  p.restore();
}

void paintHeatmap(QPainter& p, const QRectF& rect, const HeatmapFigure& f,
                  const FigureStyle& style) {
  const HeatmapLayout L = layoutHeatmap(f, rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, f.title, style);
  if (f.matrix.empty() || L.plot.isEmpty()) {
    p.restore();
    return;
  }
  paintCells(p, L.plot, f.matrix, f.scale, style, f.annotate, 250000,
             f.cellTexts.isEmpty() ? nullptr : &f.cellTexts);
  p.setPen(QPen(style.frame, 0));
  p.setBrush(Qt::NoBrush);
  p.drawRect(L.plot);

  const QFont labelFont = style.font(0.85);
  const QFontMetricsF fm(labelFont);
  const double tick = style.fontPx * 0.3, gap = style.fontPx * 0.3, lineH = fm.height();
  p.setFont(labelFont);

  // Row labels, right-aligned against the plot.
  const QStringList yLabels = drawnLabels(f.yLabels, f.matrix.rows, fm, style);
  double yLabelsLeft = L.plot.left();
  for (int r = 0; r < f.matrix.rows; r += L.yStep) {
    const double y = L.plot.top() + (r + 0.5) * L.cellHeight;
    p.setPen(QPen(style.frame, 0));
    p.drawLine(QPointF(L.plot.left() - tick, y), QPointF(L.plot.left(), y));
    p.setPen(style.text);
    const double w = fm.horizontalAdvance(yLabels[r]);
    const QRectF r0(L.plot.left() - tick - gap - w - 2, y - lineH / 2, w + 2, lineH);
    p.drawText(r0, Qt::AlignRight | Qt::AlignVCenter, yLabels[r]);
    yLabelsLeft = std::min(yLabelsLeft, r0.left());
  }

  // Column labels: level and centred, or rotated to read upwards, ending at the plot.
  const QStringList xLabels = drawnLabels(f.xLabels, f.matrix.cols, fm, style);
  double labelsBottom = L.plot.bottom() + tick + gap + lineH;
  for (int c = 0; c < f.matrix.cols; c += L.xStep) {
    const double x = L.plot.left() + (c + 0.5) * L.cellWidth;
    p.setPen(QPen(style.frame, 0));
    p.drawLine(QPointF(x, L.plot.bottom()), QPointF(x, L.plot.bottom() + tick));
    p.setPen(style.text);
    const double w = fm.horizontalAdvance(xLabels[c]);
    if (L.rotateX) {
      p.save();
      p.translate(x, L.plot.bottom() + tick + gap);
      p.rotate(-90);
      p.drawText(QRectF(-w - 2, -lineH / 2, w + 2, lineH), Qt::AlignRight | Qt::AlignVCenter,
                 xLabels[c]);
      p.restore();
      labelsBottom = std::max(labelsBottom, L.plot.bottom() + tick + gap + w);
    } else {
      p.drawText(QRectF(x - w / 2 - 1, L.plot.bottom() + tick + gap, w + 2, lineH), Qt::AlignCenter,
                 xLabels[c]);
    }
  }

  // Axis titles.
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  const double titleH = QFontMetricsF(p.font()).height();
  if (!f.xTitle.isEmpty())
    p.drawText(QRectF(L.plot.left() - style.fontPx * 4, labelsBottom + gap,
                      L.plot.width() + style.fontPx * 8, titleH),
               Qt::AlignHCenter | Qt::AlignTop, f.xTitle);
  if (!f.yTitle.isEmpty())
    drawVerticalText(p, QPointF(yLabelsLeft - gap - titleH / 2, L.plot.center().y()), f.yTitle);

  paintColorBar(p, L.colorBar, f.scale, f.colorBarTitle, style);
  p.restore();
}

}  // namespace mechscope
