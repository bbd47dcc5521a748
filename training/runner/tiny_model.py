"""Build a small Llama-style causal LM and its tokenizer offline: random weights from a config, a local tokenizer.

Nothing is downloaded. The tokenizer is a byte-level BPE (every byte is in the alphabet, so any English or Chinese
text encodes without unknown tokens) trained with the `tokenizers` library on the demo corpus of
`training/runner/demo.py`, in both languages. Its chat template is ChatML with `{% generation %}` markers around
the assistant's turns, which trl needs for assistant-only loss. The model and tokenizer are saved with
`save_pretrained` and load with `AutoModelForCausalLM` / `AutoTokenizer` from the folder alone.

Presets: `tiny` (about 0.1M parameters, for tests and the CPU demo) and `100m` (about 100M, hidden 768, 14 layers,
vocabulary 1024 as in the bench notes of KNOWN-TRAPS.md, for the GPU benchmark). Same seed, same weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from training.runner.demo import corpus_lines

BOS, EOS, PAD = "<|begin|>", "<|im_end|>", "<|pad|>"
IM_START = "<|im_start|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, IM_START]

# ChatML with generation markers: only the assistant's content and its end marker count for assistant-only loss.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


@dataclass(frozen=True)
class ModelPreset:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    layers: int
    heads: int
    kv_heads: int
    max_positions: int


PRESETS = {
    "tiny": ModelPreset(vocab_size=512, hidden_size=64, intermediate_size=128, layers=2, heads=4, kv_heads=2,
                        max_positions=512),
    "100m": ModelPreset(vocab_size=1024, hidden_size=768, intermediate_size=2048, layers=14, heads=12, kv_heads=12,
                        max_positions=2048),
}


def train_tokenizer(lines: Iterable[str], vocab_size: int) -> object:
    """Train a byte-level BPE on `lines` and wrap it as a transformers fast tokenizer with our chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(lines, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                      additional_special_tokens=[IM_START], model_max_length=2048)
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def make_tiny_model(output: Path, *, preset: str = "tiny", seed: int = 0) -> Path:
    """Write a randomly initialised Llama-style model and its tokenizer to `output`. Re-running overwrites them."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    shape = PRESETS[preset]
    tokenizer = train_tokenizer(corpus_lines(), shape.vocab_size)
    vocab = len(tokenizer)  # type: ignore[arg-type]
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=shape.hidden_size, intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.layers, num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
        max_position_embeddings=shape.max_positions, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id,
        max_new_tokens=32,
    )
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))  # type: ignore[attr-defined]
    return output
