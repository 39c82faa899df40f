#pragma once
/// Small RAII helpers over the HDF5 C API for the session store: owned identifiers, checked
/// calls, UTF-8 string attributes and float32 datasets. Every failure throws mechscope::Error
/// with a phrase naming the object ("cannot read attribute 'order' of /results/attention-1.");
/// callers prefix the file name.
#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/util/error.h"

namespace mechscope::h5 {

/// An owned HDF5 identifier, closed with its matching H5?close when it goes out of scope.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Id() { close(); }
  Id(Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Id& operator=(Id&& other) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes now; false when HDF5 reports an error (a file's final flush can fail here).
  bool close();

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// Throws mechscope::Error(`message`) when an HDF5 call returned a negative status or id.
inline void check(int64_t status, const std::string& message) {
  if (status < 0) throw Error(message);
}
/// The same for calls returning an identifier: wraps it in an Id closed by `close`.
Id checked(hid_t id, Id::Closer close, const std::string& message);

/// The HDF5 build Debian ships is not thread-safe: hold this lock around every HDF5 call.
std::mutex& library_mutex();
/// Stops HDF5 from printing its error stack to stderr; failures are reported by our messages.
void quiet_errors();

/// The path of an object inside its file ("/results/attention-1"), for messages.
std::string object_path(hid_t obj);
/// Names of a group's direct children, in name order.
std::vector<std::string> child_names(hid_t group);

Id create_group(hid_t parent, const std::string& name);
Id open_group(hid_t parent, const std::string& name);

// Attributes. Strings are variable-length UTF-8 (h5py reads them as `str`).
bool has_attribute(hid_t obj, const std::string& name);
void write_string_attribute(hid_t obj, const std::string& name, const std::string& value);
/// A 1-d attribute of variable-length UTF-8 strings (h5py: a numpy array of `str`).
void write_string_list_attribute(hid_t obj, const std::string& name,
                                 const std::vector<std::string>& values);
void write_int_attribute(hid_t obj, const std::string& name, int64_t value);
/// Reads a scalar string attribute (variable-length or fixed-length).
std::string read_string_attribute(hid_t obj, const std::string& name);
/// Reads a 1-d string attribute (variable-length or fixed-length).
std::vector<std::string> read_string_list_attribute(hid_t obj, const std::string& name);
int64_t read_int_attribute(hid_t obj, const std::string& name);

// Float32 datasets.
/// Creates a float32 dataset of `shape` holding `data` (row-major, product(shape) values).
/// Arrays larger than `compress_above` bytes are chunked and deflate-compressed.
Id write_float_dataset(hid_t parent, const std::string& name, const std::vector<int64_t>& shape,
                       const float* data, size_t compress_above = 64 * 1024);
/// The shape of a dataset (empty for a scalar).
std::vector<int64_t> dataset_shape(hid_t dataset);
/// Reads a whole floating-point dataset as float32 (throws when it is not floating point).
std::vector<float> read_float_dataset(hid_t dataset);

}  // namespace mechscope::h5
