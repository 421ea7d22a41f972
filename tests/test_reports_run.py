"""`bivoice report run` end to end: real kernels through papermill, a real SMTP server on
127.0.0.1 (aiosmtpd), and the weekly template replaying its frozen answers with new dates.

Each run is a `bivoice` process with its own BIVOICE_HOME (chDB: one data folder per process;
this test process may hold the session's)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
WEEKLY = REPO / "notebooks" / "weekly_sales.ipynb"
PROFILE_SECRET = "pr0file-s3cret"
SMTP_SECRET = "smtp-s3cret-pw"


def bivoice(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "BIVOICE_HOME": str(home), **(env or {})}
    for key in ("BIVOICE_DSN", "BIVOICE_SMTP_HOST", "BIVOICE_PROFILES"):
        if key not in (env or {}):
            full.pop(key, None)
    return subprocess.run([sys.executable, "-m", "bivoice_jupyter.cli", "report", *args], capture_output=True,
                          text=True, env=full, timeout=300, cwd=home)


def run_here(monkeypatch, home: Path, template: Path, parameters: dict | None = None, *, env: dict | None = None,
             **options):
    """``reports.run`` in this process (papermill is imported once); its kernel gets ``home``
    and ``env`` (it inherits this process's environment)."""
    from bivoice_jupyter.reports.runner import run

    for key in ("BIVOICE_DSN", "BIVOICE_PROFILES", "BIVOICE_SMTP_HOST"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {"BIVOICE_HOME": str(home), **(env or {})}.items():
        monkeypatch.setenv(key, value)
    return run(template, parameters, **options)


def answers(path: Path) -> dict[str, dict]:
    """question -> its frozen answer, from the executed notebook's cell metadata."""
    nb = nbformat.read(path, as_version=4)
    return {a["question"]: a for c in nb.cells for a in c.metadata.get("bivoice", {}).get("answers", [])}


def expected_revenue(start: str, end: str, regions: list[str]) -> float:
    from bivoice_jupyter.demo import sales_frame

    df = sales_frame()
    keep = (df.order_date >= start) & (df.order_date < end) & df.region.isin(regions)
    return round(float(df[keep].revenue.sum()), 2)


class Inbox:
    def __init__(self, refuse: bool = False) -> None:
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802, ANN001
        if self.refuse:
            return "550 5.7.1 relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def smtp():
    """start(refuse=False) -> (inbox, the BIVOICE_SMTP_* environment that reaches it)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, data):  # noqa: ANN001
        ok = isinstance(data, LoginPassword) and data.password == SMTP_SECRET.encode()
        return AuthResult(success=ok, handled=False)

    controllers = []

    def start(refuse: bool = False) -> tuple[Inbox, dict[str, str]]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        inbox = Inbox(refuse)
        ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
        ctl.start()
        controllers.append(ctl)
        return inbox, {"BIVOICE_SMTP_HOST": "127.0.0.1", "BIVOICE_SMTP_PORT": str(port), "BIVOICE_SMTP_TLS": "none",
                       "BIVOICE_SMTP_USER": "reports", "BIVOICE_SMTP_PASSWORD": SMTP_SECRET,
                       "BIVOICE_SMTP_FROM": "reports@example.org"}

    yield start
    for ctl in controllers:
        ctl.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-home")


@pytest.fixture(scope="module")
def weekly(home: Path, smtp) -> tuple[subprocess.CompletedProcess, Path, Inbox]:
    """The weekly report with its own parameters, to a page, emailed; a secret in the environment."""
    inbox, env = smtp()
    out = home / "out"
    result = bivoice(home, "run", str(WEEKLY), "-o", str(out / "weekly-{date}.ipynb"), "--html", str(out / "weekly.html"),
                     "--email", "boss@example.org", "--hide-code", env={**env, "WAREHOUSE_PASSWORD": PROFILE_SECRET})
    return result, out, inbox


def test_weekly_report_runs_and_replays(weekly) -> None:
    result, out, _ = weekly
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(5 answers, 5 replayed)" in result.stdout
    (notebook,) = out.glob("weekly-*.ipynb")
    found = answers(notebook)
    assert len(found) == 5 and all(a["replayed"] for a in found.values())
    expected = expected_revenue("2024-12-02", "2024-12-09", ["Europe", "North America", "Asia Pacific", "Latin America"])
    assert found["total revenue"]["summary"] == f"total_revenue: {expected:,.2f}."


def test_page_is_self_contained_with_every_chart(weekly) -> None:
    page = (weekly[1] / "weekly.html").read_text(encoding="utf-8")
    assert page.count("* plotly.js v") == 1 and page.count("Plotly.newPlot(") == 5
    assert "<title>Weekly sales</title>" in page and "%%voice --out" not in page  # --hide-code
    assert "each question replays the intent stored in the notebook" in page


def test_email_carries_the_report(weekly) -> None:
    _, out, inbox = weekly
    (msg,) = inbox.messages
    assert msg["To"] == "boss@example.org" and msg["Subject"] == "Weekly sales (2024-12-02 to 2024-12-08)"
    text = msg.get_body(("plain",)).get_content()
    expected = expected_revenue("2024-12-02", "2024-12-09", ["Europe", "North America", "Asia Pacific", "Latin America"])
    assert "total revenue" in text and f"{expected:,.2f}" in text
    assert f"{expected:,.2f}" in msg.get_body(("html",)).get_content()
    (page,) = list(msg.iter_attachments())
    assert page.get_filename() == "weekly.html"
    assert page.get_content() == (out / "weekly.html").read_text(encoding="utf-8")


def test_no_secret_reaches_the_outputs(weekly) -> None:
    _, out, _ = weekly
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert SMTP_SECRET not in text and PROFILE_SECRET not in text, path


def test_changed_dates_and_regions_give_their_own_numbers(home: Path, weekly, monkeypatch) -> None:  # noqa: ARG001
    out = home / "june.ipynb"
    result = run_here(monkeypatch, home, WEEKLY, {"start": "2024-06-03", "end": "2024-06-10",
                                                  "regions": '["Europe", "Latin America"]'}, output=out)
    assert result.replayed == result.answers == 5
    found = answers(out)
    expected = expected_revenue("2024-06-03", "2024-06-10", ["Europe", "Latin America"])
    assert found["total revenue"]["summary"] == f"total_revenue: {expected:,.2f}."
    by_region = found["total revenue by region"]
    assert "'2024-06-03'" in by_region["sql"] and "'Europe', 'Latin America'" in by_region["sql"]
    assert by_region["summary"].startswith("2 rows;") and all(a["replayed"] for a in found.values())
    assert found["revenue by day"]["summary"].startswith("7 rows;")


# ------------------------------------------------------------------ bad input


def _tiny(path: Path, *sources: str) -> Path:
    cells = [new_code_cell('who = "world"  # type: str', metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The command's side of test_reports.py::test_bad_input_fails_before_anything_runs."""
    result = bivoice(tmp_path, "run", str(WEEKLY), "-p", "stat", "2024-01-01", "-o", str(tmp_path / "out" / "r.ipynb"))
    assert result.returncode == 2 and result.stdout.count("\n") <= 1
    assert result.stderr.startswith("error: The template has no parameter 'stat'") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_failing_cell_leaves_the_notebook_with_the_error(tmp_path: Path, monkeypatch) -> None:
    from bivoice_jupyter.reports.errors import ReportFailed

    template = _tiny(tmp_path / "t.ipynb", "print(f'hello {who}')", "raise ValueError('the data is late')", "never = 1")
    with pytest.raises(ReportFailed, match="failed: ValueError: the data is late") as failed:
        run_here(monkeypatch, tmp_path, template, {"who": "reports"}, output=tmp_path / "r.ipynb",
                 html=tmp_path / "r.html")
    assert failed.value.output == tmp_path / "r.ipynb"
    nb = nbformat.read(tmp_path / "r.ipynb", as_version=4)
    assert [o.ename for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"] == ["ValueError"]
    assert "hello reports" in json.dumps(nb.cells[3].outputs)  # the injected parameter was used
    assert not (tmp_path / "r.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ipynb", "t.ipynb"]  # no temporary files left


def test_unreachable_workspace(tmp_path: Path, monkeypatch) -> None:
    from bivoice_jupyter.reports.errors import ReportFailed

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(f'[profiles.far]\ndsn = "http://reporter@127.0.0.1:{port}"\npassword_env = "FAR_PASSWORD"\n')
    env = {"BIVOICE_PROFILES": str(profiles), "FAR_PASSWORD": PROFILE_SECRET}
    with pytest.raises(ReportFailed, match=f"failed: WorkspaceError: Could not connect .*127.0.0.1:{port}") as failed:
        run_here(monkeypatch, tmp_path, WEEKLY, {"profile": "far"}, env=env, output=tmp_path / "r.ipynb")
    assert PROFILE_SECRET not in str(failed.value)
    assert PROFILE_SECRET not in (tmp_path / "r.ipynb").read_text(encoding="utf-8")


def test_smtp_refusal_fails_after_writing_the_report(tmp_path: Path, smtp, monkeypatch) -> None:
    from bivoice_jupyter.reports.errors import DeliveryError

    _, env = smtp(refuse=True)
    template = _tiny(tmp_path / "t.ipynb", "import os\nprint(os.environ.get('REPORT_API_TOKEN'))")
    with pytest.raises(DeliveryError, match="refused the recipients .*550"):
        run_here(monkeypatch, tmp_path, template, env={**env, "REPORT_API_TOKEN": "tok-123456789"},
                 output=tmp_path / "r.ipynb", html=tmp_path / "r.html", email=["nobody@example.org"])
    assert (tmp_path / "r.ipynb").exists() and (tmp_path / "r.html").exists()
    # a cell printed a secret from the environment: its value is gone from the outputs
    for name in ("r.ipynb", "r.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "tok-123456789" not in text and "[$REPORT_API_TOKEN removed]" in text


def test_kernel_reads_the_cell_id_jupyterlab_sends(tmp_path: Path, monkeypatch) -> None:
    """JupyterLab sends ``cellId`` in the execute request's metadata and the magic reads it;
    jupyter_client's ``execute`` (so nbclient and papermill) sends none, hence the runner's
    lookup by the magic's own words."""
    from jupyter_client.manager import start_new_kernel

    from bivoice_jupyter.reports.runner import kernel_path

    monkeypatch.setenv("JUPYTER_PATH", kernel_path(tmp_path / "kernels"))
    monkeypatch.setenv("BIVOICE_HOME", str(tmp_path))
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def said(code: str, metadata: dict) -> str:
            content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                       "allow_stdin": False, "stop_on_error": True}
            msg = kc.session.msg("execute_request", content, metadata=metadata)
            kc.shell_channel.send(msg)
            text = []
            while True:
                reply = kc.get_iopub_msg(timeout=60)
                if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                    continue
                if reply["msg_type"] in ("stream", "error"):
                    text.append(reply["content"].get("text") or reply["content"].get("evalue", ""))
                if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
                    return "".join(text).strip()

        said("%load_ext bivoice_jupyter", {})
        ask = "print(get_ipython().find_magic('voice').__self__._cell_id())"
        assert said(ask, {"cellId": "cell-from-lab"}) == "cell-from-lab"
        assert said(ask, {}) == "None"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
