"""The kernel end of the JupyterLab extension (``labextension/``): the ``bivoice`` comm target.

``%load_ext bivoice_jupyter`` registers it. The extension opens a comm to it to learn that the
extension is loaded (the kernel answers ``{"type": "ready", "version": ...}``; a kernel without
the target closes the comm at once, and the toolbar button offers to load it), then sends each
recording in the microphone widget's message shape (:mod:`.messages`):
``{"type": "audio", "mime": ..., "size": n, "model": optional speech model}`` with the audio as
the only binary buffer. The kernel replies, on the same comm:

* ``{"type": "status", "status": "transcribing"}`` as it starts (and ``planning`` /
  ``querying`` later, from the ``%%voice`` cell the browser runs: :func:`announce`);
* ``{"type": "transcript", "text": ..., "language": ..., "duration_s": s, "seconds": s}``;
* or ``{"type": "error", "message": ...}`` (a bad message, undecodable audio, silence).

The browser then writes ``%%voice`` + the transcript into a new cell and runs it, so the answer
renders (and is frozen for reports) exactly as the magic renders it. Nothing here waits in a
cell: the work happens in the message handler, like the widget's.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from ..errors import BivoiceError
from ..models import HEARD_NOTHING, Transcript
from .messages import kind, read_audio

log = logging.getLogger(__name__)
TARGET = "bivoice"
WorkspaceFactory = Callable[[], Any]  # () -> Workspace


class VoiceComm:
    """Answers one comm's messages with transcripts from ``workspace()``'s speech model."""

    def __init__(self, comm: Any, workspace: WorkspaceFactory) -> None:
        self.comm = comm
        self._workspace = workspace
        comm.on_msg(self._receive)
        comm.on_close(lambda _msg: _OPEN.discard(self))
        _OPEN.add(self)
        # the installed distribution's version (the package root would import the magics)
        comm.send({"type": "ready", "version": version("bivoice-jupyter")})

    def _receive(self, msg: dict[str, Any]) -> None:
        content = msg.get("content", {}).get("data")
        buffers = msg.get("buffers") or []
        try:
            if kind(content) != "audio":
                raise BivoiceError(f"Unknown message {kind(content)!r}: this kernel answers only 'audio' messages.",
                                   hint="update bivoice-jupyter in the kernel, or the JupyterLab extension, to the same version")
            data, mime = read_audio(content, buffers)
            self.comm.send({"type": "status", "status": "transcribing"})
            transcript = self.transcribe(data, model=str(content.get("model") or "") or None)
        except BivoiceError as exc:
            self.comm.send({"type": "error", "message": str(exc)})
            return
        except Exception as exc:
            self.comm.send({"type": "error", "message": f"internal error: {type(exc).__name__}: {exc}"})
            raise  # unexpected: also into the kernel log, never swallowed
        if not transcript.text.strip():
            self.comm.send({"type": "error", "message": HEARD_NOTHING})
            return
        self.comm.send({"type": "transcript", "text": transcript.text.strip(), "language": transcript.language,
                        "duration_s": transcript.duration_s, "seconds": transcript.seconds})

    def transcribe(self, data: bytes, model: str | None = None) -> Transcript:
        """The recording's words (the reading that fits the workspace's tables), with the
        workspace's model unless the browser names one."""
        return self._workspace().transcribe(data, model=model)


_OPEN: weakref.WeakSet[VoiceComm] = weakref.WeakSet()


def announce(stage: str) -> None:
    """Tell every open extension comm that the running ``%%voice`` cell reached ``stage``
    (``planning``, ``querying``): the toolbar's status follows the cell the button ran."""
    for voice in list(_OPEN):
        try:
            voice.comm.send({"type": "status", "status": stage})
        except Exception:  # a comm whose kernel side is gone: forget it, the answer matters more
            log.debug("dropping a closed bivoice comm", exc_info=True)
            _OPEN.discard(voice)


def is_open() -> bool:
    """Whether the JupyterLab extension has a comm open in this kernel."""
    return bool(_OPEN)


def register(ipython: Any, workspace: WorkspaceFactory) -> bool:
    """Register the ``bivoice`` comm target in ``ipython``'s kernel; False where there is no
    kernel (a terminal IPython): the magics still work, only the JupyterLab button needs it."""
    kernel = getattr(ipython, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False
    manager.register_target(TARGET, lambda comm, _open_msg: VoiceComm(comm, workspace))
    return True
