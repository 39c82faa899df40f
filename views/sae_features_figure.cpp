// SaeFeaturesView: the figure — the prompt's tokens as rows of top-feature chips shaded by
// activation (the selected position's row tinted, the selected feature's chips outlined), a
// heatmap of the leading features across positions, the selected feature's decoder tokens as bars
// and its top-activating examples with the peak token highlighted; hit-testing.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/probe_data.h"
#include "views/sae_features_view.h"

namespace mechscope {
namespace {

constexpr double kRowsShare = 0.5;      // of the width, for the token rows
constexpr double kHeatmapShare = 0.42;  // of the right column's height
constexpr double kDecoderShare = 0.27;
constexpr double kRowEms = 1.6;         // a token row's natural height

}  // namespace

QString SaeFeaturesView::figureTitle() const {
  return resultTitle(*result_) + QStringLiteral(" — #%1").arg(feature_);
}

QString SaeFeaturesView::caption() const {
  QStringList parts;
  const std::string hook = metaString(*result_, "hook");
  if (!hook.empty()) parts << tr("SAE at %1").arg(QString::fromStdString(hook));
  const std::string arch = metaString(*result_, "architecture");
  if (!arch.empty()) parts << QString::fromStdString(arch);
  parts << tr("%1 latents").arg(latents_);
  if (error_) {
    double sum = 0;
    int n = 0;
    for (float v : error_->data)
      if (std::isfinite(v)) sum += v, ++n;
    if (n > 0) parts << tr("mean reconstruction error %1").arg(formatValue(sum / n, 3));
  }
  return parts.join(QStringLiteral(" · "));
}

SaeFeaturesView::Layout SaeFeaturesView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const double pad = style.pad();
  Layout L;
  const FigureHeading h = layoutHeading(rect, figureTitle(), style);
  L.title = h.title;
  L.caption = h.caption;
  const QRectF body(rect.left() + pad, h.caption.bottom() + pad * 0.4, rect.width() - 2 * pad,
                    rect.bottom() - h.caption.bottom() - pad * 1.2);
  const double leftW = body.width() * kRowsShare;
  const QFontMetricsF fm(style.font(0.85));
  const double header = fm.height() * 1.3;
  L.rows = QRectF(body.left(), body.top() + header, leftW, std::max(0.0, body.height() - header));
  L.rowHeight = positions_ > 0 ? std::min(style.fontPx * kRowEms, L.rows.height() / positions_) : 0;
  double labelW = fm.horizontalAdvance(tr("token"));
  for (const QString& s : positionLabels_) labelW = std::max(labelW, fm.horizontalAdvance(s));
  L.labelWidth = std::min(labelW + pad * 0.6, leftW * 0.3);
  L.errorWidth = error_ ? fm.horizontalAdvance(QStringLiteral("0.000")) + pad * 0.6 : 0;
  const double chipsW = std::max(1.0, leftW - L.labelWidth - L.errorWidth);
  const double natural = fm.horizontalAdvance(QStringLiteral("#%1 0.00").arg(latents_ - 1)) + pad * 0.6;
  L.chips = std::clamp(static_cast<int>(chipsW / natural), 1, ranks_);
  L.chipWidth = chipsW / L.chips;

  const QRectF right(body.left() + leftW + pad, body.top(), body.width() - leftW - pad, body.height());
  const double decoderShare = logitTokens_ ? kDecoderShare : 0.0;
  L.heatmap = QRectF(right.left(), right.top(), right.width(), right.height() * kHeatmapShare);
  L.decoder = QRectF(right.left(), L.heatmap.bottom(), right.width(), right.height() * decoderShare);
  L.examples = QRectF(right.left() + pad * 0.5, L.decoder.bottom() + pad * 0.3,
                      right.width() - pad * 0.5, right.bottom() - L.decoder.bottom() - pad * 0.3);
  return L;
}

