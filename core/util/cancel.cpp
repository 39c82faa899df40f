#include "core/util/cancel.h"

#include "core/util/error.h"

namespace mechscope {
namespace {

thread_local const CancelScope* current = nullptr;

}  // namespace

CancelScope::CancelScope(std::function<bool()> stop) : stop_(std::move(stop)), outer_(current) {
  current = this;
}

CancelScope::~CancelScope() { current = outer_; }

void throw_if_cancelled() {
  if (current && current->stop_ && current->stop_()) throw Cancelled();
}

}  // namespace mechscope
