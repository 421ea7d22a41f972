"""Loading data into ClickHouse: sources, detection and cleaning in the engine, atomic swap-in,
and an audit of every run. ``load`` and ``preview`` are the entry points; ``history`` reads the
audit."""

from .audit import history
from .infer import MAX_BAD_SHARE
from .load import MODES, Preview, load, preview

__all__ = ["MAX_BAD_SHARE", "MODES", "Preview", "history", "load", "preview"]
