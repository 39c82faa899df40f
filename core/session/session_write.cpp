// save_session: writes a `.mscope` file (layout in docs/session-format.md) atomically.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/session/h5.h"
#include "core/session/session.h"
#include "core/session/session_integrity.h"
#include "core/session/session_layout.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;
namespace layout = session_layout;

/// JSON text; invalid UTF-8 in strings becomes U+FFFD rather than failing the save.
std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// A name HDF5 can hold as one link: not empty, no '/', not ".".
void check_link_name(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw Error(what + " '" + name + "' cannot name an HDF5 object (empty, '.' or contains '/').");
}

void check_storable(const Session& session) {
  std::set<std::string> ids;
  for (const Result& result : session.results) {
    result.validate();
    check_link_name(result.id, "The result id");
    if (!ids.insert(result.id).second) throw Error("Two results have the id '" + result.id + "'.");
    for (const auto& [name, array] : result.arrays)
      check_link_name(name, "The array name in result '" + result.id + "'");
  }
}

nlohmann::json prompts_json(const std::vector<SessionPrompt>& prompts) {
  nlohmann::json list = nlohmann::json::array();
  for (const SessionPrompt& p : prompts)
    list.push_back({{"text", p.text}, {"corrupt", p.corrupt}, {"answer", p.answer}});
  return list;
}

void write_json_group(hid_t file, const std::string& name, const nlohmann::json& value) {
  h5::Id group = h5::create_group(file, name);
  h5::write_string_attribute(group.get(), layout::kJsonAttr, json_text(value));
}

void write_array(hid_t group, const std::string& name, const Array& array) {
  h5::Id dataset = h5::write_float_dataset(group, name, array.shape, array.data.data());
  nlohmann::json names = nlohmann::json::array();
  for (const Axis& axis : array.axes) names.push_back(axis.name);
  h5::write_string_attribute(dataset.get(), layout::kAxesAttr, json_text(names));
  for (const Axis& axis : array.axes)
    if (!axis.labels.empty())
      h5::write_string_list_attribute(dataset.get(), layout::kLabelsPrefix + axis.name,
                                      axis.labels);
}

void write_result(hid_t results, const Result& result, int64_t order) {
  h5::Id group = h5::create_group(results, result.id);
  h5::write_string_attribute(group.get(), layout::kProbeAttr, result.probe);
  h5::write_string_attribute(group.get(), layout::kTitleAttr, result.title);
  h5::write_string_attribute(group.get(), layout::kMetaAttr, json_text(result.meta));
  h5::write_int_attribute(group.get(), layout::kOrderAttr, order);
  for (const auto& [name, array] : result.arrays) write_array(group.get(), name, array);
}

/// Writes the whole session to `file` and closes it, checking the final flush and close.
void write_file(const Session& session, const fs::path& file, const SessionProgress& progress) {
  // The 1.8 file format: readable by every h5py, and it stores attributes over 64 KiB (long
  // token-label lists) densely instead of failing.
  h5::Id fapl = h5::checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a property list.");
  h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18),
            "cannot select the HDF5 file format.");
  // A user block in front of the HDF5 data holds the checksum (session_integrity.h).
  h5::Id fcpl = h5::checked(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create a property list.");
  h5::check(H5Pset_userblock(fcpl.get(), hsize_t(kSessionUserBlock)),
            "cannot reserve the session's header block.");
  h5::Id f = h5::checked(
      H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose,
      "cannot create the temporary file " + file.string() + " (is the folder writable?).");
  const hid_t root = f.get();
  h5::write_int_attribute(root, layout::kFormatVersionAttr, kSessionFormatVersion);
  h5::write_string_attribute(root, layout::kKindAttr, layout::kKind);
  h5::write_string_attribute(root, layout::kVersionAttr, MECHSCOPE_VERSION);
  h5::write_string_attribute(root, layout::kCreatedAttr, iso_time_now());
  write_json_group(root, layout::kModelGroup, session.model);
  write_json_group(root, layout::kPromptsGroup, prompts_json(session.prompts));
  write_json_group(root, layout::kViewsGroup, session.views);
  {
    h5::Id results = h5::create_group(root, layout::kResultsGroup);
    const size_t n = session.results.size();
    for (size_t i = 0; i < n; ++i) {
      if (progress && !progress(0.95 * double(i) / double(n))) throw Cancelled();
      write_result(results.get(), session.results[i], static_cast<int64_t>(i));
    }
  }
  h5::check(H5Fflush(root, H5F_SCOPE_GLOBAL),
            "cannot flush " + file.string() + " (is the disk full?).");
  if (!f.close()) throw Error("cannot close " + file.string() + " (is the disk full?).");
}

/// fsync through POSIX: HDF5's flush only reaches the OS cache.
void sync_to_disk(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0)
    throw Error("cannot open " + path.string() + " to sync it (" + std::strerror(errno) + ").");
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0)
    throw Error("cannot sync " + path.string() + " to disk (" + std::strerror(error) + ").");
}

}  // namespace

void save_session(const Session& session, const fs::path& path, const SessionProgress& progress) {
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const fs::path temp = path.string() + ".tmp-" + std::to_string(::getpid());
  // One save at a time per process: HDF5 is not thread-safe and the temporary name is per process.
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  try {
    check_storable(session);
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw Error("the folder " + folder.string() + " does not exist.");
    if (fs::is_directory(path, ec)) throw Error("it is a folder.");
    h5::quiet_errors();
    write_file(session, temp, progress);
    seal_session_file(temp);
    sync_to_disk(temp, false);
    sync_to_disk(folder, true);
    fs::rename(temp, path, ec);
    if (ec) throw Error("cannot replace it with " + temp.string() + " (" + ec.message() + ").");
    sync_to_disk(folder, true);  // makes the rename itself durable
  } catch (const Cancelled&) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw Error("Cannot save the session " + path.string() + ": " + e.what());
  }
}

}  // namespace mechscope
