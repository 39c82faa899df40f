#include "core/session/session_integrity.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/session/sha256.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

constexpr char kMagic[] = "MECHSCOPE-SESSION\n";

/// SHA-256 and byte count of `path` from `offset` to its end.
std::pair<std::string, int64_t> digest_from(const std::filesystem::path& path, int64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read it.");
  in.seekg(offset);
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  int64_t total = 0;
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    sha.update(buf.data(), size_t(n));
    total += n;
  }
  return {sha.hex_digest(), total};
}

}  // namespace

void seal_session_file(const std::filesystem::path& path) {
  const auto [hex, bytes] = digest_from(path, kSessionUserBlock);
  std::string block = std::string(kMagic) + "sha256 " + hex + "\nbytes " + std::to_string(bytes) +
                      "\n";
  block.resize(size_t(kSessionUserBlock), '\0');
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  if (!f) throw Error("cannot reopen " + path.string() + " to seal it.");
  f.seekp(0);
  f.write(block.data(), std::streamsize(block.size()));
  f.flush();
  if (!f) throw Error("cannot write the checksum block of " + path.string() + ".");
}

SessionSeal check_session_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("it cannot be read (check its permissions).");
  std::string block(size_t(kSessionUserBlock), '\0');
  in.read(block.data(), std::streamsize(block.size()));
  if (in.gcount() < std::streamsize(sizeof kMagic - 1) ||
      block.compare(0, sizeof kMagic - 1, kMagic) != 0)
    return SessionSeal::Absent;
  if (in.gcount() < kSessionUserBlock) throw Error("it is truncated inside its header block.");
  std::istringstream lines(block.substr(sizeof kMagic - 1));
  std::string key_sha, hex, key_bytes;
  int64_t bytes = -1;
  lines >> key_sha >> hex >> key_bytes >> bytes;
  if (key_sha != "sha256" || hex.size() != 64 || key_bytes != "bytes" || bytes < 0)
    throw Error("its header block is damaged (the checksum line cannot be read).");
  std::error_code ec;
  const auto size = int64_t(std::filesystem::file_size(path, ec));
  if (ec) throw Error("its size cannot be read.");
  if (size != kSessionUserBlock + bytes)
    throw Error("it is " + std::to_string(size) + " bytes, but was written with " +
                std::to_string(kSessionUserBlock + bytes) +
                (size < kSessionUserBlock + bytes ? " (truncated)." : " (something was appended)."));
  if (digest_from(path, kSessionUserBlock).first != hex)
    throw Error("it is damaged: its content does not match the SHA-256 written with it (changed "
                "or corrupted after saving).");
  return SessionSeal::Verified;
}

}  // namespace mechscope
