"""IPython magics: thin adapters that parse, call the core, and display."""

from typing import Any

from ..widgets import comm
from .etl import EtlMagics
from .voice import VoiceMagics


def load_ipython_extension(ipython: Any) -> None:
    voice = VoiceMagics(ipython)
    ipython.register_magics(voice)
    ipython.register_magics(EtlMagics(ipython, voice=voice))
    # the JupyterLab toolbar button's kernel end; it transcribes with the magics' workspace
    comm.register(ipython, workspace=voice.workspace)


__all__ = ["EtlMagics", "VoiceMagics", "load_ipython_extension"]
