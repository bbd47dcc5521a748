"""Batched generation from a trained model: answers to a list of prompts, for people to compare checkpoints.

Prompts are chat messages (or plain text, sent as one user turn), rendered with the model's chat template; batches
are left-padded so every answer starts right after its prompt. Sampling is off by default (greedy), so the same
checkpoint and prompts give the same answers on a re-run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

Prompt = str | list[dict[str, str]]


def prompt_messages(prompt: Any) -> list[dict[str, str]]:
    """An export row's prompt as messages: a list of turns as is, text as one user turn."""
    if isinstance(prompt, list):
        return [{"role": str(turn["role"]), "content": str(turn["content"])} for turn in prompt]
    return [{"role": "user", "content": str(prompt)}]


def generate_answers(model_dir: Path, prompts: Sequence[Prompt], *, batch_size: int = 8, max_new_tokens: int = 64,
                     use_cpu: bool = True) -> list[str]:
    """Generate one answer per prompt with the model in `model_dir`, in batches. Reads only; safe to re-run."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = "cuda" if not use_cpu and torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model: Any = AutoModelForCausalLM.from_pretrained(str(model_dir))
    model = model.to(device).eval()
    answers: list[str] = []
    for start in range(0, len(prompts), batch_size):
        batch = [prompt_messages(p) for p in prompts[start:start + batch_size]]
        texts = [tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in batch]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            output = model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        new_tokens = output[:, encoded["input_ids"].shape[1]:]
        answers.extend(text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return answers
