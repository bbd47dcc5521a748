"""Every export format goes from its files, through `datasets`, into its trl trainer without any mapping.

Each test exports rows, loads them with `datasets.load_dataset` from the written files, builds the trainer with the
training app's tiny offline model (`make_tiny_model`, built once per module) and checks the dataset the trainer
prepared: the trainer tokenised it as it is (input ids per row), which is what "fed to the trainer without mapping"
means. No training step runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import datasets
import pytest

from exports.formats import BuildStats, ExportSpec, item_rows, ppo_rows_from_prompts, run_export
from exports.formats.readers import export_prompts
from exports.formats.records import ItemRecord
from tests.support.export_records import ranking_item, response_item

trl = pytest.importorskip("trl")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

PROMPTS = ["Explain how tides work.", "请解释潮汐是怎么形成的。", "Name three rivers in Europe.",
           "Write a haiku about rain.", "What is a prime number?", "如何煮米饭？"]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The training app's tiny offline Llama and its ChatML tokenizer, saved once for this module's tests."""
    from training.runner.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-lm") / "model")


def _tokenizer(model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model))


def _causal_lm(model: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model))


def _reward_model(model: Path) -> Any:
    # The causal LM's body with a fresh one-output score head, as a reward model starts from a base model.
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(str(model), num_labels=1)


def _export(items: list[ItemRecord], out: Path, **options: Any) -> Path:
    spec = ExportSpec(**{"test_fraction": 0.0, **options})
    stats = BuildStats()
    run_export(spec, item_rows(items, spec, stats), stats, str(out), name="t", command="t")
    return out


def _load(out: Path, extension: str = "parquet") -> datasets.Dataset:
    return datasets.load_dataset("json" if extension == "jsonl" else "parquet",
                                 data_files=str(out / "data" / f"train-*.{extension}"),
                                 cache_dir=str(out.parent / "hf-cache"))["train"]


def _common(tmp_path: Path) -> dict[str, Any]:
    return {"output_dir": str(tmp_path / "run"), "use_cpu": True, "bf16": False, "report_to": [],
            "save_strategy": "no", "max_steps": 1, "per_device_train_batch_size": 2,
            "gradient_checkpointing": False}


def _ranking_items() -> list[ItemRecord]:
    return [ranking_item(f"i{n}", prompt, [[["r1"], ["r2", "r3"], ["r4"]]], system_prompt="Be brief.")
            for n, prompt in enumerate(PROMPTS)]


@pytest.mark.parametrize("style,extension", [("messages", "parquet"), ("prompt_completion", "jsonl")])
def test_sft_export_goes_into_sft_trainer_as_it_is(tiny_lm: Path, tmp_path: Path, style: str, extension: str) -> None:
    items = [response_item(f"i{n}", p, [f"Answer to {p}"], system_prompt="Be brief.") for n, p in enumerate(PROMPTS)]
    dataset = _load(_export(items, tmp_path / "sft", format="sft", style=style), extension)
    tokenizer = _tokenizer(tiny_lm)
    trainer = trl.SFTTrainer(model=_causal_lm(tiny_lm), processing_class=tokenizer, train_dataset=dataset,
                             args=trl.SFTConfig(**_common(tmp_path), assistant_only_loss=True, max_length=128))
    prepared = trainer.train_dataset
    assert prepared.num_rows == len(PROMPTS)
    assert "input_ids" in prepared.column_names
    # the loss falls on the answer only: the system and user turns are masked out of the labels
    labels = prepared[0]["labels"]
    assert -100 in labels and any(label != -100 for label in labels)


def test_reward_export_goes_into_reward_trainer_with_its_margins(tiny_lm: Path, tmp_path: Path) -> None:
    dataset = _load(_export(_ranking_items(), tmp_path / "reward", format="reward"))
    assert dataset.num_rows == len(PROMPTS) * 5  # four responses, one tie: 6 - 1 pairs each
    tokenizer = _tokenizer(tiny_lm)
    trainer = trl.RewardTrainer(model=_reward_model(tiny_lm), processing_class=tokenizer,
                                train_dataset=dataset, args=trl.RewardConfig(**_common(tmp_path), max_length=128))
    prepared = trainer.train_dataset
    assert {"chosen_ids", "rejected_ids", "margin"} <= set(prepared.column_names)
    assert sorted(set(prepared["margin"])) == [1.0, 2.0]


