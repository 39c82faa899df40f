#pragma once
/// The activation functions of the supported families.
#include <ATen/ATen.h>

#include "core/model/config.h"

namespace mechscope {

inline at::Tensor activate(Activation a, const at::Tensor& x) {
  switch (a) {
    case Activation::Gelu: return at::gelu(x);
    case Activation::GeluTanh: return at::gelu(x, "tanh");
    case Activation::Relu: return at::relu(x);
    case Activation::Silu: return at::silu(x);
    case Activation::QuickGelu: return x * at::sigmoid(1.702 * x);
  }
  return x;
}

}  // namespace mechscope
