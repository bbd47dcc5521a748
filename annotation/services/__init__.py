"""Annotation's writes, one module per entity: projects (and guidelines), members (and invites), items, assignments,
and the writing checks.

Import from the module that owns the entity (`from annotation.services.assignments import assignment_claim_next`).
Services raise the errors of `core.errors`; the API's exception handler turns them into responses. Reads live in
`annotation.selectors`; access guards in `annotation.access`. Pure helpers with no database access (payload
validation, response orders and ranking rounds) live in `payloads` and `ordering`.
"""
