"""bivoice-jupyter: ask ClickHouse questions by voice or text in a notebook.

Public API (small and lazy: importing this package loads no speech or LLM library)::

    from bivoice_jupyter import Workspace, transcribe
    ws = Workspace()                      # embedded chDB under $BIVOICE_HOME
    ws.load(df, table="sales")            # twin of %etl load
    ws.ask("total revenue by region")     # twin of %%voice
    ws.ask_audio("question.wav")          # twin of %%voice --audio
    ws.sql("SELECT ...")                  # guarded, read-only SQL

In a notebook: ``%load_ext bivoice_jupyter``, then ``%%voice``, ``%voice`` and ``%etl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Answer", "BivoiceError", "GuardRejected", "Intent", "LoadReport", "Transcript", "Workspace",
    "microphone", "transcribe", "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from .errors import BivoiceError, GuardRejected
    from .models import Answer, Intent, LoadReport, Transcript
    from .workspace import Workspace

_LAZY = {
    "Workspace": ("workspace", "Workspace"),
    "Answer": ("models", "Answer"),
    "Intent": ("models", "Intent"),
    "LoadReport": ("models", "LoadReport"),
    "Transcript": ("models", "Transcript"),
    "BivoiceError": ("errors", "BivoiceError"),
    "GuardRejected": ("errors", "GuardRejected"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bivoice_jupyter' has no attribute {name!r}")


def transcribe(audio: Any, **kwargs: Any) -> Any:
    """Speech -> Transcript with faster-whisper (see :func:`bivoice_jupyter.speech.transcribe`)."""
    from .speech import transcribe as _transcribe

    return _transcribe(audio, **kwargs)


def microphone(workspace: Any = None, **kwargs: Any) -> Any:
    """The microphone widget answering into ``workspace`` (the Python twin of ``%voice``)."""
    from .widgets import microphone as _microphone

    return _microphone(workspace, **kwargs)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext bivoice_jupyter``: registers %%voice, %voice and %etl."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension lies (``jupyter labextension develop`` reads it;
    a wheel installs it to share/jupyter/labextensions/bivoice-jupyter)."""
    return [{"src": "labextension", "dest": "bivoice-jupyter"}]
