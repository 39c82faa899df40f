// Precompiled header for core translation units: the LibTorch pieces the model host uses.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>
