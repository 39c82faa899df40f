#include "views/probe_data.h"

#include <QRegularExpression>
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "views/colormap.h"
#include "views/token_text.h"

namespace mechscope {

const Array* usableArray(const Result& result, const std::string& name) {
  auto it = result.arrays.find(name);
  if (it == result.arrays.end()) return nullptr;
  const Array& a = it->second;
  if (a.shape.empty() || a.numel() <= 0 || static_cast<int64_t>(a.data.size()) != a.numel())
    return nullptr;
  return &a;
}

QString tokenText(const Result& result, double id) {
  const auto key = std::to_string(static_cast<int64_t>(std::llround(id)));
  if (auto strings = result.meta.find("token_strings");
      strings != result.meta.end() && strings->is_object())
    if (auto it = strings->find(key); it != strings->end() && it->is_string())
      return visibleWhitespace(QString::fromStdString(it->get<std::string>()));
  return QStringLiteral("#") + QString::fromStdString(key);
}

std::unordered_map<int64_t, QString> tokenStrings(const Result& result) {
  std::unordered_map<int64_t, QString> out;
  auto strings = result.meta.find("token_strings");
  if (strings == result.meta.end() || !strings->is_object()) return out;
  for (auto it = strings->begin(); it != strings->end(); ++it) {
    if (!it.value().is_string()) continue;
    char* end = nullptr;
    const long long id = std::strtoll(it.key().c_str(), &end, 10);
    if (end && *end == '\0') out[id] = QString::fromStdString(it.value().get<std::string>());
  }
  return out;
}

std::optional<double> metaNumber(const Result& result, const std::string& key) {
  auto it = result.meta.find(key);
  if (it == result.meta.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::string metaString(const Result& result, const std::string& key, const std::string& fallback) {
  auto it = result.meta.find(key);
  return it != result.meta.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<TopToken> topTokens(const Result& result, int64_t flatIndex, const std::string& tokens,
                                const std::string& probs) {
  const Array* t = usableArray(result, tokens);
  const Array* p = usableArray(result, probs);
  if (!t || !p || t->shape != p->shape || flatIndex < 0) return {};
  const int64_t k = t->shape.back();
  if (k <= 0 || (flatIndex + 1) * k > t->numel()) return {};
  std::vector<TopToken> out;
  for (int64_t r = 0; r < k; ++r) {
    const float id = t->data[flatIndex * k + r];
    if (!std::isfinite(id) || id < 0) continue;  // padding for short vocabularies
    out.push_back({static_cast<int64_t>(std::llround(id)), tokenText(result, id),
                   p->data[flatIndex * k + r]});
  }
  return out;
}

QStringList tokenTexts(const Result& result, const Array& tokens, int64_t flatIndex) {
  QStringList out;
  if (tokens.shape.empty() || flatIndex < 0) return out;
  const int64_t k = tokens.shape.back();
  if (k <= 0 || (flatIndex + 1) * k > static_cast<int64_t>(tokens.data.size())) return out;
  for (int64_t r = 0; r < k; ++r) {
    const float id = tokens.data[flatIndex * k + r];
    if (std::isfinite(id) && id >= 0) out << tokenText(result, id);
  }
  return out;
}

QStringList topTokenLines(const std::vector<TopToken>& top) {
  QStringList lines;
  for (size_t i = 0; i < top.size(); ++i)
    lines << QStringLiteral("%1. “%2” %3").arg(i + 1).arg(top[i].text, formatValue(top[i].prob, 4));
  return lines;
}

QString compactDetail(const QString& detail) {
  QStringList out;
  QStringList ranks;
  const QRegularExpression rank(QStringLiteral("^\\d+\\. "));
  for (const QString& line : detail.split(QLatin1Char('\n'))) {
    if (rank.match(line).hasMatch()) {
      ranks << line;
      continue;
    }
    if (!ranks.isEmpty()) out << ranks.join(QStringLiteral("    "));
    ranks.clear();
    out << line;
  }
  if (!ranks.isEmpty()) out << ranks.join(QStringLiteral("    "));
  return out.join(QLatin1Char('\n'));
}

QString exactValue(double value) { return QString::number(value, 'g', 7); }

std::optional<std::vector<int>> readIndexList(const nlohmann::json& j, int count) {
  if (!j.is_array()) return std::nullopt;
  std::vector<int> out;
  for (const auto& v : j)
    if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < count)
      out.push_back(v.get<int>());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool selected(const std::vector<int>& selection, int index) {
  return selection.empty() || std::binary_search(selection.begin(), selection.end(), index);
}

double pearson(const float* a, const float* b, int64_t n) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  int64_t m = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) continue;
    sa += a[i];
    sb += b[i];
    ++m;
  }
  if (m < 2) return std::nan("");
  const double ma = sa / m, mb = sb / m;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) continue;
    const double da = a[i] - ma, db = b[i] - mb;
    saa += da * da;
    sbb += db * db;
    sab += da * db;
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

int64_t ravelIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& index) {
  if (index.size() != shape.size()) return -1;
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape[d]) return -1;
    flat = flat * shape[d] + index[d];
  }
  return flat;
}

std::vector<int64_t> unravelIndex(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] > 0 ? flat % shape[d] : 0;
    flat = shape[d] > 0 ? flat / shape[d] : 0;
  }
  return index;
}

QString resultTitle(const Result& result) {
  return QString::fromStdString(result.title.empty() ? result.id : result.title);
}

}  // namespace mechscope
