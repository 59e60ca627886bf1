"""The composite warning level that drives the adaptive hedge ratio: one number in [0, 1] from the
signal readings, by category.

    S_c = the largest strength among the evaluated signals of category c (0 if none warns)
    composite = 1 - prod over categories of (1 - w_c x S_c)

w_c is the setting `composite.weight_<category>` in [0, 1]. Why this form: a category speaks once,
through its loudest signal, so a second quiet signal of the same kind never dilutes a warning;
a quiet category multiplies by 1 and changes nothing; the composite only rises as any strength
rises; and two categories warning together count for more than either alone, never above 1. A
signal that failed or was not evaluated is left out and named, never read as "all clear".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules_engine.models import SIGNAL_CATEGORIES, Reading, Setting

#: Default weight of each category: how far one signal of it at full strength alone moves the
#: composite. Judgement defaults, not fits: volatility signals (term structure, forward vol) lead
#: spikes most directly; breadth and book-lean next; technical and event signals fire often;
#: valuation is slow and says little about the next month.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "volatility": 0.8,
    "breadth": 0.6,
    "book": 0.6,
    "technical": 0.5,
    "event": 0.5,
    "valuation": 0.3,
}

COMPOSITE_SETTINGS: tuple[Setting, ...] = tuple(
    Setting(
        f"composite.weight_{category}",
        DEFAULT_WEIGHTS[category],
        "float",
        f"Weight of the {category} signals in the composite warning level (0-1): the composite "
        f"one {category} signal at full strength gives alone. composite = 1 - prod(1 - w x S) "
        "over categories, S = the category's loudest evaluated signal (README: the hedge ratio).",
        minimum=0.0,
        maximum=1.0,
    )
    for category in SIGNAL_CATEGORIES
)


@dataclass(frozen=True)
class CategoryScore:
    """A category's say: its loudest evaluated signal (None when none of them warns)."""

    category: str
    weight: float
    strength: float
    loudest: str | None


@dataclass(frozen=True)
class Composite:
    """The composite warning level and what made it."""

    value: float
    categories: tuple[CategoryScore, ...]
    excluded: tuple[str, ...]
    triggered: tuple[str, ...]

    def explain(self) -> str:
        """ "composite 0.62 = 1 - (1 - 0.8 x 0.50 vix_term_structure)(1 - 0.5 x 0.40 rsi); not
        evaluated: macro"."""
        parts = [
            f"(1 - {c.weight:g} x {c.strength:.2f} {c.loudest})"
            for c in self.categories
            if c.loudest is not None and c.weight * c.strength > 0
        ]
        text = f"composite {self.value:.2f}"
        text += f" = 1 - {''.join(parts)}" if parts else " (no signal warns)"
        if self.excluded:
            text += f"; not evaluated: {', '.join(self.excluded)}"
        return text


def composite(
    readings: Mapping[str, Reading],
    categories: Mapping[str, str],
    weights: Mapping[str, float],
    excluded: Iterable[str] = (),
) -> Composite:
    """The composite of these readings (signal name -> Reading of the evaluated signals), each
    signal in its category (`categories`), with the category weights; `excluded` names the
    signals that failed or were not evaluated."""
    scores = []
    for category in SIGNAL_CATEGORIES:
        mine = {n: r for n, r in readings.items() if categories.get(n) == category}
        loudest = max(sorted(mine), key=lambda n: mine[n].strength, default=None)
        strength = mine[loudest].strength if loudest is not None else 0.0
        weight = float(weights.get(category, DEFAULT_WEIGHTS[category]))
        scores.append(CategoryScore(category, weight, strength, loudest if strength > 0 else None))
    quiet = math.prod(1.0 - s.weight * s.strength for s in scores)
    triggered = tuple(sorted(n for n, r in readings.items() if r.triggered))
    return Composite(1.0 - quiet, tuple(scores), tuple(sorted(excluded)), triggered)


def weights_from(settings: Mapping[str, object]) -> dict[str, float]:
    """The category weights the settings hold (defaults for any missing)."""
    out = {}
    for category in SIGNAL_CATEGORIES:
        raw = settings.get(f"composite.weight_{category}", DEFAULT_WEIGHTS[category])
        out[category] = float(raw) if isinstance(raw, int | float) else DEFAULT_WEIGHTS[category]
    return out
