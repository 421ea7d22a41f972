"""The JupyterLab extension (labextension/, issue 7) and its kernel end (widgets/comm.py).

* the TypeScript unit tests (jest, ``npm test`` in labextension/);
* the ``bivoice`` comm target: in process with a recording comm, and in a real kernel through
  jupyter_client, before and after ``%load_ext bivoice_jupyter``;
* the built wheel installed into a fresh venv: ``jupyter labextension list`` shows it enabled;
* a real browser: JupyterLab with the extension, Chromium's fake microphone playing a question,
  the toolbar button clicked; the new ``%%voice`` cell and its chart appear (out/browser/lab.png).

Needs node, ``make labextension`` (npm ci + build) and, for the browser, Debian ``chromium`` and
``npm ci`` in tests/browser. Under CI=true a missing piece fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from comm.base_comm import BaseComm
from conftest import IN_CI, require_tool
from lab_server import jupyterlab, notebook, request, require_driver, run_driver  # noqa: F401 - a fixture

from bivoice_jupyter.widgets import comm as voice_comm

ROOT = Path(__file__).parents[1]
LABEXT = ROOT / "labextension"
BUILT = ROOT / "bivoice_jupyter" / "labextension"
QUESTION = "what was the total revenue by region"


def _missing(message: str) -> None:
    pytest.fail(message) if IN_CI else pytest.skip(message)


def _require_built() -> None:
    if not (BUILT / "package.json").is_file():
        _missing("the JupyterLab extension is not built: run `make labextension`")


# ------------------------------------------------------------------ TypeScript unit tests


@pytest.mark.slow
def test_typescript_unit_tests() -> None:
    npm = require_tool("npm")
    require_tool("node")
    if not (LABEXT / "node_modules" / "jest").is_dir():
        _missing("the extension's npm packages are not installed: run `make labextension`")
    proc = subprocess.run([npm, "test", "--silent", "--", "--ci"], cwd=LABEXT, capture_output=True, text=True, timeout=300)
    report = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, report
    assert "Tests:" in report and "failed" not in report.split("Tests:")[1].splitlines()[0], report


# ------------------------------------------------------------------ the comm, in process


class RecordingComm(BaseComm):
    """A comm whose messages to the browser are kept instead of published (no kernel here)."""

    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        super().__init__(target_name=voice_comm.TARGET, primary=False, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any) -> None:
        if msg_type == "comm_msg":
            self.sent.append(data)


def _message(data: Any, buffers: list[bytes] | None = None) -> dict[str, Any]:
    return {"content": {"comm_id": "x", "data": data}, "buffers": buffers or []}


@pytest.fixture
def voice(ws):
    comm = RecordingComm()
    voice_comm.VoiceComm(comm, workspace=lambda: ws)
    return comm


def test_comm_greets_with_its_version(voice) -> None:
    import bivoice_jupyter

    assert voice.sent == [{"type": "ready", "version": bivoice_jupyter.__version__}]


@pytest.mark.parametrize(("data", "buffers", "message"), [
    ({"type": "audio", "mime": "audio/webm", "size": 0}, [], "The browser sent no audio."),
    ({"type": "text", "text": "total revenue"}, [], "Unknown message 'text'"),
    ("not a dict", [], "Unknown message None"),
    ({"type": "audio", "mime": "audio/webm"}, [b"\x1aE\xdf\xa3 definitely not webm"], "could not be decoded"),
], ids=["no-buffer", "text-message", "not-a-dict", "corrupt-audio"])
def test_comm_bad_messages_are_answered_with_an_error(voice, data, buffers, message) -> None:
    voice.handle_msg(_message(data, buffers))
    reply = voice.sent[-1]
    assert reply["type"] == "error" and message in reply["message"], reply


@pytest.mark.speech
def test_comm_silence_is_heard_as_nothing(voice, tmp_path: Path) -> None:
    sox = require_tool("sox")
    wav = tmp_path / "silence.wav"
    subprocess.run([sox, "-n", "-r", "16000", "-c", "1", "-b", "16", str(wav), "trim", "0", "1.5"], check=True)
    voice.handle_msg(_message({"type": "audio", "mime": "audio/wav"}, [wav.read_bytes()]))
    assert voice.sent[-2:] == [{"type": "status", "status": "transcribing"},
                               {"type": "error", "message": voice_comm.HEARD_NOTHING}]


def test_comm_needs_a_kernel(ip) -> None:
    # the in-process test shell has no kernel: the magics work, only the toolbar's target is absent
    assert voice_comm.register(ip, workspace=lambda: None) is False


# ------------------------------------------------------------------ the comm, in a real kernel


def _comm_replies(kc: Any, comm_id: str, until: set[str], timeout: float = 60) -> list[dict[str, Any]]:
    """iopub comm messages for ``comm_id`` until one whose data type (or comm_close) is in ``until``."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:  # queue.Empty: nothing yet
            continue
        if msg["msg_type"] not in ("comm_msg", "comm_close") or msg["content"].get("comm_id") != comm_id:
            continue
        data = {"type": "comm_close"} if msg["msg_type"] == "comm_close" else msg["content"]["data"]
        seen.append(data)
        if data.get("type") in until:
            return seen
    raise AssertionError(f"no {until} from the kernel within {timeout} s; saw {seen}")


