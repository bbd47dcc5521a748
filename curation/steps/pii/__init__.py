"""Personal data: detection and redaction for the `pii` step and for annotation (which checks what people write).

Library use, on one text:

    from curation.steps.pii import find_pii, redact
    spans = find_pii(text, lang="zh")          # [{"type": "PHONE", "start": 5, "end": 16}, ...]
    clean = redact(text, spans)                # "... <PHONE> ..."; mode="pseudonym" gives "<PHONE_1>"

Modules: `recognizers` (structured types and their validators), `names` (English and Chinese person names),
`redact` (`find_pii`, `redact`, overlap resolution, pseudonyms), `step` (the `pii` pipeline step).
"""

from curation.steps.pii.recognizers import ALL_TYPES, STRUCTURED_TYPES
from curation.steps.pii.redact import Pseudonyms, find_pii, redact, resolve_overlaps

__all__ = ["ALL_TYPES", "STRUCTURED_TYPES", "Pseudonyms", "find_pii", "redact", "resolve_overlaps"]
