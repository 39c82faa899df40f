#include "views/token_classes.h"

#include <algorithm>

namespace mechscope {
namespace {

// The text without a leading word-start mark and surrounding whitespace.
QString core(const QString& raw) {
  QString s = raw;
  if (s.startsWith(QChar(0x2581)) || s.startsWith(QChar(0x0120))) s.remove(0, 1);
  return s.trimmed();
}

}  // namespace

bool tokenStartsWord(const QString& raw) {
  if (raw.isEmpty()) return false;
  const QChar c = raw.front();
  return c.isSpace() || c == QChar(0x2581) || c == QChar(0x0120);
}

bool tokenIsDigits(const QString& raw) {
  const QString s = core(raw);
  return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return c.isDigit(); });
}

bool tokenIsPunctuation(const QString& raw) {
  const QString s = core(raw);
  return !s.isEmpty() &&
         std::all_of(s.begin(), s.end(), [](QChar c) { return c.isPunct() || c.isSymbol(); });
}

}  // namespace mechscope