def _open(kc: Any) -> str:
    comm_id = uuid.uuid4().hex
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "bivoice", "data": {}}))
    return comm_id


@pytest.mark.speech
@pytest.mark.slow
def test_comm_in_a_real_kernel(speak, tmp_path: Path) -> None:
    """What the toolbar button does, minus the browser: a kernel without the extension closes the
    comm (the button then offers %load_ext); after it, a recording comes back as its transcript,
    and the %%voice cell run next reports planning and querying on the comm."""
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "BIVOICE_HOME": str(tmp_path / "home"), "BIVOICE_DEVICE": "cpu"}
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        assert _comm_replies(kc, _open(kc), {"comm_close"}) == [{"type": "comm_close"}]
        reply = kc.execute_interactive("%load_ext bivoice_jupyter", timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        comm_id = _open(kc)
        ready = _comm_replies(kc, comm_id, {"ready", "comm_close"})
        assert ready[-1]["type"] == "ready", ready
        audio = speak(QUESTION).read_bytes()
        msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"type": "audio", "mime": "audio/wav", "size": len(audio)}})
        kc.session.send(kc.shell_channel.socket, msg, buffers=[audio])
        replies = _comm_replies(kc, comm_id, {"transcript", "error"})
        assert replies[0] == {"type": "status", "status": "transcribing"}, replies
        assert replies[-1]["type"] == "transcript", replies
        words = replies[-1]["text"].lower()
        assert "revenue" in words and "region" in words, replies
        assert replies[-1]["duration_s"] > 1 and replies[-1]["seconds"] > 0
        # the %%voice cell the button then runs reports its stages to the toolbar, on the same comm
        setup = ("from bivoice_jupyter import Workspace\nfrom bivoice_jupyter.demo import sales_frame\n"
                 "Workspace().load(sales_frame(), table='sales', if_exists='replace');")
        assert kc.execute_interactive(setup, timeout=120)["content"]["status"] == "ok"
        seen: list[dict[str, Any]] = []  # execute_interactive reads iopub itself: the comm's messages come here

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "comm_msg" and msg["content"].get("comm_id") == comm_id:
                seen.append(msg["content"]["data"])

        reply = kc.execute_interactive("%%voice\ntotal revenue by region", timeout=120, output_hook=hook)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert seen == [{"type": "status", "status": "planning"}, {"type": "status", "status": "querying"}], seen
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# ------------------------------------------------------------------ the wheel


