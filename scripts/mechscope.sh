#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root or sudo):
#   scripts/mechscope.sh run [ARGS…]   install what is missing, build, open the workbench
#   scripts/mechscope.sh test          install what is missing, build, run every test
#   scripts/mechscope.sh build         install what is missing and build only
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
    ;;
  build)
    install_missing
    build
    ;;
  *)
    echo "usage: scripts/mechscope.sh run|test|build" >&2
    exit 2
    ;;
esac
