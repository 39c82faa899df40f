// A stand-in for libFuzzer's main, so the harnesses run in every build (the fuzz-smoke tests):
// each seed file, then seeded random mutations of them (bit flips, byte values, cuts,
// duplications, splices) for a time or a number of runs. A run over 5 s is a hang. The input of
// a hang or crash is written to fuzz-<harness>-failure.bin before the process ends.
//   fuzz_NAME [--seconds S] [--runs N] [--seed K] SEED_FILE_OR_DIR...
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> g_current;
std::string g_failure = "fuzz-failure.bin";

void dump_current() {
  const int fd = ::open(g_failure.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, g_current.data(), g_current.size());
    ::close(fd);
  }
}

void on_signal(int sig) {
  const char* what = sig == SIGALRM ? "hang (over 5 s) on one input" : "crash on one input";
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, "; it is in ", 11);
  (void)!::write(2, g_failure.data(), g_failure.size());
  (void)!::write(2, "\n", 1);
  dump_current();
  ::signal(sig, SIG_DFL);
  ::raise(sig == SIGALRM ? SIGKILL : sig);
}

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run_one(const std::vector<uint8_t>& input) {
  g_current = input;
  ::alarm(5);
  LLVMFuzzerTestOneInput(input.data(), input.size());
  ::alarm(0);
}

constexpr uint8_t kBytes[] = {0, 0xff, 0x7f, 0x80, '"', '}', '9', ','};
constexpr uint64_t kWords[] = {0, 1, 0x7fffffff, 0xffffffff, 0x7fffffffffffffffull,
                               0xffffffffffffffffull};

std::vector<uint8_t> mutate(const std::vector<std::vector<uint8_t>>& seeds, std::mt19937_64& rng) {
  std::vector<uint8_t> x = seeds[rng() % seeds.size()];
  const int edits = 1 + int(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    if (x.empty()) {
      x.push_back(uint8_t(rng()));
      continue;
    }
    const size_t at = rng() % x.size();
    switch (rng() % 7) {
      case 0: x[at] ^= uint8_t(1u << (rng() % 8)); break;                   // bit flip
      case 1: x[at] = uint8_t(rng()); break;                                 // random byte
      case 2: x[at] = kBytes[rng() % std::size(kBytes)]; break;
      case 3: x.resize(at); break;                                           // cut
      case 4: x.insert(x.begin() + long(at), x.begin() + long(at),           // duplicate a run
                       x.begin() + long(std::min(x.size(), at + 1 + rng() % 64))); break;
      case 5: {                                                              // splice another seed
        const auto& y = seeds[rng() % seeds.size()];
        if (!y.empty()) {
          const size_t from = rng() % y.size();
          x.insert(x.begin() + long(at), y.begin() + long(from),
                   y.begin() + long(std::min(y.size(), from + 1 + rng() % 256)));
        }
        break;
      }
      default: {  // overwrite 8 bytes with a little-endian integer near a boundary
        const uint64_t v = kWords[rng() % std::size(kWords)];
        for (int b = 0; b < 8 && at + size_t(b) < x.size(); ++b) x[at + size_t(b)] = uint8_t(v >> (8 * b));
      }
    }
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  long runs = -1;
  uint64_t seed = 1;
  std::vector<std::vector<uint8_t>> seeds;
  const std::string name = std::filesystem::path(argv[0]).filename().string();
  g_failure = name + "-failure.bin";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atol(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (std::filesystem::is_directory(a)) {
      for (const auto& f : std::filesystem::recursive_directory_iterator(a))
        if (f.is_regular_file()) seeds.push_back(read_file(f.path()));
    } else if (std::filesystem::exists(a)) {
      seeds.push_back(read_file(a));
    } else {
      std::fprintf(stderr, "%s: no such seed file or option: %s\n", name.c_str(), a.c_str());
      return 2;
    }
  }
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) ::signal(sig, on_signal);
  if (seeds.empty()) seeds.push_back({});
  for (const auto& s : seeds) run_one(s);
  std::mt19937_64 rng(seed);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long n = 0;
  while ((runs < 0 || n < runs) && std::chrono::steady_clock::now() < end) {
    run_one(mutate(seeds, rng));
    ++n;
  }
  std::printf("%s: %zu seeds and %ld mutated inputs, no crash or hang\n", name.c_str(), seeds.size(), n);
  return 0;
}
