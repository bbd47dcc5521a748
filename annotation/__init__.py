"""Annotation: projects, items, assignments (leases), annotations, quality control and the annotator UI.

See docs/architecture.md for what this app may import.
"""
