"""Answers from an ipywebrtc ``AudioRecorder`` (``%voice --recorder VAR``).

ipywebrtc 0.6 (its last release, 2021) still records in JupyterLab 4.6 and Notebook 7. Its
recorder puts each finished recording (webm/opus bytes) in ``recorder.audio.value``; we observe
that value and answer in the observer, as the microphone answers in its message handler: no
cell ever waits for audio. ipywebrtc itself is not imported here: any widget with an ``audio``
child whose ``value`` holds the recorded bytes works.
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from ..display import answer_outputs
from ..errors import BivoiceError
from ..models import Answer


class RecorderAnswers(ipywidgets.VBox):
    """The recorder, a status line and an Output with the answer to each recording."""

    def __init__(self, recorder: Any, workspace: Any, **kwargs: Any) -> None:
        audio = getattr(recorder, "audio", None)
        if audio is None or not hasattr(audio, "observe") or not hasattr(audio, "value"):
            raise BivoiceError(
                f"{type(recorder).__name__} is not an audio recorder widget (it has no .audio with a value).",
                hint="pass an ipywebrtc AudioRecorder: AudioRecorder(stream=CameraStream(constraints={'audio': True, 'video': False}))",
            )
        self.recorder = recorder
        self.workspace = workspace
        self.options = kwargs
        self.status = ipywidgets.HTML("")
        self.output = ipywidgets.Output()
        self.last_answer: Answer | None = None
        audio.observe(self._recorded, "value")
        super().__init__([recorder, self.status, self.output])

    def _recorded(self, change: dict[str, Any]) -> None:
        data = bytes(change["new"] or b"")
        if not data:
            return  # cleared, not recorded
        self.answer(data)

    def answer(self, data: bytes) -> Answer | None:
        """Answer one recording (what the observer does when the recorder stops)."""
        self._say("transcribing\u2026")
        try:
            answer = self.workspace.ask_audio(data, on_transcript=lambda t: self._say(f"planning: \u201c{_escape(t.text)}\u201d"),
                                              **self.options)
        except BivoiceError as exc:
            self._say(_escape(str(exc)), error=True)
            return None
        self.last_answer = answer
        heard = answer.transcript.text if answer.transcript else answer.question
        self._say(f"\u201c{_escape(heard)}\u201d" if heard else _escape(answer.text))
        self.output.clear_output()
        for item in answer_outputs(answer):
            self.output.append_display_data(item)
        return answer

    def _say(self, html: str, error: bool = False) -> None:
        style = "color:#d93025" if error else "color:#555;font-style:italic"
        self.status.value = f'<span class="bivoice-recorder-status" style="{style}">{html}</span>'


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def recorder_answers(recorder: Any, workspace: Any, **kwargs: Any) -> RecorderAnswers:
    """Answer into ``workspace`` whatever ``recorder`` (an ipywebrtc AudioRecorder) records.
    ``kwargs`` go to ``Workspace.ask_audio`` (``limit``, ``chart``, ...)."""
    return RecorderAnswers(recorder, workspace, **kwargs)
