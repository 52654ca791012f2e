"""Exact statistics for one day, and how a figure compares with earlier days.

Percentiles are exact for the day, by the **nearest-rank** method: the day's values are sorted
ascending and the p-th percentile is the value at 1-based rank ⌈p/100 · n⌉ (computed in integer
arithmetic, so 90 % of 30 is rank 27, never 28 through a float rounding). The result is always
a value that really occurred — no interpolation — so the median of an even number of values
is the lower of the two middle ones: median(60, 120, 180, 240) = 120; p90 of ten values is the
9th smallest. With no values there is no percentile (None), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Unit = Literal["count", "seconds", "share", "score"]

# "About the same" (→): within 5 % of the reference for counts and durations, within one
# percentage point for shares, within one point for NPS (which runs from -100 to 100).
RELATIVE_TOLERANCE = 0.05
SHARE_TOLERANCE = 0.01
SCORE_TOLERANCE = 1.0

UP, DOWN, SAME = "↑", "↓", "→"


def percentile(sorted_values: Sequence[float], p: int) -> float | None:
    """Nearest-rank p-th percentile (0 < p <= 100) of values already sorted ascending."""
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    n = len(sorted_values)
    if n == 0:
        return None
    rank = (p * n + 99) // 100  # ⌈p·n/100⌉ without floating point
    return sorted_values[max(rank, 1) - 1]


def median_p90(values: Iterable[float]) -> tuple[float | None, float | None]:
    ordered = sorted(values)
    return percentile(ordered, 50), percentile(ordered, 90)


def median(values: Iterable[float]) -> float | None:
    return percentile(sorted(values), 50)


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (a KPI with no data is "—", not 0 %)."""
    return part / whole if whole else None


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score: % promoters (9–10) − % detractors (0–6), from -100 to 100."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for score in values if score >= 9)
    detractors = sum(1 for score in values if score <= 6)
    return 100.0 * (promoters - detractors) / len(values)


def mean(values: Iterable[float | None]) -> float | None:
    """Average of the values that exist (days without data are left out, not counted as 0)."""
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class Comparison:
    reference: float | None
    arrow: str | None  # ↑ higher, ↓ lower, → about the same; None when either side is missing
    better: bool | None  # whether the change is good news (None: no change or no data)

    def as_dict(self) -> dict[str, object]:
        return {"reference": self.reference, "arrow": self.arrow, "better": self.better}


def compare(value: float | None, reference: float | None, *, unit: Unit, higher_is_better: bool | None) -> Comparison:
    """Where `value` stands against `reference` (the day before, or the trailing average)."""
    if value is None or reference is None:
        return Comparison(reference, None, None)
    difference = value - reference
    if unit == "share":
        tolerance = SHARE_TOLERANCE
    elif unit == "score":
        tolerance = SCORE_TOLERANCE
    else:
        tolerance = abs(reference) * RELATIVE_TOLERANCE
    if round(abs(difference), 9) <= tolerance:  # 0.91 - 0.90 is 0.010000000000000009 in floats
        return Comparison(reference, SAME, None)
    arrow = UP if difference > 0 else DOWN
    better = None if higher_is_better is None else (difference > 0) == higher_is_better
    return Comparison(reference, arrow, better)
