"""Command line of the runner, without Django: `python -m training.runner --kind sft --dataset DIR --model DIR ...`.

Prints a progress bar on stderr and one JSON line with the result on stdout. Exit status 2 for a bad request,
130 when interrupted. Under `accelerate launch` every process runs this; only the main one draws the bar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from training.runner.hooks import RunHooks
from training.runner.progress import ProgressBar
from training.runner.run import run_training
from training.runner.spec import Hyperparameters, RunKind, RunSpec, SpecError


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m training.runner", description=__doc__.splitlines()[0])
    parse.add_argument("--kind", required=True, choices=[k.value for k in RunKind])
    parse.add_argument("--dataset", required=True, type=Path, help="export folder (card.json + train rows)")
    parse.add_argument("--model", required=True, type=Path, help="model folder (base model or a run's output)")
    parse.add_argument("--output", required=True, type=Path, help="output folder; re-running resumes there")
    parse.add_argument("--reward-model", type=Path, help="reward run's output (ppo, rloo)")
    parse.add_argument("--max-steps", type=int)
    parse.add_argument("--lora", action="store_true")
    parse.add_argument("--gpu", action="store_true", help="train on the GPU (the default is the CPU)")
    parse.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help="any other hyperparameter, e.g. --set learning_rate=1e-4 --set packing=true")
    parse.add_argument("--quiet", action="store_true", help="no progress bar")
    return parse


def hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    values: dict[str, object] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"--set wants NAME=VALUE, got {item!r}")
        values[name.strip()] = value.strip()
    if args.max_steps is not None:
        values["max_steps"] = args.max_steps
    if args.lora:
        values["lora"] = True
    return Hyperparameters.from_mapping(values)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        spec = RunSpec(kind=RunKind(args.kind), dataset=args.dataset, model=args.model, output=args.output,
                       hyper=hyperparameters(args), reward_model=args.reward_model, use_cpu=not args.gpu)
        main_process = os.environ.get("RANK", "0") == "0"
        bar = ProgressBar(f"{args.kind}") if main_process and not args.quiet else None
        hooks = RunHooks(metrics=bar.metrics if bar else None, progress=bar.update if bar else None)
        try:
            result = run_training(spec, hooks)
        finally:
            if bar:
                bar.close()
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if os.environ.get("RANK", "0") != "0":
        return 0  # under accelerate launch, the main process reports
    print(json.dumps({"output": str(result.output), "global_step": result.global_step,
                      "resumed_from": result.resumed_from, "content_hash": result.content_hash,
                      "final_metrics": result.final_metrics}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
