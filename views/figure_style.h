#pragma once
// How figures look, shared by every view's figure painter: a light "paper" look whose text size
// follows the figure's size, so the screen, PNG, SVG and PDF render the same layout.
#include <QColor>
#include <QFont>
#include <QRectF>
#include <QString>

class QPainter;

namespace mechscope {

struct FigureStyle {
  double fontPx = 12;  ///< Base text size in the painter's units.
  QColor background{255, 255, 255};
  QColor text{33, 33, 33};
  QColor muted{105, 105, 105};
  QColor frame{150, 150, 150};
  QColor accent{31, 119, 180};    ///< Selection outlines and bars.
  QColor positive{49, 104, 142};  ///< Bars of positive values.
  QColor negative{214, 96, 77};   ///< Bars of negative values.

  /// The style for a figure painted into a rectangle of this size.
  static FigureStyle forSize(double width, double height);

  /// A font whose pixel size is `scale` × fontPx (pixel sizes keep layout device-independent).
  QFont font(double scale = 1.0, bool bold = false) const;
  double pad() const { return fontPx; }
};

/// Draws `text` centred in `rect`, elided to its width. Returns nothing; sets no persistent state.
void drawElidedText(QPainter& p, const QRectF& rect, const QString& text, int flags);

/// Draws `text` rotated 90° counter-clockwise (reading upwards), centred on `center`.
void drawVerticalText(QPainter& p, const QPointF& center, const QString& text);

/// Height taken by a figure title (0 when empty), and the title painted at the top of `rect`.
double titleHeight(const QString& title, const FigureStyle& style);
void paintTitle(QPainter& p, const QRectF& rect, const QString& title, const FigureStyle& style);

/// A figure's heading: the title at the top of the figure's rectangle and a one-line caption
/// (settings, baselines, counts) under it.
struct FigureHeading {
  QRectF title, caption;
};
FigureHeading layoutHeading(const QRectF& rect, const QString& title, const FigureStyle& style);
/// Paints the title, then the caption in the muted colour, elided to its line.
void paintHeading(QPainter& p, const FigureHeading& heading, const QString& title,
                  const QString& caption, const FigureStyle& style);

}  // namespace mechscope
