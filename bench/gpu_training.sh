#!/usr/bin/env bash
# GPU training benchmark (issue 12): our runner against bare trl 1.12 with trl's defaults, in one run.
#
#   bench/gpu_wheels.sh                       # here, with the network: trl, datasets (+ deps) as py3.12 wheels
#   bench/gpu_training.sh                     # there: ~100M Llama from a config, bf16, on the GPU
#   bench/gpu_training.sh --size tiny --device cpu --steps 3 --rows 256   # a quick end-to-end check on a CPU
#
# The GPU machine is bare and offline (Python 3.12, torch + CUDA, transformers, accelerate, peft, pyarrow; no trl,
# datasets, Django or Celery). Whatever of trl 1.12.0 / datasets 5.2.0 / liger-kernel is missing is installed from
# the wheels folder ($WHEELS, default .whl/) with --no-index, so nothing is fetched. Results: a table on stdout and
# JSON in $OUT (or var/) for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
RESULTS=${OUT:-var}/gpu_training.json
mkdir -p "$(dirname "$RESULTS")"

export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

missing=()
"$PYTHON" -c "import trl, sys; sys.exit(trl.__version__ != '1.12.0')" 2>/dev/null || missing+=("trl==1.12.0")
"$PYTHON" -c "import datasets" 2>/dev/null || missing+=("datasets==5.2.0")
if "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    "$PYTHON" -c "import liger_kernel" 2>/dev/null || { ls "$WHEELS"/liger_kernel-*.whl >/dev/null 2>&1 && missing+=("liger-kernel"); } || true
fi
if ((${#missing[@]})); then
    [ -d "$WHEELS" ] || { echo "missing ${missing[*]} and no wheels folder $WHEELS (run bench/gpu_wheels.sh where there is a network)" >&2; exit 2; }
    echo "installing from $WHEELS: ${missing[*]}"
    "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" "${missing[@]}"
fi
"$PYTHON" -c "import torch, transformers, trl; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'trl', trl.__version__)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
exec "$PYTHON" bench/gpu_training.py --json "$RESULTS" "$@"
