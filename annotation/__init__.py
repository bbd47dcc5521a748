"""Annotation projects, leases and the annotator UI (next on the roadmap; see ../shared/ROADMAP.md)."""
