#include "core/session/session.h"

#include <set>

namespace mechscope {

const Result* Session::find(const std::string& id) const {
  for (const Result& r : results)
    if (r.id == id) return &r;
  return nullptr;
}

std::string Session::next_id(const std::string& probe) const {
  std::set<std::string> used;
  for (const Result& r : results) used.insert(r.id);
  // One past the number of results of this probe, then upwards until free: ids stay short and
  // never collide, even after results were removed or renamed.
  int n = 1;
  for (const Result& r : results) n += r.probe == probe;
  while (used.count(probe + "-" + std::to_string(n))) ++n;
  return probe + "-" + std::to_string(n);
}

}  // namespace mechscope
