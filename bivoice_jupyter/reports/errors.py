"""The report errors: children of :class:`~bivoice_jupyter.errors.BivoiceError` (one tree;
they live here beside the code that raises them)."""

from __future__ import annotations

from pathlib import Path

from ..errors import BivoiceError


class ReportError(BivoiceError):
    """A report cannot run: an unknown template, a bad profile, a path that cannot be written."""


class ParameterError(ReportError):
    """A report parameter is not declared by the template, has the wrong type, or is a secret."""


class DeliveryError(ReportError):
    """The report was written, but the email could not be sent (SMTP refused or unreachable)."""


class ReportFailed(ReportError):
    """A cell of the report failed; ``output`` is the executed notebook, with the error in place."""

    def __init__(self, message: str, *, output: Path | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.output = output
