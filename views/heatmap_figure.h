#pragma once
// The heatmap figure: title, cells, axis labels (token strings, thinned when they do not fit,
// rotated when long), axis titles and a colour bar. One painter serves the screen and every
// export format: cells are vector rectangles (an image only when they are smaller than a pixel),
// so SVG and PDF output stays vector.
#include <QPoint>
#include <QRectF>
#include <QStringList>
#include <cstdint>
#include <utility>

#include "views/colormap.h"
#include "views/figure_style.h"

class QPainter;

namespace mechscope {

/// A read-only view of a row-major float matrix (a block of a larger array).
struct MatrixRef {
  const float* data = nullptr;
  int rows = 0;
  int cols = 0;
  int64_t rowStride = 0;

  float at(int r, int c) const { return data[r * rowStride + c]; }
  /// The sub-matrix of `rows` × `cols` starting at (r0, c0).
  MatrixRef block(int r0, int c0, int nRows, int nCols) const;
  /// {min, max} over finite values ({0, 0} when there are none).
  std::pair<float, float> range() const;
  bool empty() const { return rows <= 0 || cols <= 0 || !data; }
};

struct HeatmapFigure {
  QString title;
  QString xTitle, yTitle;        ///< Axis titles ("key", "query"); empty to omit.
  QStringList xLabels, yLabels;  ///< One per column / row; empty: indices are shown.
  MatrixRef matrix;
  ColorScale scale;  ///< Must be resolved (see ColorScale::resolved).
  QString colorBarTitle;
  bool squareCells = true;
  bool annotate = true;  ///< Print values in the cells when they are big enough.
  /// Row-major texts (rows × cols) drawn in the cells instead of values, elided to the cell
  /// (e.g. the logit lens' top tokens); empty for values.
  QStringList cellTexts;
};

/// Where a heatmap figure's parts go inside a rectangle; what painting and hit-testing share.
struct HeatmapLayout {
  QRectF title, plot, colorBar;
  double cellWidth = 0, cellHeight = 0;
  int xStep = 1, yStep = 1;  ///< Every n-th label is drawn.
  bool rotateX = false;
  double naturalHeight = 0;  ///< Height the figure needs at this width and cell size.

  QRectF cellRect(int row, int col) const;
  /// (col, row) of the cell under `pos`, or (-1, -1).
  QPoint cellAt(const QPointF& pos) const;
};

HeatmapLayout layoutHeatmap(const HeatmapFigure& figure, const QRectF& rect,
                            const FigureStyle& style);
void paintHeatmap(QPainter& p, const QRectF& rect, const HeatmapFigure& figure,
                  const FigureStyle& style);
/// The height at which a figure `width` wide has its cells as large as the width allows and no
/// space to spare (what export sizes figures by).
int heatmapHeightForWidth(const HeatmapFigure& figure, int width);

/// Just the cells of `m` filling `plot` (thumbnails use this directly). Adds a 1-px grid when cells
/// are large and value annotations when `annotate` and they fit. Cells are vector rectangles
/// unless they are under 1.5 device pixels or more than `maxVectorCells`: then one image.
/// `texts` (rows × cols, row-major), when given, replaces the values and is elided to each cell.
void paintCells(QPainter& p, const QRectF& plot, const MatrixRef& m, const ColorScale& scale,
                const FigureStyle& style, bool annotate = false, int64_t maxVectorCells = 250000,
                const QStringList* texts = nullptr);

/// Black or white, whichever reads better on `background`.
QColor contrastingText(const QColor& background);

}  // namespace mechscope
