"""How a run talks to whoever started it: metrics and progress out, a cancel request in.

The caller passes plain functions (`RunHooks`): the Celery task writes metrics to the database and reads the
cancel flag from it; the command line prints a progress bar. `HooksCallback` is the one `TrainerCallback` that
connects them to any trl trainer. Cancelling raises `RunCancelled` from inside the training loop: the trainers
do not all honour `control.should_training_stop` (trl's PPO loop ignores it), and a cancelled run must not save a
final model as if it had finished.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

MetricsSink = Callable[[int, dict[str, float]], None]
ProgressSink = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# trl's metric names (per trainer) -> the names the service stores and charts. Others are kept under their own name.
METRIC_NAMES = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "lr": "learning_rate",
    "grad_norm": "grad_norm",
    "accuracy": "reward_accuracy",  # RewardTrainer
    "margin": "reward_margin",
    "rewards/accuracies": "reward_accuracy",  # DPOTrainer
    "rewards/margins": "reward_margin",
    "rewards/chosen": "reward_chosen",
    "rewards/rejected": "reward_rejected",
    "objective/scores": "score",  # PPO
    "objective/kl": "kl",
    "loss/value_avg": "value_loss",
    "loss/policy_avg": "policy_loss",
    "policy/entropy_avg": "entropy",
    "entropy": "entropy",
    "objective/rlhf_reward": "rlhf_reward",
    "reward": "score",  # RLOO: the reward function's mean
    "kl": "kl",
}


class RunCancelled(Exception):
    """Raised inside the training loop when the caller asked the run to stop."""


@dataclass(frozen=True)
class RunHooks:
    """The caller's functions. All optional; each is called from the training process's main thread."""

    metrics: MetricsSink | None = None
    progress: ProgressSink | None = None
    should_cancel: CancelCheck | None = None


def normalise_metrics(logs: Mapping[str, Any]) -> dict[str, float]:
    """Rename trl's keys to ours and keep finite numbers only (a NaN grad norm is dropped, not stored)."""
    values: dict[str, float] = {}
    for key, value in logs.items():
        if key == "step":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not math.isfinite(float(value)):
            continue
        name = METRIC_NAMES.get(key, key.replace("/", "_"))
        values.setdefault(name, float(value))
    return values


class HooksCallback(TrainerCallback):
    """Send each logging step's metrics and each optimizer step's progress to the hooks; raise when cancelled."""

    def __init__(self, hooks: RunHooks) -> None:
        self.hooks = hooks

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> None:
        self._check_cancel()
        if self.hooks.progress:
            self.hooks.progress(state.global_step, state.max_steps)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    **kwargs: Any) -> None:
        if self.hooks.progress:
            self.hooks.progress(state.global_step, state.max_steps)
        self._check_cancel()

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not self.hooks.metrics or not logs:
            return
        # The end-of-training summary (train_runtime, train_loss ...) is not a step's metrics.
        if "train_runtime" in logs:
            return
        values = normalise_metrics(logs)
        if values:
            self.hooks.metrics(state.global_step, values)

    def _check_cancel(self) -> None:
        if self.hooks.should_cancel and self.hooks.should_cancel():
            raise RunCancelled("the run was cancelled")
