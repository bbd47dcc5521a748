"""Annotation's writes, one module per entity: projects (and guidelines), members (and invites), items, assignments,
and the writing checks.

Import from the module that owns the entity (`from annotation.services.assignments import assignment_claim_next`).
Services raise the errors of `core.errors`; the API's exception handler turns them into responses. Their messages
are marked with `gettext` and named placeholders (`_("no user %(username)s") % {...}`), evaluated when raised, so a
request gets them in its language and a command or task (no language active) in English; the Chinese catalogue is
annotation/locale (run `makemessages -l zh_Hans --no-obsolete` inside annotation/, then `make messages`). Reads live in
`annotation.selectors`; access guards in `annotation.access`. Pure helpers with no database access (payload
validation, response orders and ranking rounds) live in `payloads` and `ordering`.
"""
