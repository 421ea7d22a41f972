"""Loading data into ClickHouse: sources, type mapping, atomic swap-in."""

from .load import load

__all__ = ["load"]