HeatmapFigure SaeFeaturesView::heatmapFigure() const {
  HeatmapFigure f;
  f.title = tr("Leading features across positions");
  f.xTitle = tr("position");
  f.yTitle = tr("feature");
  f.xLabels = positionLabels_;
  for (int64_t id : heatLatents_) f.yLabels << QStringLiteral("#%1").arg(id);
  f.matrix = {heat_.data(), static_cast<int>(heatLatents_.size()), positions_, positions_};
  f.scale = resolvedScale();
  f.colorBarTitle = tr("activation");
  f.squareCells = false;
  f.annotate = false;
  return f;
}

BarFigure SaeFeaturesView::decoderFigure() const {
  BarFigure f;
  f.title = tr("#%1's decoder direction → tokens").arg(feature_);
  f.yTitle = tr("logit");
  const int i = detailIndex(feature_);
  if (i < 0 || !logitTokens_) return f;
  const int64_t R = logitTokens_->shape[1];
  BarSeries s{tr("logit"), seriesColor(0), {}};
  for (int64_t r = 0; r < R; ++r) {
    f.categories << tokenText(*result_, logitTokens_->data[size_t(i * R + r)]);
    s.values.push_back(logitValues_->data[size_t(i * R + r)]);
  }
  f.series = {s};
  f.annotate = false;
  return f;
}

void SaeFeaturesView::paintRows(QPainter& p, const Layout& L, const FigureStyle& style) const {
  const ColorScale scale = resolvedScale();
  const double rowH = L.rowHeight;
  const bool text = rowH >= 7;
  const QFont font = style.font(std::min(0.85, rowH * 0.72 / style.fontPx));
  const QFont head = style.font(0.85, true);
  p.setFont(head);
  p.setPen(style.muted);
  const double headY = L.rows.top() - QFontMetricsF(head).height() * 1.3;
  const QRectF headRow(L.rows.left(), headY, L.rows.width(), QFontMetricsF(head).height() * 1.2);
  drawElidedText(p, QRectF(headRow.left(), headRow.top(), L.labelWidth, headRow.height()),
                 tr("token"), Qt::AlignLeft | Qt::AlignVCenter);
  if (error_)
    drawElidedText(p, QRectF(headRow.left() + L.labelWidth, headRow.top(), L.errorWidth, headRow.height()),
                   tr("error"), Qt::AlignLeft | Qt::AlignVCenter);
  drawElidedText(p, QRectF(headRow.left() + L.labelWidth + L.errorWidth, headRow.top(),
                           L.rows.width() - L.labelWidth - L.errorWidth, headRow.height()),
                 tr("top features (shaded by activation)"), Qt::AlignLeft | Qt::AlignVCenter);
  p.setFont(font);
  for (int row = 0; row < positions_; ++row) {
    const double y = L.rows.top() + row * rowH;
    if (row == position_) {
      QColor tint = style.accent;
      tint.setAlpha(45);
      p.fillRect(QRectF(L.rows.left(), y, L.rows.width(), rowH), tint);
    }
    if (text) {
      p.setPen(style.text);
      drawElidedText(p, QRectF(L.rows.left(), y, L.labelWidth - style.pad() * 0.3, rowH),
                     labelOrIndex(positionLabels_, row), Qt::AlignLeft | Qt::AlignVCenter);
      if (error_) {
        p.setPen(style.muted);
        drawElidedText(p, QRectF(L.rows.left() + L.labelWidth, y, L.errorWidth, rowH),
                       formatValue(error_->data[row], 2), Qt::AlignLeft | Qt::AlignVCenter);
      }
    }
    for (int r = 0; r < L.chips; ++r) {
      const float v = topValues_->at({row, r});
      if (!(v > 0)) continue;
      const QRectF cell(L.rows.left() + L.labelWidth + L.errorWidth + r * L.chipWidth + 1, y + 1,
                        L.chipWidth - 2, std::max(1.0, rowH - 2));
      const QColor fill = scale.color(v);
      const int64_t id = static_cast<int64_t>(topIds_->at({row, r}));
      p.setPen(Qt::NoPen);
      p.setBrush(fill);
      p.drawRoundedRect(cell, 2, 2);
      if (id == feature_) {
        p.setPen(QPen(style.text, std::max(1.5, style.fontPx * 0.15)));
        p.setBrush(Qt::NoBrush);
        p.drawRoundedRect(cell, 2, 2);
      }
      if (text) {
        p.setPen(contrastingText(fill));
        drawElidedText(p, cell.adjusted(3, 0, -2, 0),
                       QStringLiteral("#%1 %2").arg(id).arg(formatValue(v, 2)),
                       Qt::AlignLeft | Qt::AlignVCenter);
      }
    }
  }
}

