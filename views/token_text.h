#pragma once
// How token text is shown in views: whitespace made visible so " the" and "the" differ on screen.
#include <QString>

namespace mechscope {

/// Replaces spaces with '·', newlines with '↵', tabs with '→' and carriage returns with '␍';
/// an empty token shows as '∅'.
QString visibleWhitespace(const QString& text);

}  // namespace mechscope
