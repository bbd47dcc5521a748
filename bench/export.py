"""Export 1,000,000 synthetic annotations to `reward` format: our streaming export next to "load everything, pandas,
to_json", time and peak memory, on PostgreSQL.

    .venv/bin/pip install -r bench/requirements-export.txt      # pandas, the baseline
    .venv/bin/python bench/export.py [--annotations 1000000] [--pii-annotations 100000] [--write-results]

Data: a ranking project of four responses per prompt with overlap 4 (250,000 items for 1M annotations), written
straight into PostgreSQL with COPY (items, assignments, annotations, as the annotation app stores them), into the
database `bench_exports` (created when missing; BENCH_DATABASE_URL overrides). Prompts are English and Chinese,
some of them near-duplicates of others; each annotator's ranking is a noisy copy of a planted order with some ties.
The data is made once and reused while it has the asked size.

Both sides produce the same dataset: consensus by mean rank, every pair of responses whose mean ranks differ, with
the difference as margin, in trl's explicit-prompt conversational form, JSON Lines, 10% of the prompts in test.
- ours: `export_create` + `export_run`, the service the task and the command call (stream from a server-side
  cursor, spool, prompt groups by MinHash, sharded files, card). Measured with the PII re-scan off (the core's
  `pii_action="off"`, offered nowhere else) so that both sides do the same work, and, separately, with the default
  PII re-scan on a smaller project (`--pii-annotations`), to show what the scan costs per annotation.
- baseline: the plain script a trainer would write: all annotations and items from the ORM into pandas
  DataFrames, rankings exploded to (item, response, rank), mean ranks by groupby, pairs by a self-merge, the
  conversational columns built per row, test split by item id, `to_json(orient="records", lines=True,
  force_ascii=False)`. No near-duplicate grouping, no card.

Each side runs in a fresh process (`bench.common.in_fresh_process`), one after the other, `--rounds` times
interleaved; time is wall clock and CPU time of the exporting process and of its child processes (ours builds
the rows of a large export in `EXPORT_PROCESSES` forked processes, the machine's cores by default; PostgreSQL's
own work is in its server processes for both sides alike); peak memory is the process's maximum resident set
(ru_maxrss), Python and Django included, plus, for ours in several processes, the parts' (each counted at the
largest part's peak, an upper bound: forked parts share the parent's pages until they write them).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import in_fresh_process, machine, median, replace_section

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_exports")
OVERLAP = 4
RESPONSES = 4
PROJECT_NAME = "bench-export-{}"

_WORDS = ("river bridge history salt glass paper city market winter garden music letter teacher engine signal "
          "mountain harbour library window question answer careful simple reason example season planet ocean "
          "forest village measure story future light travel number science kitchen recipe").split()
_HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本"
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权"
    "收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
)


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def _hanzi(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(_HANZI) for _ in range(rng.randint(low, high))) + "。"


def _prompt(rng: random.Random, n: int, prompts: list[str]) -> str:
    if prompts and rng.random() < 0.03:
        # A near-duplicate of an earlier prompt: the split must keep them on one side.
        return rng.choice(prompts[-1000:]) + " please"
    if rng.random() < 0.15:
        return f"问题 {n}：" + _hanzi(rng, 20, 60)
    return f"Question {n}: " + _words(rng, 12, 30) + "?"


def _response(rng: random.Random, chinese: bool) -> str:
    return _hanzi(rng, 60, 140) if chinese else _words(rng, 25, 55) + "."


def _noisy_ranking(rng: random.Random) -> list[list[str]]:
    order = [f"r{k}" for k in range(1, RESPONSES + 1)]
    for position in range(RESPONSES - 1):
        if rng.random() < 0.2:
            order[position], order[position + 1] = order[position + 1], order[position]
    groups: list[list[str]] = [[order[0]]]
    for response in order[1:]:
        if rng.random() < 0.1:
            groups[-1].append(response)  # a tie
        else:
            groups.append([response])
    return groups


def _django(database_url: str, storage: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["STORAGE_ROOT"] = storage
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()


def ensure_database(database_url: str) -> None:
    """Create the bench database when missing and migrate it."""
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _copy_rows(model: Any, rows: Any, fields: list[str]) -> None:
    from django.db import connection
    from psycopg.types.json import Jsonb

    columns = [model._meta.get_field(f).column for f in fields]
    json_fields = {i for i, f in enumerate(fields) if model._meta.get_field(f).get_internal_type() == "JSONField"}
    table = model._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([Jsonb(v) if i in json_fields and v is not None else v for i, v in enumerate(row)])


def make_project(annotations: int, seed: int = 0) -> int:
    """Create (or find) the bench ranking project with `annotations` annotations; return its id."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from annotation.models import Annotation, Assignment, Item, Project

    name = PROJECT_NAME.format(annotations)
    existing = Project.objects.filter(name=name).first()
    if existing is not None and Annotation.objects.filter(project=existing).count() == annotations:
        return existing.pk
    if existing is not None:
        existing.delete()
    started = time.perf_counter()
    rng = random.Random(seed)
    User = get_user_model()
    people = [User.objects.get_or_create(username=f"bench-annotator-{n}")[0].pk for n in range(200)]
    items = annotations // OVERLAP
    now = timezone.now()
    with transaction.atomic():
        project = Project.objects.create(name=name, kind=Project.KIND_RANKING, overlap=OVERLAP, max_overlap=OVERLAP,
                                         system_prompt="You are a helpful assistant.")
        prompts: list[str] = []

        def item_rows() -> Any:
            for n in range(items):
                prompt = _prompt(rng, n, prompts)
                prompts.append(prompt)
                chinese = prompt.startswith("问题")
                responses = [{"id": f"r{k}", "text": _response(rng, chinese)} for k in range(1, RESPONSES + 1)]
                yield [project.pk, f"b{n}", prompt, None, responses, {}, 0, False, None, OVERLAP, OVERLAP,
                       OVERLAP, now]

        _copy_rows(Item, item_rows(), ["project", "external_id", "prompt", "messages", "responses", "metadata",
                                       "priority", "is_gold", "expected", "target_overlap", "assigned_count",
                                       "submitted_count", "created_at"])
        item_ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
        order = [f"r{k}" for k in range(1, RESPONSES + 1)]
        who = [rng.sample(people, OVERLAP) for _ in item_ids]

        def assignment_rows() -> Any:
            for item_id, annotators in zip(item_ids, who, strict=True):
                for slot, person in enumerate(annotators):
                    yield [item_id, project.pk, person, Assignment.STATUS_SUBMITTED, slot, now, now, None, order,
                           None, None, 20.0, now, ""]

        _copy_rows(Assignment, assignment_rows(), ["item", "project", "annotator", "status", "slot", "leased_at",
                                                   "expires_at", "heartbeat_at", "display_order", "rounds", "draft",
                                                   "active_seconds", "submitted_at", "skip_reason"])
        # Read before the next COPY starts: the connection runs one statement at a time.
        assignment_ids = list(Assignment.objects.filter(project=project).order_by("id")
                              .values_list("id", flat=True))

        def annotation_rows() -> Any:
            ids = iter(assignment_ids)
            for item_id, annotators in zip(item_ids, who, strict=True):
                for person in annotators:
                    payload = {"ranking": _noisy_ranking(rng), "all_bad": False}
                    yield [next(ids), item_id, project.pk, person, payload, None, 20.0, order,
                           Annotation.STATUS_SUBMITTED, None, now]

        _copy_rows(Annotation, annotation_rows(), ["assignment", "item", "project", "annotator", "payload",
                                                   "guideline_version", "active_seconds", "display_order", "status",
                                                   "signature", "created_at"])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"made {annotations:,} annotations on {items:,} items in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return project.pk


