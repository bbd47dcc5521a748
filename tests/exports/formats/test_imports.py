"""The export core is imported when used, not at every process's start (the models need only its spec)."""

from __future__ import annotations

from tests.support.fresh_process import printed_after_set_up


def test_django_start_up_leaves_the_export_pipeline_unimported_until_it_is_used() -> None:
    printed = printed_after_set_up(
        "print('exports.formats.pipeline' in sys.modules);"
        "from exports.formats import run_export, ExportSpec;"
        "print('exports.formats.pipeline' in sys.modules, run_export.__module__, ExportSpec.__module__)"
    )
    assert printed[:2] == ["False", "True exports.formats.pipeline exports.formats.spec"]
