"""A conversation's memory: the last question's reading, and a question the planner asked back.

One ``Session`` per planner (so one per workspace): "now by country" reuses the last intent,
and "revenue" answers "Did you mean revenue or unit_price?". Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Intent


@dataclass
class Pending:
    """A question the planner could not read alone. ``choices`` maps each candidate (a column
    or table name) to what choosing it fixes: ``("column", term, column)`` or ``("table", name)``."""

    question: str
    choices: dict[str, tuple[str, ...]]


@dataclass
class Session:
    last: Intent | None = None
    pending: Pending | None = None
    forced_columns: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def remember(self, question: str, intent: Intent) -> None:
        self.last = intent
        self.pending = None
        self.history = (self.history + [question])[-20:]

    def forget(self) -> None:
        """Start over: the next question is read on its own."""
        self.last = None
        self.pending = None
        self.forced_columns = {}
