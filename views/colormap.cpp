#include "views/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace mechscope {
namespace {

struct Rgb {
  double r, g, b;
};

// Viridis sampled at nine evenly spaced points (matplotlib's values); interpolating linearly
// between them stays close to the full 256-entry table.
constexpr std::array<Rgb, 9> kViridis = {{{68, 1, 84},
                                          {72, 40, 120},
                                          {62, 73, 137},
                                          {49, 104, 142},
                                          {38, 130, 142},
                                          {31, 158, 137},
                                          {53, 183, 121},
                                          {110, 206, 88},
                                          {253, 231, 37}}};

// ColorBrewer RdBu reversed, with a pure white centre: blue for negative, red for positive.
constexpr std::array<Rgb, 11> kDiverging = {{{5, 48, 97},
                                             {33, 102, 172},
                                             {67, 147, 195},
                                             {146, 197, 222},
                                             {209, 229, 240},
                                             {255, 255, 255},
                                             {253, 219, 199},
                                             {244, 165, 130},
                                             {214, 96, 77},
                                             {178, 24, 43},
                                             {103, 0, 31}}};

const QColor kMissing(222, 222, 222);

template <size_t N>
QColor interpolate(const std::array<Rgb, N>& table, double t) {
  if (std::isnan(t)) return kMissing;
  t = std::clamp(t, 0.0, 1.0) * (N - 1);
  const size_t i = std::min(static_cast<size_t>(t), N - 2);
  const double f = t - static_cast<double>(i);
  const Rgb& a = table[i];
  const Rgb& b = table[i + 1];
  return QColor(static_cast<int>(std::lround(a.r + f * (b.r - a.r))),
                static_cast<int>(std::lround(a.g + f * (b.g - a.g))),
                static_cast<int>(std::lround(a.b + f * (b.b - a.b))));
}

bool finite(const nlohmann::json& j) { return j.is_number() && std::isfinite(j.get<double>()); }

}  // namespace

QColor sequentialColor(double t) { return interpolate(kViridis, t); }

QColor divergingColor(double t) {
  if (std::isnan(t)) return kMissing;
  return interpolate(kDiverging, (std::clamp(t, -1.0, 1.0) + 1.0) / 2.0);
}

ColorScale ColorScale::resolved(double dataMin, double dataMax) const {
  ColorScale s = *this;
  if (!std::isfinite(dataMin) || !std::isfinite(dataMax)) dataMin = dataMax = 0;
  const double c = kind == Kind::Diverging ? center : 0.0;
  if (autoRange) {
    if (kind == Kind::Diverging) {
      const double m = std::max(std::abs(dataMin - c), std::abs(dataMax - c));
      s.min = c - m;
      s.max = c + m;
    } else {
      s.min = std::min(0.0, dataMin);
      s.max = dataMax;
    }
  }
  if (kind == Kind::Diverging) {
    if (s.max <= c) s.max = s.min < c ? 2 * c - s.min : c + 1.0;
    if (s.min >= c) s.min = 2 * c - s.max;
  } else if (!(s.max > s.min)) {
    s.max = s.min + 1.0;
  }
  return s;
}

double ColorScale::position(double value) const {
  if (std::isnan(value)) return value;
  if (kind == Kind::Diverging) {
    const double v = value - center;
    double t = v >= 0 ? v / (max - center) : v / (center - min);
    t = std::clamp(t, -1.0, 1.0);
    const double magnitude = std::pow(std::abs(t), gamma);
    return t < 0 ? -magnitude : magnitude;
  }
  const double t = std::clamp((value - min) / (max - min), 0.0, 1.0);
  return std::pow(t, gamma);
}

QColor ColorScale::colorAt(double p) const {
  return kind == Kind::Diverging ? divergingColor(p) : sequentialColor(p);
}

QColor ColorScale::color(double value) const { return colorAt(position(value)); }

nlohmann::json ColorScale::toJson() const {
  nlohmann::json j = {{"kind", kind == Kind::Diverging ? "diverging" : "sequential"},
                      {"auto", autoRange},
                      {"min", min},
                      {"max", max},
                      {"gamma", gamma}};
  if (center != 0.0) j["center"] = center;
  return j;
}

ColorScale ColorScale::fromJson(const nlohmann::json& j, const ColorScale& fallback) {
  ColorScale s = fallback;
  if (!j.is_object()) return s;
  if (auto it = j.find("kind"); it != j.end() && it->is_string()) {
    if (*it == "diverging") s.kind = Kind::Diverging;
    if (*it == "sequential") s.kind = Kind::Sequential;
  }
  if (auto it = j.find("auto"); it != j.end() && it->is_boolean()) s.autoRange = it->get<bool>();
  const double lo = j.contains("min") && finite(j["min"]) ? j["min"].get<double>() : s.min;
  const double hi = j.contains("max") && finite(j["max"]) ? j["max"].get<double>() : s.max;
  if (hi > lo) {
    s.min = lo;
    s.max = hi;
  }
  if (j.contains("center") && finite(j["center"])) s.center = j["center"].get<double>();
  if (j.contains("gamma") && finite(j["gamma"]) && j["gamma"].get<double>() > 0)
    s.gamma = std::clamp(j["gamma"].get<double>(), 0.05, 20.0);
  return s;
}

bool ColorScale::operator==(const ColorScale& o) const {
  return kind == o.kind && autoRange == o.autoRange && min == o.min && max == o.max &&
         gamma == o.gamma && center == o.center;
}

QString formatValue(double value, int significant) {
  if (std::isnan(value)) return QStringLiteral("–");
  if (value == 0) return QStringLiteral("0");
  const double a = std::abs(value);
  if (a >= 1e-3 && a < 1e5) {
    // Fixed notation with `significant` significant digits, trailing zeros dropped.
    const int decimals = std::max(0, significant - 1 - static_cast<int>(std::floor(std::log10(a))));
    QString s = QString::number(value, 'f', decimals);
    if (s.contains(QLatin1Char('.'))) {
      while (s.endsWith(QLatin1Char('0'))) s.chop(1);
      if (s.endsWith(QLatin1Char('.'))) s.chop(1);
    }
    return s;
  }
  return QString::number(value, 'g', significant);
}

}  // namespace mechscope
