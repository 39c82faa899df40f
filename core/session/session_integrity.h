#pragma once
/// Session files are checked before HDF5 parses them: the HDF5 library cannot be trusted with
/// arbitrary bytes (a few flipped bytes can make it loop forever inside H5Aread). A session
/// written by format 2 or later carries, in its 512-byte HDF5 user block, the SHA-256 and length
/// of everything after the block; HDF5 tools (h5py, h5dump) skip the block and read the file as
/// usual. Every file is then read by a checking process first (checking_process.h), under a
/// time limit, so a hostile file costs seconds, not a frozen program.
#include <cstdint>
#include <filesystem>
#include <string>

namespace mechscope {

/// Size of the HDF5 user block a session starts with.
inline constexpr int64_t kSessionUserBlock = 512;

/// Writes the user block of a file HDF5 wrote with a 512-byte user block: the magic line, the
/// SHA-256 and the byte count of the rest. Throws mechscope::Error naming the file.
void seal_session_file(const std::filesystem::path& path);

/// What check_session_file found.
enum class SessionSeal {
  Verified,  ///< the checksum and length match: HDF5 sees exactly what mechscope wrote
  Absent,    ///< no mechscope user block (an older session or another tool's file)
};

/// Verifies a sealed file. Throws mechscope::Error (without the file name: callers prefix it)
/// when the block is present but the length or checksum does not match.
SessionSeal check_session_file(const std::filesystem::path& path);


}  // namespace mechscope
