#!/usr/bin/env bash
# Installs everything LiteCoOp needs: bubblewrap (the sandbox of generated code, from the system's packages where
# apt is ours to use) and the Python package with TVM 0.27, torch (CPU), llama.cpp and the GGUF weights.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq bubblewrap; } || echo "warning: could not install bubblewrap" >&2
fi
pip install -e '.[dev]'
