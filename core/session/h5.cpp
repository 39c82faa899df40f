#include "core/session/h5.h"

namespace mechscope::h5 {
namespace {

std::string quoted(const std::string& name) { return "'" + name + "'"; }

/// Link/attribute creation properties that mark names as UTF-8 (result ids, axis names).
Id utf8_names(hid_t property_class) {
  Id plist = checked(H5Pcreate(property_class), H5Pclose, "cannot create a property list.");
  check(H5Pset_char_encoding(plist.get(), H5T_CSET_UTF8), "cannot set UTF-8 names.");
  return plist;
}

/// A string type: variable-length when `size` is 0, else fixed-length of `size` bytes.
Id string_type(H5T_cset_t cset, size_t size = 0) {
  Id type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type.");
  check(H5Tset_size(type.get(), size == 0 ? H5T_VARIABLE : size), "cannot size a string type.");
  check(H5Tset_cset(type.get(), cset), "cannot set a string type's character set.");
  return type;
}

void write_attribute(hid_t obj, const std::string& name, hid_t file_type, hid_t space,
                     hid_t mem_type, const void* data, bool write) {
  const std::string what = "attribute " + quoted(name) + " of " + object_path(obj);
  if (has_attribute(obj, name)) check(H5Adelete(obj, name.c_str()), "cannot replace " + what + ".");
  Id acpl = utf8_names(H5P_ATTRIBUTE_CREATE);
  Id attr = checked(H5Acreate2(obj, name.c_str(), file_type, space, acpl.get(), H5P_DEFAULT),
                    H5Aclose, "cannot create " + what + ".");
  if (write) check(H5Awrite(attr.get(), mem_type, data), "cannot write " + what + ".");
}

/// Every string of a string attribute, whatever its layout (variable or fixed length).
std::vector<std::string> read_strings(hid_t obj, const std::string& name, bool scalar) {
  const std::string what = "attribute " + quoted(name) + " of " + object_path(obj);
  Id attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose,
                    "cannot open " + what + " (is it missing?).");
  Id file_type =
      checked(H5Aget_type(attr.get()), H5Tclose, "cannot read the type of " + what + ".");
  if (H5Tget_class(file_type.get()) != H5T_STRING) throw Error(what + " is not a string.");
  Id space = checked(H5Aget_space(attr.get()), H5Sclose, "cannot read the shape of " + what + ".");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  check(n, "cannot read the size of " + what + ".");
  if (scalar && n != 1) throw Error(what + " is not a single string.");
  const H5T_cset_t cset = H5Tget_cset(file_type.get());
  check(cset, "cannot read the character set of " + what + ".");
  std::vector<std::string> out;
  if (n == 0) return out;
  const htri_t variable = H5Tis_variable_str(file_type.get());
  check(variable, "cannot read the type of " + what + ".");
  if (variable) {
    Id mem_type = string_type(cset);
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    check(H5Aread(attr.get(), mem_type.get(), ptrs.data()), "cannot read " + what + ".");
    for (char* p : ptrs) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem_type.get(), space.get(), H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem_type.get(), space.get(), H5P_DEFAULT, ptrs.data());
#endif
    return out;
  }
  // Fixed-length strings (h5py writes numpy bytes this way): NUL- or space-padded.
  const size_t size = H5Tget_size(file_type.get());
  if (size == 0) throw Error("cannot read the size of " + what + ".");
  Id mem_type = string_type(cset, size);
  check(H5Tset_strpad(mem_type.get(), H5Tget_strpad(file_type.get())),
        "cannot read the padding of " + what + ".");
  std::vector<char> buffer(size * static_cast<size_t>(n));
  check(H5Aread(attr.get(), mem_type.get(), buffer.data()), "cannot read " + what + ".");
  for (hssize_t i = 0; i < n; ++i) {
    std::string s(buffer.data() + i * size, size);
    s = s.substr(0, s.find('\0'));
    if (H5Tget_strpad(file_type.get()) == H5T_STR_SPACEPAD) s.erase(s.find_last_not_of(' ') + 1);
    out.push_back(std::move(s));
  }
  return out;
}

/// Chunk dimensions of at most about `target_bytes`: leading dimensions are halved first, so a
/// chunk is a contiguous slab of the trailing ones (one head's pattern, one layer's rows).
std::vector<hsize_t> chunk_shape(std::vector<hsize_t> dims, size_t target_bytes) {
  auto bytes = [&] {
    size_t n = sizeof(float);
    for (hsize_t d : dims) n *= d;
    return n;
  };
  while (bytes() > target_bytes) {
    for (hsize_t& d : dims)
      if (d > 1) {
        d = (d + 1) / 2;
        break;
      }
  }
  return dims;
}

}  // namespace

Id& Id::operator=(Id&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

bool Id::close() {
  if (id_ < 0 || close_ == nullptr) return true;
  const herr_t status = close_(id_);
  id_ = -1;
  return status >= 0;
}

Id checked(hid_t id, Id::Closer close, const std::string& message) {
  if (id < 0) throw Error(message);
  return Id(id, close);
}

std::mutex& library_mutex() {
  static std::mutex mutex;
  return mutex;
}

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string object_path(hid_t obj) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) return "?";
  std::string name(static_cast<size_t>(n) + 1, '\0');
  H5Iget_name(obj, name.data(), name.size());
  name.resize(static_cast<size_t>(n));
  return name;
}