@pytest.mark.slow
def test_built_wheel_installs_the_extension_enabled(tmp_path: Path) -> None:
    """`pip install` of the built wheel (with its `lab` extra) in a fresh venv: JupyterLab there
    lists the extension enabled, from that venv's share/jupyter (pip's cache makes this ~1.5 min)."""
    _require_built()
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("bivoice_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = "bivoice_jupyter-0.1.0.data/data/share/jupyter/labextensions/bivoice-jupyter/"
    for part in ("package.json", "install.json", "schemas/bivoice-jupyter/plugin.json"):
        assert data + part in names, names
    assert any(n.startswith(data + "static/remoteEntry.") for n in names)
    assert not any(n.startswith("bivoice_jupyter/labextension/") for n in names)  # data, not a module

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "VIRTUAL_ENV")}
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "user-data")  # no user-level extensions
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          "--no-compile", f"{wheel}[lab]"], capture_output=True, text=True, env=env, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    listed = subprocess.run([str(venv / "bin" / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                            env={**env, "NO_COLOR": "1"}, timeout=120)
    text = (listed.stdout + listed.stderr).replace("\x1b[32m", "").replace("\x1b[0m", "")
    line = next((ln for ln in text.splitlines() if "bivoice-jupyter" in ln), "")
    assert "enabled" in line and "OK" in line and "(python, bivoice-jupyter)" in line, text
    assert str(venv / "share" / "jupyter" / "labextensions") in text, text
    assert (venv / "share" / "jupyter" / "labextensions" / "bivoice-jupyter" / "static").is_dir()


# ------------------------------------------------------------------ a real browser

SETUP = """\
from bivoice_jupyter import Workspace
from bivoice_jupyter.demo import sales_frame
Workspace().load(sales_frame(), table="sales", if_exists="replace");"""


@pytest.mark.browser
@pytest.mark.speech
@pytest.mark.slow
def test_toolbar_button_asks_by_voice(jupyterlab, speak, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    node = require_tool("node")
    require_driver()
    _require_built()
    base, token, _root = jupyterlab
    settings = json.loads(request(f"{base}/lab/api/settings/bivoice-jupyter:plugin", token))
    assert {"speechModel", "limit", "planner", "maxSeconds"} <= set(settings["schema"]["properties"])
    wav = speak(QUESTION)
    seconds = wav.stat().st_size / (16_000 * 2)  # 16 kHz, 16-bit mono
    request(f"{base}/api/contents/lab.ipynb", token, "PUT", notebook([SETUP]))
    out = ROOT / "out" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    screenshot = out / "lab.png"
    options = {"base": base, "token": token, "notebook": "lab.ipynb", "wav": str(wav.resolve()),
               "speechSeconds": seconds, "screenshot": str(screenshot), "chromium": chromium}
    started = time.monotonic()
    result = run_driver(node, "lab.mjs", options)
    shutil.copy(screenshot, tmp_path / "lab.png") if screenshot.exists() else None
    report = json.dumps(result, indent=1)[:5000]
    assert result.get("secureContext") is True, report
    assert result["command"]["label"] == "Ask by voice" and result["command"]["keys"] == ["Alt V"], report
    assert "Load bivoice-jupyter" in (result.get("dialog") or ""), report
    assert result["ok"], report
    assert result["statusBar"] == "Voice: listening\u2026", report
    # after Stop (listening is above); the cell's planning and querying can pass between two looks
    assert {"transcribing", "done"} <= set(result["seen"]) and {"planning", "querying"} & set(result["seen"]), report
    # below the setup cell: the %load_ext the button offered, then the %%voice cell it ran
    setup, load, voice = result["sources"][:3]
    assert setup == SETUP and load == "%load_ext bivoice_jupyter", report
    assert voice.startswith("%%voice\n") and "revenue" in voice.lower() and "region" in voice.lower(), report
    assert "revenue" in result["chartTitle"].lower(), report
    assert screenshot.stat().st_size > 10_000
    assert time.monotonic() - started < 150, report
