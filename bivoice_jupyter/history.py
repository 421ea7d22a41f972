"""The persisted history of answers: one JSON line per answer in ``data_home()/history.jsonl``.

Each line is written with a single ``write`` on a file opened for append, so concurrent kernels
never interleave half lines. The DSN is stored without its password.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pandas as pd

from .config import data_home
from .models import Answer

_LOCK = threading.Lock()


def history_path() -> Path:
    return data_home() / "history.jsonl"


def record(answer: Answer, *, dsn: str, database: str) -> None:
    entry = {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "dsn": dsn,
        "database": database,
        "question": answer.question,
        "transcript": answer.transcript.text if answer.transcript else None,
        "intent": answer.intent.model_dump(mode="json") if answer.intent else None,
        "sql": answer.sql,
        "text": answer.text,
        "rows": None if answer.df is None else len(answer.df),
        "planner": answer.planner,
        "timings": {k: round(v, 6) for k, v in answer.timings.items()},
    }
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)


def read(*, dsn: str | None = None) -> pd.DataFrame:
    """All recorded answers (for one DSN when given), oldest first."""
    path = history_path()
    columns = ["time", "dsn", "database", "question", "transcript", "intent", "sql", "text", "rows", "planner", "timings"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: the others are still good
            if dsn is None or entry.get("dsn") == dsn:
                rows.append(entry)
    return pd.DataFrame(rows, columns=columns)
