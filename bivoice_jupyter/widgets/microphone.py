"""The microphone: an anywidget that records in the browser and sends the audio to the kernel.

The browser sends one custom message per recording, ``{"type": "audio", "mime": ..., "size":
n}``, with the audio bytes (webm/opus from MediaRecorder) as its only binary buffer. The kernel
answers inside the message handler and shows the answer in an Output widget under the button;
status, transcript and errors travel back as widget state. Nothing ever waits in a cell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import traitlets

from ..display import answer_outputs
from ..errors import BivoiceError
from ..models import Answer

log = logging.getLogger(__name__)
AudioHandler = Callable[[bytes, str], Answer]


class Microphone(anywidget.AnyWidget):
    """Record / stop button, level meter and status line. ``on_audio(data, mime)`` answers."""

    _esm = Path(__file__).with_name("microphone.js")
    _css = Path(__file__).with_name("microphone.css")

    status = traitlets.Unicode("idle").tag(sync=True)  # idle, listening, transcribing, querying, done, error
    transcript = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    answer_text = traitlets.Unicode("").tag(sync=True)
    max_seconds = traitlets.Float(30.0).tag(sync=True)  # the browser stops recording after this

    def __init__(self, on_audio: AudioHandler | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_audio = on_audio
        self.output = ipywidgets.Output()
        self.last_answer: Answer | None = None
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if not isinstance(content, dict) or content.get("type") != "audio":
            return  # messages of other kinds belong to other features
        if not buffers:
            self._fail("The browser sent no audio.")
            return
        data = bytes(buffers[0])
        mime = str(content.get("mime") or "audio/webm")
        self.error = ""
        self.transcript = ""
        self.status = "transcribing"
        if self._on_audio is None:
            self._fail("No workspace is attached to this microphone.")
            return
        try:
            answer = self._on_audio(data, mime)
        except BivoiceError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            self._fail(f"internal error: {type(exc).__name__}: {exc}")
            raise  # unexpected: also into the kernel log, never swallowed
        self.last_answer = answer
        self.transcript = answer.transcript.text if answer.transcript else answer.question
        self.answer_text = answer.text
        self.output.clear_output()
        for item in answer_outputs(answer):
            self.output.append_display_data(item)
        self.status = "done"

    def _fail(self, message: str) -> None:
        self.error = message
        self.status = "error"


def microphone(workspace: Any = None, **kwargs: Any) -> ipywidgets.VBox:
    """A microphone that answers into ``workspace`` (a new default Workspace when None).

    Returns a VBox of the button and the Output where answers appear; the Microphone itself is
    ``box.children[0]``.
    """
    if workspace is None:
        from ..workspace import Workspace

        workspace = Workspace()

    def on_audio(data: bytes, mime: str) -> Answer:
        return workspace.ask_audio(data, **kwargs)

    mic = Microphone(on_audio=on_audio)
    box = ipywidgets.VBox([mic, mic.output])
    box.microphone = mic  # type: ignore[attr-defined]
    return box
