#include "core/session/result.h"

#include <cassert>
#include <ctime>
#include <set>

#include "core/util/error.h"

namespace mechscope {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

int64_t Array::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float Array::at(std::initializer_list<int64_t> index) const {
  assert(index.size() == shape.size());
  int64_t flat = 0;
  size_t dim = 0;
  for (int64_t i : index) {
    assert(i >= 0 && i < shape[dim]);
    flat = flat * shape[dim++] + i;
  }
  return data[static_cast<size_t>(flat)];
}

void Array::validate(const std::string& what) const {
  for (int64_t d : shape)
    if (d < 0)
      throw Error(what + " has a negative dimension in its shape " + shape_text(shape) + ".");
  if (static_cast<int64_t>(data.size()) != numel())
    throw Error(what + " has " + std::to_string(data.size()) + " values but its shape " +
                shape_text(shape) + " needs " + std::to_string(numel()) + ".");
  if (axes.size() != shape.size())
    throw Error(what + " has " + std::to_string(axes.size()) + " axes but its shape " +
                shape_text(shape) + " has " + std::to_string(shape.size()) + " dimensions.");
  std::set<std::string> names;
  for (size_t i = 0; i < axes.size(); ++i) {
    const Axis& axis = axes[i];
    // Sessions key per-axis labels by axis name, so names must tell the axes apart.
    if (!names.insert(axis.name).second)
      throw Error(what + " has two axes named '" + axis.name + "'.");
    if (!axis.labels.empty() && static_cast<int64_t>(axis.labels.size()) != shape[i])
      throw Error(what + " has " + std::to_string(axis.labels.size()) + " labels on axis '" +
                  axis.name + "' of length " + std::to_string(shape[i]) + ".");
  }
}

const Array& Result::array(const std::string& name) const {
  auto it = arrays.find(name);
  if (it == arrays.end())
    throw Error("Result '" + id + "' (" + probe + ") has no array named '" + name + "'.");
  return it->second;
}

void Result::validate() const {
  if (id.empty()) throw Error("A result of probe '" + probe + "' has no id.");
  for (const auto& [name, array] : arrays) {
    if (name.empty()) throw Error("Result '" + id + "' has an array without a name.");
    array.validate("Array '" + name + "' of result '" + id + "'");
  }
}

std::string iso_time_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace mechscope
