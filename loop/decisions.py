"""Re-decide a filter over stored signal columns with the filter's own `decide`, vectorised with numpy.

A filter's `decide(doc)` reads only `doc["signals"]` and compares signals with its parameters. To recount a
million documents in well under a second without re-implementing any threshold, we run the step's real `decide`
symbolically: every numeric signal it reads is a `Traced` value, and each comparison the code makes on it
(`signals[x] < params.min_x`, `signals[y] == 0`) becomes a branch we record. Exploring every branch (depth first,
forcing each recorded comparison to true and to false in turn) lists the decision's paths: each path is a
conjunction of comparisons of one signal with one constant, ending in a reason or None (keep). Evaluating each
path's conjunction over the signal columns with numpy gives, per document, the same result as calling `decide`
on it, because the paths are exactly the code's branches under the given parameters.

String signals (the document's language) select per-language parameters in the heuristic filters, so they are
not traced: documents are grouped by language and each group is traced with that language as a plain string.
A decision that does arithmetic on signals, or reads a signal that is not a number or the language, raises
`UntraceableDecision`; the caller then falls back to calling `decide` document by document (slow, still exact).

Pure: numpy and the curation steps only, no Django.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from curation.steps.base import Filter
from curation.steps.language import SIGNAL_LANG

KEEP = ""  # the reason code of "kept" in a decision column

# The language-like signals a decision may branch on by value (grouped on, never traced).
STRING_SIGNALS = (SIGNAL_LANG,)

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
MAX_PATHS = 4096


class UntraceableDecision(Exception):
    """The decision does something with a signal other than compare it with a constant."""


@dataclass(frozen=True)
class Condition:
    """`signal <op> constant` was `outcome` on this path."""

    signal: str
    op: str
    constant: float | str  # a number, or the name of another signal (`max(signals[a], signals[b])` compares them)
    outcome: bool


@dataclass(frozen=True)
class DecisionPath:
    """One branch of a decision: when all conditions hold, the decision is `reason` (None: keep)."""

    conditions: tuple[Condition, ...]
    reason: str | None


class _Explorer:
    """Answers each comparison from a forced prefix of outcomes, recording every comparison asked."""

    def __init__(self, forced: Sequence[bool]) -> None:
        self.forced = list(forced)
        self.asked: list[Condition] = []

    def branch(self, signal: str, op: str, constant: Any) -> bool:
        other: float | str
        if isinstance(constant, Traced):
            other = constant._name
        elif isinstance(constant, (int, float)):
            other = float(constant)
        else:
            raise UntraceableDecision(f"{signal} is compared with {constant!r}, not a number")
        position = len(self.asked)
        outcome = self.forced[position] if position < len(self.forced) else False
        self.asked.append(Condition(signal, op, other, outcome))
        return outcome


class _Comparison:
    """The result of comparing a traced signal: its truth value is decided by the explorer."""

    def __init__(self, explorer: _Explorer, signal: str, op: str, constant: Any) -> None:
        self._explorer, self._signal, self._op, self._constant = explorer, signal, op, constant

    def __bool__(self) -> bool:
        return self._explorer.branch(self._signal, self._op, self._constant)


class Traced:
    """A numeric signal whose comparisons with constants are recorded instead of evaluated."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, explorer: _Explorer, name: str) -> None:
        self._explorer, self._name = explorer, name

    def _compare(self, op: str, other: Any) -> _Comparison:
        return _Comparison(self._explorer, self._name, op, other)

    def __lt__(self, other: Any) -> _Comparison:
        return self._compare("<", other)

    def __le__(self, other: Any) -> _Comparison:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> _Comparison:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> _Comparison:
        return self._compare(">=", other)

    def __eq__(self, other: Any) -> _Comparison:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: Any) -> _Comparison:  # type: ignore[override]
        return self._compare("!=", other)

    def __bool__(self) -> bool:
        # A flag signal (stored as 0.0 / 1.0) used as a truth value: the same as `signal != 0`.
        return self._explorer.branch(self._name, "!=", 0.0)

    def __getattr__(self, name: str) -> Any:
        raise UntraceableDecision(f"the decision does more than compare signal {self._name} ({name})")


