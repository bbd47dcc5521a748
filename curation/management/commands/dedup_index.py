"""`python manage.py dedup_index list|show NAME|delete NAME`: the persistent dedup indexes."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.management.base import ProjectCommand
from curation.models import DedupIndex
from curation.selectors import dedup_index_summary
from curation.services.dedup_indexes import dedup_index_delete


class Command(ProjectCommand):
    help = "List, inspect (size, contributing jobs) or delete named dedup indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every index with its size")
        show = sub.add_parser("show", help="one index in detail (JSON)")
        show.add_argument("name")
        delete = sub.add_parser("delete", help="delete an index and its files")
        delete.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for index in DedupIndex.objects.order_by("name"):
                summary = dedup_index_summary(index)
                self.stdout.write(f"{index.name}\t{summary.get('documents', 0)} documents\t"
                                  f"{summary.get('bytes', 0)} bytes\t{index.root}")
            return
        index = DedupIndex.objects.filter(name=options["name"]).first()
        if index is None:
            raise CommandError(f"no dedup index named {options['name']!r}")
        if options["action"] == "show":
            summary = {"name": index.name, "root": index.root, **dedup_index_summary(index)}
            self.stdout.write(json.dumps(summary, indent=2, default=str))
            return
        dedup_index_delete(index)
        self.stdout.write(f"deleted dedup index {options['name']}")
