"""What every app shares and nothing else: the application error hierarchy and its one translation to responses.

`core` imports no app of the project; apps import it. See docs/architecture.md.
"""
