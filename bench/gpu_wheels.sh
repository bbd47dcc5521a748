#!/usr/bin/env bash
# Download, for the offline GPU machine (Python 3.12, x86_64 Linux), the wheels bench/gpu_training.sh installs:
# trl 1.12.0 and datasets 5.2.0 with those of their dependencies that machine lacks (it has torch, transformers,
# accelerate, peft, pyarrow, numpy, huggingface-hub, tokenizers, safetensors, pyyaml, tqdm, packaging, requests),
# and liger-kernel for the fused kernels. Pinned like requirements.txt. Output: .whl/ (or $1), carried with the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.whl}
PIP=${PIP:-.venv/bin/pip}
mkdir -p "$DEST"
"$PIP" download -q --dest "$DEST" --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --implementation cp --abi cp312 --abi abi3 --abi none \
    trl==1.12.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0 pandas==3.1.1 \
    python-dateutil==2.9.0.post0 six==1.17.0 tzdata==2026.6 fsspec==2026.9.0 liger-kernel==0.8.5
ls -la "$DEST"
du -sh "$DEST"
