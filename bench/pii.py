"""Benchmark the PII step: precision and recall per entity type on labelled sets, and documents per second per core.

    .venv/bin/python bench/pii.py                     # print everything
    .venv/bin/python bench/pii.py --write-results     # also replace the "## PII" section of bench/RESULTS.md

Data (read from ../shared/data, never copied; see each folder's SOURCES.md):
- pii/presidio-research/synth_dataset_v2.json: 1,500 synthetic English sentences (MIT). Its types map to ours as
  PERSON, EMAIL_ADDRESS -> EMAIL, PHONE_NUMBER -> PHONE, CREDIT_CARD -> CARD, IBAN_CODE -> IBAN, US_SSN -> SSN,
  IP_ADDRESS -> IP. Its other types (addresses, places, organisations, dates, titles, ages, ZIP codes, domain
  names, driver licences) are not ours.
- pii/ccf-bdci2020-privacy/train.jsonl: 2,515 real Chinese texts: mobile (mobile and landline numbers) -> PHONE,
  email -> EMAIL, QQ -> QQ, vx -> WECHAT, name -> PERSON. We do not detect addresses. The set holds real contact
  details: this script prints and writes counts and ratios only, never a text or a value.
- pii/cluener2020/dev.json: 1,343 Chinese news sentences; its `name` type -> PERSON (for the Chinese name finders).
- corpora/: BBC news, Chinese Wikipedia paragraphs and hotel reviews: unlabelled, used for speed and for the
  number of hits per 1,000 documents (text that has little personal data: every hit there is a candidate false
  positive).

Matching: a predicted span is compared with gold spans of the same (mapped) type. "exact": same start and end.
"overlap": at least one character in common (presidio-research's span-overlap view; it forgives a trailing
extension or an included title). Precision counts predictions of the type; recall counts gold spans. A prediction
of one of our types that the set does not label (e.g. SECRET on presidio) is reported apart, not as a false positive.

Speed: the `pii` step over the same documents with names off and on, CPU time of this process
(`time.process_time`, all threads, so it is per core), after one warm-up batch that loads the models.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, machine, replace_section
from curation.steps.document import Document
from curation.steps.pii import names as name_finders
from curation.steps.pii.redact import DEFAULT_NAME_WINDOW, NAME_SCOPES, find_pii
from curation.steps.pii.step import PiiParams, PiiRedactor

SECTION = "## PII"

PRESIDIO_TYPES = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP",
}
CCF_TYPES = {"mobile": "PHONE", "email": "EMAIL", "QQ": "QQ", "vx": "WECHAT", "name": "PERSON"}

Span = tuple[str, int, int]


@dataclass
class Example:
    text: str
    gold: list[Span]


@dataclass
class Score:
    gold: int = 0
    predicted: int = 0
    exact: int = 0
    overlap_precision_hits: int = 0
    overlap_recall_hits: int = 0

    def row(self, name: str) -> list[str]:
        def ratio(numerator: int, denominator: int) -> str:
            return f"{numerator / denominator:.3f}" if denominator else "-"

        p_exact, r_exact = ratio(self.exact, self.predicted), ratio(self.exact, self.gold)
        p_over = ratio(self.overlap_precision_hits, self.predicted)
        r_over = ratio(self.overlap_recall_hits, self.gold)
        f1 = "-"
        if self.predicted and self.gold and self.overlap_precision_hits + self.overlap_recall_hits:
            p, r = self.overlap_precision_hits / self.predicted, self.overlap_recall_hits / self.gold
            f1 = f"{2 * p * r / (p + r):.3f}" if p + r else "0.000"
        return [name, str(self.gold), str(self.predicted), p_exact, r_exact, p_over, r_over, f1]


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    unlabelled_types: Counter[str] = field(default_factory=Counter)


def evaluate(examples: Sequence[Example], predict: Callable[[str], list[Span]], types: Iterable[str]) -> Evaluation:
    """Score predictions against gold spans per type, exact and by overlap."""
    labelled = set(types)
    result = Evaluation()
    for example in examples:
        predicted = predict(example.text)
        gold_by_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for kind, start, end in example.gold:
            gold_by_type[kind].append((start, end))
        predicted_by_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for kind, start, end in predicted:
            if kind in labelled:
                predicted_by_type[kind].append((start, end))
            else:
                result.unlabelled_types[kind] += 1
        for kind in labelled:
            gold, pred = gold_by_type.get(kind, []), predicted_by_type.get(kind, [])
            score = result.scores[kind]
            score.gold += len(gold)
            score.predicted += len(pred)
            score.exact += len(set(gold) & set(pred))
            score.overlap_precision_hits += sum(any(s < ge and gs < e for gs, ge in gold) for s, e in pred)
            score.overlap_recall_hits += sum(any(s < pe and ps < e for ps, pe in pred) for s, e in gold)
    return result


def table(evaluation: Evaluation, order: Sequence[str]) -> list[str]:
    header = ["type", "gold", "predicted", "P exact", "R exact", "P overlap", "R overlap", "F1 overlap"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind in order:
        lines.append("| " + " | ".join(evaluation.scores[kind].row(kind)) + " |")
    if evaluation.unlabelled_types:
        other = ", ".join(f"{kind} {count}" for kind, count in sorted(evaluation.unlabelled_types.items()))
        lines.append(f"\nPredictions of types this set does not label: {other}.")
    return lines


# ---------------------------------------------------------------------------------------------------------------
# Data.


def presidio_examples(data: Path) -> list[Example]:
    rows = json.loads((data / "pii" / "presidio-research" / "synth_dataset_v2.json").read_text(encoding="utf-8"))
    examples = []
    for row in rows:
        gold = [
            (PRESIDIO_TYPES[span["entity_type"]], span["start_position"], span["end_position"])
            for span in row["spans"]
            if span["entity_type"] in PRESIDIO_TYPES
        ]
        examples.append(Example(row["full_text"], gold))
    return examples


def ccf_examples(data: Path) -> list[Example]:
    examples = []
    with open(data / "pii" / "ccf-bdci2020-privacy" / "train.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            gold = [
                (CCF_TYPES[span["label"]], span["start"], span["end"])
                for span in row["spans"]
                if span["label"] in CCF_TYPES
            ]
            examples.append(Example(row["text"], gold))
    return examples


def cluener_examples(data: Path) -> list[Example]:
    examples = []
    with open(data / "pii" / "cluener2020" / "dev.json", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            gold = [
                ("PERSON", start, end + 1)
                for positions in row["label"].get("name", {}).values()
                for start, end in positions
            ]
            examples.append(Example(row["text"], gold))
    return examples


def corpus_texts(data: Path) -> dict[str, list[str]]:
    corpora = data / "corpora"
    with gzip.open(corpora / "bbc-news-2004-05" / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        bbc = [json.loads(line)["text"] for line in lines]
    with open(corpora / "cmrc2018-zh-wikipedia" / "paragraphs.jsonl", encoding="utf-8") as lines:
        wiki = [json.loads(line)["text"] for line in lines]
    with open(corpora / "chinese-reviews" / "ChnSentiCorp_htl_all.csv", encoding="utf-8") as handle:
        reviews = [row["review"] for row in csv.DictReader(handle) if row.get("review")]
    return {"BBC news (en)": bbc, "zh Wikipedia": wiki, "zh hotel reviews": reviews}


# ---------------------------------------------------------------------------------------------------------------
# Whose names: near identifiers against everywhere.

SCOPE_SECTION = "## PII: whose names are redacted"
# Gold types that identify a person (our IDENTIFYING_TYPES as each set labels them).
PRESIDIO_IDENTIFIERS = {"EMAIL", "PHONE", "CARD", "IBAN", "SSN"}
CCF_IDENTIFIERS = {"EMAIL", "PHONE", "QQ", "WECHAT"}
PUBLIC_MIN_ARTICLES = 3


def _near(span: Span, identifiers: Sequence[Span], window: int) -> bool:
    _, start, end = span
    return any(start < i_end + window and i_start - window < end for _, i_start, i_end in identifiers)


def names_next_to_identifiers(
    examples: Sequence[Example], lang: str, identifier_types: set[str], window: int
) -> dict[str, tuple[int, int]]:
    """Per scope: how many gold names within `window` characters of a gold identifier are found (overlap), of how
    many; and the same for every gold name."""
    near_gold = all_gold = 0
    found: Counter[str] = Counter()
    for example in examples:
        identifiers = [span for span in example.gold if span[0] in identifier_types]
        names = [span for span in example.gold if span[0] == "PERSON"]
        if not names:
            continue
        near = [span for span in names if identifiers and _near(span, identifiers, window)]
        near_gold += len(near)
        all_gold += len(names)
        for scope in NAME_SCOPES:
            predicted = [
                (s["start"], s["end"])
                for s in find_pii(example.text, lang=lang, names_scope=scope, name_window_chars=window)
                if s["type"] == "PERSON"
            ]
            hit_near = [any(s < pe and ps < e for ps, pe in predicted) for _, s, e in near]
            found[f"{scope}:near"] += sum(hit_near)
            found[f"{scope}:all"] += sum(any(s < pe and ps < e for ps, pe in predicted) for _, s, e in names)
    return {
        **{f"{scope}:near": (found[f"{scope}:near"], near_gold) for scope in NAME_SCOPES},
        **{f"{scope}:all": (found[f"{scope}:all"], all_gold) for scope in NAME_SCOPES},
    }


def public_names_kept(articles: Sequence[str], window: int) -> dict[str, object]:
    """Run the `pii` step (pii-only's settings) over news articles in both scopes; count how many mentions of
    public figures survive. Public figures: names the everywhere finder sees in at least `PUBLIC_MIN_ARTICLES`
    different articles (people the news keeps writing about), matched as whole strings."""
    docs: list[Document] = [{"id": str(i), "text": text, "lang": "en"} for i, text in enumerate(articles)]
    everywhere = list(PiiRedactor(PiiParams(names_scope="everywhere", max_hits=None)).run(iter(copy.deepcopy(docs))))
    seen: defaultdict[str, set[int]] = defaultdict(set)
    for number, doc in enumerate(everywhere):
        original = articles[number]
        for span in doc["pii"]:
            if span["type"] == "PERSON":
                name = original[span["start"] : span["end"]]
                if " " in name:  # full names only: a surname alone is ambiguous
                    seen[name].add(number)
    public = sorted(name for name, where in seen.items() if len(where) >= PUBLIC_MIN_ARTICLES)
    pattern = re.compile("|".join(re.escape(name) for name in sorted(public, key=len, reverse=True)))
    mentions = sum(len(pattern.findall(text)) for text in articles)
    result: dict[str, object] = {"public": public, "mentions": mentions}
    step = PiiRedactor(PiiParams(names_scope="near_identifiers", name_window_chars=window, max_hits=None))
    started = time.process_time()
    near = list(step.run(iter(copy.deepcopy(docs))))
    result["near_seconds"] = time.process_time() - started
    result["near_person_spans"] = sum(1 for doc in near for span in doc["pii"] if span["type"] == "PERSON")
    result["everywhere"] = sum(len(pattern.findall(doc["text"])) for doc in everywhere)
    result["near_identifiers"] = sum(len(pattern.findall(doc["text"])) for doc in near)
    return result


def scope_report(data: Path, window: int, articles: int) -> list[str]:
    presidio = names_next_to_identifiers(presidio_examples(data), "en", PRESIDIO_IDENTIFIERS, window)
    ccf = names_next_to_identifiers(ccf_examples(data), "zh", CCF_IDENTIFIERS, window)
    bbc = public_names_kept(corpus_texts(data)["BBC news (en)"][:articles], window)

    def share(pair: tuple[int, int]) -> str:
        found, total = pair
        return f"{found}/{total} ({100 * found / total:.1f}%)" if total else "-"

    public = bbc["public"]
    assert isinstance(public, list)
    return [
        f"The `pii` step redacts a name where it identifies a private person: `names_scope: near_identifiers` (the "
        f"default) runs NER only on windows of {window} characters around e-mail addresses, phone numbers, ID and "
        "account numbers (curation/steps/pii/redact.py, \"Whose names\"); `names_scope: everywhere` is the "
        "previous behaviour, and `find_pii`'s default (annotation checks: text people type).",
        "",
        "Names next to identifiers are still found (gold PERSON spans within the window of a gold identifier; "
        "found = a predicted PERSON span overlaps):",
        "",
        "| set | gold names next to an identifier | found, near_identifiers | found, everywhere | all gold names "
        "found, near_identifiers | all gold names found, everywhere |",
        "|---|---:|---|---|---|---|",
        f"| presidio synth (en) | {presidio['everywhere:near'][1]} | {share(presidio['near_identifiers:near'])} | "
        f"{share(presidio['everywhere:near'])} | {share(presidio['near_identifiers:all'])} | "
        f"{share(presidio['everywhere:all'])} |",
        f"| CCF BDCI 2020 (zh) | {ccf['everywhere:near'][1]} | {share(ccf['near_identifiers:near'])} | "
        f"{share(ccf['everywhere:near'])} | {share(ccf['near_identifiers:all'])} | {share(ccf['everywhere:all'])} |",
        "",
        "A name far from any identifier is no longer redacted (the last two columns): in these sets that is a "
        "synthetic sentence such as \"My name is X\" or a Chinese news sentence naming someone, which in published "
        "text is usually a public figure.",
        "",
        f"Public names are kept: the first {articles} BBC news articles (2004-05). Public figures are the full names "
        f"the name finder sees in at least {PUBLIC_MIN_ARTICLES} different articles ({len(public)} people, e.g. "
        f"{', '.join(public[:8])}), {bbc['mentions']} mentions in all. Mentions left after the `pii` step: "
        f"everywhere {bbc['everywhere']} of {bbc['mentions']}; **near_identifiers {bbc['near_identifiers']} of "
        f"{bbc['mentions']}**. PERSON spans redacted with near_identifiers: {bbc['near_person_spans']} (names within "
        f"the window of the articles' few phone numbers). The step ran in {bbc['near_seconds']:.1f} CPU s on these "
        f"{articles} articles with near_identifiers.",
    ]


# ---------------------------------------------------------------------------------------------------------------
# Runs.


def predictor(lang: str | None, names: bool = True) -> Callable[[str], list[Span]]:
    def predict(text: str) -> list[Span]:
        return [(span["type"], span["start"], span["end"]) for span in find_pii(text, lang=lang, names=names)]

    return predict


def chinese_name_predictor(backend: str) -> Callable[[str], list[Span]]:
    def predict(text: str) -> list[Span]:
        (spans,) = name_finders.find_chinese_names([text], backend)
        return [("PERSON", start, end) for start, end in spans]

    return predict


def step_speed(texts: Sequence[str], lang: str | None, names: bool) -> tuple[float, float]:
    """Return (documents/s, characters/s) of the pii step per core on `texts`."""
    params = PiiParams(names=names, max_hits=None, names_scope="everywhere")
    warm = PiiRedactor(params)
    list(warm.run(iter([{"id": "w", "text": text, "lang": lang or "und"} for text in texts[:64]])))
    step = PiiRedactor(params)
    docs: list[Document] = [{"id": str(i), "text": text} for i, text in enumerate(texts)]
    if lang:
        for doc in docs:
            doc["lang"] = lang
    started = time.process_time()
    kept = sum(1 for _ in step.run(iter(docs)))
    elapsed = time.process_time() - started
    assert kept == len(texts)
    return len(texts) / elapsed, sum(map(len, texts)) / elapsed


def hits_per_thousand(texts: Sequence[str], lang: str | None) -> tuple[Counter[str], list[int]]:
    counts: Counter[str] = Counter()
    per_doc = []
    for text in texts:
        spans = find_pii(text, lang=lang, names=False)
        counts.update(span["type"] for span in spans)
        per_doc.append(len(spans))
    return counts, per_doc


def percentile(values: Sequence[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--write-results", action="store_true", help="replace the ## PII section of RESULTS.md")
    parser.add_argument("--skip-speed", action="store_true", help="quality only")
    parser.add_argument("--names-scope-only", action="store_true", help=f"only '{SCOPE_SECTION}'")
    parser.add_argument("--articles", type=int, default=300, help="BBC articles for the public-names count")
    args = parser.parse_args()
    if not (args.data / "pii").is_dir():
        print(f"no data at {args.data}/pii: see ../shared/data/README.md", file=sys.stderr)
        return 2
    if args.names_scope_only:
        lines = [
            SCOPE_SECTION,
            "",
            f"Measured {datetime.date.today().isoformat()} on {machine()} (shared and loaded), with "
            f"`.venv/bin/python bench/pii.py --names-scope-only --write-results`.",
            "",
            *scope_report(args.data, DEFAULT_NAME_WINDOW, args.articles),
        ]
        print("\n".join(lines))
        if args.write_results:
            replace_section("\n".join(lines))
        return 0

    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    order_en = ["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "PERSON"]
    order_zh = ["PHONE", "EMAIL", "QQ", "WECHAT", "PERSON"]

    presidio = presidio_examples(args.data)
    emit(f"### English: presidio-research synth_dataset_v2 ({len(presidio)} sentences), `find_pii(lang='en')`")
    emit()
    for line in table(evaluate(presidio, predictor("en"), order_en), order_en):
        emit(line)
    emit()
    emit("Not covered (no recogniser): STREET_ADDRESS, GPE, ORGANIZATION, DATE_TIME, TITLE, AGE, NRP, ZIP_CODE, ")
    emit("DOMAIN_NAME, US_DRIVER_LICENSE.")
    emit()

    ccf = ccf_examples(args.data)
    emit(f"### Chinese: CCF BDCI 2020 privacy ({len(ccf)} texts), `find_pii(lang='zh')`")
    emit()
    for line in table(evaluate(ccf, predictor("zh"), order_zh), order_zh):
        emit(line)
    emit()
    emit("Not covered: address (2,056 spans), and the set's non-personal types (organisation, company, position, ")
    emit("government, book, movie, game, scene). PHONE gold includes landlines and Hong Kong/Taiwan numbers.")
    emit()

    cluener = cluener_examples(args.data)
    emit("### Chinese person names: the two measured finders (PERSON only)")
    emit()
    header = ["finder", "set", "gold", "predicted", "P exact", "R exact", "P overlap", "R overlap", "F1 overlap"]
    emit("| " + " | ".join(header) + " |")
    emit("|" + "---|" * len(header))
    f1_by_backend: dict[str, list[float]] = defaultdict(list)
    for backend in name_finders.ZH_BACKENDS:
        for set_name, examples in (("CLUENER dev", cluener), ("CCF", ccf)):
            names_only = [Example(e.text, [g for g in e.gold if g[0] == "PERSON"]) for e in examples]
            evaluation = evaluate(names_only, chinese_name_predictor(backend), ["PERSON"])
            row = evaluation.scores["PERSON"].row("PERSON")
            f1_by_backend[backend].append(float(row[-1]) if row[-1] != "-" else 0.0)
            emit("| " + " | ".join([backend, set_name, *row[1:]]) + " |")
    best = max(f1_by_backend, key=lambda backend: statistics.mean(f1_by_backend[backend]))
    emit()
    emit(f"Best mean overlap F1: `{best}` (the default is `{name_finders.DEFAULT_ZH_BACKEND}`).")
    emit()

    corpora = corpus_texts(args.data)
    emit("### Hits per 1,000 documents on unlabelled text (structured types only; candidate false positives)")
    emit()
    count_rows = {}
    for corpus, texts in corpora.items():
        lang = "en" if "en" in corpus else "zh"
        counts, per_doc = hits_per_thousand(texts, lang)
        count_rows[corpus] = per_doc
        described = ", ".join(f"{k} {1000 * v / len(texts):.1f}" for k, v in counts.most_common()) or "none"
        emit(f"- {corpus} ({len(texts)} docs): {described}")
    emit()
    emit("Spans per text (all types), for `max_hits`:")
    for set_name, examples in (("presidio", presidio), ("CCF", ccf)):
        per_doc = [len(find_pii(e.text, lang="en" if set_name == "presidio" else "zh")) for e in examples]
        emit(f"- {set_name}: p99 {percentile(per_doc, 0.99)}, p99.9 {percentile(per_doc, 0.999)}, max {max(per_doc)}")
    for corpus, per_doc in count_rows.items():
        emit(f"- {corpus} (structured only): p99.9 {percentile(per_doc, 0.999)}, max {max(per_doc)}")
    emit()

    if not args.skip_speed:
        emit("### Speed of the `pii` step, per core (process CPU time)")
        emit()
        emit("| texts | docs | mean chars | names off: docs/s | chars/s | names on: docs/s | chars/s |")
        emit("|---|---|---|---|---|---|---|")
        speed_sets = {
            "presidio (en)": ([e.text for e in presidio], "en"),
            "CCF (zh)": ([e.text for e in ccf], "zh"),
            **{name: (texts, "en" if "en" in name else "zh") for name, texts in corpora.items()},
        }
        for set_name, (texts, lang) in speed_sets.items():
            off_docs, off_chars = step_speed(texts, lang, names=False)
            on_docs, on_chars = step_speed(texts, lang, names=True)
            mean = statistics.mean(map(len, texts))
            emit(
                f"| {set_name} | {len(texts)} | {mean:.0f} | {off_docs:,.0f} | {off_chars:,.0f} "
                f"| {on_docs:,.0f} | {on_chars:,.0f} |"
            )
        emit()

    if args.write_results:
        write_section(out)
    return 0


def write_section(lines: list[str]) -> None:
    """Replace (or append) the `## PII` section of bench/RESULTS.md, leaving every other section as it is."""
    body = [
        SECTION,
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, with",
        "`.venv/bin/python bench/pii.py --write-results` (data from ../shared/data; method in bench/pii.py).",
        "",
        *lines,
    ]
    replace_section("\n".join(body))


if __name__ == "__main__":
    raise SystemExit(main())