@pytest.mark.parametrize("style", ["explicit", "implicit"])
def test_dpo_export_goes_into_dpo_trainer_as_it_is(tiny_lm: Path, tmp_path: Path, style: str) -> None:
    dataset = _load(_export(_ranking_items(), tmp_path / "dpo", format="dpo", style=style), "jsonl")
    tokenizer = _tokenizer(tiny_lm)
    # the reference model is passed as its own copy, as a trainer with a local base model does
    trainer = trl.DPOTrainer(model=_causal_lm(tiny_lm), ref_model=_causal_lm(tiny_lm),
                             processing_class=tokenizer, train_dataset=dataset,
                             args=trl.DPOConfig(**_common(tmp_path), max_length=128))
    prepared = trainer.train_dataset
    assert prepared.num_rows == len(PROMPTS) * 5
    assert any("chosen" in name and "ids" in name for name in prepared.column_names)


def test_ppo_prompts_from_a_reward_export_go_into_an_online_trainer(tiny_lm: Path, tmp_path: Path) -> None:
    # given a reward export, and a ppo export made from its prompts
    reward = _export(_ranking_items(), tmp_path / "reward", format="reward")
    spec = ExportSpec(format="ppo", test_fraction=0.0)
    stats = BuildStats()
    run_export(spec, ppo_rows_from_prompts(export_prompts(str(reward)), "reward export", stats), stats,
               str(tmp_path / "ppo"), name="ppo", command="t")
    dataset = _load(tmp_path / "ppo")
    # then each prompt is there once, as messages, and GRPO (trl's online trainer) takes the dataset as it is
    assert dataset.num_rows == len(PROMPTS)
    assert dataset[0]["prompt"][-1]["role"] == "user"
    tokenizer = _tokenizer(tiny_lm)

    def length_reward(completions: list[Any], **_: Any) -> list[float]:
        return [float(len(str(c))) for c in completions]

    trainer = trl.GRPOTrainer(model=_causal_lm(tiny_lm), reward_funcs=length_reward,
                              processing_class=tokenizer, train_dataset=dataset,
                              args=trl.GRPOConfig(**{**_common(tmp_path), "per_device_train_batch_size": 2},
                                                  num_generations=2, max_completion_length=8))
    assert trainer.train_dataset.num_rows == len(PROMPTS)
    # and PPO's tokenised prompt column comes from the chat template in one call, as trl's PPO example does
    encoded = tokenizer.apply_chat_template(dataset[0]["prompt"], add_generation_prompt=True, tokenize=True)
    ids = encoded["input_ids"] if isinstance(encoded, dict) or hasattr(encoded, "keys") else encoded
    assert len(ids) > 3


def test_pretrain_export_goes_into_sft_trainer_as_text(tiny_lm: Path, tmp_path: Path) -> None:
    from exports.formats import pretrain_rows
    from exports.formats.records import DocumentRecord

    documents = [DocumentRecord(id=f"d{n}", text=f"{p} A longer document follows here.", url=f"https://x.org/{n}",
                                lang="en", job=1) for n, p in enumerate(PROMPTS)]
    spec = ExportSpec(format="pretrain", test_fraction=0.0)
    stats = BuildStats()
    run_export(spec, pretrain_rows(documents, stats), stats, str(tmp_path / "pre"), name="pre", command="t")
    dataset = _load(tmp_path / "pre", "jsonl")
    assert dataset.column_names == ["id", "text", "url", "lang"]
    tokenizer = _tokenizer(tiny_lm)
    trainer = trl.SFTTrainer(model=_causal_lm(tiny_lm), processing_class=tokenizer, train_dataset=dataset,
                             args=trl.SFTConfig(**_common(tmp_path), max_length=64, dataset_text_field="text"))
    assert "input_ids" in trainer.train_dataset.column_names