def _peak_mb(parts: int = 1) -> float:
    """This process's peak resident set, plus `parts` times the largest of its finished children's when it had any:
    an upper bound for an export built in forked parts (they run at once, and share the parent's pages until they
    write them)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + (parts * children if children else 0)) / 1024


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the export's parts)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_ours(database_url: str, storage: str, project_id: int, pii: str,
             processes: int | None = None) -> dict[str, Any]:
    """Export with the service (in a fresh process); return seconds, peak memory and what was written.

    `processes`: EXPORT_PROCESSES for this run (None: the default, the machine's cores)."""
    if processes is not None:
        os.environ["EXPORT_PROCESSES"] = str(processes)
    _django(database_url, storage)
    from django.conf import settings

    from exports.services import export_create, export_run

    cpu, wall = _cpu(), time.perf_counter()
    export = export_create(None, format="reward", projects=[project_id], enqueue=False,
                           options={"files": ["jsonl"], "test_fraction": 0.1})
    if pii == "off":
        # The service offers only redact and drop; the benchmark switches the scan off on the stored spec.
        export.spec = {**export.spec, "pii_action": "off"}
        export.save(update_fields=["spec"])
    export = export_run(export.pk)
    assert export.status == "completed", export.error
    rows = sum(split["rows"] for split in export.card["splits"].values())
    result = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(settings.EXPORT_PROCESSES),
              "rows": rows, "processes": settings.EXPORT_PROCESSES, "timings": export.card["timings_seconds"],
              "pii": export.card["pii"],
              "bytes": sum(split["bytes"] for split in export.card["splits"].values()),
              "hash": export.content_hash, "load": os.getloadavg()[0]}
    shutil.rmtree(export.path, ignore_errors=True)
    return result


