"""Exports in TRL formats and training runs (on the roadmap after annotation; see ../shared/ROADMAP.md)."""
