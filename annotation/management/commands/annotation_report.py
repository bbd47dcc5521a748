"""`python manage.py annotation_report --project ID`: a project's quality figures as text tables.

The same numbers as the dashboard and `GET /api/v1/projects/{id}/quality/` and `.../leaderboard/`: agreement per
criterion, the per-annotator table (tasks, active time, gold accuracy with its Wilson interval, agreement, trust,
flags), position and length bias, and the model leaderboard. Recomputes first when annotations or reviews arrived
since the last refresh (or always with --refresh); --json prints the API's JSON instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Project
from annotation.models_quality import QualitySnapshot
from annotation.selectors_quality import project_leaderboard, quality_dashboard, quality_is_stale
from annotation.services.quality import project_quality_refresh


def _number(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: columns padded to their widest cell, numbers right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if value[:1].isdigit() or value[:1] in "-+" else value.ljust(width)
            for value, width in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)])


class Command(BaseCommand):
    help = "Print a project's quality figures: agreement, annotators (gold, trust, flags), bias and the leaderboard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="the project's id")
        parser.add_argument("--refresh", action="store_true", help="recompute even when nothing changed")
        parser.add_argument("--json", action="store_true", help="print the API's JSON instead of tables")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with id {options['project']}")
        snapshot = QualitySnapshot.objects.filter(project=project).first()
        if options["refresh"] or quality_is_stale(project, snapshot):
            project_quality_refresh(project.pk)
        dashboard = quality_dashboard(project)
        board = project_leaderboard(project)
        if options["json"]:
            self.stdout.write(json.dumps({"quality": dashboard, "leaderboard": board}, indent=2, ensure_ascii=False))
            return
        self.stdout.write(self.report(dashboard, board))

    def report(self, dashboard: dict[str, Any], board: dict[str, Any]) -> str:
        project, counts = dashboard["project"], dashboard["counts"]
        parts = [
            f"Project {project['id']}: {project['name']} ({project['kind']})",
            f"{counts['items']} items ({counts['gold']} gold, {counts['finished']} finished), "
            f"{counts['annotations']} annotations; computed {dashboard['computed_at']}",
            f"Routing: {dashboard['routing']['more_annotators']} items sent to more annotators, "
            f"{counts['needs_review']} waiting for review",
        ]
        agreement_rows = [
            [part, figure["metric"] + (f" ({figure['level']})" if figure.get("level") else ""),
             _number(figure["value"]), figure["n_items"]]
            for part, figures in dashboard["agreement"].items() for figure in figures
        ]
        if agreement_rows:
            parts += ["", "Agreement", table(["criterion", "measure", "value", "items"], agreement_rows)]
        annotator_rows = []
        for row in dashboard["annotators"]:
            gold = row["gold"]
            gold_text = (f"{_percent(gold['accuracy'])} {gold['correct']}/{gold['n']} "
                         f"[{_percent(gold['wilson_low'])}-{_percent(gold['wilson_high'])}]") if gold["n"] else "-"
            inputs = row["trust_inputs"]
            position = row.get("position") or {}
            length = row.get("length") or {}
            annotator_rows.append([
                row["username"] + (" (paused)" if row["paused"] else ""), row["tasks"],
                _duration(row["active_seconds"]),
                _duration(row["median_active_seconds"]), gold_text, _percent(row["agreement"]["rate"]),
                f"{_number(row['trust'], 2)} (gold {_number(inputs.get('gold_wilson_low'), 2)}, "
                f"agree {_number(inputs.get('agreement_rate'), 2)})",
                _number(position.get("share"), 2), _number(length.get("share"), 2), ",".join(row["flags"]) or "-",
            ])
        if annotator_rows:
            parts += ["", "Annotators", table(
                ["annotator", "tasks", "active", "median", "gold accuracy [95% CI]", "agreement", "trust (inputs)",
                 "first", "longer", "flags"], annotator_rows)]
        bias = dashboard["bias"] or {}
        if bias.get("position"):
            parts += ["", "Bias (all annotators): first shown chosen "
                      f"{_number(bias['position']['share'], 3)} of {bias['position']['n']}, longer chosen "
                      f"{_number(bias['length']['share'], 3)} of {bias['length']['n']}"]
        if board["models"]:
            parts += ["", f"Leaderboard ({board['battles']} comparisons, {board['rounds']} bootstrap rounds)", table(
                ["rank", "model", "rating", "95% interval", "comparisons", "wins/ties/losses"],
                [[m["rank_upper"], m["model"], f"{m['rating']:.0f}", f"{m['rating_low']:.0f}-{m['rating_high']:.0f}",
                  m["battles"], f"{m['wins']}/{m['ties']}/{m['losses']}"] for m in board["models"]])]
            names = board["matrix"]["models"]
            parts += ["", "Win rate (row beats column)", table(
                ["", *names],
                [[name, *(_percent(share) if share is not None else "-" for share in board["matrix"]["win_rate"][i])]
                 for i, name in enumerate(names)])]
        return "\n".join(parts) + "\n"
