"""The load's progress bar (tqdm, text here): a load that succeeds ends at 100%, even when it
took fewer passes than planned; a failed one is left where it stopped."""

from __future__ import annotations

import pytest

from bivoice_jupyter.etl import progress as progress_module
from bivoice_jupyter.etl.progress import Progress


def _bar_after(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *, complete: bool) -> str:
    monkeypatch.setattr(progress_module, "DELAY", 0.0)  # show the bar at once, not after a second
    bar = Progress(True, label="sales")
    bar.plan(4)
    for name in ("staging", "sampling", "loading"):  # three passes of the four planned
        bar.step(name)
        bar.advance()
    bar.close(complete=complete)
    return capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]


def test_a_completed_load_ends_at_100_percent(monkeypatch, capsys) -> None:
    assert "100%" in _bar_after(monkeypatch, capsys, complete=True)


def test_a_failed_load_is_left_where_it_stopped(monkeypatch, capsys) -> None:
    assert " 75%" in _bar_after(monkeypatch, capsys, complete=False)