std::vector<std::string> child_names(hid_t group) {
  const std::string what = object_path(group);
  H5G_info_t info;
  check(H5Gget_info(group, &info), "cannot list the members of " + what + ".");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    check(n, "cannot read a member name of " + what + ".");
    std::string name(static_cast<size_t>(n) + 1, '\0');
    check(H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                             H5P_DEFAULT),
          "cannot read a member name of " + what + ".");
    name.resize(static_cast<size_t>(n));
    names.push_back(std::move(name));
  }
  return names;
}

Id create_group(hid_t parent, const std::string& name) {
  Id lcpl = utf8_names(H5P_LINK_CREATE);
  return checked(H5Gcreate2(parent, name.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                 "cannot create group " + quoted(name) + " in " + object_path(parent) + ".");
}

Id open_group(hid_t parent, const std::string& name) {
  const htri_t exists = H5Lexists(parent, name.c_str(), H5P_DEFAULT);
  const std::string what = "group " + quoted(name) + " in " + object_path(parent);
  if (exists <= 0) throw Error(what + " is missing.");
  return checked(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose,
                 "cannot open " + what + " (is it a group?).");
}

bool has_attribute(hid_t obj, const std::string& name) {
  const htri_t exists = H5Aexists(obj, name.c_str());
  check(exists, "cannot look up attribute " + quoted(name) + " of " + object_path(obj) + ".");
  return exists > 0;
}

void write_string_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Id type = string_type(H5T_CSET_UTF8);
  Id space = checked(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace.");
  const char* text = value.c_str();
  write_attribute(obj, name, type.get(), space.get(), type.get(), &text, true);
}

void write_string_list_attribute(hid_t obj, const std::string& name,
                                 const std::vector<std::string>& values) {
  Id type = string_type(H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Id space = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, "cannot create a dataspace.");
  std::vector<const char*> texts;
  for (const std::string& v : values) texts.push_back(v.c_str());
  write_attribute(obj, name, type.get(), space.get(), type.get(), texts.data(), n > 0);
}

void write_int_attribute(hid_t obj, const std::string& name, int64_t value) {
  Id space = checked(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace.");
  write_attribute(obj, name, H5T_STD_I64LE, space.get(), H5T_NATIVE_INT64, &value, true);
}

std::string read_string_attribute(hid_t obj, const std::string& name) {
  return read_strings(obj, name, true).front();
}

std::vector<std::string> read_string_list_attribute(hid_t obj, const std::string& name) {
  return read_strings(obj, name, false);
}

int64_t read_int_attribute(hid_t obj, const std::string& name) {
  const std::string what = "attribute " + quoted(name) + " of " + object_path(obj);
  Id attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose,
                    "cannot open " + what + " (is it missing?).");
  Id type = checked(H5Aget_type(attr.get()), H5Tclose, "cannot read the type of " + what + ".");
  Id space = checked(H5Aget_space(attr.get()), H5Sclose, "cannot read the shape of " + what + ".");
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Sget_simple_extent_npoints(space.get()) != 1)
    throw Error(what + " is not an integer.");
  int64_t value = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), "cannot read " + what + ".");
  return value;
}

Id write_float_dataset(hid_t parent, const std::string& name, const std::vector<int64_t>& shape,
                       const float* data, size_t compress_above) {
  const std::string what = "dataset " + quoted(name) + " in " + object_path(parent);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  size_t numel = 1;
  for (hsize_t d : dims) numel *= d;
  Id space = checked(dims.empty() ? H5Screate(H5S_SCALAR)
                                  : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                     H5Sclose, "cannot create the dataspace of " + what + ".");
  Id dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list.");
  if (!dims.empty() && numel * sizeof(float) > compress_above) {
    const std::vector<hsize_t> chunk = chunk_shape(dims, 1 << 20);
    check(H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data()), "cannot chunk " + what + ".");
    // Shuffle + deflate are built into every HDF5 (h5py included); skip them if this one lacks
    // zlib.
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      check(H5Pset_shuffle(dcpl.get()), "cannot set the shuffle filter of " + what + ".");
      check(H5Pset_deflate(dcpl.get(), 4), "cannot compress " + what + ".");
    }
  }
  Id lcpl = utf8_names(H5P_LINK_CREATE);
  Id dataset = checked(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(),
                                  dcpl.get(), H5P_DEFAULT),
                       H5Dclose, "cannot create " + what + ".");
  if (numel > 0)
    check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          "cannot write " + what + " (is the disk full?).");
  return dataset;
}

std::vector<int64_t> dataset_shape(hid_t dataset) {
  const std::string what = "the shape of " + object_path(dataset);
  Id space = checked(H5Dget_space(dataset), H5Sclose, "cannot read " + what + ".");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  check(rank, "cannot read " + what + ".");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0)
    check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr),
          "cannot read " + what + ".");
  return std::vector<int64_t>(dims.begin(), dims.end());
}

std::vector<float> read_float_dataset(hid_t dataset) {
  const std::string what = object_path(dataset);
  Id type = checked(H5Dget_type(dataset), H5Tclose, "cannot read the type of " + what + ".");
  if (H5Tget_class(type.get()) != H5T_FLOAT) throw Error(what + " is not a floating-point array.");
  Id space = checked(H5Dget_space(dataset), H5Sclose, "cannot read the shape of " + what + ".");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  check(n, "cannot read the size of " + what + ".");
  std::vector<float> values(static_cast<size_t>(n));
  if (n > 0)
    check(H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "cannot read the values of " + what + " (the file may be truncated or corrupt).");
  return values;
}

}  // namespace mechscope::h5