def run_baseline(database_url: str, storage: str, project_id: int) -> dict[str, Any]:
    """The plain way: everything into pandas, then to_json (in a fresh process)."""
    _django(database_url, storage)
    import pandas as pd

    from annotation.models import Annotation, Item, Project

    cpu, wall = _cpu(), time.perf_counter()
    project = Project.objects.get(pk=project_id)
    annotations = pd.DataFrame.from_records(
        Annotation.objects.filter(project=project).exclude(status="rejected").values("item_id", "payload"))
    items = pd.DataFrame.from_records(
        Item.objects.filter(project=project, is_gold=False).values("id", "prompt", "responses"))
    # Rankings to (item, response, score = minus the group index), one row per ranked response.
    annotations["scores"] = annotations["payload"].map(
        lambda p: [(rid, -float(g)) for g, group in enumerate(p["ranking"]) for rid in group])
    long = annotations[["item_id", "scores"]].explode("scores")
    long["response"] = long["scores"].str[0]
    long["score"] = long["scores"].str[1].astype(float)
    mean = long.groupby(["item_id", "response"], as_index=False)["score"].mean()
    pairs = mean.merge(mean, on="item_id", suffixes=("_chosen", "_rejected"))
    pairs = pairs[pairs["score_chosen"] > pairs["score_rejected"]]
    pairs["margin"] = pairs["score_chosen"] - pairs["score_rejected"]
    pairs = pairs.merge(items, left_on="item_id", right_on="id")
    texts = pairs["responses"].map(lambda rs: {r["id"]: r["text"] for r in rs})
    system = project.system_prompt
    pairs["prompt"] = [[{"role": "system", "content": system}, {"role": "user", "content": p}]
                       for p in pairs["prompt"]]
    pairs["chosen"] = [[{"role": "assistant", "content": t[r]}] for t, r in zip(texts, pairs["response_chosen"],
                                                                                 strict=True)]
    pairs["rejected"] = [[{"role": "assistant", "content": t[r]}] for t, r in zip(texts, pairs["response_rejected"],
                                                                                   strict=True)]
    out = Path(storage) / "baseline"
    out.mkdir(parents=True, exist_ok=True)
    is_test = pairs["item_id"] % 10 == 0
    columns = ["prompt", "chosen", "rejected", "margin"]
    pairs.loc[~is_test, columns].to_json(out / "train.jsonl", orient="records", lines=True, force_ascii=False)
    pairs.loc[is_test, columns].to_json(out / "test.jsonl", orient="records", lines=True, force_ascii=False)
    result = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(),
              "rows": len(pairs), "bytes": sum(p.stat().st_size for p in out.iterdir()),
              "load": os.getloadavg()[0]}
    shutil.rmtree(out, ignore_errors=True)
    return result


def prepare(database_url: str, storage: str, annotations: list[int]) -> list[int]:
    _django(database_url, storage)
    ensure_database(database_url)
    return [make_project(count) for count in annotations]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--pii-annotations", type=int, default=100_000,
                        help="size of the project exported with the PII re-scan on (0: skip)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    storage = tempfile.mkdtemp(prefix="bench-export-")
    try:
        sizes = [args.annotations] + ([args.pii_annotations] if args.pii_annotations else [])
        project_ids = in_fresh_process(prepare, BENCH_DB, storage, sizes)
        ours: list[dict[str, Any]] = []
        single: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            single.append(in_fresh_process(run_ours, BENCH_DB, storage, project_ids[0], "off", 1))
            print("ours, one process", single[-1], file=sys.stderr)
            ours.append(in_fresh_process(run_ours, BENCH_DB, storage, project_ids[0], "off"))
            print("ours", ours[-1], file=sys.stderr)
            theirs.append(in_fresh_process(run_baseline, BENCH_DB, storage, project_ids[0]))
            print("baseline", theirs[-1], file=sys.stderr)
        with_pii = None
        if args.pii_annotations:
            with_pii = in_fresh_process(run_ours, BENCH_DB, storage, project_ids[1], "redact")
            print("ours with PII", with_pii, file=sys.stderr)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    section = _section(args, ours, single, theirs, with_pii)
    print(section)
    if args.write_results:
        replace_section(section)