void SaeFeaturesView::paintExamples(QPainter& p, const QRectF& rect, const FigureStyle& style) const {
  const QFont bold = style.font(0.95, true), font = style.font(0.85);
  const QFontMetricsF fmb(bold), fm(font);
  p.setFont(bold);
  p.setPen(style.text);
  drawElidedText(p, QRectF(rect.left(), rect.top(), rect.width(), fmb.height() * 1.2),
                 tr("Top-activating examples of #%1").arg(feature_), Qt::AlignLeft | Qt::AlignVCenter);
  p.setFont(font);
  const double lineH = fm.height() * 1.35;
  double y = rect.top() + fmb.height() * 1.35;
  const std::vector<ExampleLine> lines = examples();
  if (lines.empty()) {
    p.setPen(style.muted);
    drawElidedText(p, QRectF(rect.left(), y, rect.width(), lineH),
                   detailIndex(feature_) < 0
                       ? tr("Not a detail feature: no examples")
                       : tr("No examples (run with examples_task or examples_prompts)"),
                   Qt::AlignLeft | Qt::AlignVCenter);
    return;
  }
  const ColorScale scale = resolvedScale();
  const double valueW = fm.horizontalAdvance(QStringLiteral("00.000")) + style.pad() * 0.4;
  for (const ExampleLine& line : lines) {
    if (y + lineH > rect.bottom()) break;
    // The value, then the text with the peak token on its activation's colour.
    p.setPen(style.muted);
    drawElidedText(p, QRectF(rect.left(), y, valueW, lineH), formatValue(line.value, 3),
                   Qt::AlignLeft | Qt::AlignVCenter);
    const double left = rect.left() + valueW, width = rect.width() - valueW;
    const double peakW = fm.horizontalAdvance(line.peak) + 4;
    // Keep the peak in view: the text before it is cut from the left when the line is too long.
    const QString before =
        fm.elidedText(line.before, Qt::ElideLeft, std::max(0.0, width * 0.6 - peakW));
    double x = left;
    p.setPen(style.text);
    p.drawText(QRectF(x, y, fm.horizontalAdvance(before) + 1, lineH),
               Qt::AlignLeft | Qt::AlignVCenter, before);
    x += fm.horizontalAdvance(before);
    const QRectF peakRect(x, y + lineH * 0.08, peakW, lineH * 0.84);
    const QColor fill = scale.color(line.value);
    p.fillRect(peakRect, fill);
    p.setPen(contrastingText(fill));
    p.drawText(peakRect, Qt::AlignCenter, line.peak);
    x += peakW;
    p.setPen(style.text);
    drawElidedText(p, QRectF(x, y, std::max(0.0, left + width - x), lineH), line.after,
                   Qt::AlignLeft | Qt::AlignVCenter);
    y += lineH;
  }
}

void SaeFeaturesView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintHeading(p, {L.title, L.caption}, figureTitle(), caption(), style);
  paintRows(p, L, style);
  const HeatmapFigure heat = heatmapFigure();
  paintHeatmap(p, L.heatmap, heat, style);
  const auto row = std::find(heatLatents_.begin(), heatLatents_.end(), feature_);
  if (row != heatLatents_.end()) {
    const HeatmapLayout hl = layoutHeatmap(heat, L.heatmap, style);
    const int r = static_cast<int>(row - heatLatents_.begin());
    p.setPen(QPen(style.text, std::max(1.5, style.fontPx * 0.15)));
    p.setBrush(Qt::NoBrush);
    if (position_ >= 0)
      p.drawRect(hl.cellRect(r, position_));
    else
      p.drawRect(hl.cellRect(r, 0).united(hl.cellRect(r, positions_ - 1)));
  }
  if (!L.decoder.isEmpty()) {
    const BarFigure bars = decoderFigure();
    if (bars.series.empty()) {
      p.setFont(style.font(0.85));
      p.setPen(style.muted);
      drawElidedText(p, L.decoder, tr("#%1 is not a detail feature: no decoder tokens").arg(feature_),
                     Qt::AlignCenter);
    } else {
      paintBars(p, L.decoder, bars, style);
    }
  }
  paintExamples(p, L.examples, style);
  p.restore();
}

