#include "views/token_text.h"

namespace mechscope {

QString visibleWhitespace(const QString& text) {
  if (text.isEmpty()) return QStringLiteral("∅");
  QString out;
  out.reserve(text.size());
  for (QChar c : text) {
    switch (c.unicode()) {
      case ' ':
        out += QChar(0x00B7);
        break;  // ·
      case '\n':
        out += QChar(0x21B5);
        break;  // ↵
      case '\t':
        out += QChar(0x2192);
        break;  // →
      case '\r':
        out += QChar(0x240D);
        break;  // ␍
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace mechscope
