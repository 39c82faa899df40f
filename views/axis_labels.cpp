#include "views/axis_labels.h"

#include "views/token_text.h"

namespace mechscope {

QStringList axisLabels(const Axis& axis, int64_t count, const nlohmann::json& fallback) {
  QStringList out;
  if (static_cast<int64_t>(axis.labels.size()) == count) {
    for (const std::string& s : axis.labels) out << visibleWhitespace(QString::fromStdString(s));
    return out;
  }
  if (fallback.is_array() && static_cast<int64_t>(fallback.size()) == count) {
    for (const auto& v : fallback) {
      if (!v.is_string()) return {};
      out << visibleWhitespace(QString::fromStdString(v.get<std::string>()));
    }
  }
  return out;
}

QStringList axisLabelsOr(const Array& a, size_t d, const QString& prefix) {
  if (d >= a.shape.size()) return {};
  QStringList labels = d < a.axes.size() ? axisLabels(a.axes[d], a.shape[d]) : QStringList();
  if (labels.isEmpty())
    for (int64_t i = 0; i < a.shape[d]; ++i) labels << prefix + QString::number(i);
  return labels;
}

QString labelOrIndex(const QStringList& labels, int index) {
  return index >= 0 && index < labels.size() ? labels[index] : QString::number(index);
}

}  // namespace mechscope