class _TracedSignals(Mapping[str, Any]):
    def __init__(self, explorer: _Explorer, names: Sequence[str], fixed: Mapping[str, Any]) -> None:
        self._explorer, self._names, self._fixed = explorer, list(names), fixed

    def __getitem__(self, key: str) -> Any:
        if key in self._fixed:
            return self._fixed[key]
        if key in self._names:
            return Traced(self._explorer, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._fixed, *self._names])

    def __len__(self) -> int:
        return len(self._fixed) + len(self._names)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def decision_paths(step: Filter[Any], numeric: Sequence[str], fixed: Mapping[str, Any]) -> list[DecisionPath]:
    """List every branch of `step.decide` for documents whose string signals are `fixed`.

    `numeric` names the signals available as numbers. Reads nothing else; raises UntraceableDecision when the
    decision cannot be traced, KeyError when it reads a signal that is not stored.
    """
    paths: list[DecisionPath] = []
    pending: list[list[bool]] = [[]]
    while pending:
        forced = pending.pop()
        explorer = _Explorer(forced)
        signals = _TracedSignals(explorer, numeric, fixed)
        reason = step.decide({"signals": signals})  # type: ignore[typeddict-item]
        asked = explorer.asked
        # Every comparison beyond the forced prefix was answered False: its True side is a branch still to explore.
        for position in range(len(forced), len(asked)):
            pending.append([c.outcome for c in asked[:position]] + [True])
        paths.append(DecisionPath(tuple(asked), reason))
        if len(paths) > MAX_PATHS:
            raise UntraceableDecision(f"{step.name}'s decision has more than {MAX_PATHS} branches")
    return paths


def _path_mask(path: DecisionPath, columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp]) -> NDArray[np.bool_]:
    mask = np.ones(len(rows), dtype=bool)
    for condition in path.conditions:
        values = columns[condition.signal][rows]
        constant = condition.constant
        other = columns[constant][rows] if isinstance(constant, str) else constant
        with np.errstate(invalid="ignore"):
            holds = _OPS[condition.op](values, other)
        mask &= holds if condition.outcome else ~holds
    return mask


def decide_columns(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp]
) -> NDArray[np.object_]:
    """Return, for each row in `rows`, the step's reason to remove it (KEEP for kept), from stored signals.

    `columns` maps signal names to arrays over all documents: float arrays for numbers (NaN where absent) and
    object/str arrays for the string signals. Raises UntraceableDecision (see the module docstring).
    """
    numeric = [name for name, column in columns.items() if column.dtype.kind == "f"]
    result = np.full(len(rows), KEEP, dtype=object)
    lang_column = columns.get(SIGNAL_LANG)
    groups: list[tuple[dict[str, str], NDArray[np.intp]]]
    if lang_column is None:
        groups = [({}, np.arange(len(rows)))]
    else:
        langs = lang_column[rows]
        groups = [({SIGNAL_LANG: str(lang)}, np.flatnonzero(langs == lang)) for lang in np.unique(langs)]
    for fixed, positions in groups:
        subset = rows[positions]
        for path in decision_paths(step, numeric, fixed):
            if path.reason is None:
                continue
            result[positions[_path_mask(path, columns, subset)]] = path.reason
    return result


def decide_documents(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp]
) -> NDArray[np.object_]:
    """The slow, exact fallback: call `step.decide` on each row rebuilt as a document (absent signals left out)."""
    result = np.full(len(rows), KEEP, dtype=object)
    names = list(columns)
    for out, row in enumerate(rows):
        signals: dict[str, Any] = {}
        for name in names:
            value = columns[name][row]
            if isinstance(value, float) and np.isnan(value):
                continue
            signals[name] = value.item() if hasattr(value, "item") else value
        try:
            reason = step.decide({"signals": signals})  # type: ignore[typeddict-item]
        except KeyError:
            reason = None
        result[out] = reason or KEEP
    return result


def decide_stored(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp]
) -> NDArray[np.object_]:
    """Decide `rows` with the step's own rules: traced and vectorised when possible, else document by document."""
    try:
        return decide_columns(step, columns, rows)
    except UntraceableDecision:
        return decide_documents(step, columns, rows)
