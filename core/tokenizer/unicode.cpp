#include "core/tokenizer/unicode.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

namespace mechscope::unicode {

namespace {

struct CanonicalDecomposition {
  char32_t code_point;
  char32_t first;
  char32_t second;
  int composes;
};

struct CombiningClassRange {
  char32_t first;
  char32_t last;
  int ccc;
};

#include "core/tokenizer/unicode_tables.inc"

// Hangul syllables decompose algorithmically (Unicode 3.12), so they are not in the tables.
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

struct NormalizationData {
  std::unordered_map<char32_t, const CanonicalDecomposition*> decompositions;
  std::unordered_map<uint64_t, char32_t> compositions;
  std::unordered_set<char32_t> second_of_pair;

  NormalizationData() {
    for (const auto& d : kCanonicalDecompositions) {
      decompositions.emplace(d.code_point, &d);
      if (d.composes) {
        compositions.emplace((uint64_t{d.first} << 32) | d.second, d.code_point);
        second_of_pair.insert(d.second);
      }
    }
  }
};

const NormalizationData& normalization_data() {
  static const NormalizationData data;
  return data;
}

void decompose_into(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const auto& table = normalization_data().decompositions;
  auto it = table.find(cp);
  if (it == table.end()) {
    out.push_back(cp);
    return;
  }
  decompose_into(it->second->first, out);
  if (it->second->second != 0) decompose_into(it->second->second, out);
}

char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const auto& table = normalization_data().compositions;
  auto it = table.find((uint64_t{a} << 32) | b);
  return it == table.end() ? 0 : it->second;
}

}  // namespace

Utf8Char next_char(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[pos];
  if (c < 0x80) return {c, 1, true};
  size_t len = 0;
  char32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // Valid range of the second byte (Unicode Table 3-7).
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    value = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    value = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return {0xFFFD, 1, false};
  }
  for (size_t i = 1; i < len; ++i) {
    if (pos + i >= s.size() || p[pos + i] < lo || p[pos + i] > hi) return {0xFFFD, i, false};
    value = (value << 6) | (p[pos + i] & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  return {value, len, true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string to_utf8(char32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Char c = next_char(s, pos);
    if (!c.valid) return false;
    pos += c.length;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Char c = next_char(s, pos);
    if (c.valid) {
      out.append(s.substr(pos, c.length));
    } else {
      append_utf8(out, 0xFFFD);
    }
    pos += c.length;
  }
  return out;
}

bool is_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

char32_t to_lower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 0x20 : cp;
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 0x20;
  if (cp >= 0x100 && cp <= 0x137) return cp | 1;
  if (cp >= 0x139 && cp <= 0x148) return (cp & 1) ? cp + 1 : cp;
  if (cp >= 0x14A && cp <= 0x177) return cp | 1;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x179 && cp <= 0x17E) return (cp & 1) ? cp + 1 : cp;
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x460 && cp <= 0x481) return cp | 1;
  if (cp >= 0x48A && cp <= 0x4BF) return cp | 1;
  if (cp >= 0x4D0 && cp <= 0x52F) return cp | 1;
  if (cp >= 0x531 && cp <= 0x556) return cp + 0x30;
  if (cp >= 0x1E00 && cp <= 0x1E95) return cp | 1;
  if (cp >= 0x1EA0 && cp <= 0x1EFF) return cp | 1;
  if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 0x20;
  return cp;
}

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* begin = std::begin(kCombiningClasses);
  const auto* end = std::end(kCombiningClasses);
  const auto* it = std::upper_bound(
      begin, end, cp, [](char32_t value, const CombiningClassRange& r) { return value < r.first; });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

bool composes_with_previous(char32_t cp) {
  if (cp < 0x300) return false;
  if (combining_class(cp) != 0) return true;
  if (cp >= kVBase && cp < kVBase + kVCount) return true;
  if (cp > kTBase && cp < kTBase + kTCount) return true;
  return normalization_data().second_of_pair.count(cp) > 0;
}

std::u32string nfd(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t cp : text) decompose_into(cp, out);
  // Canonical ordering: stable-sort each run of non-starters by combining class.
  for (size_t i = 0; i < out.size();) {
    if (combining_class(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && combining_class(out[j]) != 0) ++j;
    std::stable_sort(out.begin() + i, out.begin() + j, [](char32_t a, char32_t b) {
      return combining_class(a) < combining_class(b);
    });
    i = j;
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  const std::u32string decomposed = nfd(text);
  std::u32string out;
  out.reserve(decomposed.size());
  size_t starter = std::u32string::npos;
  int last_ccc = 0;
  for (char32_t cp : decomposed) {
    const int ccc = combining_class(cp);
    if (starter != std::u32string::npos) {
      // Not blocked: adjacent to the starter, or every character in between has a lower class.
      const bool adjacent = out.size() == starter + 1;
      if (adjacent || (last_ccc != 0 && last_ccc < ccc)) {
        if (char32_t composed = compose_pair(out[starter], cp)) {
          out[starter] = composed;
          continue;
        }
      }
    }
    if (ccc == 0) starter = out.size();
    last_ccc = ccc;
    out.push_back(cp);
  }
  return out;
}

std::u32string to_u32(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t pos = 0; pos < utf8.size();) {
    const Utf8Char c = next_char(utf8, pos);
    out.push_back(c.code_point);
    pos += c.length;
  }
  return out;
}

std::string to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

}  // namespace mechscope::unicode
