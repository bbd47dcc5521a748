"""Writes of the training app, one module per entity: runs, pipelines, comparisons (closing the loop)."""
