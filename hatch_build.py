"""Wheel build hook: the JupyterLab extension ships prebuilt in the wheel (share/jupyter/
labextensions/bivoice-jupyter, from pyproject's shared-data), so users need no node. Building a
wheel without it would ship a package whose toolbar button silently never appears: refuse.
Editable installs (`make demo`, no node) go on without it; `make labextension` builds it and
links it into the environment (`jupyter labextension develop`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = Path("bivoice_jupyter") / "labextension" / "package.json"


class LabExtensionHook(BuildHookInterface):
    PLUGIN_NAME = "labextension"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if not (Path(self.root) / BUILT).is_file():
            raise RuntimeError(
                f"The JupyterLab extension is not built ({BUILT} is missing), and the wheel must carry it. "
                "Build it first with `make labextension` (needs node >= 20 and npm), then build the wheel again."
            )
