// ClampView: the figure — one column of top-token probability bars per condition (shared scale)
// and the greedy continuations under them.
#include <QFontMetricsF>
#include <QPainter>
#include <QTextOption>
#include <algorithm>
#include <cmath>

#include "views/clamp_view.h"
#include "views/colormap.h"
#include "views/figure_style.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kTextShare = 0.3;  // at most, of the height below the caption, for the text
constexpr double kLinesPerText = 2.2;  // room for each continuation to wrap once

}  // namespace

QString ClampView::figureTitle() const { return resultTitle(*result_); }

QStringList ClampView::continuationLines() const {
  QStringList lines;
  for (int c = 0; c < conditions_; ++c) {
    const QString text = continuation(c);
    if (!text.isEmpty()) lines << QStringLiteral("%1: %2").arg(conditionName(c), text);
  }
  return lines;
}

ClampView::Layout ClampView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  const QFontMetricsF fm(style.font(0.9));
  L.title = QRectF(rect.left() + pad, rect.top() + pad * 0.8, rect.width() - 2 * pad,
                   titleHeight(figureTitle(), style));
  double top = L.title.bottom();
  if (!caption().isEmpty()) {
    L.caption = QRectF(L.title.left(), top - style.fontPx * 0.3, L.title.width(),
                       QFontMetricsF(style.font(1.0)).height() + style.fontPx * 0.5);
    top = L.caption.bottom();
  }
  const double bottom = rect.bottom() - pad * 0.8;
  L.lineHeight = fm.height() * 1.3;
  const double textH = std::min((bottom - top) * kTextShare,
                                continuationLines().size() * kLinesPerText * L.lineHeight);
  L.text = QRectF(L.title.left(), bottom - textH, L.title.width(), textH);
  const double colW = L.title.width() / std::max(1, conditions_);
  for (int c = 0; c < conditions_; ++c)
    L.columns.push_back(QRectF(L.title.left() + c * colW, top, colW - pad, L.text.top() - top));
  for (int c = 0; c < conditions_; ++c)
    for (const QString& t : tokens(c))
      L.labelWidth = std::max(L.labelWidth, std::min(fm.horizontalAdvance(t), style.fontPx * 8));
  L.labelWidth += style.fontPx * 0.6;
  L.slot = std::max(1.0, (L.text.top() - top - L.lineHeight * 1.3) / std::max(1, top_));
  return L;
}

void ClampView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, figureTitle(), style);
  if (!L.caption.isEmpty()) {
    p.setFont(style.font(1.0));
    p.setPen(style.muted);
    drawElidedText(p, L.caption, caption(), Qt::AlignHCenter | Qt::AlignTop);
  }
  float maxProb = 0;
  for (int c = 0; c < conditions_; ++c)
    for (int r = 0; r < top_; ++r)
      if (std::isfinite(prob(c, r))) maxProb = std::max(maxProb, prob(c, r));
  if (maxProb <= 0) maxProb = 1;
  const QFont font = style.font(0.9);
  const QFontMetricsF fm(font);
  const double valueW = fm.horizontalAdvance(QStringLiteral("0.0000")) + style.fontPx * 0.4;
  for (int c = 0; c < conditions_; ++c) {
    const QRectF col = L.columns[c];
    p.setFont(style.font(1.0, true));
    p.setPen(style.text);
    p.drawText(QRectF(col.left(), col.top(), col.width(), L.lineHeight), Qt::AlignCenter,
               conditionName(c));
    p.setFont(font);
    const QStringList names = tokens(c);
    const double barsLeft = col.left() + L.labelWidth;
    const double barsW = std::max(1.0, col.width() - L.labelWidth - valueW);
    for (int r = 0; r < names.size(); ++r) {
      const double y = col.top() + L.lineHeight * 1.3 + r * L.slot;
      const float v = std::isfinite(prob(c, r)) ? prob(c, r) : 0.0f;
      p.setPen(style.text);
      drawElidedText(p, QRectF(col.left(), y, L.labelWidth - style.fontPx * 0.4, L.slot),
                     names[r], Qt::AlignRight | Qt::AlignVCenter);
      const QRectF bar(barsLeft, y + L.slot * 0.15, barsW * v / maxProb, L.slot * 0.7);
      p.fillRect(bar, c == 0 ? style.positive : style.negative);
      p.setPen(style.muted);
      p.drawText(QRectF(bar.right() + 3, y, valueW, L.slot), Qt::AlignLeft | Qt::AlignVCenter,
                 formatValue(v, 3));
    }
  }
  if (!L.text.isEmpty()) {
    p.setFont(style.font(0.95));
    p.setPen(style.text);
    QTextOption option;
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    p.drawText(L.text.adjusted(0, L.lineHeight * 0.5, 0, 0),
               continuationLines().join(QLatin1Char('\n')), option);
  }
  p.restore();
}

int ClampView::figureHeightForWidth(int width) const { return width * 3 / 4; }

QString ClampView::toolTipAt(const QPoint& pos) const {
  for (int c = 0; c < conditions_; ++c)
    for (int r = 0; r < top_; ++r)
      if (barRect(c, r).contains(pos)) {
        const QStringList names = tokens(c);
        if (r >= names.size()) return {};
        return tr("%1, rank %2: “%3” p = %4")
            .arg(conditionName(c))
            .arg(r + 1)
            .arg(names[r], exactValue(prob(c, r)));
      }
  return {};
}

QRect ClampView::barRect(int condition, int rank) const {
  if (condition < 0 || condition >= conditions_ || rank < 0 || rank >= top_) return {};
  const QRectF rect = canvas()->rect();
  const Layout L = layout(rect);
  const QRectF col = L.columns[condition];
  return QRectF(col.left(), col.top() + L.lineHeight * 1.3 + rank * L.slot, col.width(), L.slot)
      .toRect();
}

}  // namespace mechscope
