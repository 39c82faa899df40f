#pragma once
// A random SAE for tests: weights drawn from a seed, biases such that some but not all latents
// fire on typical activations.
#include <ATen/ATen.h>

#include <string>

#include "core/sae/sae.h"

namespace mechscope::test {

inline sae::Sae random_sae(const std::string& hook, int64_t d_in, int64_t d_sae, uint64_t seed,
                           sae::Architecture arch = sae::Architecture::Standard, int64_t k = 4) {
  at::manual_seed(seed);
  sae::Sae s;
  s.cfg.architecture = arch;
  s.cfg.d_in = d_in;
  s.cfg.d_sae = d_sae;
  s.cfg.k = arch == sae::Architecture::TopK ? k : 0;
  s.cfg.hook_name = hook;
  s.W_dec = at::randn({d_sae, d_in});
  s.W_dec = s.W_dec / s.W_dec.norm(2, 1, true);
  s.W_enc = s.W_dec.t().contiguous() * 0.5;
  s.b_enc = at::randn({d_sae}) * 0.1 - 0.05;
  s.b_dec = at::randn({d_in}) * 0.05;
  if (arch == sae::Architecture::JumpReLU) s.threshold = at::rand({d_sae}) * 0.1;
  return s;
}

}  // namespace mechscope::test
