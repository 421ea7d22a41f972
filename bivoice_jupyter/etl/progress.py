"""Progress and interrupts for a load.

The bar (``tqdm.auto``: a widget in Jupyter, text elsewhere) appears only for loads that take
more than a second, and is fed by the embedded engine's own progress reports (rows and bytes
read) while a statement runs. A ClickHouse server over HTTP sends none through
clickhouse-connect's ``command``; the bar then moves step by step.

Ctrl-C (a kernel interrupt) during a load is *deferred*: chDB runs a statement in C++ and
cannot be cancelled half-way, so the interrupt is recorded, the running statement finishes,
and the load stops at the next step, before anything is swapped in. The staging tables are
dropped and :class:`KeyboardInterrupt` is raised; the target is left exactly as it was.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DELAY = 1.0  # seconds before a bar appears


def _interactive() -> bool:
    """In a Jupyter kernel (looked up, never imported: this layer has no IPython) or a terminal."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One load's bar: ``total`` units of work (one per pass over the data), each pass
    reported as a fraction by the engine or done in one step."""

    def __init__(self, enabled: bool | None = None, *, label: str = "load") -> None:
        # None: a bar in a notebook kernel or on a terminal, none in logs and test runs
        self.enabled = _interactive() if enabled is None else bool(enabled)
        self.label = label
        self.interrupted = False
        self._bar: Any = None
        self._done = 0.0
        self._rows = 0
        self._started = time.perf_counter()
        self._expect_bytes: int | None = None
        self._expect_rows: int | None = None
        self._live = False  # the engine's reports count only during a pass over the data
        self._old_handler: Any = None

    # ------------------------------------------------------------- the bar

    def _ensure_bar(self, total: float) -> None:
        if not self.enabled or self._bar is not None:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm comes with the etl extra; without it there is no bar
            self.enabled = False
            return
        self._bar = tqdm(total=total, desc=self.label, delay=DELAY, leave=False,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}")

    def plan(self, passes: int) -> None:
        self._ensure_bar(float(passes))

    def step(self, name: str, *, size_bytes: int | None = None, rows: int | None = None) -> None:
        """A new pass begins; ``size_bytes``/``rows`` are what it will read, when known."""
        self._expect_bytes, self._expect_rows = size_bytes, rows
        self._live = True
        if self._bar is not None:
            self._bar.set_description_str(f"{self.label}: {name}", refresh=False)
            self._bar.n = self._done
            self._bar.refresh()

    def advance(self) -> None:
        self._live = False
        self._done += 1.0
        if self._bar is not None:
            self._bar.n = min(self._done, self._bar.total or self._done)
            self._bar.refresh()

    def rows_done(self, rows: int, total: int) -> None:
        """Progress reported by the load itself (chunks of a DataFrame sent to the engine)."""
        elapsed = time.perf_counter() - self._started
        self._rows = rows
        if self._bar is not None:
            self._bar.n = self._done + (rows / total if total else 0.0)
            if elapsed > 0:
                self._bar.set_postfix_str(f" {rows:,} rows, {rows / elapsed:,.0f} rows/s", refresh=False)
            self._bar.refresh()

    def engine(self, payload: dict[str, Any]) -> None:
        """chDB's progress callback: rows and bytes read so far by the running statement."""
        try:
            if not self._live:
                return
            read_rows = int(payload.get("read_rows", 0))
            total = int(payload.get("total_rows_to_read", 0)) or self._expect_rows or 0
            if total:
                frac = read_rows / total
            elif self._expect_bytes:
                frac = int(payload.get("read_bytes", 0)) / self._expect_bytes
            else:
                frac = 0.0
            elapsed = int(payload.get("elapsed_ns", 0)) / 1e9
            self._rows = read_rows
            if self._bar is not None:
                self._bar.n = self._done + min(max(frac, 0.0), 1.0)
                if elapsed > 0:
                    self._bar.set_postfix_str(f" {read_rows:,} rows, {read_rows / elapsed:,.0f} rows/s", refresh=False)
                self._bar.refresh()
        except KeyboardInterrupt:  # raised here by a deferred signal: remember it, never lose it
            self.interrupted = True
        except Exception:  # noqa: BLE001 - a display problem must never fail a load
            pass

    def close(self, complete: bool = False) -> None:
        """Take the bar down. ``complete``: the load succeeded, so the bar is filled first
        (a load may take fewer passes than planned, and tqdm leaves a bar that stops short
        on the page, in red)."""
        if self._bar is not None:
            if complete and self._bar.total:
                self._bar.n = self._bar.total
                self._bar.refresh()
            self._bar.close()
            self._bar = None

    # ------------------------------------------------------------- interrupts

    def check(self) -> None:
        """Raise the deferred interrupt, if there was one."""
        if self.interrupted:
            raise KeyboardInterrupt("load interrupted; nothing was swapped in")

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.interrupted = True

    @contextmanager
    def deferring(self) -> Iterator[Progress]:
        """Record Ctrl-C instead of raising it mid-statement (main thread only)."""
        main = threading.current_thread() is threading.main_thread()
        if main:
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            yield self
        finally:
            if main:
                signal.signal(signal.SIGINT, self._old_handler)


@contextmanager
def watching(client: Any, progress: Progress) -> Iterator[None]:
    """Route the embedded engine's progress reports to ``progress`` while the block runs.

    The chDB connection sits behind clickhouse-connect's backend; where it is not found (a
    server over HTTP, or another chDB version), nothing is reported and nothing breaks."""
    conn = getattr(getattr(getattr(client, "_backend", None), "_handle", None), "conn", None)
    setter = getattr(conn, "set_progress_callback", None)
    if setter is None:
        yield
        return
    previous = getattr(conn, "_user_progress_callback", None)
    try:
        setter(progress.engine)
    except Exception:  # noqa: BLE001 - progress is a nicety
        yield
        return
    try:
        yield
    finally:
        try:
            setter(previous)
        except Exception:  # noqa: BLE001
            pass
