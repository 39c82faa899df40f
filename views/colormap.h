#pragma once
// Colour maps for heatmaps: a perceptually uniform sequential map (viridis) for attention weights
// and probabilities, a diverging blue–white–red map centred at 0 for signed values, and the
// ColorScale that maps data values onto them (range, gamma) and is saved with a view's state.
#include <QColor>
#include <QString>
#include <nlohmann/json.hpp>

namespace mechscope {

/// Viridis at t in [0, 1] (clamped): dark purple → blue → green → yellow.
QColor sequentialColor(double t);
/// Blue (t = -1) → white (t = 0) → red (t = 1); t is clamped to [-1, 1].
QColor divergingColor(double t);

struct ColorScale {
  enum class Kind { Sequential, Diverging };

  Kind kind = Kind::Sequential;
  /// When true, min and max follow the data (diverging: symmetric, ±max |value|).
  bool autoRange = true;
  double min = 0.0;
  double max = 1.0;
  /// Diverging only: the value drawn white (0, or e.g. a corrupted run's metric for patching).
  double center = 0.0;
  /// Applied to the normalised position: < 1 brightens small values, > 1 darkens them.
  double gamma = 1.0;

  /// This scale with min/max taken from the data when autoRange (diverging: made symmetric
  /// about `center`; sequential: [min(0, lo), hi]) and a non-empty range either way.
  ColorScale resolved(double dataMin, double dataMax) const;
  /// Position of `value` on the map: [0, 1] for sequential, [-1, 1] for diverging, gamma applied.
  double position(double value) const;
  /// The colour of `value` (use a resolved scale).
  QColor color(double value) const;
  /// The scale's colour at a map position (as returned by position()), without gamma.
  QColor colorAt(double position) const;

  /// {"kind": "sequential"|"diverging", "auto": bool, "min", "max", "gamma"}, plus "center" when
  /// it is not 0.
  nlohmann::json toJson() const;
  /// Reads the fields present in `j`, keeping `fallback`'s values for the others; invalid values
  /// (non-finite, gamma <= 0, max <= min) are ignored.
  static ColorScale fromJson(const nlohmann::json& j, const ColorScale& fallback);
  static ColorScale fromJson(const nlohmann::json& j) { return fromJson(j, ColorScale()); }

  bool operator==(const ColorScale& o) const;
  bool operator!=(const ColorScale& o) const { return !(*this == o); }
};

/// "0.25", "1e-05", "-3.2": short number text for ticks, tooltips and cell annotations.
QString formatValue(double value, int significant = 3);

}  // namespace mechscope
