#pragma once
// The colour bar beside a heatmap: the map as a vertical gradient with "nice" value ticks and an
// optional title, drawn with vector primitives so SVG and PDF exports stay sharp.
#include <QRectF>
#include <QString>
#include <vector>

#include "views/colormap.h"
#include "views/figure_style.h"

class QPainter;

namespace mechscope {

/// Round tick values (multiples of 1, 2 or 5 × 10^k) inside [lo, hi], at most about `maxCount`.
std::vector<double> niceTicks(double lo, double hi, int maxCount);

/// Width the colour bar needs, tick labels and title included.
double colorBarWidth(const ColorScale& scale, const QString& title, const FigureStyle& style);

/// Paints the colour bar into `area` (its full height is used for the gradient, less half a line
/// of text at each end so the extreme tick labels fit). `scale` must be resolved.
void paintColorBar(QPainter& p, const QRectF& area, const ColorScale& scale, const QString& title,
                   const FigureStyle& style);

/// The y of `value` on a colour bar painted into `area` by paintColorBar (clamped to the bar).
double colorBarY(const QRectF& area, const ColorScale& scale, double value,
                 const FigureStyle& style);
/// A mark across the bar at `value` (e.g. a baseline or a threshold), in `color`, with a short
/// `label` left of the bar.
void paintColorBarMark(QPainter& p, const QRectF& area, const ColorScale& scale, double value,
                       const QString& label, const QColor& color, const FigureStyle& style);

}  // namespace mechscope
