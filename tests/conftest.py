"""Shared fixtures. chDB opens one data directory per process, so the whole test session uses
one: a fresh ``BIVOICE_HOME`` made before anything opens a Workspace."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ.pop("BIVOICE_DSN", None)
os.environ["BIVOICE_HOME"] = tempfile.mkdtemp(prefix="bivoice-test-")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FIXTURES = Path(__file__).parent / "fixtures"


def require_tool(name: str) -> str:
    """The path of a command-line tool; under CI a missing tool fails the test, else skips."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def webm_opus(wav: Path) -> bytes:
    """Re-encode a WAV as webm/opus, the container Chromium's MediaRecorder sends."""
    import av

    out = io.BytesIO()
    with av.open(str(wav)) as src, av.open(out, mode="w", format="webm") as dst:
        stream = dst.add_stream("libopus", rate=48_000)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


@pytest.fixture(scope="session")
def bivoice_home() -> Path:
    return Path(os.environ["BIVOICE_HOME"])


@pytest.fixture(scope="session")
def ws(bivoice_home: Path):
    """The session's Workspace on embedded chDB, with the demo ``sales`` table (20,000 orders)."""
    from bivoice_jupyter import Workspace
    from bivoice_jupyter.demo import sales_frame

    workspace = Workspace()
    workspace.load(sales_frame(), table="sales", if_exists="replace")
    return workspace


def _module_name(request: pytest.FixtureRequest) -> str:
    """``test_etl_files.py`` -> ``etl_files``."""
    return request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture(scope="module")
def etl(ws, request: pytest.FixtureRequest):  # noqa: ARG001 - ws opens the session's chDB first
    """A Workspace on a database of the test module's own (``test_etl_files.py``: ``etl_files``)."""
    from bivoice_jupyter import Workspace

    return Workspace(database=_module_name(request))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A folder of the test module's own for the files it writes."""
    return tmp_path_factory.mktemp(_module_name(request).replace("_", "-"))


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory):
    """``speak(text) -> Path``: a 16 kHz mono WAV of ``text`` spoken by espeak-ng."""
    espeak = require_tool("espeak-ng")
    sox = require_tool("sox")
    folder = tmp_path_factory.mktemp("speech")
    made: dict[str, Path] = {}

    def _speak(text: str) -> Path:
        if text not in made:
            raw = folder / f"raw{len(made)}.wav"
            out = folder / f"q{len(made)}.wav"
            subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
            subprocess.run([sox, str(raw), "-r", "16000", "-c", "1", str(out), "pad", "0.3", "0.5"], check=True)
            made[text] = out
        return made[text]

    return _speak


@pytest.fixture(scope="session")
def ip(ws):  # noqa: ARG001 - ws opens the session's chDB and loads the demo table first
    """The one in-process IPython shell, with the extension loaded; failures re-raise through
    ``run_cell(...).raise_error()``. IPython hands its global test shell out once, so every
    module shares this fixture instead of calling ``start_ipython()`` itself."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing import globalipapp

    # a widget made before this fixture (an Output widget asks for get_ipython()) may already
    # have made the process's one plain InteractiveShell: use it, a second kind cannot be made
    if InteractiveShell.initialized():
        shell = InteractiveShell.instance()
    else:
        shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    shell.run_line_magic("load_ext", "bivoice_jupyter")
    return shell
