"""Planning: a question -> a typed Intent (or a short reply) -> SQL.

``OfflinePlanner`` needs no key; the LLM planner (its own issue) sits beside it behind the same
``plan(question)`` shape. The offline planner's parts, in the order a question meets them:
``words`` (normalising speech, splitting identifiers), ``lexicon`` (what each table's columns
and values sound like), ``lookup`` (values too many for the catalog), ``reader`` and ``dates``
(the ordered rules), ``offline`` (table choice, conversation, follow-ups, defaults),
``session`` (the conversation's memory) and ``compile`` (Intent -> SQL with sqlglot).
"""

from .compile import compile_intent
from .lookup import ValueLookup
from .offline import OfflinePlanner, Reply
from .session import Session

__all__ = ["OfflinePlanner", "Reply", "Session", "ValueLookup", "compile_intent"]
