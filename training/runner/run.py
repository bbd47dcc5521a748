"""Run one training job with trl: SFT, reward model, DPO, PPO (trl.experimental.ppo) or RLOO.

`run_training(spec, hooks)` loads the export and the model folders, builds the trl trainer of the spec's kind with
our hyperparameters, trains (resuming from the newest checkpoint in `<output>/checkpoints` when there is one) and
saves the final model and tokenizer at `<output>` itself, so a later run takes that folder as its model. LoRA
adapters are merged before saving for the same reason.

Layout of `<output>`: the model files (config.json, model.safetensors, tokenizer), `checkpoints/checkpoint-N/`
(trl's own checkpoints: weights, optimizer, scheduler, RNG and trainer state) and `run.json` (what ran).

Re-running with the same output folder continues the run from its last checkpoint and ends at the same number of
optimizer steps (trl restores the data order and the RNG). PPO in trl 1.12 cannot resume (its loop restarts from
step 0), so PPO keeps no intermediate checkpoints and a re-run starts it over.

CPU runs set `use_cpu=True`, `bf16=False` and no gradient checkpointing (trl's configs default to bf16 and
gradient checkpointing); nothing is downloaded (`HF_HUB_OFFLINE`, set by the package).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.trainer_callback import PrinterCallback
from transformers.utils import logging as transformers_logging

from training.runner.dataset_files import export_open, export_split
from training.runner.hooks import HooksCallback, RunHooks, normalise_metrics
from training.runner.spec import DATASET_FORMAT, ONLINE_KINDS, RunKind, RunSpec, SpecError

CHECKPOINTS = "checkpoints"
RUN_FILE = "run.json"


@dataclass(frozen=True)
class RunResult:
    """What a finished run did: optimizer steps, the checkpoint it resumed from, the export's hash, the output."""

    output: Path
    global_step: int
    resumed_from: str | None
    content_hash: str | None
    train_rows: int
    final_metrics: dict[str, float]


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest `checkpoint-N` folder in `folder` that was written to the end, or None.

    transformers writes a checkpoint's trainer_state.json after its weights, optimizer, scheduler and RNG state, so
    a folder whose state file is missing or does not parse is what a worker killed while saving left behind:
    resuming from it fails (transformers' own `get_last_checkpoint` picks it all the same). The one before it is
    whole, since checkpoints are rotated only after a new one is saved.
    """
    if not folder.is_dir():
        return None
    numbered = [(int(match.group(1)), path) for path in folder.iterdir()
                if path.is_dir() and (match := re.fullmatch(r"checkpoint-(\d+)", path.name))]
    for _, path in sorted(numbered, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return str(path)
    return None


def run_training(spec: RunSpec, hooks: RunHooks | None = None) -> RunResult:
    """Train as the spec says and save the model at `spec.output`. Re-running resumes from the last checkpoint.

    Raises SpecError for bad inputs (before any model loads) and hooks.RunCancelled when the caller cancels.
    """
    spec.check()
    _quiet_libraries()
    if spec.hyper.lora and spec.kind in ONLINE_KINDS:
        raise SpecError("LoRA is offered for sft, reward and dpo runs", field="hyperparameters")
    hooks = hooks or RunHooks()
    export = export_open(spec.dataset)
    dataset_format = DATASET_FORMAT[spec.kind]
    train = export_split(export, "train", dataset_format)
    if train is None:
        raise SpecError(f"the export in {spec.dataset} has no training rows", field="dataset")
    spec.output.mkdir(parents=True, exist_ok=True)
    checkpoints = spec.output / CHECKPOINTS
    resume = last_complete_checkpoint(checkpoints)
    if spec.kind == RunKind.PPO:
        resume = None  # trl 1.12's PPO loop has no resume (see the module docstring)
    torch.manual_seed(spec.hyper.seed)
    callback = HooksCallback(hooks)
    builders = {
        RunKind.SFT: _sft_trainer,
        RunKind.REWARD: _reward_trainer,
        RunKind.DPO: _dpo_trainer,
        RunKind.PPO: _ppo_trainer,
        RunKind.RLOO: _rloo_trainer,
    }
    trainer, tokenizer = builders[spec.kind](spec, train, [callback])
    trainer.remove_callback(PrinterCallback)  # the hooks report; transformers' printer would repeat every log line
    if spec.kind == RunKind.PPO:
        trainer.train()
    else:
        trainer.train(resume_from_checkpoint=resume)
    _save_final(trainer, tokenizer, spec)
    history = [entry for entry in trainer.state.log_history if "train_runtime" not in entry]
    final = normalise_metrics(history[-1]) if history else {}
    result = RunResult(output=spec.output, global_step=int(trainer.state.global_step), resumed_from=resume,
                       content_hash=export.content_hash, train_rows=len(train), final_metrics=final)
    _write_run_file(spec, result)
    return result


def _quiet_libraries() -> None:
    """No per-file progress bars from transformers and datasets: the hooks report progress."""
    import datasets

    transformers_logging.disable_progress_bar()
    datasets.disable_progress_bars()


# --- trainers -----------------------------------------------------------------------------------------------


def _common_args(spec: RunSpec) -> dict[str, Any]:
    """TrainingArguments shared by every trainer: steps, batch, schedule, checkpoints, device and precision."""
    hyper = spec.hyper
    cpu = spec.use_cpu or not torch.cuda.is_available()
    return {
        "output_dir": str(spec.output / CHECKPOINTS),
        "max_steps": hyper.max_steps,
        "learning_rate": hyper.learning_rate,
        "per_device_train_batch_size": hyper.per_device_batch_size,
        "gradient_accumulation_steps": hyper.gradient_accumulation_steps,
        "lr_scheduler_type": hyper.lr_scheduler,
        "warmup_steps": int(hyper.warmup_ratio * hyper.max_steps),
        "weight_decay": hyper.weight_decay,
        "logging_steps": hyper.logging_steps,
        "save_strategy": "steps",
        "save_steps": hyper.save_steps,
        "save_total_limit": hyper.save_total_limit,
        "seed": hyper.seed,
        "data_seed": hyper.seed,
        "report_to": "none",
        "use_cpu": cpu,
        "bf16": hyper.bf16 and not cpu,
        "gradient_checkpointing": False,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "use_liger_kernel": hyper.liger and not cpu and _liger_available(),
    }


def _liger_available() -> bool:
    try:
        import liger_kernel  # noqa: F401
    except ImportError:
        return False
    return True


def _peft_config(spec: RunSpec, task_type: str) -> Any:
    if not spec.hyper.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=spec.hyper.lora_r, lora_alpha=spec.hyper.lora_alpha, lora_dropout=spec.hyper.lora_dropout,
                      target_modules="all-linear", task_type=task_type)


def _tokenizer(path: Path, *, left_padding: bool = False) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(str(path), padding_side="left" if left_padding else "right")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _causal_lm(path: Path) -> PreTrainedModel:
    return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)


def _scalar_head(path: Path, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """A sequence classifier with one output (reward or value model); a causal LM's head is replaced, fresh."""
    model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


def _sft_trainer(spec: RunSpec, train: Any, callbacks: list[Any]) -> tuple[Any, PreTrainedTokenizerBase]:
    from trl import SFTConfig, SFTTrainer

    tokenizer = _tokenizer(spec.model)
    template = getattr(tokenizer, "chat_template", None) or ""
    conversational = "messages" in train.column_names
    config = SFTConfig(
        **_common_args(spec),
        max_length=spec.hyper.max_length,
        packing=spec.hyper.packing,
        # Loss on the answers only: the assistant turns (needs {% generation %} in the template) or the completion.
        assistant_only_loss=conversational and "{% generation %}" in template,
        dataset_num_proc=None,
    )
    trainer = SFTTrainer(model=_causal_lm(spec.model), args=config, train_dataset=train, processing_class=tokenizer,
                         callbacks=callbacks, peft_config=_peft_config(spec, "CAUSAL_LM"))
    return trainer, tokenizer


def _reward_trainer(spec: RunSpec, train: Any, callbacks: list[Any]) -> tuple[Any, PreTrainedTokenizerBase]:
    from trl import RewardConfig, RewardTrainer

    tokenizer = _tokenizer(spec.model)
    config = RewardConfig(**_common_args(spec), max_length=spec.hyper.max_length)
    trainer = RewardTrainer(model=_scalar_head(spec.model, tokenizer), args=config, train_dataset=train,
                            processing_class=tokenizer, callbacks=callbacks,
                            peft_config=_peft_config(spec, "SEQ_CLS"))
    return trainer, tokenizer


def _dpo_trainer(spec: RunSpec, train: Any, callbacks: list[Any]) -> tuple[Any, PreTrainedTokenizerBase]:
    from trl import DPOConfig, DPOTrainer

    tokenizer = _tokenizer(spec.model)
    config = DPOConfig(**_common_args(spec), max_length=spec.hyper.max_length, beta=spec.hyper.beta)
    peft_config = _peft_config(spec, "CAUSAL_LM")
    # A separate frozen reference model (with LoRA, trl disables the adapter instead).
    ref_model = None if peft_config is not None else _causal_lm(spec.model)
    trainer = DPOTrainer(model=_causal_lm(spec.model), ref_model=ref_model, args=config, train_dataset=train,
                         processing_class=tokenizer, callbacks=callbacks, peft_config=peft_config)
    return trainer, tokenizer


def _prompt_ids(train: Any, tokenizer: PreTrainedTokenizerBase, max_prompt_tokens: int) -> Any:
    """PPO's dataset: each prompt (messages, or text) rendered with the chat template and tokenized."""

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        prompt = row["prompt"]
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": str(prompt)}]
        encoded: Any = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                     return_dict=True)
        return {"input_ids": list(encoded["input_ids"])[-max_prompt_tokens:]}

    return train.map(encode, remove_columns=train.column_names)


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _ppo_trainer(spec: RunSpec, train: Any, callbacks: list[Any]) -> tuple[Any, PreTrainedTokenizerBase]:
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    assert spec.reward_model is not None  # RunSpec.check
    hyper = spec.hyper
    tokenizer = _tokenizer(spec.model, left_padding=True)  # generation appends to the right of the prompt
    args = _common_args(spec)
    args["save_strategy"] = "no"  # no resume in trl 1.12's PPO: intermediate checkpoints would only cost time
    episodes_per_update = (hyper.per_device_batch_size * hyper.gradient_accumulation_steps
                           * hyper.num_mini_batches * _world_size())
    config = PPOConfig(
        **args,
        total_episodes=hyper.max_steps * episodes_per_update,
        response_length=hyper.response_length,
        num_ppo_epochs=hyper.num_ppo_epochs,
        num_mini_batches=hyper.num_mini_batches,
        kl_coef=hyper.kl_coef,
        temperature=hyper.temperature,
        stop_token="eos",
        missing_eos_penalty=1.0,
        local_rollout_forward_batch_size=hyper.per_device_batch_size,
        num_sample_generations=0,
    )
    prompts = _prompt_ids(train, tokenizer, max(8, hyper.max_length - hyper.response_length))
    trainer = PPOTrainer(
        args=config,
        processing_class=tokenizer,
        model=_causal_lm(spec.model),
        ref_model=_causal_lm(spec.model),  # a separate frozen copy of the SFT policy for the KL penalty
        reward_model=_scalar_head(spec.reward_model, tokenizer),
        value_model=_scalar_head(spec.reward_model, tokenizer),
        train_dataset=prompts,
        callbacks=callbacks,
    )
    return trainer, tokenizer


