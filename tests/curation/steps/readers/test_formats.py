"""Reader options and the list of input formats (curation/steps/readers/formats.py)."""

from __future__ import annotations

import pytest

from curation.steps.readers import FORMATS, SUFFIX_FORMATS, ReaderOptions


def test_reader_options_refuse_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown input format 'csv'"):
        ReaderOptions(format="csv")


def test_the_one_list_of_formats_is_auto_and_every_format_a_file_name_implies() -> None:
    implied = {fmt for _, fmt in SUFFIX_FORMATS}

    assert FORMATS[0] == "auto"
    assert set(FORMATS[1:]) == implied
    assert [ReaderOptions(format=fmt).format for fmt in FORMATS] == list(FORMATS)
