"""Reports: parameterized notebooks that run on a schedule, replay frozen answers and arrive
by email.

Every ``%%voice`` answer leaves its question, transcript, intent and SQL in the notebook (see
:mod:`.frozen`). ``bivoice report run TEMPLATE -p start 2024-12-02 ...`` executes the template
with papermill; each question then *replays* its stored intent, narrowed to the run's
:class:`Scope` (dates, value lists), with no microphone and no LLM, so a scheduled run is
deterministic and cheap. The run writes the executed notebook and a self-contained HTML page,
and can send the page by email; ``bivoice report schedule`` prints or installs the crontab
line or systemd timer that runs it.

Python API: :class:`Scope` (in a template), :func:`run`, :func:`freeze`. Nothing here is
imported with the package: papermill and nbconvert load when a report runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Scope", "active_scope", "deactivate", "freeze", "open_profile", "run"]

if TYPE_CHECKING:  # pragma: no cover
    from .profiles import open_profile
    from .runner import freeze, run
    from .scope import Scope, active_scope, deactivate

_LAZY = {
    "Scope": "scope", "active_scope": "scope", "deactivate": "scope",
    "run": "runner", "freeze": "runner", "open_profile": "profiles",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bivoice_jupyter.reports' has no attribute {name!r}")
