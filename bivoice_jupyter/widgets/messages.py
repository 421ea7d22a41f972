"""The browser's messages to the kernel, shared by the microphone widget and the JupyterLab
extension's comm (``bivoice`` target, :mod:`bivoice_jupyter.widgets.comm`):

* ``{"type": "audio", "mime": ..., "size": n}`` with the recording as the only binary buffer;
* ``{"type": "text", "text": ...}``: a question typed or corrected by hand.

Each reader returns the payload or raises :class:`BivoiceError` with the message the browser shows.
"""

from __future__ import annotations

from typing import Any

from ..errors import BivoiceError

MAX_TEXT = 2_000  # characters: a corrected question, not a document
DEFAULT_MIME = "audio/webm"


def kind(content: Any) -> str | None:
    """The message's ``type``, or None for anything that is not one of ours."""
    return content.get("type") if isinstance(content, dict) else None


def read_audio(content: dict[str, Any], buffers: list[Any]) -> tuple[bytes, str]:
    """``(audio bytes, mime type)`` of an ``audio`` message."""
    if not buffers:
        raise BivoiceError("The browser sent no audio.")
    return bytes(buffers[0]), str(content.get("mime") or DEFAULT_MIME)


def read_text(content: dict[str, Any]) -> str:
    """The question of a ``text`` message, stripped."""
    text = str(content.get("text") or "").strip()
    if not text:
        raise BivoiceError("There is no question to ask: the text box is empty.")
    if len(text) > MAX_TEXT:
        raise BivoiceError(f"The question is {len(text):,} characters long; at most {MAX_TEXT:,} are accepted.")
    return text
