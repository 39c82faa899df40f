#include "core/session/checking_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/util/error.h"

// Present when built with a sanitizer: lets the child leave plainly on a sanitizer report.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace mechscope {
namespace {

/// The child's exit code when a sanitizer stopped it (a crash, as far as the parent is concerned).
constexpr int kSanitizerExit = 70;

using Clock = std::chrono::steady_clock;

bool send_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}

/// Reads exactly n bytes (blocking). False at end of file or on an error.
bool read_all(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t k = ::read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}

bool send_message(int fd, uint8_t status, const std::string& text) {
  const auto n = uint32_t(text.size());
  return send_all(fd, &status, 1) && send_all(fd, &n, 4) && send_all(fd, text.data(), n);
}

/// What waiting for the child's reply came to.
enum class Wait { Ready, TimedOut, Cancelled };

/// Waits until `fd` is readable (or closed), the deadline passes or keep_going() says stop.
Wait wait_readable(int fd, Clock::time_point deadline, const std::function<bool()>& keep_going) {
  for (;;) {
    if (keep_going && !keep_going()) return Wait::Cancelled;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Wait::TimedOut;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, int(std::min<int64_t>(left.count(), 100)));
    if (r > 0) return Wait::Ready;
    if (r < 0 && errno != EINTR) return Wait::Ready;  // let the read report it
  }
}

}  // namespace

CheckingProcess::CheckingProcess(std::function<void(const std::string&)> work,
                                 std::chrono::milliseconds idle_exit)
    : work_(std::move(work)), idle_exit_(idle_exit) {}

CheckingProcess::~CheckingProcess() { stop(); }

void CheckingProcess::start() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw Error(std::string("cannot create a socket pair (") + std::strerror(errno) + ").");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("cannot start a checking process (") + std::strerror(errno) + ").");
  }
  if (pid == 0) {
    ::close(fds[0]);
    serve(fds[1]);
  }
  ::close(fds[1]);
  pid_ = pid;
  fd_ = fds[0];
}

void CheckingProcess::stop() {
  if (fd_ >= 0) ::close(fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  fd_ = -1;
  pid_ = -1;
}

void CheckingProcess::serve(int fd) {
  // A crash ends the child plainly (no inherited handlers, e.g. a test framework's or a crash
  // reporter's), so the parent sees the signal. Nothing here runs destructors: it leaves by _exit.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
  // Under a sanitizer, a report in the child (about the hostile file) ends the child alone: not
  // the fuzzer's or test framework's death handling inherited from the parent.
  if (&__sanitizer_set_death_callback) __sanitizer_set_death_callback([] { ::_exit(kSanitizerExit); });
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, int(idle_exit_.count()));
    if (r == 0) ::_exit(0);  // idle: release the memory shared with the parent
    if (r < 0 && errno == EINTR) continue;
    uint32_t n = 0;
    std::string request;
    if (r < 0 || !read_all(fd, &n, 4)) ::_exit(0);
    request.resize(n);
    if (!read_all(fd, request.data(), n)) ::_exit(0);
    std::string message;
    uint8_t status = 0;
    try {
      work_(request);
    } catch (const std::exception& e) {
      message = e.what();
      status = 1;
    } catch (...) {
      message = "unknown error";
      status = 1;
    }
    if (!send_message(fd, status, message)) ::_exit(0);
  }
}

std::optional<std::string> CheckingProcess::run(const std::string& request,
                                                std::chrono::milliseconds limit,
                                                const std::function<bool()>& keep_going) {
  std::lock_guard<std::mutex> lock(mutex_);
  int status = 0;
  if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {  // left while idle
    pid_ = -1;
    stop();
  }
  const auto n = uint32_t(request.size());
  auto send_request = [&] {
    return send_all(fd_, &n, 4) && send_all(fd_, request.data(), request.size());
  };
  if (pid_ < 0) start();
  if (!send_request()) {  // it left just now: once more with a fresh one
    stop();
    start();
    if (!send_request()) {
      stop();
      throw Error("the checking process does not accept requests.");
    }
  }

  switch (wait_readable(fd_, Clock::now() + limit, keep_going)) {
    case Wait::Cancelled:
      stop();
      throw Cancelled();
    case Wait::TimedOut:
      stop();
      throw Error("reading it did not finish within " +
                  std::to_string((limit.count() + 999) / 1000) +
                  " s and was stopped: the file is probably damaged.");
    case Wait::Ready:
      break;
  }
  uint8_t code = 0;
  uint32_t length = 0;
  std::string message;
  // The reply follows in one piece once it starts; a short read means the child died.
  bool ok = read_all(fd_, &code, 1) && read_all(fd_, &length, 4);
  if (ok) {
    message.resize(length);
    ok = read_all(fd_, message.data(), length);
  }
  if (!ok) {
    ::close(fd_);
    fd_ = -1;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    const std::string how = WIFSIGNALED(status)
                                ? "signal " + std::to_string(WTERMSIG(status))
                                : "exit code " + std::to_string(WEXITSTATUS(status));
    throw Error("reading it crashed the checking process (" + how + "): the file is damaged.");
  }
  if (code == 0) return std::nullopt;
  return message;
}

}  // namespace mechscope
