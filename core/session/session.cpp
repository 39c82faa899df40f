#include "core/session/session.h"

#include <set>

namespace mechscope {

const Result* Session::find(const std::string& id) const {
  for (const Result& r : results)
    if (r.id == id) return &r;
  return nullptr;
}

std::string next_result_id(const std::string& probe, const std::vector<std::string>& ids) {
  const std::set<std::string> used(ids.begin(), ids.end());
  // One past the number of ids of this probe, then upwards until free: ids stay short and never
  // collide, even after results were removed.
  const std::string prefix = probe + "-";
  int n = 1;
  for (const std::string& id : ids) n += id.compare(0, prefix.size(), prefix) == 0;
  while (used.count(prefix + std::to_string(n))) ++n;
  return prefix + std::to_string(n);
}

std::string Session::next_id(const std::string& probe) const {
  std::vector<std::string> ids;
  for (const Result& r : results) ids.push_back(r.id);
  return next_result_id(probe, ids);
}

}  // namespace mechscope
