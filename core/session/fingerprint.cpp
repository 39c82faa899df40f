#include "core/session/fingerprint.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "core/session/sha256.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;

/// Feeds `count` bytes of `in` from `offset` into `hash`.
void hash_range(std::ifstream& in, uint64_t offset, uint64_t count, Sha256& hash,
                const fs::path& path) {
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<char> buffer(1 << 20);
  while (count > 0) {
    const auto take = static_cast<std::streamsize>(std::min<uint64_t>(count, buffer.size()));
    if (!in.read(buffer.data(), take))
      throw Error("Cannot read " + path.string() + " to fingerprint it.");
    hash.update(buffer.data(), static_cast<size_t>(take));
    count -= static_cast<uint64_t>(take);
  }
}

std::string regular_file_fingerprint(const fs::path& path, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("Cannot open " + path.string() + " to fingerprint it.");
  Sha256 hash;
  uint8_t size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = uint8_t(size >> (8 * i));
  hash.update(size_bytes, 8);
  if (size <= kFingerprintWholeFileLimit) {
    hash_range(in, 0, size, hash, path);
  } else {
    hash_range(in, 0, kFingerprintSampleBytes, hash, path);
    hash_range(in, size - kFingerprintSampleBytes, kFingerprintSampleBytes, hash, path);
  }
  return hash.hex_digest();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string folder_fingerprint(const fs::path& dir) {
  std::vector<std::pair<std::string, uint64_t>> files;  // (name, size), sorted by name
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw Error("Cannot list " + dir.string() + " to fingerprint it (" + ec.message() + ").");
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    std::error_code entry_ec;
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(entry_ec)) continue;
    const uint64_t size = entry.file_size(entry_ec);
    if (entry_ec) throw Error("Cannot read the size of " + entry.path().string() + ".");
    files.emplace_back(name, size);
  }
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& [name, size] : files) text += name + "\t" + std::to_string(size) + "\n";
  for (const auto& [name, size] : files)
    if (name == "config.json" || ends_with(name, ".safetensors"))
      text += name + "\t" + regular_file_fingerprint(dir / name, size) + "\n";
  return sha256_hex(text);
}

}  // namespace

std::string file_fingerprint(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw Error("Cannot fingerprint " + path.string() + ": it does not exist.");
  if (fs::is_directory(status)) return folder_fingerprint(path);
  const uint64_t size = fs::file_size(path, ec);
  if (ec) throw Error("Cannot fingerprint " + path.string() + " (" + ec.message() + ").");
  return regular_file_fingerprint(path, size);
}

}  // namespace mechscope

namespace mechscope {

namespace {

/// What changes when a file or a folder's files change: names, sizes and modification times.
std::string stamp_of(const fs::path& path) {
  std::error_code ec;
  std::string stamp;
  auto add = [&](const fs::path& p) {
    const auto size = fs::file_size(p, ec);
    const auto time = fs::last_write_time(p, ec).time_since_epoch().count();
    stamp += p.filename().string() + "\t" + std::to_string(ec ? 0 : size) + "\t" +
             std::to_string(time) + "\n";
  };
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_regular_file(ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add(f);
  } else {
    add(path);
  }
  return stamp;
}

}  // namespace

std::string cached_file_fingerprint(const fs::path& path) {
  static std::mutex mutex;
  static std::map<std::string, std::pair<std::string, std::string>> cache;  // path → stamp, hash
  const std::string key = fs::absolute(path).lexically_normal().string();
  const std::string stamp = stamp_of(path);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.first == stamp) return it->second.second;
  }
  const std::string hash = file_fingerprint(path);
  std::lock_guard<std::mutex> lock(mutex);
  cache[key] = {stamp, hash};
  return hash;
}

}  // namespace mechscope
