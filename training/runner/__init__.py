"""The training runner: trl's trainers over an export folder and a model folder, with no Django in sight.

    from training.runner import RunSpec, RunKind, Hyperparameters, RunHooks, run_training
    run_training(RunSpec(RunKind.SFT, dataset=Path("export"), model=Path("tiny"), output=Path("out")))

or from a shell (also under `accelerate launch --config_file deploy/accelerate/multi-gpu.yaml -m training.runner`):

    python -m training.runner --kind sft --dataset DIR --model DIR --output DIR [--max-steps N] [--lora]

The Celery task of the training app and the `train` command wrap this package; the GPU benchmark runs it bare.
Importing it turns off every Hugging Face network access (hub downloads and telemetry): models and data are local.
"""

import os

# Before transformers / huggingface_hub are imported anywhere below: they read these once, at import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from typing import Any

from training.runner.spec import Hyperparameters, RunKind, RunSpec, SpecError

__all__ = ["Hyperparameters", "RunCancelled", "RunHooks", "RunKind", "RunResult", "RunSpec", "SpecError",
           "run_training"]

# torch and transformers load only when something that trains is asked for: the web process imports the spec
# (to validate requests) without paying for them.
_LAZY = {"RunCancelled": "hooks", "RunHooks": "hooks", "RunResult": "run", "run_training": "run"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"training.runner.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'training.runner' has no attribute {name!r}")
