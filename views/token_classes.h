#pragma once
// Coarse classes of token texts for summaries (what share of neurons promote word starts, digits,
// punctuation), read from the raw token text (not the whitespace-made-visible one).
#include <QString>

namespace mechscope {

/// Starts with whitespace or a tokenizer's word-start mark ("▁", "Ġ") followed by anything.
bool tokenStartsWord(const QString& raw);
/// Non-empty after trimming and every character a decimal digit.
bool tokenIsDigits(const QString& raw);
/// Non-empty after trimming and every character punctuation or a symbol.
bool tokenIsPunctuation(const QString& raw);

}  // namespace mechscope
