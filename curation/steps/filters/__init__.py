"""Heuristic quality filters: Gopher quality and repetition, C4, FineWeb. Shared machinery is in `common`."""
