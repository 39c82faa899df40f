#pragma once
// A circuit-graph figure: attention heads as nodes on a grid (layers left to right, heads top to
// bottom), filled by a score on a sequential colour map (with its colour bar), highlighted heads
// ringed, and directed sender → receiver edges as curves whose width and opacity follow their
// value. Painting and hit-testing share one layout, as for the other figures.
#include <QColor>
#include <QRectF>
#include <QStringList>
#include <vector>

#include "views/colormap.h"
#include "views/figure_style.h"

class QPainter;

namespace mechscope {

struct GraphEdge {
  int from = 0, to = 0;  ///< Flat heads (layer · heads + head).
  double value = 0;
};

struct CircuitGraphFigure {
  QString title;  ///< Empty to omit.
  int layers = 0, heads = 0;
  QStringList layerLabels, headLabels;
  std::vector<double> nodeValue;  ///< layers · heads, the node colour.
  std::vector<bool> highlighted;  ///< layers · heads, ringed (e.g. the ground truth).
  ColorScale scale;               ///< Resolved; for nodeValue.
  QString nodeTitle;              ///< The colour bar's title.
  QString highlightName;          ///< The legend entry of the rings.
  std::vector<GraphEdge> edges;   ///< Those drawn (already filtered), any order.
  double edgeMax = 1;             ///< The value drawn widest and most opaque.
  QString edgeName;               ///< The legend entry of the edges.
};

struct CircuitGraphLayout {
  QRectF title, legend, plot, colorBar;
  double dx = 0, dy = 0, radius = 0;
  int layers = 0, heads = 0;
  QPointF nodeCenter(int layer, int head) const {
    return {plot.left() + (layer + 0.5) * dx, plot.top() + (head + 0.5) * dy};
  }
  /// The flat head whose node holds `pos`, or -1.
  int nodeAt(const QPointF& pos) const;
};

CircuitGraphLayout layoutCircuitGraph(const CircuitGraphFigure& figure, const QRectF& rect,
                                      const FigureStyle& style);
void paintCircuitGraph(QPainter& p, const QRectF& rect, const CircuitGraphFigure& figure,
                       const FigureStyle& style);

}  // namespace mechscope
