"""What a training run is asked to do: its kind, its inputs, its output folder and its hyperparameters.

Plain dataclasses, no Django and no torch, so the service layer validates a request before anything heavy loads.
Defaults are small-model defaults chosen for the tiny demo model on a CPU and for a ~100M model on one GPU; the
trl defaults they depart from are named next to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class RunKind(StrEnum):
    """The trainer a run uses. `rloo` is the online-RL upgrade path from PPO (see training/runner/README.md)."""

    SFT = "sft"
    REWARD = "reward"
    DPO = "dpo"
    PPO = "ppo"
    RLOO = "rloo"


# Which export format each kind trains on (exports issue 11): RLOO takes the same prompt-only export as PPO.
DATASET_FORMAT: dict[RunKind, str] = {
    RunKind.SFT: "sft",
    RunKind.REWARD: "reward",
    RunKind.DPO: "dpo",
    RunKind.PPO: "ppo",
    RunKind.RLOO: "ppo",
}
ONLINE_KINDS = (RunKind.PPO, RunKind.RLOO)


class SpecError(ValueError):
    """A run request that cannot start: a bad hyperparameter, a missing folder, a missing reward model."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Hyperparameters:
    """The knobs of a run. Unknown names are refused (`from_mapping`), so a typo never trains with a default."""

    max_steps: int = 60
    # trl's SFT default is 2e-5, made for large pretrained models; 1e-4 is the usual rate for small models and LoRA.
    learning_rate: float = 1e-4
    lr_scheduler: str = "linear"  # or "constant", "cosine" (transformers' names)
    per_device_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = 256
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    logging_steps: int = 1
    save_steps: int = 10
    save_total_limit: int = 2
    seed: int = 42
    # Throughput (GPU): pack sequences without padding (trl's "bfd" packing with position ids); Liger's fused
    # kernels when the package is installed. Packing changes nothing in the loss, only what is wasted on padding.
    packing: bool = False
    liger: bool = False
    bf16: bool = False
    # LoRA through peft (trl builds the adapter from a LoraConfig).
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    # DPO
    beta: float = 0.1
    # PPO and RLOO (online RL)
    response_length: int = 24
    num_ppo_epochs: int = 1
    num_mini_batches: int = 1
    kl_coef: float = 0.05
    temperature: float = 0.7
    num_generations: int = 4  # RLOO: completions per prompt

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Hyperparameters:
        """Build from a JSON-like mapping, refusing unknown names and values of the wrong type."""
        values = dict(values or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SpecError(f"unknown hyperparameter(s): {', '.join(unknown)}", field="hyperparameters")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            default = getattr(cls, name)
            converted[name] = _coerce(name, value, type(default))
        params = cls(**converted)
        params.check()
        return params

    def check(self) -> None:
        """Refuse values no trainer can use."""
        positive = ("max_steps", "per_device_batch_size", "gradient_accumulation_steps", "max_length",
                    "logging_steps", "save_steps", "response_length", "num_ppo_epochs", "num_mini_batches",
                    "num_generations", "lora_r", "lora_alpha")
        for name in positive:
            if getattr(self, name) < 1:
                raise SpecError(f"{name} must be at least 1", field="hyperparameters")
        if not 0 < self.learning_rate < 1:
            raise SpecError("learning_rate must be between 0 and 1", field="hyperparameters")
        if self.lr_scheduler not in ("linear", "constant", "cosine", "constant_with_warmup"):
            raise SpecError("lr_scheduler must be linear, constant, cosine or constant_with_warmup",
                            field="hyperparameters")
        if self.num_generations < 2:
            raise SpecError("num_generations must be at least 2 (RLOO compares completions)", field="hyperparameters")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise SpecError(f"{name} must be true or false", field="hyperparameters")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise SpecError(f"{name} must be an integer", field="hyperparameters")
        try:
            return int(value)
        except ValueError:
            raise SpecError(f"{name} must be an integer", field="hyperparameters") from None
    if kind is float:
        if isinstance(value, bool):
            raise SpecError(f"{name} must be a number", field="hyperparameters")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SpecError(f"{name} must be a number", field="hyperparameters") from None
    return value


@dataclass(frozen=True)
class RunSpec:
    """One run: kind, the export folder, the model folder (base or parent run's output) and where to write.

    Online kinds (PPO, RLOO) also need `reward_model` (a reward run's output); PPO's value model starts from the
    reward model too (trl's recipe), and its reference model is a second copy of `model`.
    """

    kind: RunKind
    dataset: Path
    model: Path
    output: Path
    hyper: Hyperparameters = field(default_factory=Hyperparameters)
    reward_model: Path | None = None
    use_cpu: bool = True

    def check(self) -> None:
        """Refuse a spec whose folders are missing, before any model loads."""
        self.hyper.check()
        if not self.dataset.is_dir():
            raise SpecError(f"dataset folder not found: {self.dataset}", field="dataset")
        if not (self.model / "config.json").is_file():
            raise SpecError(f"no model (config.json) in {self.model}", field="model")
        if self.kind in ONLINE_KINDS:
            if self.reward_model is None:
                raise SpecError(f"a {self.kind} run needs a reward model", field="reward_model")
            if not (self.reward_model / "config.json").is_file():
                raise SpecError(f"no reward model (config.json) in {self.reward_model}", field="reward_model")
        elif self.reward_model is not None:
            raise SpecError(f"a {self.kind} run takes no reward model", field="reward_model")
