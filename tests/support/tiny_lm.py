"""A tiny causal LM, reward model and tokenizer built offline in a second, for feeding exports to trl's trainers.

A byte-level BPE tokenizer trained here (any English or Chinese text encodes), a ChatML template with generation
markers, and Llama models from a config with random weights. Nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

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
_CORPUS = [
    "The river rose in the night and the people went up to the hills.",
    "Explain how tides work in simple words.",
    "潮汐主要由月球的引力引起。请解释潮汐是怎么形成的。",
] * 4


def tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|pad|>", "<|im_end|>", "<|im_start|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(_CORPUS, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|pad|>",
                                      additional_special_tokens=["<|im_start|>"], model_max_length=512)
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def _config(tokenizer: Any, **extra: Any) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                       eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **extra)


def tiny_causal_lm(tokenizer: Any) -> Any:
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM(_config(tokenizer))


def tiny_reward_model(tokenizer: Any) -> Any:
    from transformers import LlamaForSequenceClassification

    return LlamaForSequenceClassification(_config(tokenizer, num_labels=1))
