#!/bin/bash
# Packs what `scripts/gpu_check.sh` needs on a GPU machine that has CUDA, nvcc, torch, numpy and Python 3.12
# but no package index: TVM, tvm-ffi, xgboost and the other Python packages litecoop imports, for CPython 3.12
# on x86-64 Linux. TVM's wheel alone is 100 MB and no transfer to that machine may exceed 64 MiB, so the
# packages travel as one xz-compressed tar (the x86 filter helps on TVM's 253 MB compiler library)
# split into parts of PART_SIZE (split's size, default 36M), each in its own folder OUT/N/ with the list of all parts
# and their SHA-256 (`parts.sha256`). The repository (~26 MB) travels with each part, hence 36 MiB.
#
#   scripts/gpu_bundle.sh [OUT] [PART_SIZE]       OUT defaults to .gpu-bundle in the repository (git-ignored)
#
# PACKAGES (environment, space-separated pip requirements) replaces the list, e.g. for a test.
# Needs the package index here (pip) and ~500 MB to compress (xz -9, minutes per core).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/.gpu-bundle}")
part_size=${2:-36M}
default_packages="apache-tvm==0.27.0.post1 apache-tvm-ffi==0.1.14.post1 xgboost-cpu==3.2.0 scipy==1.17.1 psutil==7.2.2
          cloudpickle==3.1.3 ml_dtypes==0.6.0 rich==15.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 pygments==2.20.0
          tabulate==0.10.0 pydantic==2.13.4 pydantic_core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2
          typing_extensions==4.16.0"
# shellcheck disable=SC2206 # the list splits at whitespace
packages=(${PACKAGES:-$default_packages})
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

python3 -m pip install -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --target "$stage/site" "${packages[@]}"
# TVM's web runtime and C++ sources serve no Python user
rm -rf "$stage/site/tvm/web" "$stage/site/tvm/src" "$stage/site/bin"
tar -C "$stage" -cf - site | xz --x86 --lzma2=preset=9,dict=64MiB -T0 > "$stage/site.tar.xz"

rm -rf "$out" && mkdir -p "$out"
(cd "$stage" && split -b "$part_size" -d -a 2 site.tar.xz site.tar.xz.part && sha256sum site.tar.xz.part* > parts.sha256)
index=1
for part in "$stage"/site.tar.xz.part*; do
    mkdir -p "$out/$index" && mv "$part" "$out/$index/" && cp "$stage/parts.sha256" "$out/$index/"
    index=$((index + 1))
done
du -sh "$out"/*
