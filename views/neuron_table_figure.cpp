// NeuronTableView: the figure — per-layer shares of the neurons' top-token classes as grouped
// bars, and the table's first rows (in its current filter and order) as text.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/neuron_table_model.h"
#include "views/neuron_table_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kMaxFigureRows = 12;
constexpr double kBarsShare = 0.55;  // of the height below the title

}  // namespace

QString NeuronTableView::figureTitle() const {
  QString title = resultTitle(*result_);
  const QString f = model_->filter().trimmed();
  if (!f.isEmpty()) title += tr(" — neurons promoting “%1”").arg(f);
  return title;
}

BarFigure NeuronTableView::sharesFigure() const {
  BarFigure f;
  f.xTitle = tr("layer");
  f.yTitle = tr("share of neurons");
  f.categories = model_->layerLabels();
  f.series = {{tr("top token starts a word"), seriesColor(0), {}},
              {tr("is a number"), seriesColor(1), {}},
              {tr("is punctuation"), seriesColor(2), {}}};
  for (const LayerShares& s : shares_) {
    f.series[0].values.push_back(s.wordStart);
    f.series[1].values.push_back(s.digit);
    f.series[2].values.push_back(s.punctuation);
  }
  f.fixedRange = true;
  f.lo = 0;
  f.hi = 1;
  return f;
}

QStringList NeuronTableView::topRowLines(int count) const {
  QStringList lines;
  const bool match = model_->columnOf(NeuronTableModel::Column::Match) >= 0;
  for (int r = 0; r < std::min(count, model_->rowCount()); ++r) {
    const int64_t flat = model_->neuronAt(r);
    QString line = model_->neuronName(flat);
    if (match) line += tr("  “%1” %2").arg(model_->filter().trimmed(),
                                            QString::number(model_->matchLogit(flat), 'f', 2));
    line += tr("  ↑ %1").arg(model_->tokenList("out_top", flat, 4));
    const QString bottom = model_->tokenList("out_bottom", flat, 3);
    if (!bottom.isEmpty()) line += tr("  ↓ %1").arg(bottom);
    lines << line;
  }
  return lines;
}

NeuronTableView::Layout NeuronTableView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  L.title = QRectF(rect.left() + pad, rect.top() + pad * 0.8, rect.width() - 2 * pad,
                   titleHeight(figureTitle(), style));
  const double top = L.title.bottom(), h = rect.bottom() - top;
  L.bars = QRectF(rect.left(), top, rect.width(), h * kBarsShare);
  L.lineHeight = QFontMetricsF(style.font(0.85)).height() * 1.25;
  L.rows = QRectF(rect.left() + pad, L.bars.bottom(), rect.width() - 2 * pad,
                  rect.bottom() - L.bars.bottom() - pad * 0.8);
  L.rowCount = std::clamp(int(L.rows.height() / L.lineHeight) - 1, 0,
                          std::min(kMaxFigureRows, model_->rowCount()));
  return L;
}

void NeuronTableView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, figureTitle(), style);
  paintBars(p, L.bars, sharesFigure(), style);

  // The table's first rows, under a heading naming the order.
  const QString order = model_->headerData(model_->sortColumn(), Qt::Horizontal).toString();
  p.setFont(style.font(0.95, true));
  p.setPen(style.text);
  drawElidedText(p, QRectF(L.rows.left(), L.rows.top(), L.rows.width(), L.lineHeight),
                 tr("First %1 of %2 neurons, by %3 (%4)")
                     .arg(L.rowCount)
                     .arg(model_->rowCount())
                     .arg(order,
                          model_->sortOrder() == Qt::DescendingOrder ? tr("descending")
                                                                     : tr("ascending")),
                 Qt::AlignLeft | Qt::AlignVCenter);
  p.setFont(style.font(0.85));
  const QStringList lines = topRowLines(L.rowCount);
  for (int i = 0; i < lines.size(); ++i) {
    const QRectF line(L.rows.left(), L.rows.top() + (i + 1) * L.lineHeight, L.rows.width(),
                      L.lineHeight);
    const bool chosen = model_->neuronAt(i) == selected_;
    if (chosen) p.fillRect(line, QColor(222, 235, 247));
    p.setPen(style.text);
    drawElidedText(p, line, lines[i], Qt::AlignLeft | Qt::AlignVCenter);
  }
  p.restore();
}

int NeuronTableView::figureHeightForWidth(int width) const { return width * 4 / 5; }

QString NeuronTableView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const BarFigure f = sharesFigure();
  const int c = layoutBars(f, L.bars, style).categoryAt(pos);
  if (c >= 0) return barDescription(f, c);
  if (!L.rows.contains(pos)) return {};
  const int i = int((pos.y() - L.rows.top()) / L.lineHeight) - 1;
  if (i < 0 || i >= L.rowCount) return {};
  const int64_t flat = model_->neuronAt(i);
  QStringList out{model_->neuronName(flat),
                  tr("promotes: %1").arg(model_->tokenList("out_top", flat))};
  if (const QString b = model_->tokenList("out_bottom", flat); !b.isEmpty())
    out << tr("suppresses: %1").arg(b);
  if (const QString r = model_->tokenList("in_top", flat); !r.isEmpty()) out << tr("reads: %1").arg(r);
  return out.join(QLatin1Char('\n'));
}

}  // namespace mechscope
