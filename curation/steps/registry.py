"""Import every module that defines steps, so that `register_step` has run for each before a recipe is built."""

# One import per step module; keep them sorted.
