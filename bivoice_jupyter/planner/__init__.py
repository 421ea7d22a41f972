"""Planning: a question -> a typed Intent (or a short reply) -> SQL.

``OfflinePlanner`` needs no key; the LLM planner (its own issue) will sit beside it behind the
same ``plan(question)`` shape.
"""

from .compile import compile_intent
from .offline import OfflinePlanner, Reply

__all__ = ["OfflinePlanner", "Reply", "compile_intent"]
