"""Which reading of a spoken question to answer: the one that fits the workspace's tables.

Speech recognition keeps several readings of a short question (``Transcript.alternatives``,
from the beam). Its first reading is the likeliest sound, not the likeliest question: tiny.en
hears "number of orders by region" as "Number of orders, I region." first and as the right
words second. :func:`choose` reads each close reading with the offline planner (a few
milliseconds each, on a copy of the conversation so nothing is remembered) and answers the one
the planner reads most cleanly: no refusal, no word it had to ignore or guess, no stray "I" or
"my" where a question says "by". Ties keep the recogniser's order, so a first reading that
reads cleanly is always the one answered.

The choice is shown with the answer (``Transcript.first_heard`` holds the first reading).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from typing import TYPE_CHECKING

from ..errors import BivoiceError, UnmatchedTerm
from ..models import Intent, Transcript
from .words import normalise

if TYPE_CHECKING:  # pragma: no cover
    from .offline import OfflinePlanner

# Words tiny.en writes for a short "by" ("Number of orders, I region.", "salary, my job level"),
# or for the start of "average" ("I am a unit price"). Rare in a typed question, so each costs a
# little: enough to prefer a reading without them, never enough to beat a refusal.
STRAY = frozenset({"i", "my", "am", "side", "bye", "buy"})
# Words heard in the place of "by" just before a column's name: "my job level", "São job level".
BY_SOUNDS = frozenset({"i", "my", "side", "sao", "bye", "buy", "on"})
# Number words heard as other words, tried only where the planner could not place the word.
SOUNDS_LIKE = {"free": "three", "tree": "three"}
FUZZY = 0.65  # difflib ratio at least which an unplaced word is tried as a planner word ("medium" -> "median")
# What each kind of planner note costs: a word ignored beside a column, a word or value read
# by its closest spelling.
NOTE_COST = (("ignored ", 1.0), ("heard ", 0.5), ("read ", 0.5))
MAX_READINGS = 16  # readings planned at most per question (each is a few ms; a value lookup can cost more)
REPAIR = 0.25  # a reading with one word changed by the rules above (at most two changes)
# A reading that stops on one of these was cut short ("How many employees are in").
DANGLING = frozenset({"in", "by", "for", "of", "the", "a", "an", "and", "or", "to", "from", "with", "per", "at"})
CUT_SHORT = 2.0
ASKED_BACK = 3.0  # the planner asked which column or table was meant
REPLY = 4.0  # a conversational reply, not a data answer
REFUSED = 5.0  # the planner could not read it


@dataclasses.dataclass(frozen=True)
class Reading:
    """One reading of the question: its words, what fitting it cost, and the words the planner
    could not place (ignored, or refused)."""

    text: str
    cost: float
    unplaced: tuple[str, ...] = ()


def read(planner: OfflinePlanner, text: str, extra: float = 0.0) -> Reading:
    """How badly ``text`` fits the planner's tables: 0 for a clean reading, more for each
    ignored or guessed word, stray pronoun, question back or refusal (plus ``extra``)."""
    saved = planner.session
    planner.session = copy.deepcopy(saved)
    try:
        plan = planner.plan(text)
        asked = planner.session.pending is not None
    except UnmatchedTerm as exc:
        return Reading(text, REFUSED + extra, (exc.term,))
    except BivoiceError:
        return Reading(text, REFUSED + extra)
    finally:
        planner.session = saved
    if not isinstance(plan, Intent):
        return Reading(text, (ASKED_BACK if asked else REPLY) + extra)
    notes = sum(weight for note in plan.notes for prefix, weight in NOTE_COST if note.startswith(prefix))
    words = normalise(text).split()
    strays = sum(0.5 for word in words if word in STRAY) + (CUT_SHORT if words and words[-1] in DANGLING else 0)
    ignored = tuple(m.group(1) for note in plan.notes if (m := re.match(r"ignored '([^']+)'", note)))
    return Reading(text, notes + strays + extra, ignored)


def repairs(planner: OfflinePlanner, reading: Reading) -> list[str]:
    """Readings with one misheard word put right: a "by" heard as "I"/"my" before a column's
    name, and an unplaced word replaced by the planner word it sounds like."""
    words = normalise(reading.text).split()
    column_words = planner.column_words
    out = []
    for i, word in enumerate(words[:-1]):
        if word in BY_SOUNDS and words[i + 1] in column_words:
            out.append(" ".join([*words[:i], "by", *words[i + 1:]]))
    for word in reading.unplaced:
        for w in word.split():
            # never a word cut back to its own start ("orderly" -> "order", which the planner
            # would take silently): what was heard after it was said
            close = [t for t in difflib.get_close_matches(w, planner.spoken_words, 3, FUZZY) if not w.startswith(t)]
            target = SOUNDS_LIKE.get(w) or next(iter(close), None)
            if target and target != w and w in words:
                out.append(" ".join(target if x == w else x for x in words))
    return out


def choose(transcript: Transcript, planner: OfflinePlanner) -> Transcript:
    """The transcript to answer: ``transcript`` itself, or a copy whose ``text`` is the
    reading that fits the tables best (``first_heard`` then keeps the first)."""
    if not transcript.text.strip():
        return transcript
    seen: set[str] = set()
    candidates: list[Reading] = []
    for text in (transcript.text, *transcript.alternatives):
        key = " ".join(normalise(text).split())
        if key in seen:
            continue
        seen.add(key)
        candidates.append(read(planner, text))
        if candidates[-1].cost == 0:
            break  # the recogniser's order: the first clean reading wins
    if candidates[-1].cost > 0:  # none read cleanly: put misheard words right, one or two at a time
        todo = [(reading, 0) for reading in candidates]
        while todo:
            base, depth = todo.pop(0)
            if base.cost == 0 or depth == 2:
                continue
            for fixed in repairs(planner, base):
                if fixed not in seen and len(candidates) < MAX_READINGS:
                    seen.add(fixed)
                    candidates.append(read(planner, fixed, REPAIR * (depth + 1)))
                    todo.append((candidates[-1], depth + 1))
    best = min(range(len(candidates)), key=lambda i: (candidates[i].cost, i))
    if best == 0:
        return transcript
    text = candidates[best].text
    others = tuple(t for t in (transcript.text, *transcript.alternatives) if t != text)
    return dataclasses.replace(transcript, text=text, alternatives=others, first_heard=transcript.text)