int SaeFeaturesView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.75);
  const double rows = style.fontPx * (6 + kRowEms * positions_);
  const double height = std::max(width * 0.8, rows);
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.45, width * 3.0)));
}

QRect SaeFeaturesView::chipRect(int position, int rank) const {
  if (position < 0 || position >= positions_ || rank < 0) return {};
  const Layout L = layout(canvas()->rect());
  if (rank >= L.chips) return {};
  return QRectF(L.rows.left() + L.labelWidth + L.errorWidth + rank * L.chipWidth,
                L.rows.top() + position * L.rowHeight, L.chipWidth, L.rowHeight)
      .toRect();
}

QRect SaeFeaturesView::heatmapCellRect(int64_t latent, int position) const {
  const auto row = std::find(heatLatents_.begin(), heatLatents_.end(), latent);
  if (row == heatLatents_.end() || position < 0 || position >= positions_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(heatmapFigure(), layout(rect).heatmap, style)
      .cellRect(static_cast<int>(row - heatLatents_.begin()), position)
      .toRect();
}

QString SaeFeaturesView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  auto describe = [&](int64_t f, int position) {
    return tr("#%1 at position %2 “%3”: %4")
        .arg(f)
        .arg(position)
        .arg(labelOrIndex(positionLabels_, position))
        .arg(exactValue(activation(position, f)));
  };
  if (L.rows.contains(pos) && L.rowHeight > 0) {
    const int row = static_cast<int>((pos.y() - L.rows.top()) / L.rowHeight);
    const double x = pos.x() - L.rows.left() - L.labelWidth - L.errorWidth;
    if (row >= 0 && row < positions_) {
      if (x < 0)
        return tr("Position %1 “%2”%3")
            .arg(row)
            .arg(labelOrIndex(positionLabels_, row))
            .arg(error_ ? tr(": reconstruction error %1").arg(exactValue(error_->data[row])) : QString());
      const int r = static_cast<int>(x / L.chipWidth);
      if (r < L.chips && topValues_->at({row, r}) > 0)
        return describe(static_cast<int64_t>(topIds_->at({row, r})), row);
    }
  }
  const QPoint c = layoutHeatmap(heatmapFigure(), L.heatmap, style).cellAt(pos);
  if (c.x() >= 0) return describe(heatLatents_[c.y()], c.x());
  if (!L.decoder.isEmpty()) {
    const BarFigure bars = decoderFigure();
    if (!bars.series.empty()) {
      const int i = layoutBars(bars, L.decoder, style).categoryAt(pos);
      if (i >= 0) return barDescription(bars, i);
    }
  }
  return {};
}

void SaeFeaturesView::canvasClicked(const QPoint& pos) {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  if (L.rows.contains(pos) && L.rowHeight > 0) {
    const int row = static_cast<int>((pos.y() - L.rows.top()) / L.rowHeight);
    if (row < 0 || row >= positions_) return;
    position_ = row;
    const double x = pos.x() - L.rows.left() - L.labelWidth - L.errorWidth;
    const int r = x < 0 ? -1 : static_cast<int>(x / L.chipWidth);
    if (r >= 0 && r < L.chips && topValues_->at({row, r}) > 0) {
      selectFeature(static_cast<int64_t>(topIds_->at({row, r})));
      return;
    }
    userChanged();
    return;
  }
  const QPoint c = layoutHeatmap(heatmapFigure(), L.heatmap, style).cellAt(pos);
  if (c.x() < 0) return;
  position_ = c.x();
  selectFeature(heatLatents_[c.y()]);
}

}  // namespace mechscope
