#pragma once
// Reading the plain data the probes put in a Result, as views need it: token texts from
// meta["token_strings"], metric numbers, top-k token lists, index selections from a view state,
// exact value text and the Pearson correlation.
#include <QString>
#include <QStringList>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/session/result.h"

namespace mechscope {

/// The array `name` when present with data matching its shape; otherwise null.
const Array* usableArray(const Result& result, const std::string& name);

/// The text of token `id` from meta["token_strings"] (whitespace made visible); "#id" when absent.
QString tokenText(const Result& result, double id);

/// meta["token_strings"] as id → raw text (whitespace as it is; for matching and classing).
std::unordered_map<int64_t, QString> tokenStrings(const Result& result);

/// meta[key] when it is a finite number.
std::optional<double> metaNumber(const Result& result, const std::string& key);
/// meta[key] when it is a string; `fallback` otherwise.
std::string metaString(const Result& result, const std::string& key,
                       const std::string& fallback = std::string());

struct TopToken {
  int64_t id = 0;
  QString text;  ///< From meta["token_strings"].
  float prob = 0;
};

/// Ranks of cell `flatIndex` of the arrays `tokens` and `probs` (shape: cell shape + [rank]);
/// empty when either is missing or the shapes disagree.
std::vector<TopToken> topTokens(const Result& result, int64_t flatIndex,
                                const std::string& tokens = "top_token",
                                const std::string& probs = "top_prob");
/// The token texts of cell `flatIndex` of a token-id array (shape: cell shape + [rank]); ids that
/// are negative or not finite (padding) are skipped; empty when out of range.
QStringList tokenTexts(const Result& result, const Array& tokens, int64_t flatIndex);

/// "1. “·Mary” 0.4123" lines, one per rank.
QStringList topTokenLines(const std::vector<TopToken>& top);

/// `detail` with its rank lines ("1. …", "2. …") joined into one paragraph, so a detail panel
/// stays a few lines high for any k.
QString compactDetail(const QString& detail);

/// The value as exact text (7 significant digits: what a float holds).
QString exactValue(double value);

/// Sorted, de-duplicated indices in [0, count) from a JSON array of integers (others dropped);
/// nullopt when `j` is not an array.
std::optional<std::vector<int>> readIndexList(const nlohmann::json& j, int count);
/// Whether `index` is selected by `selection` (an empty selection selects all).
bool selected(const std::vector<int>& selection, int index);

/// Pearson's correlation of two equally long series (NaN when undefined), over finite pairs.
double pearson(const float* a, const float* b, int64_t n);

/// The row-major index of `index` in `shape`, or -1 when it does not fit.
int64_t ravelIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& index);
std::vector<int64_t> unravelIndex(const std::vector<int64_t>& shape, int64_t flat);

/// The result's title, or its id when untitled.
QString resultTitle(const Result& result);

}  // namespace mechscope
