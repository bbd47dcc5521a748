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


@dataclass(frozen=True)
class Codes:
    """A string column as integer codes into its distinct values (as Parquet's dictionary encoding stores it)."""

    codes: NDArray[np.int32]
    names: NDArray[np.object_]

    def values(self, rows: NDArray[np.intp] | None = None) -> NDArray[np.object_]:
        """The strings of `rows` (of every row when None)."""
        return self.names[self.codes if rows is None else self.codes[rows]]

    @classmethod
    def of(cls, strings: Sequence[str] | NDArray[np.object_]) -> Codes:
        names, codes = np.unique(np.asarray(strings, dtype=object).astype(str), return_inverse=True)
        return cls(codes.astype(np.int32), names.astype(object))


class _GroupColumns:
    """The signal columns of one language group, gathered once, and each comparison evaluated once."""

    def __init__(self, columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp]) -> None:
        self._columns, self._rows = columns, rows
        self._gathered: dict[str, NDArray[Any]] = {}
        self._compared: dict[tuple[str, str, float | str], NDArray[np.bool_]] = {}

    def column(self, name: str) -> NDArray[Any]:
        found = self._gathered.get(name)
        if found is None:
            found = self._columns[name][self._rows]
            self._gathered[name] = found
        return found

    def holds(self, condition: Condition) -> NDArray[np.bool_]:
        key = (condition.signal, condition.op, condition.constant)
        found = self._compared.get(key)
        if found is None:
            constant = condition.constant
            other = self.column(constant) if isinstance(constant, str) else constant
            with np.errstate(invalid="ignore"):
                found = _OPS[condition.op](self.column(condition.signal), other)
            self._compared[key] = found
        return found


def decide_columns(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp], lang: Codes | None = None
) -> tuple[NDArray[np.int16], list[str]]:
    """Decide each row in `rows` with the step's own rules from stored signals: (codes, reasons).

    `columns` maps numeric signal names to float arrays over all documents (NaN where absent); `lang` is the
    language column as codes. Returns one code per row, indexing the returned list of reasons, where code 0 is
    KEEP. Raises UntraceableDecision (see the module docstring).
    """
    numeric = [name for name, column in columns.items() if column.dtype.kind == "f"]
    reasons: list[str] = [KEEP]
    index: dict[str, int] = {KEEP: 0}
    result = np.zeros(len(rows), dtype=np.int16)
    groups: list[tuple[dict[str, str], NDArray[np.intp]]]
    if lang is None:
        groups = [({}, np.arange(len(rows)))]
    else:
        row_codes = lang.codes[rows]
        present = np.bincount(row_codes, minlength=len(lang.names))
        if np.count_nonzero(present) == 1:
            only = int(np.flatnonzero(present)[0])
            groups = [({SIGNAL_LANG: str(lang.names[only])}, np.arange(len(rows)))]
        else:
            order = np.argsort(row_codes, kind="stable")
            bounds = np.cumsum(present)
            groups = [({SIGNAL_LANG: str(lang.names[code])}, order[bounds[code] - present[code]:bounds[code]])
                      for code in np.flatnonzero(present)]
    for fixed, positions in groups:
        group = _GroupColumns(columns, rows[positions])
        for path in decision_paths(step, numeric, fixed):
            if path.reason is None:
                continue
            mask = np.ones(len(positions), dtype=bool)
            for condition in path.conditions:
                holds = group.holds(condition)
                mask &= holds if condition.outcome else ~holds
            code = index.setdefault(path.reason, len(reasons))
            if code == len(reasons):
                reasons.append(path.reason)
            result[positions[mask]] = code
    return result, reasons


def decide_documents(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp], lang: Codes | None = None
) -> tuple[NDArray[np.int16], list[str]]:
    """The slow, exact fallback: call `step.decide` on each row rebuilt as a document (absent signals left out)."""
    reasons: list[str] = [KEEP]
    index: dict[str, int] = {KEEP: 0}
    result = np.zeros(len(rows), dtype=np.int16)
    names = [name for name, column in columns.items() if column.dtype.kind == "f"]
    for out, row in enumerate(rows.tolist()):
        signals: dict[str, Any] = {}
        for name in names:
            value = float(columns[name][row])
            if not np.isnan(value):
                signals[name] = value
        if lang is not None:
            signals[SIGNAL_LANG] = str(lang.names[lang.codes[row]])
        try:
            reason = step.decide({"signals": signals})  # type: ignore[typeddict-item]
        except KeyError:
            reason = None
        if reason:
            code = index.setdefault(reason, len(reasons))
            if code == len(reasons):
                reasons.append(reason)
            result[out] = code
    return result, reasons


def decide_stored(
    step: Filter[Any], columns: Mapping[str, NDArray[Any]], rows: NDArray[np.intp], lang: Codes | None = None
) -> tuple[NDArray[np.int16], list[str]]:
    """Decide `rows` with the step's own rules: traced and vectorised when possible, else document by document."""
    try:
        return decide_columns(step, columns, rows, lang)
    except UntraceableDecision:
        return decide_documents(step, columns, rows, lang)
