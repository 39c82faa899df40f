#pragma once
/// Cancellation from inside a forward pass. A job that runs forward passes (a probe, a generation)
/// opens a CancelScope on its thread; every forward pass on that thread then asks the scope before
/// each block and throws mechscope::Cancelled when it says stop. So a job stops within one
/// block's time, however long its single forward passes are (a patching sweep's batch of
/// variants of a long prompt).
#include <functional>

namespace mechscope {

class CancelScope {
 public:
  /// `stop` returns true once the job should stop; it is asked often, so it must be cheap.
  explicit CancelScope(std::function<bool()> stop);
  ~CancelScope();  // the enclosing scope (if any) applies again
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  std::function<bool()> stop_;
  const CancelScope* outer_;
  friend void throw_if_cancelled();
};

/// Throws mechscope::Cancelled when the innermost CancelScope of this thread says stop; does
/// nothing without one.
void throw_if_cancelled();

}  // namespace mechscope
