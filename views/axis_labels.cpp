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

QString labelOrIndex(const QStringList& labels, int index) {
  return index >= 0 && index < labels.size() ? labels[index] : QString::number(index);
}

}  // namespace mechscope
