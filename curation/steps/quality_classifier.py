"""A fastText quality classifier: training into versioned model directories, and the `quality_classifier` step.

Training (`train_quality_classifier`, or `train_quality_classifier_from_files` for the management command) reads
examples labelled 1 (high quality, the kind of text to keep) or 0 (low quality), holds out a test share, trains
a supervised fastText model (Joulin et al. 2016) on word uni- and bigrams, compresses it with product
quantisation, measures the compressed model on the held-out examples and writes

    <out_dir>/quality-classifier/<version>/model.ftz    the quantised model (a few MB)
    <out_dir>/quality-classifier/<version>/card.json    metrics, sizes, parameters, hashes; written last

`out_dir` is a path or fsspec URL. A version directory without card.json is incomplete and never loaded; an
existing version is never overwritten. The version defaults to the UTC time and the first 8 hex digits of the
training data's hash, so versions sort by age.

Size. fastText hashes word n-grams into `bucket` rows: its default 2,000,000 rows of 100 floats make a ~540 MB
model. We use 200,000 rows of 64 (the bucket size loses nothing on small tasks; see KNOWN-TRAPS.md) and quantise
with `cutoff` 100,000 (keep the 100,000 rows with the largest norm, then retrain; fewer when the vocabulary and
the word pairs seen in training are fewer, since other rows were never trained), which leaves a model of a few
MB; the card records the size and the held-out metrics before and after quantisation.

Text. Lowercased, split into words and punctuation marks the way text_stats does (jieba for text with Chinese
characters, so word n-grams are Chinese words, not whole lines), joined by single spaces: fastText splits on
whitespace only and reads one example per line. Long texts are sampled like language identification does.

Labels in a `--labels` file (JSON Lines with `text` and `label`): 1, true, "1", "hq", "high", "high_quality",
"positive", "pos", "good", "keep" mean high quality; 0, false, "0", "lq", "low", "low_quality", "negative",
"neg", "bad", "drop" mean low quality (case-insensitive). `--positive` / `--negative` files hold one text per line,
or JSON Lines with a `text` field; either may be compressed (fsspec infers gzip, zstd, ... from the name).

The step stores `quality_score` (the model's probability that the text is high quality) and `quality_model` (the
version that scored it), and removes documents scoring below `threshold` with reason `quality_classifier`.
Documents are scored in batches, one fastText call per batch, always with a list of strings: `predict` on a
single string fails under numpy 2 with several fastText builds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import fasttext
import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from curation.steps.base import Filter, register_step
from curation.steps.document import Document, signals_of
from curation.steps.language import sample_text
from curation.steps.text_stats import TOKEN_RE, segment_chinese

MODELS_DIR = "quality-classifier"
MODEL_FILE = "model.ftz"
CARD_FILE = "card.json"
LATEST = "latest"
POSITIVE_LABEL = "__label__hq"
NEGATIVE_LABEL = "__label__lq"
PREPROCESSING = "lowercase; words and punctuation as tokens (jieba where Chinese characters occur); v1"
DEFAULT_TEXT_CHARS = 10_000

SIGNAL_SCORE = "quality_score"
SIGNAL_MODEL = "quality_model"
REASON_LOW_QUALITY = "quality_classifier"

POSITIVE_VALUES = frozenset({"1", "true", "hq", "high", "high_quality", "positive", "pos", "good", "keep"})
NEGATIVE_VALUES = frozenset({"0", "false", "lq", "low", "low_quality", "negative", "neg", "bad", "drop"})

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ModelLocationError(PermissionError):
    """A model outside the registries an administrator configured, or a card that names a file or hash it may not."""


def _normalised(location: str) -> str:
    """A local path made absolute and real (links followed), or a URL with its path normalised; refuses '..' in URLs."""
    if "://" not in location:
        return os.path.realpath(location)
    scheme, _, rest = location.partition("://")
    if any(part in ("..", ".") for part in rest.split("/")):
        raise ModelLocationError(f"model location {location!r} holds '.' or '..' segments")
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def model_location_check(model: str, registries: Sequence[str]) -> str:
    """Return `model` if it lies inside one of `registries` (folders or URL prefixes); raise ModelLocationError.

    Local paths are compared after following links, so a link inside a registry pointing out of it is refused.
    Reads nothing but the file system's link targets; changes nothing.
    """
    target = _normalised(model)
    for registry in registries:
        root = _normalised(registry)
        if "://" in target and "://" in root:
            inside = target == root or target.startswith(root + "/")
        else:
            inside = "://" not in target and "://" not in root and os.path.commonpath([target, root]) == root
        if inside:
            return model
    raise ModelLocationError(
        f"quality classifier model {model!r} is not in a configured model registry (QUALITY_MODEL_REGISTRIES)"
    )


# Set by the application (curation.apps) to a function returning the configured registries, read at each load so
# a worker never loads a model from elsewhere; None (this module used on its own) allows any location.
model_registries: Callable[[], Sequence[str]] | None = None


def card_check(card: ModelCard) -> None:
    """Refuse a card whose model file is not a bare file name or whose SHA-256 is not 64 hex digits.

    Both become parts of paths (the model file inside the version folder, the hash in the local cache's file
    name), so a '../'-style value must never get that far.
    """
    name = card.model_file
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ModelLocationError(f"model card names model file {name!r}: only a bare file name is allowed")
    if not isinstance(card.model_sha256, str) or not _SHA256_RE.fullmatch(card.model_sha256):
        raise ModelLocationError("model card's model_sha256 is not 64 lowercase hexadecimal digits")


def preprocess(text: str, max_chars: int = DEFAULT_TEXT_CHARS) -> str:
    """Return `text` as the classifier sees it: one line of lowercased, space-separated tokens."""
    sample = sample_text(text, max_chars).lower()
    tokens = segment_chinese(sample) if _HAN_RE.search(sample) else TOKEN_RE.findall(sample)
    # A token that looks like a fastText label would become a second label of the training example.
    line = " ".join(tokens).replace("__label__", "_label_")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot reach fastText's C++ side
        line = line.encode("utf-8", "replace").decode("utf-8")
    return line


def parse_label(value: Any) -> int:
    """Return 1 or 0 for a label value from a labels file (see the module docstring); raise ValueError otherwise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in POSITIVE_VALUES:
            return 1
        if key in NEGATIVE_VALUES:
            return 0
    raise ValueError(f"unknown label {value!r}: use 1/0, hq/lq, positive/negative, good/bad or keep/drop")


