"""IPython magics: thin adapters that parse, call the core, and display."""

from typing import Any

from .voice import VoiceMagics


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(VoiceMagics)


__all__ = ["VoiceMagics", "load_ipython_extension"]
