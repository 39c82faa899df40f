#pragma once
// Labels for an array axis as views draw them: token strings with visible whitespace.
#include <QStringList>
#include <cstdint>

#include "core/session/result.h"

namespace mechscope {

/// The axis' labels (whitespace made visible) when it has `count` of them; otherwise, the
/// strings of `fallback` when that is a JSON array of `count` strings; otherwise empty.
QStringList axisLabels(const Axis& axis, int64_t count,
                       const nlohmann::json& fallback = nlohmann::json());

/// Axis `d` of `a`'s labels; `prefix` + index ("L0", "H3") when it has none.
QStringList axisLabelsOr(const Array& a, size_t d, const QString& prefix);

/// "label" when there is one, else the index.
QString labelOrIndex(const QStringList& labels, int index);

}  // namespace mechscope
