"""Curation's writes, one module per entity: jobs, shards, dedup indexes, schedules, workers.

Import from the module that owns the entity (`from curation.services.jobs import job_submit`). Services raise the
errors of `core.errors`; the API's exception handler and the console's middleware turn them into responses.
Reads live in `curation.selectors`. See docs/architecture.md for the jobs, stages and shards they drive.
"""