def _lines(url: str) -> Iterator[tuple[int, str]]:
    with fsspec.open(url, "rt", encoding="utf-8", compression="infer") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if line.strip():
                yield number, line


def read_texts(url: str) -> Iterator[str]:
    """Yield the texts of a file holding one text per line, or JSON Lines records with a `text` field."""
    for number, line in _lines(url):
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None  # a text line that merely starts with "{"
            if isinstance(record, dict):
                text = record.get("text")
                if not isinstance(text, str):
                    raise ValueError(f"{url}:{number}: JSON record without a string 'text' field")
                yield text
                continue
        yield line


def read_labelled(url: str) -> Iterator[tuple[str, int]]:
    """Yield (text, 1 or 0) from JSON Lines records with `text` and `label`."""
    for number, line in _lines(url):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{url}:{number}: not JSON ({error.msg})") from error
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or "label" not in record:
            raise ValueError(f"{url}:{number}: expected an object with 'text' and 'label'")
        try:
            label = parse_label(record["label"])
        except ValueError as error:
            raise ValueError(f"{url}:{number}: {error}") from error
        yield record["text"], label


def iter_examples(
    *, positive: Sequence[str] = (), negative: Sequence[str] = (), labels: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """Yield (text, label) from positive files, negative files and labels files, in that order."""
    for url in positive:
        for text in read_texts(url):
            yield text, 1
    for url in negative:
        for text in read_texts(url):
            yield text, 0
    for url in labels:
        yield from read_labelled(url)


@dataclass(frozen=True)
class TrainingParams:
    """fastText settings; see the module docstring for the size-related ones.

    `threads` > 1 trains faster but makes the model differ between runs (fastText's lock-free updates).
    """

    epoch: int = 10
    lr: float = 0.3
    dim: int = 64
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 200_000
    quantize_cutoff: int = 100_000
    threads: int = 1
    text_chars: int = DEFAULT_TEXT_CHARS

    def __post_init__(self) -> None:
        if self.dim % 2:
            raise ValueError("dim must be even (quantisation splits vectors into pairs)")


@dataclass(frozen=True)
class Metrics:
    """Held-out metrics at probability threshold 0.5; `positive` is the high-quality class."""

    precision: float | None
    recall: float | None
    f1: float | None
    negative_precision: float | None
    negative_recall: float | None
    accuracy: float | None
    roc_auc: float | None


@dataclass(frozen=True)
class ModelCard:
    """What card.json says about one trained model version."""

    version: str
    path: str
    created_at: str
    model_file: str
    model_sha256: str
    model_bytes: int
    data_sha256: str
    train_examples: int
    train_positive: int
    test_examples: int
    test_positive: int
    test_fraction: float
    seed: int
    metrics: Metrics
    metrics_unquantized: Metrics
    params: TrainingParams
    preprocessing: str = PREPROCESSING
    labels: dict[str, str] = field(default_factory=lambda: {"1": POSITIVE_LABEL, "0": NEGATIVE_LABEL})
    fasttext: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        values = dict(data)
        values["metrics"] = Metrics(**data["metrics"])
        values["metrics_unquantized"] = Metrics(**data["metrics_unquantized"])
        values["params"] = TrainingParams(**data["params"])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _is_test(text: str, seed: int, test_fraction: float) -> bool:
    """Assign an example to the held-out set by a hash of its text, so duplicates never straddle the split."""
    digest = hashlib.blake2b(f"{seed}\x00{text}".encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < test_fraction


def _safe_ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _roc_auc(scores: Sequence[float], truth: Sequence[int]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    positives = sum(truth)
    negatives = len(truth) - positives
    if not positives or not negatives:
        return None
    ranked = sorted(zip(scores, truth, strict=True))
    rank_sum = 0.0
    index = 0
    while index < len(ranked):
        end = index
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[index][0]:
            end += 1
        average_rank = (index + end) / 2 + 1
        rank_sum += average_rank * sum(label for _, label in ranked[index : end + 1])
        index = end + 1
    return round((rank_sum - positives * (positives + 1) / 2) / (positives * negatives), 4)


def evaluate(scores: Sequence[float], truth: Sequence[int], threshold: float = 0.5) -> Metrics:
    """Return precision, recall and the rest for predictions `scores >= threshold` against `truth`."""
    predicted = [int(score >= threshold) for score in scores]
    tp = sum(1 for p, t in zip(predicted, truth, strict=True) if p and t)
    fp = sum(1 for p, t in zip(predicted, truth, strict=True) if p and not t)
    fn = sum(1 for p, t in zip(predicted, truth, strict=True) if not p and t)
    tn = sum(1 for p, t in zip(predicted, truth, strict=True) if not p and not t)
    precision = _safe_ratio(tp, tp + fp)
    recall = _safe_ratio(tp, tp + fn)
    f1 = None
    if precision is not None and recall is not None:
        f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    return Metrics(
        precision=precision,
        recall=recall,
        f1=f1,
        negative_precision=_safe_ratio(tn, tn + fn),
        negative_recall=_safe_ratio(tn, tn + fp),
        accuracy=_safe_ratio(tp + tn, len(truth)),
        roc_auc=_roc_auc(scores, truth),
    )


def _positive_probabilities(model: Any, lines: Sequence[str]) -> list[float]:
    """Return P(high quality) for preprocessed lines; empty lines score 0."""
    scores = [0.0] * len(lines)
    todo = [index for index, line in enumerate(lines) if line]
    if todo:
        labels, probabilities = model.predict([lines[index] for index in todo], k=-1)
        for index, names, values in zip(todo, labels, probabilities, strict=True):
            found = dict(zip(names, values, strict=True))
            if POSITIVE_LABEL in found:
                score = float(found[POSITIVE_LABEL])
            else:
                score = 1.0 - float(found.get(NEGATIVE_LABEL, 1.0))
            scores[index] = round(min(max(score, 0.0), 1.0), 4)
    return scores


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def train_quality_classifier(
    examples: Iterable[tuple[str, int]],
    out_dir: str,
    *,
    version: str | None = None,
    seed: int = 0,
    test_fraction: float = 0.1,
    params: TrainingParams | None = None,
) -> ModelCard:
    """Train, quantise and evaluate a classifier on (text, 1 or 0) examples; write it as a new version.

    Writes `<out_dir>/quality-classifier/<version>/` (model.ftz, then card.json) and nothing else; raises
    FileExistsError rather than overwrite an existing version, and ValueError when the training set lacks a class
    or the held-out set is empty. With `params.threads == 1` the same examples and seed give the same model.
    """
    params = params or TrainingParams()
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    if version is not None and (not _VERSION_RE.fullmatch(version) or version == LATEST):
        raise ValueError(f"bad version {version!r}: letters, digits, '.', '_' and '-' only, and not 'latest'")
    fs, root = url_to_fs(out_dir)
    if version is not None and fs.exists(_join(root, MODELS_DIR, version, CARD_FILE)):
        raise FileExistsError(f"quality classifier version {version} already exists in {out_dir}")

    with tempfile.TemporaryDirectory(prefix="quality-classifier-") as work:
        train_path = os.path.join(work, "train.txt")
        test_lines: list[str] = []
        test_truth: list[int] = []
        data_hash = hashlib.sha256()
        train_count = train_positive = 0
        # Distinct word pairs seen in training (up to the cutoff): the n-gram rows training actually touched.
        pairs: set[tuple[str, str]] = set()
        with open(train_path, "w", encoding="utf-8") as train_file:
            for text, label in examples:
                if label not in (0, 1):
                    raise ValueError(f"labels must be 1 or 0, not {label!r}")
                line = preprocess(text, params.text_chars)
                if not line:
                    continue
                data_hash.update(f"{label}\t{line}\n".encode())
                if _is_test(line, seed, test_fraction):
                    test_lines.append(line)
                    test_truth.append(label)
                else:
                    train_file.write(f"{POSITIVE_LABEL if label else NEGATIVE_LABEL} {line}\n")
                    train_count += 1
                    train_positive += label
                    if len(pairs) < params.quantize_cutoff:
                        tokens = line.split(" ")
                        pairs.update(itertools.pairwise(tokens))
        if not 0 < train_positive < train_count:
            raise ValueError(
                f"the training set needs both classes: {train_positive} positive of {train_count} examples"
            )
        if not test_lines:
            raise ValueError("no examples were held out: give more examples or a larger test_fraction")

        model = fasttext.train_supervised(
            input=train_path,
            epoch=params.epoch,
            lr=params.lr,
            dim=params.dim,
            wordNgrams=params.word_ngrams,
            minCount=params.min_count,
            bucket=params.bucket,
            loss="softmax",
            thread=params.threads,
            seed=seed,
            verbose=0,
        )
        metrics_unquantized = evaluate(_positive_probabilities(model, test_lines), test_truth)
        # Rows beyond the vocabulary and the word pairs seen were never trained: keep no more rows than that, which
        # also bounds the quantiser's k-means (about 20 s at 100,000 rows, 1 s at a few thousand).
        cutoff = min(params.quantize_cutoff, len(model.words) + len(pairs))
        model.quantize(input=train_path, qnorm=True, retrain=True, cutoff=cutoff, verbose=0)
        metrics = evaluate(_positive_probabilities(model, test_lines), test_truth)
        model_path = os.path.join(work, MODEL_FILE)
        model.save_model(model_path)

        data_sha256 = data_hash.hexdigest()
        created = datetime.now(UTC)
        version = version or f"{created:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}"
        target = _join(root, MODELS_DIR, version)
        if fs.exists(_join(target, CARD_FILE)):
            raise FileExistsError(f"quality classifier version {version} already exists in {out_dir}")
        card = ModelCard(
            version=version,
            path=_join(out_dir, MODELS_DIR, version),
            created_at=created.isoformat(timespec="seconds"),
            model_file=MODEL_FILE,
            model_sha256=_file_sha256(model_path),
            model_bytes=os.path.getsize(model_path),
            data_sha256=data_sha256,
            train_examples=train_count,
            train_positive=train_positive,
            test_examples=len(test_lines),
            test_positive=sum(test_truth),
            test_fraction=test_fraction,
            seed=seed,
            metrics=metrics,
            metrics_unquantized=metrics_unquantized,
            params=params,
            fasttext=_fasttext_version(),
        )
        fs.makedirs(target, exist_ok=True)
        fs.put_file(model_path, _join(target, MODEL_FILE))
        # The card goes last: its presence marks a complete version.
        with fs.open(_join(target, CARD_FILE), "w", encoding="utf-8") as handle:
            json.dump(card.to_dict(), handle, indent=2, sort_keys=True)
    return card


def train_quality_classifier_from_files(
    *,
    out_dir: str,
    positive: Sequence[str] = (),
    negative: Sequence[str] = (),
    labels: Sequence[str] = (),
    version: str | None = None,
    seed: int = 0,
    test_fraction: float = 0.1,
    params: TrainingParams | None = None,
) -> ModelCard:
    """Train from `--positive`/`--negative` text files and/or `--labels` JSON Lines files (paths or URLs)."""
    if not (positive or negative or labels):
        raise ValueError("give --positive and --negative files, or --labels files")
    if bool(positive) != bool(negative) and not labels:
        raise ValueError("--positive and --negative go together (or add --labels)")
    examples = iter_examples(positive=positive, negative=negative, labels=labels)
    return train_quality_classifier(
        examples, out_dir, version=version, seed=seed, test_fraction=test_fraction, params=params
    )


def _fasttext_version() -> str:
    for distribution in ("fasttext-numpy2", "fasttext", "fasttext-wheel"):
        try:
            return f"{distribution} {importlib.metadata.version(distribution)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def resolve_model_dir(model: str, registries: Sequence[str] | None = None) -> str:
    """Return the model directory `model` names; `.../quality-classifier/latest` becomes its newest complete version.

    Job submission should call this and pin the result, so that every shard of a job uses one version. With
    `registries`, a model outside them raises ModelLocationError before anything is listed or fetched.
    """
    if registries is not None:
        model_location_check(model, registries)
    base, _, last = model.rstrip("/").rpartition("/")
    if last != LATEST:
        return model.rstrip("/")
    fs, root = url_to_fs(base or ".")
    versions = sorted(
        entry.rstrip("/").rpartition("/")[2]
        for entry in fs.ls(root, detail=False)
        if fs.exists(_join(entry, CARD_FILE))
    )
    if not versions:
        raise FileNotFoundError(f"no complete quality classifier version under {base}")
    return _join(base, versions[-1])


class QualityModel:
    """A loaded classifier version: its card and the fastText model."""

    def __init__(self, card: ModelCard, model: Any) -> None:
        self.card = card
        self._model = model

    def score(self, texts: Sequence[str]) -> list[float]:
        """Return P(high quality) for each text, in one fastText call."""
        text_chars = self.card.params.text_chars
        return _positive_probabilities(self._model, [preprocess(text, text_chars) for text in texts])


_loaded: dict[str, QualityModel] = {}
_load_lock = threading.Lock()


def load_quality_model(model: str) -> QualityModel:
    """Load the classifier version in directory `model` (path or URL; `.../latest` allowed), once per process.

    A remote model is copied to a local cache first (fastText reads local files only); its SHA-256 is checked
    against the card either way. A model outside the configured registries (`model_registries`), or a card whose
    model file is not a bare name or whose hash is not 64 hex digits, raises ModelLocationError before any byte of
    the model is fetched or parsed.
    """
    directory = resolve_model_dir(model, model_registries() if model_registries is not None else None)
    with _load_lock:
        if directory in _loaded:
            return _loaded[directory]
        fs, root = url_to_fs(directory)
        with fs.open(_join(root, CARD_FILE), "r", encoding="utf-8") as handle:
            card = ModelCard.from_dict(json.load(handle))
        card_check(card)
        remote = _join(root, card.model_file)
        if isinstance(fs, LocalFileSystem):
            local = remote
        else:
            cache_dir = os.path.join(tempfile.gettempdir(), f"curation-models-{os.getuid()}")
            os.makedirs(cache_dir, mode=0o700, exist_ok=True)
            local = os.path.join(cache_dir, f"{card.model_sha256}.ftz")
            if not os.path.exists(local):
                partial = f"{local}.{os.getpid()}.part"
                with fs.open(remote, "rb") as source, open(partial, "wb") as target:
                    shutil.copyfileobj(source, target)
                os.replace(partial, local)
        if _file_sha256(local) != card.model_sha256:
            raise ValueError(f"{remote} does not match the SHA-256 in its card")
        loaded = QualityModel(card, fasttext.load_model(local))
        _loaded[directory] = loaded
        return loaded


@dataclass(frozen=True)
class QualityClassifierParams:
    """`model`: a version directory (path or URL) written by training, or `<out_dir>/quality-classifier/latest`.

    `threshold`: documents with a lower `quality_score` are removed. 0.5 is where the card's precision and recall
    are measured; read the card's metrics before moving it.
    """

    model: str = ""
    threshold: float = 0.5
    batch_size: int = 256

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("model is required: a model directory, or <out_dir>/quality-classifier/latest")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {self.threshold}")
        if self.batch_size < 1:
            raise ValueError("batch_size must be positive")


@register_step
class QualityClassifier(Filter[QualityClassifierParams]):
    """Score documents with a trained fastText quality classifier and remove those below the threshold.

    Adds `quality_score` and `quality_model`; a document already scored by the same model version is not
    re-scored. The model loads when the first document arrives, so a missing model fails the shard instead of
    removing every document. A re-run is safe.
    """

    name = "quality_classifier"
    Params = QualityClassifierParams

    def __init__(self, params: QualityClassifierParams | None = None) -> None:
        super().__init__(params)
        self.batch_size = self.params.batch_size
        self._model: QualityModel | None = None

    def _loaded(self) -> QualityModel:
        if self._model is None:
            self._model = load_quality_model(self.params.model)
        return self._model

    def _scored(self, doc: Document, version: str) -> bool:
        signals = doc.get("signals") or {}
        return SIGNAL_SCORE in signals and signals.get(SIGNAL_MODEL) == version

    def prepare(self) -> None:
        self._loaded()

    def score_batch(self, docs: list[Document]) -> None:
        """Score the documents not yet scored by this model version in one fastText call."""
        model = self._loaded()
        version = model.card.version
        todo = [doc for doc in docs if not self._scored(doc, version)]
        if not todo:
            return
        scores = model.score([doc.get("text") or "" for doc in todo])
        for doc, value in zip(todo, scores, strict=True):
            signals = signals_of(doc)
            signals[SIGNAL_SCORE] = value
            signals[SIGNAL_MODEL] = version

    def score(self, doc: Document) -> None:
        model = self._loaded()
        if self._scored(doc, model.card.version):
            return
        signals = signals_of(doc)
        signals[SIGNAL_SCORE] = model.score([doc.get("text") or ""])[0]
        signals[SIGNAL_MODEL] = model.card.version

    def decide(self, doc: Document) -> str | None:
        if doc["signals"][SIGNAL_SCORE] < self.params.threshold:
            return REASON_LOW_QUALITY
        return None
