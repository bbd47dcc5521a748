"""`make_tiny_model` builds a loadable bilingual model offline; `train --local` trains it with a progress bar."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from training.models import Run, RunMetric


def test_make_tiny_model_writes_a_model_and_tokenizer_that_load_offline(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    call_command("make_tiny_model", "--output", str(tmp_path / "m"), stdout=io.StringIO())
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / "m"), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(tmp_path / "m"), local_files_only=True)
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tokenizer)
    for text in ("The kettle boils water in about three minutes.", "水壶大约三分钟就能把水烧开。"):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text  # byte-level: nothing unknown, in either language
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"}],
        tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    masked = [t for t, m in zip(rendered["input_ids"], rendered["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(masked) == "你好！<|im_end|>"  # the generation markers cover the answer only


@pytest.mark.django_db(transaction=True)
def test_train_local_records_the_run_and_its_metrics(tiny_model: Path, demo_exports: dict[str, Path],
                                                     tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("train", "--kind", "sft", "--dataset", str(demo_exports["sft"]), "--model", str(tiny_model),
                 "--output", str(tmp_path / "run"), "--local", "--max-steps", "3", stdout=out, stderr=err)
    run = Run.objects.get()
    assert run.status == Run.Status.SUCCEEDED and run.global_step == 3
    assert RunMetric.objects.filter(run=run).count() == 3
    assert "succeeded at step 3" in out.getvalue()
    assert "3/3" in err.getvalue()  # the progress bar
    assert (tmp_path / "run" / "model.safetensors").is_file()


@pytest.mark.django_db
def test_train_refuses_a_missing_export_with_its_reason(tiny_model: Path) -> None:
    with pytest.raises(CommandError, match="dataset folder not found"):
        call_command("train", "--kind", "sft", "--dataset", "/nonexistent", "--model", str(tiny_model), "--local")
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_training_demo_runs_the_whole_chain_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.management.commands import training_demo
    from training.models import Pipeline

    monkeypatch.setattr(training_demo, "DEMO_HYPERPARAMETERS", {
        "sft": {"max_steps": 3, "save_steps": 50}, "reward": {"max_steps": 2, "save_steps": 50},
        "ppo": {"max_steps": 1, "per_device_batch_size": 2, "response_length": 4}})
    out = io.StringIO()
    call_command("training_demo", "--output", str(tmp_path / "demo"), "--local", stdout=out, stderr=io.StringIO())
    pipeline = Pipeline.objects.get()
    assert pipeline.status == Pipeline.Status.SUCCEEDED, list(pipeline.runs.values("kind", "status", "error"))
    assert sorted(pipeline.runs.values_list("kind", flat=True)) == ["ppo", "reward", "sft"]
    assert f"pipeline {pipeline.pk}: succeeded" in out.getvalue()
