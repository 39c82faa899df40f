#include "core/io/hdf5_writer.h"

#include <ATen/ATen.h>
#include <hdf5.h>

#include <vector>

#include "core/util/error.h"

namespace mechscope {
namespace {

class H5Handle {
 public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void write_dataset(hid_t parent, const std::string& name, const at::Tensor& t0,
                   const std::string& file) {
  const bool integer = !at::isFloatingType(t0.scalar_type());
  at::Tensor t = t0.detach().to(at::kCPU).to(integer ? at::kLong : at::kFloat).contiguous();
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  H5Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  const hid_t type = integer ? H5T_NATIVE_INT64 : H5T_NATIVE_FLOAT;
  H5Handle ds(H5Dcreate2(parent, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT),
              H5Dclose);
  if (ds.get() < 0 || H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    throw Error("Writing dataset '" + name + "' to " + file + " failed.");
}

void write_attribute(hid_t obj, const std::string& name, const std::string& value) {
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
  const char* s = value.c_str();
  H5Awrite(attr.get(), type.get(), &s);
}

}  // namespace

void write_cache_h5(const std::filesystem::path& path, const CacheFile& data) {
  const std::string tmp = path.string() + ".tmp";
  {
    H5Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (file.get() < 0) throw Error("Cannot create " + tmp + " (is the folder writable?).");
    if (data.tokens.defined()) write_dataset(file.get(), "tokens", data.tokens, tmp);
    if (data.attention_mask.defined())
      write_dataset(file.get(), "attention_mask", data.attention_mask, tmp);
    if (data.logits.defined()) write_dataset(file.get(), "logits", data.logits, tmp);
    H5Handle group(H5Gcreate2(file.get(), "cache", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Gclose);
    for (const auto& [name, t] : data.activations) write_dataset(group.get(), name, t, tmp);
    for (const auto& [k, v] : data.attributes) write_attribute(file.get(), k, v);
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw Error("Flushing " + tmp + " failed.");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("Cannot move " + tmp + " to " + path.string() + ": " + ec.message() + ".");
}

}  // namespace mechscope
