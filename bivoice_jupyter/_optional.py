"""Import of an optional library, with an error that names the pip extra.

A missing library raises :class:`MissingExtraError`; a library that is installed but fails to
import (a broken CUDA library, say) re-raises as :class:`BivoiceError` with the real cause, so
the two are never confused.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import BivoiceError, MissingExtraError


def import_extra(module: str, extra: str, *, package: str | None = None) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        root = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] == root:
            raise MissingExtraError(package or root, extra) from exc
        raise BivoiceError(
            f"{module} is installed but one of its own dependencies is missing: {exc}",
            hint=f"reinstall with pip install --force-reinstall 'bivoice-jupyter[{extra}]'",
        ) from exc
    except ImportError as exc:
        raise BivoiceError(
            f"{module} is installed but failed to load: {exc}",
            hint="check the library's shared libraries (CUDA, cuDNN) or reinstall it",
        ) from exc
