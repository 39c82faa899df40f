// load_session: reads a `.mscope` file (layout in docs/session-format.md), checking everything.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <new>
#include <stdexcept>
#include <utility>

#include "core/session/checking_process.h"
#include "core/session/h5.h"
#include "core/session/session.h"
#include "core/session/session_integrity.h"
#include "core/session/session_layout.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;
namespace layout = session_layout;

nlohmann::json read_json_attribute(hid_t obj, const std::string& name) {
  const std::string text = h5::read_string_attribute(obj, name);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error("attribute '" + name + "' of " + h5::object_path(obj) + " is not valid JSON.");
  }
}

nlohmann::json read_json_group(hid_t file, const std::string& name) {
  h5::Id group = h5::open_group(file, name);
  return read_json_attribute(group.get(), layout::kJsonAttr);
}

std::vector<SessionPrompt> read_prompts(hid_t file) {
  const nlohmann::json list = read_json_group(file, layout::kPromptsGroup);
  if (!list.is_array()) throw Error("/prompts does not hold a JSON list.");
  std::vector<SessionPrompt> prompts;
  for (const nlohmann::json& p : list) {
    if (!p.is_object()) throw Error("/prompts holds an entry that is not a JSON object.");
    auto text = [&](const char* key) {
      const auto it = p.find(key);
      if (it == p.end() || it->is_null()) return std::string();
      if (!it->is_string()) throw Error(std::string("a prompt's '") + key + "' is not a string.");
      return it->get<std::string>();
    };
    prompts.push_back({text("text"), text("corrupt"), text("answer")});
  }
  return prompts;
}

Array read_array(hid_t dataset) {
  const std::string what = h5::object_path(dataset);
  Array array;
  array.shape = h5::dataset_shape(dataset);
  const nlohmann::json names = read_json_attribute(dataset, layout::kAxesAttr);
  if (!names.is_array() || names.size() != array.shape.size())
    throw Error("the 'axes' attribute of " + what + " names " +
                std::to_string(names.is_array() ? names.size() : 0) + " axes but the array has " +
                std::to_string(array.shape.size()) + " dimensions.");
  for (const nlohmann::json& name : names) {
    if (!name.is_string()) throw Error("the 'axes' attribute of " + what + " holds a non-string.");
    Axis axis{name.get<std::string>(), {}};
    const std::string labels = layout::kLabelsPrefix + axis.name;
    if (h5::has_attribute(dataset, labels))
      axis.labels = h5::read_string_list_attribute(dataset, labels);
    array.axes.push_back(std::move(axis));
  }
  array.data = h5::read_float_dataset(dataset);
  return array;
}

/// One `/results/<id>` group and its creation order.
std::pair<int64_t, Result> read_result(hid_t results, const std::string& id) {
  h5::Id group = h5::open_group(results, id);
  Result result;
  result.id = id;
  result.probe = h5::read_string_attribute(group.get(), layout::kProbeAttr);
  result.title = h5::read_string_attribute(group.get(), layout::kTitleAttr);
  result.meta = read_json_attribute(group.get(), layout::kMetaAttr);
  const int64_t order = h5::read_int_attribute(group.get(), layout::kOrderAttr);
  for (const std::string& name : h5::child_names(group.get())) {
    h5::Id object = h5::checked(H5Oopen(group.get(), name.c_str(), H5P_DEFAULT), H5Oclose,
                                "cannot open '" + name + "' in /results/" + id + ".");
    if (H5Iget_type(object.get()) != H5I_DATASET)
      throw Error("'" + name + "' in /results/" + id + " is not an array.");
    result.arrays[name] = read_array(object.get());
  }
  result.validate();  // shape vs values vs axis labels
  return {order, std::move(result)};
}

