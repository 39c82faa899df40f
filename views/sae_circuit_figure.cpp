// SaeCircuitView: the three figures (ranked heads, circuit graph, ROC curve) under one heading,
// and their tooltips.
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/figure_style.h"
#include "views/probe_data.h"
#include "views/sae_circuit_view.h"

namespace mechscope {
namespace {

const QColor kTruthColor(214, 39, 40);

}  // namespace

QString SaeCircuitView::figureTitle() const {
  switch (figure_) {
    case Figure::Heads:
      return resultTitle(*result_) + tr(" — ranked heads");
    case Figure::Graph:
      return resultTitle(*result_) + tr(" — circuit graph");
    case Figure::Roc:
      return resultTitle(*result_) + tr(" — ROC against activation patching");
  }
  return resultTitle(*result_);
}

QString SaeCircuitView::caption() const {
  QStringList parts;
  auto aucText = [](std::optional<double> a) { return a ? formatValue(*a, 3) : tr("undefined"); };
  parts << tr("AUC heads %1, pairs %2").arg(aucText(auc()), aucText(edgeAuc()));
  const int truth = int(std::count(truth_.begin(), truth_.end(), true));
  const auto t = metaNumber(*result_, "truth_threshold");
  parts << tr("%n truth head(s): |patching effect| > %1", nullptr, truth)
               .arg(t ? formatValue(*t) : QStringLiteral("?"));
  if (figure_ == Figure::Graph)
    parts << tr("%1 edges ≥ %2").arg(visibleEdges().size()).arg(formatValue(threshold_));
  const auto sae = metaNumber(*result_, "seconds_sae"),
             patch = metaNumber(*result_, "seconds_patching");
  if (sae && patch)
    parts << tr("SAE %1 s, patching %2 s").arg(formatValue(*sae, 2), formatValue(*patch, 2));
  return parts.join(QStringLiteral(" · "));
}

BarFigure SaeCircuitView::headsFigure() const {
  BarFigure f;
  const auto ranked = rankedHeads();
  f.xTitle = int(ranked.size()) < layers_ * heads_ ? tr("head (top %1 by score)").arg(ranked.size())
                                                    : tr("head (all %1, by score)").arg(ranked.size());
  f.yTitle = tr("head score");
  BarSeries bars{tr("head score (softmax of codes only on positives)"), seriesColor(0), {}};
  BarSeries line{tr("patching effect"), seriesColor(1), {}};
  for (const RankedHead& h : ranked) {
    f.categories << h.label;
    bars.values.push_back(h.score);
    if (!effect_.empty()) line.values.push_back(effect_[size_t(h.layer) * heads_ + h.head]);
  }
  f.series = {bars};
  f.line = line;
  f.lineTitle = tr("patching effect");
  f.annotate = true;
  return f;
}

CircuitGraphFigure SaeCircuitView::graphFigure() const {
  CircuitGraphFigure f;
  f.layers = layers_;
  f.heads = heads_;
  f.layerLabels = layerLabels_;
  f.headLabels = headLabels_;
  f.nodeValue.assign(score_.begin(), score_.end());
  f.highlighted = truth_;
  double hi = 0;
  for (float v : score_)
    if (std::isfinite(v)) hi = std::max<double>(hi, v);
  ColorScale s;
  f.scale = s.resolved(0, hi > 0 ? hi : 1);
  f.nodeTitle = tr("head score");
  f.highlightName = tr("patching truth");
  f.edges = visibleEdges();
  f.edgeMax = edgeMax_ > 0 ? edgeMax_ : 1;
  f.edgeName =
      edges_ ? tr("code pairs only on positives ≥ %1 (width: count)").arg(formatValue(threshold_))
             : tr("no edge scores");
  return f;
}

RocFigure SaeCircuitView::rocFigure() const {
  RocFigure f;
  auto curve = [&](const char* name, const QString& label, std::optional<double> a, int color) {
    const Array* r = usableArray(*result_, name);
    if (!r || !a || r->shape.size() != 2 || r->shape[1] != 2 || r->shape[0] < 2) return;
    RocCurve c{label, seriesColor(color), {}, *a};
    for (int64_t i = 0; i < r->shape[0]; ++i) c.points.emplace_back(r->at({i, 0}), r->at({i, 1}));
    f.curves.push_back(std::move(c));
  };
  curve("roc", tr("heads"), auc(), 0);
  curve("edge_roc", tr("head pairs"), edgeAuc(), 1);
  f.empty = tr("No ROC curve: the patching truth has no head above its threshold, or every head.");
  return f;
}

QRectF SaeCircuitView::bodyRect(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  return QRectF(rect.left(), heading.caption.bottom(), rect.width(),
                std::max(1.0, rect.bottom() - heading.caption.bottom()));
}

QRectF SaeCircuitView::figureRect() const { return bodyRect(canvas()->rect()); }

QRect SaeCircuitView::nodeRect(int layer, int head) const {
  if (figure_ != Figure::Graph || layer < 0 || layer >= layers_ || head < 0 || head >= heads_)
    return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const CircuitGraphLayout L = layoutCircuitGraph(graphFigure(), bodyRect(rect), style);
  const QPointF c = L.nodeCenter(layer, head);
  return QRectF(c.x() - L.radius, c.y() - L.radius, 2 * L.radius, 2 * L.radius).toRect();
}

void SaeCircuitView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  paintHeading(p, heading, figureTitle(), caption(), style);
  const QRectF body = bodyRect(rect);
  switch (figure_) {
    case Figure::Heads: {
      const BarFigure f = headsFigure();
      paintBars(p, body, f, style);
      // The truth heads' bars outlined, their labels' slots underlined.
      const BarLayout L = layoutBars(f, body, style);
      const auto ranked = rankedHeads();
      p.setBrush(Qt::NoBrush);
      for (int i = 0; i < int(ranked.size()); ++i) {
        if (!ranked[i].truth) continue;
        QRectF bar = L.barRect(f, i, 0);
        if (bar.height() < 2) bar.setTop(bar.bottom() - 2);
        p.setPen(QPen(kTruthColor, std::max(1.5, style.fontPx * 0.18)));
        p.drawRect(bar);
        const double x = L.plot.left() + (i + 0.5) * L.slot;
        p.setBrush(kTruthColor);
        p.setPen(Qt::NoPen);
        const double r = std::max(2.0, style.fontPx * 0.25);
        p.drawEllipse(QPointF(x, L.plot.bottom() - r * 1.6), r, r);
        p.setBrush(Qt::NoBrush);
      }
      break;
    }
    case Figure::Graph:
      paintCircuitGraph(p, body, graphFigure(), style);
      break;
    case Figure::Roc:
      paintRoc(p, body, rocFigure(), style);
      break;
  }
  p.restore();
}