def _ratios(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{t['wall'] / o['wall']:.2f}x" for o, t in zip(ours, theirs, strict=True))


def _loads(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['load']:.1f}" for r in runs)


def _section(args: argparse.Namespace, ours: list[dict[str, Any]], single: list[dict[str, Any]],
             theirs: list[dict[str, Any]], with_pii: dict[str, Any] | None) -> str:
    def m(runs: list[dict[str, Any]], key: str) -> float:
        return median([float(r[key]) for r in runs])

    lines = [
        "## Export (reward pairs from annotations)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, PostgreSQL on the same machine (shared with other "
        f"work), with `.venv/bin/python bench/export.py --annotations {args.annotations} --pii-annotations "
        f"{args.pii_annotations} --rounds {args.rounds} --write-results` (median of the rounds, interleaved; method "
        "in bench/export.py).",
        "",
        f"{args.annotations:,} ranking annotations (4 responses, overlap 4, {args.annotations // OVERLAP:,} prompts) "
        "to reward pairs, JSON Lines, consensus by mean rank, 10% test:",
        "",
        "| side | rows | wall s | CPU s | peak memory MB |",
        "|---|---|---|---|---|",
        f"| ours (`export_run`, streaming, PII scan off, {ours[0]['processes']} processes) | "
        f"{int(m(ours, 'rows')):,} | {m(ours, 'wall'):.1f} | {m(ours, 'cpu'):.1f} | {m(ours, 'peak_mb'):.0f} |",
        f"| ours, one process (`EXPORT_PROCESSES=1`) | {int(m(single, 'rows')):,} | {m(single, 'wall'):.1f} | "
        f"{m(single, 'cpu'):.1f} | {m(single, 'peak_mb'):.0f} |",
        f"| baseline (ORM -> pandas -> to_json) | {int(m(theirs, 'rows')):,} | {m(theirs, 'wall'):.1f} | "
        f"{m(theirs, 'cpu'):.1f} | {m(theirs, 'peak_mb'):.0f} |",
        "",
        f"Speed-up (wall): {m(theirs, 'wall') / m(ours, 'wall'):.2f}x; CPU: {m(theirs, 'cpu') / m(ours, 'cpu'):.2f}x; "
        f"memory: ours {m(ours, 'peak_mb') / m(theirs, 'peak_mb'):.0%} of the baseline's peak. In one process: "
        f"{m(theirs, 'wall') / m(single, 'wall'):.2f}x wall, {m(theirs, 'cpu') / m(single, 'cpu'):.2f}x CPU. "
        f"Per-round wall ratios (ours): {_ratios(ours, theirs)}. Our stages (s): {ours[len(ours) // 2]['timings']}; "
        f"in one process: {single[len(single) // 2]['timings']}.",
        "",
        f"The 1-minute load average on the machine's {os.cpu_count()} cores was {_loads(ours)} at the end of our "
        f"run(s) and {_loads(theirs)} at the end of the baseline's (PostgreSQL's server processes share the cores "
        "with both sides); " + (
            "wall times are comparable." if max(r["load"] for r in ours + theirs) < 2 else
            "other work was running, so wall times include waiting for a core; CPU time is the steadier figure."),
    ]
    if with_pii is not None:
        per = with_pii["wall"] / max(args.pii_annotations, 1) * 1e6
        lines += [
            "",
            f"With the default PII re-scan (`find_pii`, structured types) on {args.pii_annotations:,} annotations: "
            f"{with_pii['wall']:.1f} s wall, {with_pii['peak_mb']:.0f} MB peak, {per:.0f} us per annotation; "
            f"stages (s): {with_pii['timings']}. The scan dominates: each distinct text is scanned once (an "
            "item's prompt and responses, not every pair), at the speed of curation's recognisers.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
