"""Frozen answers: what a ``%%voice`` answer leaves in the notebook, so a report run can replay it.

An answer's question, transcript, intent and SQL travel as ``metadata={"bivoice": {...}}`` on
the output the magic displays (a kernel cannot write its own cell's metadata, but the metadata
of its outputs is saved with the notebook). ``bivoice report run`` copies them into the cell's
own metadata (``cell.metadata.bivoice.answers``, which survives clearing the outputs) and hands
the kernel a JSON file of them (``$BIVOICE_REPORT_ANSWERS``).

In the kernel a cell finds its frozen answer by the cell id its front end sends with the
execute request (JupyterLab sends ``cellId``; nbclient 0.11 and jupyter_client 8 send none), and
otherwise by what the magic was given (its options and question), in notebook order.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..errors import BivoiceError
from ..models import Answer, Intent, Transcript

METADATA_KEY = "bivoice"
ANSWERS_ENV = "BIVOICE_REPORT_ANSWERS"  # set by `bivoice report run` for its kernel
SESSION_ENV = "JPY_SESSION_NAME"  # set by jupyter_server: the notebook a kernel belongs to


class FrozenAnswer(BaseModel):
    """One answer, as stored in a notebook: enough to run it again without speech or a planner.

    ``line`` and ``body`` are what the magic was given (its options, and the cell's question);
    ``intent`` is the question's meaning as asked, before any report scope narrowed it (each
    run's scope applies afresh); ``sql`` and ``summary`` are what ran and what it answered;
    ``replayed`` says whether that answer itself was a replay.
    """

    model_config = ConfigDict(frozen=True)
    version: int = 1
    line: str = ""
    body: str = ""
    question: str
    transcript: dict[str, Any] | None = None
    intent: Intent
    sql: str | None = None
    planner: str = "offline"
    summary: str = ""
    replayed: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return magic_key(self.line, self.body)

    def transcript_object(self) -> Transcript | None:
        if not self.transcript:
            return None
        return Transcript(**{**self.transcript, "alternatives": tuple(self.transcript.get("alternatives", ()))})


def magic_key(line: str, body: str | None) -> tuple[str, str]:
    """What identifies a magic call when no cell id is known: its options and its text, with
    whitespace normalised."""
    return " ".join((line or "").split()), "\n".join(s.strip() for s in (body or "").strip().splitlines())


def freeze(answer: Answer, *, line: str = "", body: str | None = None, replayed: bool = False,
           intent: Intent | None = None) -> FrozenAnswer | None:
    """The frozen form of an answer; None when there is nothing to replay (a reply without an
    intent, or SQL typed by hand, which runs as written anyway). ``intent`` is the intent as
    asked when a report's scope narrowed the one that ran."""
    intent = intent or answer.intent
    if intent is None or answer.planner == "sql":
        return None
    return FrozenAnswer(
        line=line,
        body=body or "",
        question=answer.question,
        transcript=dataclasses.asdict(answer.transcript) if answer.transcript is not None else None,
        intent=intent,
        sql=answer.sql,
        planner=answer.planner,
        summary=answer.text,
        replayed=replayed,
    )


def output_metadata(frozen: FrozenAnswer | None) -> dict[str, Any] | None:
    """The output metadata the magic displays with an answer."""
    return None if frozen is None else {METADATA_KEY: frozen.model_dump(mode="json")}


# ------------------------------------------------------------------ notebooks (the runner's side)


def _parse(data: Any) -> FrozenAnswer | None:
    try:
        return FrozenAnswer.model_validate(data)
    except ValueError:  # written by another version, or edited by hand: not replayable
        return None


def answers_in_cell(cell: Any) -> list[FrozenAnswer]:
    """A code cell's frozen answers: from its outputs (the newest), else from its metadata."""
    found = [
        f for out in cell.get("outputs", ())
        if METADATA_KEY in out.get("metadata", {})
        and (f := _parse(out["metadata"][METADATA_KEY])) is not None
    ]
    if found:
        return found
    stored = cell.get("metadata", {}).get(METADATA_KEY, {})
    return [f for item in stored.get("answers", ()) if (f := _parse(item)) is not None]


def store_in_cells(nb: Any) -> int:
    """Copy each cell's frozen answers into ``cell.metadata.bivoice``; returns how many cells
    have some."""
    cells = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        answers = answers_in_cell(cell)
        if answers:
            cell.metadata[METADATA_KEY] = {"answers": [a.model_dump(mode="json") for a in answers]}
            cells += 1
    return cells


def answer_map(nb: Any) -> list[dict[str, Any]]:
    """Every frozen answer of a notebook, in order, with its cell's id: what the kernel reads."""
    return [
        {"cell_id": cell.get("id"), "answer": a.model_dump(mode="json")}
        for cell in nb.cells if cell.cell_type == "code"
        for a in answers_in_cell(cell)
    ]


def iter_frozen(nb: Any) -> Iterator[FrozenAnswer]:
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from answers_in_cell(cell)


# ------------------------------------------------------------------ the kernel's side


class _Book:
    """Frozen answers the kernel can find, each given out once per key in notebook order."""

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        self.entries = [(e.get("cell_id"), f) for e in entries if (f := _parse(e.get("answer"))) is not None]
        self.used: set[int] = set()

    def find(self, cell_id: str | None, key: tuple[str, str]) -> FrozenAnswer | None:
        if cell_id:
            same = [i for i, (cid, f) in enumerate(self.entries) if cid == cell_id and f.key == key]
            if same:
                return self.entries[same[0]][1]
        for i, (_, f) in enumerate(self.entries):
            if i not in self.used and f.key == key:
                self.used.add(i)
                return f
        return None


_BOOKS: dict[str, tuple[float, _Book]] = {}


def _book(path: str) -> _Book | None:
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    cached = _BOOKS.get(path)
    if cached is None or cached[0] != mtime:
        try:
            if path.endswith(".ipynb"):
                import nbformat

                entries = answer_map(nbformat.read(path, as_version=4))
            else:
                entries = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BivoiceError(f"Cannot read the frozen answers in {path}: {exc}") from exc
        cached = _BOOKS[path] = (mtime, _Book(entries))
    return cached[1]


def in_report_run() -> bool:
    """Whether this process is a kernel of ``bivoice report run``."""
    return bool(os.environ.get(ANSWERS_ENV))


def find_frozen(cell_id: str | None, line: str, body: str | None) -> FrozenAnswer | None:
    """The frozen answer for this magic call: from the report run's answers, else from the
    notebook file this kernel belongs to (as saved)."""
    key = magic_key(line, body)
    for path in (os.environ.get(ANSWERS_ENV), os.environ.get(SESSION_ENV)):
        if path:
            book = _book(path)
            found = book.find(cell_id, key) if book is not None else None
            if found is not None:
                return found
    return None