int SaeCircuitView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.6);
  const double head = titleHeight(figureTitle(), style) + style.fontPx * 2.2;
  double body = width * 0.5;
  if (figure_ == Figure::Graph)
    body = std::clamp(width * 0.85 * heads_ / std::max(1, layers_), width * 0.35, width * 1.4) +
           style.fontPx * 5;
  if (figure_ == Figure::Roc) body = std::min<double>(width * 0.75, 1200);
  return static_cast<int>(std::ceil(head + body));
}

QString SaeCircuitView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const QRectF body = bodyRect(rect);
  auto headText = [&](int l, int h) {
    QString text = tr("%1: head score %2").arg(headLabel(l, h), exactValue(score(l, h)));
    if (!count_.empty())
      text += tr(", %1 code(s) only on positives").arg(count_[size_t(l) * heads_ + h]);
    if (!effect_.empty())
      text += tr(", patching effect %1").arg(exactValue(effect_[size_t(l) * heads_ + h]));
    if (isTruth(l, h)) text += tr(" (truth head)");
    return text;
  };
  switch (figure_) {
    case Figure::Heads: {
      const BarFigure f = headsFigure();
      const int i = layoutBars(f, body, style).categoryAt(pos);
      const auto ranked = rankedHeads();
      if (i >= 0 && i < int(ranked.size())) return headText(ranked[i].layer, ranked[i].head);
      return {};
    }
    case Figure::Graph: {
      const int node = layoutCircuitGraph(graphFigure(), body, style).nodeAt(pos);
      if (node < 0) return {};
      int out = 0, in = 0;
      for (const GraphEdge& e : visibleEdges()) out += e.from == node, in += e.to == node;
      return headText(node / heads_, node % heads_) +
             tr("; %1 edge(s) out, %2 in at this threshold").arg(out).arg(in);
    }
    case Figure::Roc: {
      const auto [fpr, tpr] = layoutRoc(rocFigure(), body, style).fromCanvas(pos);
      if (fpr < 0) return {};
      return tr("false-positive rate %1, true-positive rate %2")
          .arg(formatValue(fpr, 2), formatValue(tpr, 2));
    }
  }
  return {};
}

}  // namespace mechscope
