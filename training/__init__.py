"""Training runs of trl's trainers on exports, on the `training` queue. See docs/architecture.md."""
