#pragma once
/// A checking process: work that may hang or crash on hostile input (HDF5 parsing a damaged file)
/// runs in a child process first, under a time limit. The child is forked on first use and
/// serves request after request (so a fuzzer or a folder of sessions does not pay a fork each),
/// until a request hangs or crashes it, it has been idle for a while, or the CheckingProcess is
/// destroyed; the next request forks a fresh one.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace mechscope {

class CheckingProcess {
 public:
  /// `work` runs in the child with each request; it reports a problem by throwing.
  /// `idle_exit`: the child leaves after this long without a request (the parent's memory it
  /// shares copy-on-write is then released).
  explicit CheckingProcess(std::function<void(const std::string& request)> work,
                           std::chrono::milliseconds idle_exit = std::chrono::seconds(10));
  ~CheckingProcess();
  CheckingProcess(const CheckingProcess&) = delete;
  CheckingProcess& operator=(const CheckingProcess&) = delete;

  /// Runs `work(request)` in the child and waits at most `limit`. Returns nothing when it finished
  /// without error, the error message when it threw. Throws mechscope::Error when the child was
  /// stopped at the limit or died, and mechscope::Cancelled (stopping the child) as soon as
  /// `keep_going` (asked about every 100 ms) returns false.
  std::optional<std::string> run(const std::string& request, std::chrono::milliseconds limit,
                                 const std::function<bool()>& keep_going = {});

 private:
  void start();
  void stop();
  [[noreturn]] void serve(int fd);

  std::function<void(const std::string&)> work_;
  std::chrono::milliseconds idle_exit_;
  std::mutex mutex_;
  pid_t pid_ = -1;
  int fd_ = -1;  // the parent's end of the socket pair
};

}  // namespace mechscope
