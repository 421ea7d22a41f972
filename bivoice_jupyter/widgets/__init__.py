"""The anywidget microphone (``%voice`` and :func:`bivoice_jupyter.microphone`), and answers from
an ipywebrtc AudioRecorder (``%voice --recorder VAR``)."""

from .microphone import Microphone, microphone
from .recorder import RecorderAnswers, recorder_answers

__all__ = ["Microphone", "RecorderAnswers", "microphone", "recorder_answers"]