def _rloo_trainer(spec: RunSpec, train: Any, callbacks: list[Any]) -> tuple[Any, PreTrainedTokenizerBase]:
    """RLOO with the reward run's model as the reward function: the upgrade path from PPO (trl >= 1.13)."""
    from trl import RLOOConfig, RLOOTrainer

    assert spec.reward_model is not None
    hyper = spec.hyper
    tokenizer = _tokenizer(spec.model, left_padding=True)
    reward_tokenizer = _tokenizer(spec.reward_model)
    args = _common_args(spec)
    # One generation batch per optimizer step; it must hold whole groups of num_generations completions.
    batch = max(hyper.per_device_batch_size, hyper.num_generations)
    batch -= batch % hyper.num_generations
    args["per_device_train_batch_size"] = batch
    config = RLOOConfig(
        **args,
        num_generations=hyper.num_generations,
        max_completion_length=hyper.response_length,
        temperature=hyper.temperature,
        beta=hyper.kl_coef,
    )
    trainer = RLOOTrainer(
        model=_causal_lm(spec.model),
        reward_funcs=_scalar_head(spec.reward_model, reward_tokenizer),
        args=config,
        train_dataset=train.select_columns(["prompt"]),
        processing_class=tokenizer,
        reward_processing_classes=reward_tokenizer,
        callbacks=callbacks,
    )
    return trainer, tokenizer


# --- output -------------------------------------------------------------------------------------------------


def _save_final(trainer: Any, tokenizer: PreTrainedTokenizerBase, spec: RunSpec) -> None:
    """Save the trained model (LoRA merged in) and its tokenizer at the output folder's root."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if spec.kind == RunKind.PPO:
        model = model.policy  # trl's wrapper of policy and value model: keep the policy
    if spec.hyper.lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    if trainer.accelerator.is_main_process:
        model.save_pretrained(str(spec.output))
        tokenizer.padding_side = "right"  # the next stage chooses its own padding side
        tokenizer.save_pretrained(str(spec.output))
    trainer.accelerator.wait_for_everyone()


def _write_run_file(spec: RunSpec, result: RunResult) -> None:
    record = {
        "kind": str(spec.kind),
        "dataset": str(spec.dataset),
        "content_hash": result.content_hash,
        "model": str(spec.model),
        "reward_model": str(spec.reward_model) if spec.reward_model else None,
        "hyperparameters": spec.hyper.as_dict(),
        "global_step": result.global_step,
        "resumed_from": result.resumed_from,
        "train_rows": result.train_rows,
        "final_metrics": result.final_metrics,
    }
    (spec.output / RUN_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
