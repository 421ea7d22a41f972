"""The anywidget microphone (``%voice`` and :func:`bivoice_jupyter.microphone`)."""

from .microphone import Microphone, microphone

__all__ = ["Microphone", "microphone"]
