"""The microphone: an anywidget that records in the browser and sends the audio to the kernel.

Messages from the browser (``model.send``):

* ``{"type": "audio", "mime": ..., "size": n}`` with the recording (webm/opus from
  MediaRecorder) as its only binary buffer: transcribe, show the transcript, answer;
* ``{"type": "text", "text": ...}``: the transcript as corrected by hand: answer it as typed.

The kernel answers inside the message handler and shows the answer in an Output widget under
the microphone; status (``transcribing``, ``planning``, ``done``, ``error``; the browser sets
``listening``), transcript and errors travel back as widget state. Nothing ever waits in a cell.
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
from ..models import Answer, Transcript
from .messages import kind, read_audio, read_text

log = logging.getLogger(__name__)
Heard = Callable[[Transcript], None]
AudioHandler = Callable[[bytes, str, Heard], Answer]  # (audio, mime, heard) -> Answer
TextHandler = Callable[[str], Answer]


class Microphone(anywidget.AnyWidget):
    """Record / stop (or hold to talk), level meter, status line and an editable transcript.

    ``on_audio(data, mime, heard)`` answers a recording and calls ``heard(transcript)`` as soon
    as it knows the words; ``on_text(text)`` answers a corrected transcript.
    """

    _esm = Path(__file__).with_name("microphone.js")
    _css = Path(__file__).with_name("microphone.css")

    status = traitlets.Unicode("idle").tag(sync=True)  # idle, listening, transcribing, planning, querying, done, error
    transcript = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    answer_text = traitlets.Unicode("").tag(sync=True)
    max_seconds = traitlets.Float(30.0).tag(sync=True)  # seconds: the browser stops recording after this
    hold_key = traitlets.Unicode(" ").tag(sync=True)  # KeyboardEvent.key or .code held to talk while focused

    def __init__(self, on_audio: AudioHandler | None = None, on_text: TextHandler | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_audio = on_audio
        self._on_text = on_text
        self.output = ipywidgets.Output()
        self.last_answer: Answer | None = None
        self.on_msg(self._receive)  # never name a method _handle_msg: it replaces ipywidgets' own

    def _receive(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        # the message shapes are shared with the JupyterLab extension's comm (messages.py)
        try:
            if kind(content) == "audio":
                self._audio(*read_audio(content, buffers))
            elif kind(content) == "text":
                self._text(read_text(content))
            # messages of other kinds belong to other features
        except BivoiceError as exc:
            self._fail(str(exc))

    def _audio(self, data: bytes, mime: str) -> None:
        self.error = ""
        self.transcript = ""
        self.status = "transcribing"
        if self._on_audio is None:
            self._fail("No workspace is attached to this microphone.")
            return
        self._answer(lambda: self._on_audio(data, mime, self._heard))  # type: ignore[misc]

    def _heard(self, transcript: Transcript) -> None:
        # shown before the answer: the person can read it (and fix it) while planning runs
        self.transcript = transcript.text
        self.status = "planning"

    def _text(self, text: str) -> None:
        if self._on_text is None:
            self._fail("No workspace is attached to this microphone.")
            return
        self.error = ""
        self.transcript = text
        self.status = "planning"
        self._answer(lambda: self._on_text(text))  # type: ignore[misc]

    def _answer(self, ask: Callable[[], Answer]) -> None:
        try:
            answer = ask()
        except BivoiceError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            self._fail(f"internal error: {type(exc).__name__}: {exc}")
            raise  # unexpected: also into the kernel log, never swallowed
        self.last_answer = answer
        heard = answer.transcript.text if answer.transcript else answer.question
        self.transcript = heard or self.transcript
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

    ``kwargs`` go to ``Workspace.ask_audio`` and ``Workspace.ask`` (``limit``, ``chart``, ...).
    Returns a VBox of the microphone and the Output where answers appear; the Microphone itself
    is ``box.children[0]`` (also ``box.microphone``).
    """
    if workspace is None:
        from ..workspace import Workspace

        workspace = Workspace()

    def stage(name: str) -> None:  # planning, then querying: the status line follows
        mic.status = name

    def on_audio(data: bytes, mime: str, heard: Heard) -> Answer:
        return workspace.ask_audio(data, on_transcript=heard, on_stage=stage, **kwargs)

    def on_text(text: str) -> Answer:
        return workspace.ask(text, on_stage=stage, **kwargs)

    mic = Microphone(on_audio=on_audio, on_text=on_text)
    box = ipywidgets.VBox([mic, mic.output])
    box.microphone = mic  # type: ignore[attr-defined]
    return box