Session read_session(hid_t file, const SessionProgress& progress) {
  if (!h5::has_attribute(file, layout::kKindAttr))
    throw Error("it is an HDF5 file but not a mechscope session (it has no 'kind' attribute).");
  const std::string kind = h5::read_string_attribute(file, layout::kKindAttr);
  if (kind != layout::kKind)
    throw Error("it is an HDF5 file of kind '" + kind + "', not a mechscope session.");
  const int64_t version = h5::read_int_attribute(file, layout::kFormatVersionAttr);
  if (version > kSessionFormatVersion)
    throw Error("it was written by a newer mechscope (format " + std::to_string(version) +
                "; this build reads up to " + std::to_string(kSessionFormatVersion) + ").");
  if (version < 1) throw Error("its format_version " + std::to_string(version) + " is not valid.");

  Session session;
  session.model = read_json_group(file, layout::kModelGroup);
  session.prompts = read_prompts(file);
  session.views = read_json_group(file, layout::kViewsGroup);
  h5::Id results = h5::open_group(file, layout::kResultsGroup);
  std::vector<std::pair<int64_t, Result>> ordered;
  const std::vector<std::string> ids = h5::child_names(results.get());
  for (const std::string& id : ids) {
    if (progress && !progress(double(ordered.size()) / double(ids.size()))) throw Cancelled();
    ordered.push_back(read_result(results.get(), id));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& entry : ordered) session.results.push_back(std::move(entry.second));
  return session;
}

}  // namespace

namespace {

/// Opens and reads the HDF5 part. Callers hold h5::library_mutex() (or are the guarded child).
Session read_file(const fs::path& path, const std::function<Error(const std::string&)>& problem,
                  const SessionProgress& progress = {}) {
  h5::quiet_errors();
#if H5_VERSION_GE(1, 12, 0)
  const htri_t is_hdf5 = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
#endif
  if (is_hdf5 == 0) throw problem("it is not an HDF5 file (a .mscope session is HDF5).");
  if (is_hdf5 < 0) throw problem("it cannot be read (check its permissions).");
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw problem("it is truncated or corrupt (HDF5 cannot open it).");
  try {
    return read_session(file.get(), progress);
  } catch (const Cancelled&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw problem("an array is larger than the memory available (the file may be corrupt).");
  } catch (const std::length_error&) {
    throw problem("an array is larger than the memory available (the file may be corrupt).");
  } catch (const std::exception& e) {
    throw problem(e.what());
  }
}

/// How long the checking process may take: 3 s plus 1 s per 10 MB (a sound file of that size
/// reads in a small fraction of it). MECHSCOPE_SESSION_CHECK_MS replaces the 3 s (the fuzzer
/// uses a short limit to get through hostile inputs quickly).
std::chrono::milliseconds check_time_limit(uintmax_t size) {
  int64_t base = 3000;
  if (const char* env = std::getenv("MECHSCOPE_SESSION_CHECK_MS")) {
    char* end = nullptr;
    const long long ms = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && ms > 0) base = ms;
  }
  return std::chrono::milliseconds(base + int64_t(size / (10 << 20)) * 1000);
}

/// The checking process that reads session files before this process does (see load_session).
CheckingProcess& session_checker() {
  static CheckingProcess checker([](const std::string& path) {
    read_file(path, [&](const std::string& what) {
      return Error("Cannot open the session " + path + ": " + what);
    });
  });
  return checker;
}

}  // namespace

Session load_session(const fs::path& path, const SessionProgress& progress) {
  auto problem = [&](const std::string& what) {
    return Error("Cannot open the session " + path.string() + ": " + what);
  };
  std::error_code ec;
  if (!fs::exists(path, ec)) throw problem("the file does not exist.");
  if (fs::is_directory(path, ec)) throw problem("it is a folder, not a session file.");
  const auto size = fs::file_size(path, ec);
  if (size == 0 && !ec) throw problem("the file is empty.");

  try {
    check_session_file(path);  // damage since saving is named as such, before HDF5 sees a byte
  } catch (const Error& e) {
    throw problem(e.what());
  }
  std::lock_guard<std::mutex> lock(h5::library_mutex());
  // Even a sealed file may have been made to harm (the checksum proves no damage, not good
  // intent): a child process reads it first, under a time limit, because HDF5 can hang or crash
  // on crafted files. (The lock is held: no thread of ours is inside HDF5 when the child forks.)
  const auto limit = check_time_limit(size);
  std::optional<std::string> failed;
  try {
    failed = session_checker().run(path.string(), limit,
                                   [&] { return !progress || progress(0.0); });
  } catch (const Cancelled&) {
    throw;
  } catch (const Error& e) {
    throw problem(e.what());
  }
  if (failed) throw Error(*failed);
  return read_file(path, problem, [&](double f) { return !progress || progress(0.5 + 0.5 * f); });
}

}  // namespace mechscope
