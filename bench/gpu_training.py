"""GPU training benchmark: our runner next to bare trl with trl's defaults, same model, same data, same process tree.

    python bench/gpu_training.py --size 100m --device cuda          # on the GPU machine (bench/gpu_training.sh)
    python bench/gpu_training.py --size tiny --device cpu --steps 3  # end to end on a CPU, to test the script

No Django, no network: the model is built from a config (`training.runner.tiny_model`, preset `100m`: a Llama of
about 100M parameters, vocabulary 1024) with a tokenizer trained on the demo corpus, and the data are the demo
exports written by `training.runner.demo`, repeated to a few thousand rows. Each case runs in its own subprocess
(clean CUDA memory statistics, no state shared between trainers):

- sft: bare `SFTTrainer` with trl's defaults (batch 8, no packing, max_length 1024, bf16 autocast) against our
  runner (`packing=True`: trl's best-fit-decreasing packing with position ids, padding-free; micro-batch 32;
  Liger's fused kernels when `liger-kernel` is installed; same learning rate, optimizer and schedule).
  Reported: real (non-padding) tokens per second and peak GPU memory, and the loss at the end of each run.
- reward: bare `RewardTrainer` defaults against our runner: pairs per second.
- ppo: bare `PPOTrainer` (trl.experimental.ppo) defaults against our runner's PPO: episodes per second.

Timing starts at the trainer's first step (`on_train_begin`) and ends at its last, so model loading and dataset
tokenization are outside it for both sides. Results go to stdout as a table and to `--json`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CASES = ("bare-sft", "ours-sft", "bare-reward", "ours-reward", "bare-ppo", "ours-ppo")


# --- setup (parent process) ---------------------------------------------------------------------------------


def prepare(work: Path, size: str, rows: int) -> None:
    """Build the model and the demo exports once; both sides read the same folders."""
    from training.runner.demo import demo_rows, write_export
    from training.runner.tiny_model import make_tiny_model

    if not (work / "model" / "config.json").is_file():
        make_tiny_model(work / "model", preset=size)
    for fmt in ("sft", "reward", "ppo"):
        folder = work / f"export-{fmt}"
        if (folder / "card.json").is_file():
            continue
        base = demo_rows(fmt)
        repeated = [base[i % len(base)] for i in range(rows)]
        write_export(folder, fmt, repeated)


# --- one case (child process) -------------------------------------------------------------------------------


class Clock:
    """Time from the first to the last optimizer step, and the trainer's token count, through a callback."""

    def __init__(self) -> None:
        self.start = 0.0
        self.end = 0.0
        self.steps = 0
        self.last: dict[str, float] = {}

    def callback(self) -> Any:
        from transformers import TrainerCallback

        clock = self

        class _Callback(TrainerCallback):
            def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                _sync()
                clock.start = time.perf_counter()

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                clock.steps = state.global_step

            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
                if logs and "train_runtime" not in logs:
                    clock.last.update({k: float(v) for k, v in logs.items() if isinstance(v, int | float)})

            def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                _sync()
                clock.end = time.perf_counter()

        return _Callback()

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-9)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _bare_common(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Only what a bare script must say: where to write, how long, no reports, no checkpoints; CPU switches."""
    cpu = args.device == "cpu"
    common: dict[str, Any] = {"output_dir": str(out), "max_steps": args.steps, "report_to": "none",
                              "save_strategy": "no", "logging_steps": 1, "disable_tqdm": True}
    if cpu:
        common.update(use_cpu=True, bf16=False, gradient_checkpointing=False)
    return common


def run_case(case: str, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    work = Path(args.work)
    out = work / "runs" / case
    model_dir = work / "model"
    clock = Clock()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    kind = case.split("-", 1)[1]
    if case.startswith("bare-"):
        units = _bare(kind, args, work, out, model_dir, clock)
    else:
        units = _ours(kind, args, work, out, model_dir, clock)
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {"case": case, "steps": clock.steps, "seconds": clock.seconds, "units": units,
            "per_second": units / clock.seconds, "peak_gib": peak, "final_loss": clock.last.get("loss"),
            "last_metrics": clock.last}


def _bare(kind: str, args: argparse.Namespace, work: Path, out: Path, model_dir: Path, clock: Clock) -> float:
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    common = _bare_common(args, out)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if kind == "sft":
        from trl import SFTConfig, SFTTrainer

        data = load_dataset("json", data_files=str(work / "export-sft" / "train.jsonl"), split="train")
        trainer = SFTTrainer(model=str(model_dir), args=SFTConfig(**common), train_dataset=data,
                             processing_class=tokenizer, callbacks=[clock.callback()])
        trainer.train()
        return clock.last.get("num_tokens", 0.0)
    if kind == "reward":
        from trl import RewardConfig, RewardTrainer

        data = load_dataset("json", data_files=str(work / "export-reward" / "train.jsonl"), split="train")
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1)
        config = RewardConfig(**common)
        trainer = RewardTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer,
                                callbacks=[clock.callback()])
        trainer.train()
        return clock.steps * config.per_device_train_batch_size * config.gradient_accumulation_steps
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), padding_side="left")
    data = load_dataset("json", data_files=str(work / "export-ppo" / "train.jsonl"), split="train")

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True,
                                            return_dict=True)["input_ids"]
        return {"input_ids": list(ids)}

    data = data.map(encode, remove_columns=data.column_names)
    config = PPOConfig(**{k: v for k, v in common.items() if k != "max_steps"}, num_sample_generations=0,
                       total_episodes=args.steps * 8)  # trl's default: 8 episodes per update
    trainer = PPOTrainer(args=config, processing_class=tokenizer,
                         model=AutoModelForCausalLM.from_pretrained(str(model_dir)),
                         ref_model=AutoModelForCausalLM.from_pretrained(str(model_dir)),
                         reward_model=AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1),
                         value_model=AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1),
                         train_dataset=data, callbacks=[clock.callback()])
    trainer.train()
    return float(trainer.state.episode)


def _ours(kind: str, args: argparse.Namespace, work: Path, out: Path, model_dir: Path, clock: Clock) -> float:
    from training.runner.hooks import RunHooks
    from training.runner.run import run_training
    from training.runner.spec import Hyperparameters, RunKind, RunSpec

    gpu = args.device != "cpu"
    tiny = args.size == "tiny"
    # trl's own defaults where we do not depart from them (learning rate 2e-5 for SFT, 1e-6 style for RL).
    common: dict[str, Any] = {"max_steps": args.steps, "bf16": gpu, "save_steps": 10**6, "logging_steps": 1}
    if kind == "sft":
        hyper = {**common, "learning_rate": 2e-5, "max_length": 1024, "packing": True, "liger": gpu,
                 "per_device_batch_size": 4 if tiny else 32}
        spec = RunSpec(RunKind.SFT, dataset=work / "export-sft", model=model_dir, output=out,
                       hyper=Hyperparameters.from_mapping(hyper), use_cpu=not gpu)
    elif kind == "reward":
        hyper = {**common, "learning_rate": 1e-4, "max_length": 1024, "per_device_batch_size": 4 if tiny else 64,
                 "liger": False}
        spec = RunSpec(RunKind.REWARD, dataset=work / "export-reward", model=model_dir, output=out,
                       hyper=Hyperparameters.from_mapping(hyper), use_cpu=not gpu)
    else:
        # PPO: trl's default shape (8 episodes per update, 53 response tokens, 4 PPO epochs), so the episodes are
        # the same work on both sides; the goal is to lose nothing against bare trl, not to change the algorithm.
        hyper = {**common, "learning_rate": 3e-6, "per_device_batch_size": 8, "response_length": 53,
                 "num_ppo_epochs": 4, "num_mini_batches": 1, "temperature": 0.7}
        reward = work / "runs" / "reward-model"
        if not (reward / "config.json").is_file():
            from transformers import AutoModelForSequenceClassification

            AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1).save_pretrained(
                str(reward))
        spec = RunSpec(RunKind.PPO, dataset=work / "export-ppo", model=model_dir, output=out,
                       hyper=Hyperparameters.from_mapping(hyper), reward_model=reward, use_cpu=not gpu)
    timer = clock.callback()

    from transformers import TrainerControl, TrainerState, TrainingArguments

    state, control, targs = TrainerState(), TrainerControl(), TrainingArguments(output_dir=str(out))
    started = [False]

    def progress(step: int, total: int) -> None:
        if not started[0]:
            started[0] = True
            timer.on_train_begin(targs, state, control)
        clock.steps = step

    def metrics(step: int, values: dict[str, float]) -> None:
        clock.last.update(values)

    result = run_training(spec, RunHooks(metrics=metrics, progress=progress))
    timer.on_train_end(targs, state, control)
    clock.steps = result.global_step
    if kind == "sft":
        return clock.last.get("num_tokens", 0.0)
    if kind == "reward":
        return float(result.global_step * spec.hyper.per_device_batch_size * spec.hyper.gradient_accumulation_steps)
    return clock.last.get("episode", 0.0)


# --- orchestration ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "100m"), default="100m")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--work", default=str(REPO / "var" / "bench-gpu-training"))
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--json", default="", help="write the results here")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args)))
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    prepare(work, args.size, args.rows)
    results: dict[str, dict[str, Any]] = {}
    for case in [c for c in args.cases.split(",") if c]:
        command = [sys.executable, __file__, "--case", case, "--size", args.size, "--device", args.device,
                   "--steps", str(args.steps), "--rows", str(args.rows), "--work", str(work)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{case} failed:\n{done.stderr[-4000:]}", file=sys.stderr)
            results[case] = {"case": case, "error": done.stderr[-2000:]}
            continue
        results[case] = json.loads(done.stdout.strip().splitlines()[-1])
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2) + "\n")
    return 0 if all("error" not in r for r in results.values()) else 1


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    import torch

    device = torch.cuda.get_device_name(0) if args.device == "cuda" and torch.cuda.is_available() else "CPU"
    print(f"\n{args.size} model, {args.steps} steps, {device}")
    units = {"sft": "tokens/s", "reward": "pairs/s", "ppo": "episodes/s"}
    print(f"{'kind':8} {'bare trl':>14} {'ours':>14} {'ratio':>7} {'peak GiB bare/ours':>20} {'loss bare/ours':>18}")
    for kind, unit in units.items():
        bare, ours = results.get(f"bare-{kind}", {}), results.get(f"ours-{kind}", {})
        if "per_second" not in bare or "per_second" not in ours:
            print(f"{kind:8} (not run or failed)")
            continue
        ratio = ours["per_second"] / bare["per_second"] if bare["per_second"] else float("nan")
        peaks = "/".join("-" if r["peak_gib"] is None else f"{r['peak_gib']:.1f}" for r in (bare, ours))
        losses = "/".join("-" if r["final_loss"] is None else f"{r['final_loss']:.3f}" for r in (bare, ours))
        print(f"{kind:8} {bare['per_second']:>10.1f} {unit:<3} {ours['per_second']:>10.1f} {unit:<3} "
              f"{ratio:>6.2f}x {peaks:>20} {losses:>18}")


if __name__ == "__main__":
    sys.exit(main())
