"""Reports without a kernel: parameters, scope, frozen answers in the magic, schedules, SMTP
delivery (a real aiosmtpd server on 127.0.0.1), profiles and atomic writes. The runs in real
kernels are in test_reports_run.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from bivoice_jupyter.errors import BivoiceError
from bivoice_jupyter.models import Filter, Intent, Measure, TimeRange
from bivoice_jupyter.reports import frozen as fz
from bivoice_jupyter.reports import schedule as sch
from bivoice_jupyter.reports.delivery import SMTPSettings, build_message, send
from bivoice_jupyter.reports.errors import DeliveryError, ParameterError, ReportError
from bivoice_jupyter.reports.export import atomic_write
from bivoice_jupyter.reports.parameters import resolve_date, template_parameters, validate
from bivoice_jupyter.reports.profiles import load_profiles
from bivoice_jupyter.reports.scope import Scope, deactivate

REPO = Path(__file__).resolve().parents[1]
WEEKLY = REPO / "notebooks" / "weekly_sales.ipynb"
FIXTURES = Path(__file__).parent / "fixtures" / "reports"


def _cases(name: str) -> list:
    rows = [[p.strip() for p in line.split("|")] for line in (FIXTURES / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return [pytest.param(*row[:-1], id=row[-1]) for row in rows]


# ------------------------------------------------------------------ parameters


def test_template_parameters_have_names_types_and_help() -> None:
    params = template_parameters(WEEKLY)
    assert {n: p.type for n, p in params.items()} == {
        "start": "date", "end": "date", "regions": "list[str]", "profile": "str", "title": "str"}
    assert "inclusive" in params["start"].help


def test_values_are_read_as_the_declared_types() -> None:
    params = template_parameters(WEEKLY)
    monday = dt.date(2024, 12, 11)  # a Wednesday
    values = validate(params, {"start": "monday-1w", "end": "monday", "regions": '["Europe", "Asia Pacific"]',
                               "title": "42"}, today=monday)
    assert values == {"start": "2024-12-02", "end": "2024-12-09", "regions": ["Europe", "Asia Pacific"], "title": "42"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"stat": "2024-01-01"}, "no parameter 'stat'"),
        ({"start": "2024-13-01"}, "takes a date"),
        ({"regions": "Europe"}, r"takes a list\[str\]"),
        ({"regions": "[1, 2]"}, r"takes a list\[str\]"),
        ({"password": "hunter22"}, "looks like a secret"),
        ({"profile": "http://bob:hunter22@ch.example.org:8123"}, "holds a password"),
    ],
    ids=["unknown-name", "bad-date", "not-a-list", "list-of-numbers", "secret-name", "url-with-password"],
)
def test_bad_parameters_are_refused(given: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        validate(template_parameters(WEEKLY), given)


def test_relative_dates() -> None:
    sunday = dt.date(2024, 12, 8)
    assert resolve_date("today", sunday) == sunday
    assert resolve_date("monday", sunday) == dt.date(2024, 12, 2)
    assert resolve_date("monday", dt.date(2024, 12, 2)) == dt.date(2024, 12, 2)  # a Monday is its own
    assert resolve_date("today-7d", sunday) == dt.date(2024, 12, 1)
    assert resolve_date("monday+2w", sunday) == dt.date(2024, 12, 16)


def _notebook(path: Path, *cells: tuple[str, list[str]]) -> Path:
    nb = new_notebook(cells=[new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_template_without_parameters_cell(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no parameters cell"):
        template_parameters(_notebook(tmp_path / "t.ipynb", ("x = 1", [])))


def test_template_declaring_a_secret(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "t.ipynb", ('api_key = ""  # type: str', ["parameters"]))
    with pytest.raises(ParameterError, match="secrets are never parameters"):
        template_parameters(path)


@pytest.mark.parametrize(
    ("template", "given", "options", "message"),
    [
        ("missing.ipynb", {}, {}, "No template 'missing.ipynb'"),
        ("{weekly}", {"stat": "2024-01-01"}, {}, "The template has no parameter 'stat'"),
        ("{weekly}", {"start": "last week"}, {}, "Parameter 'start' takes a date, not 'last week'"),
        ("{weekly}", {"profile": "nowhere"}, {}, "No workspace profile 'nowhere'"),
        ("{weekly}", {"smtp_password": "x"}, {}, "'smtp_password' looks like a secret"),
        ("{weekly}", {}, {"email": ["a@example.org"]}, "--email needs an SMTP server"),
        ("{weekly}", {}, {"output": "{weekly}"}, "is the template itself"),
        ("{noparams}", {}, {}, "has no parameters cell"),
    ],
    ids=["unknown-template", "unknown-parameter", "bad-date", "unknown-profile", "secret", "no-smtp",
         "overwrite-template", "no-parameters-cell"],
)
def test_bad_input_fails_before_anything_runs(tmp_path: Path, monkeypatch, template: str, given: dict,
                                              options: dict, message: str) -> None:
    from bivoice_jupyter.reports.runner import run

    monkeypatch.delenv("BIVOICE_SMTP_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    names = {"weekly": WEEKLY, "noparams": _notebook(tmp_path / "noparams.ipynb", ("1", []))}
    options = {"output": tmp_path / "out" / "r.ipynb", "html": tmp_path / "out" / "r.html", **options}
    options = {k: v.format(**names) if isinstance(v, str) else v for k, v in options.items()}
    with pytest.raises(ReportError, match=re.escape(message)):
        run(template.format(**names), given, **options)
    assert not (tmp_path / "out").exists()  # nothing written, not even a folder


# ------------------------------------------------------------------ the scope edits intents


@pytest.fixture
def week(ws):
    scope = Scope(start="2024-12-02", end="2024-12-09", where={"region": ["Europe", "Asia Pacific"]}, workspace=ws)
    yield scope
    deactivate()


def test_scope_replaces_time_range_and_filters(week, ws) -> None:
    intent = ws.ask("monthly revenue in 2023 in Europe", sql_only=True).intent
    scoped = week.apply(intent)
    assert scoped.time_range == TimeRange(column="order_date", start=dt.date(2024, 12, 2), end=dt.date(2024, 12, 9))
    assert scoped.filters == [Filter(column="region", op="in", value=["Europe", "Asia Pacific"])]
    assert intent.measures == scoped.measures and intent.time_grain == scoped.time_grain


def test_scope_finds_the_date_column_when_the_question_has_none(week) -> None:
    scoped = week.apply(Intent(table="sales", measures=[Measure(agg="sum", column="revenue")]))
    assert scoped.time_range is not None and scoped.time_range.column == "order_date"


def test_scope_answer_matches_pandas(week, ws) -> None:
    from bivoice_jupyter.demo import sales_frame

    answer = week.ask("total revenue by region")
    df = sales_frame()
    keep = (df.order_date >= "2024-12-02") & (df.order_date < "2024-12-09") & df.region.isin(["Europe", "Asia Pacific"])
    expected = df[keep].groupby("region").revenue.sum().round(2).to_dict()
    assert dict(zip(answer.df.region, answer.df.total_revenue)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("where", "message"),
    [({"region": ["Atlantis"]}, "no value 'Atlantis'"), ({"planet": ["Mars"]}, "does not have")],
    ids=["unknown-value", "unknown-column"],
)
def test_scope_refuses_what_the_table_lacks(ws, where: dict, message: str) -> None:
    scope = Scope(start="2024-01-01", where=where, workspace=ws)
    with pytest.raises(ReportError, match=message):
        scope.apply(Intent(table="sales", measures=[Measure(agg="count")]))


def test_scope_refuses_an_empty_range(ws) -> None:
    with pytest.raises(ReportError, match="empty"):
        Scope(start="2024-12-09", end="2024-12-02", workspace=ws)


# ------------------------------------------------------------------ frozen answers in the magic


def _run(ip, code: str):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        result = ip.run_cell(code)
    result.raise_error()
    return captured


def _stored(captured) -> list[dict]:
    return [o.metadata[fz.METADATA_KEY] for o in captured.outputs if fz.METADATA_KEY in (o.metadata or {})]


def test_voice_stores_the_frozen_answer_in_its_output(ip) -> None:
    (stored,) = _stored(_run(ip, "%%voice --out a\ntotal revenue by region"))
    frozen = fz.FrozenAnswer.model_validate(stored)
    assert frozen.question == "total revenue by region" and frozen.line == "--out a"
    assert frozen.intent == ip.user_ns["a"].intent and frozen.sql == ip.user_ns["a"].sql
    assert frozen.planner == "offline" and not frozen.replayed
    json.dumps(stored)  # it is saved in the notebook: JSON only


def test_replay_uses_the_stored_intent_without_planning(ip, ws, tmp_path, monkeypatch) -> None:
    stored = ws.ask("total revenue by region", sql_only=True)
    frozen = fz.freeze(stored, line="--out r", body="what we sold per region\n")
    book = tmp_path / "answers.json"
    book.write_text(json.dumps([{"cell_id": None, "answer": frozen.model_dump(mode="json")}]))
    monkeypatch.setenv(fz.ANSWERS_ENV, str(book))

    def no_planning(*args, **kwargs):
        raise AssertionError("a replay must not plan")

    ws_of_magic = ip.find_magic("voice").__self__.workspace()
    monkeypatch.setattr(type(ws_of_magic), "planner_named", no_planning)
    # the words differ from the stored question: the stored intent answers, not the words
    (again,) = _stored(_run(ip, "%%voice --out r\nwhat we sold per region"))
    answer = ip.user_ns["r"]
    assert answer.question == "total revenue by region" and len(answer.df) == 4
    assert "plan" not in answer.timings and not answer.notices  # no scope: nothing replaced
    assert again["replayed"] is True and again["intent"] == stored.intent.model_dump(mode="json")


def test_spoken_question_replays_without_the_recording(ip, ws, tmp_path, monkeypatch) -> None:
    """A report run answers an --audio cell from its stored transcript and intent: the
    recording is not read (here it does not even exist) and no speech model loads."""
    from bivoice_jupyter.models import Transcript

    heard = Transcript("What was the total revenue by region?", "en", 3.2, 0.8, "tiny.en", "cpu", "int8")
    stored = ws.ask(heard.text, sql_only=True)
    frozen = fz.freeze(dataclasses.replace(stored, transcript=heard), line="--audio gone.wav --out s")
    book = tmp_path / "answers.json"
    book.write_text(json.dumps([{"cell_id": "x", "answer": frozen.model_dump(mode="json")}]))
    monkeypatch.setenv(fz.ANSWERS_ENV, str(book))
    _run(ip, "%voice --audio gone.wav --out s")
    answer = ip.user_ns["s"]
    assert answer.transcript == heard and len(answer.df) == 4 and "transcribe" not in answer.timings


def test_replay_without_a_stored_answer_fails(ip, monkeypatch) -> None:
    monkeypatch.delenv(fz.ANSWERS_ENV, raising=False)
    monkeypatch.delenv(fz.SESSION_ENV, raising=False)
    with pytest.raises(BivoiceError, match="no stored answer"):
        _run(ip, "%%voice --replay\ntotal revenue by region")


def test_replay_from_the_saved_notebook_by_cell_id(ip, ws, tmp_path, monkeypatch) -> None:
    """JupyterLab: the kernel knows its notebook (JPY_SESSION_NAME) and the cell's id."""
    answer = ws.ask("number of orders by category", sql_only=True)
    cell = new_code_cell("%%voice --replay --out c\nhow many orders per category", id="cell-7")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "..."},
                                           metadata=fz.output_metadata(fz.freeze(answer, line="--replay --out c",
                                                                                 body="how many orders per category")))]
    path = tmp_path / "saved.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    monkeypatch.setenv(fz.SESSION_ENV, str(path))
    magics = ip.find_magic("voice").__self__
    monkeypatch.setattr(type(magics), "_cell_id", lambda self: "cell-7")
    _run(ip, "%%voice --replay --out c\nhow many orders per category")
    assert ip.user_ns["c"].question == "number of orders by category" and len(ip.user_ns["c"].df) == 3


def test_activated_scope_narrows_voice_cells(ip, week) -> None:
    week.activate()
    (stored,) = _stored(_run(ip, "%%voice --out s\ntotal revenue by region"))
    assert set(ip.user_ns["s"].df.region) == {"Europe", "Asia Pacific"} and not ip.user_ns["s"].notices
    assert "'2024-12-02'" in stored["sql"]  # what ran ...
    assert stored["intent"]["time_range"] is None and stored["intent"]["filters"] == []  # ... and what was asked
    (stored,) = _stored(_run(ip, "%%voice --out y\nmonthly revenue in 2023 in Europe"))
    assert ip.user_ns["y"].notices == (
        "The report's scope (2024-12-02 to 2024-12-08; region: Europe, Asia Pacific) replaced its dates "
        "(2023-01-01 to 2024-01-01) and its region (Europe).",)
    assert stored["intent"]["time_range"]["start"] == "2023-01-01"
    deactivate()
    _run(ip, "%%voice --out s\ntotal revenue by region")
    assert len(ip.user_ns["s"].df) == 4


def test_runner_copies_answers_into_cell_metadata() -> None:
    nb = nbformat.read(WEEKLY, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop(fz.METADATA_KEY, None)
    assert fz.store_in_cells(nb) == 5
    entries = fz.answer_map(nb)
    assert [e["answer"]["question"] for e in entries][:2] == ["total revenue", "total revenue by region"]
    assert all(e["cell_id"] for e in entries)


def test_book_gives_answers_out_in_notebook_order() -> None:
    a = fz.FrozenAnswer(line="", body="q", question="first", intent=Intent(table="t"))
    b = a.model_copy(update={"question": "second"})
    book = fz._Book([{"cell_id": "1", "answer": a.model_dump(mode="json")},
                     {"cell_id": "2", "answer": b.model_dump(mode="json")}])
    assert book.find(None, ("", "q")).question == "first"
    assert book.find(None, ("", "q")).question == "second"
    assert book.find(None, ("", "q")) is None
    assert book.find("2", fz.magic_key(" ", " q \n")).question == "second"  # by cell id, whitespace aside


# ------------------------------------------------------------------ schedules


@pytest.mark.parametrize(("cron", "calendar"), _cases("cron.txt"))
def test_cron_to_systemd_calendar(cron: str, calendar: str) -> None:
    assert sch.Cron.parse(cron).on_calendar() == calendar
    if shutil.which("systemd-analyze"):  # systemd itself reads it the same way
        checked = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True)
        assert checked.returncode == 0 and f"Normalized form: {calendar}" in checked.stdout, checked.stderr


@pytest.mark.parametrize("cron", _cases("cron_bad.txt"))
def test_bad_cron_is_refused(cron: str) -> None:
    with pytest.raises(ReportError):
        sch.Cron.parse(cron)


@pytest.mark.parametrize("cron", ["0 7 * * */2", "0 7 1 * 1"], ids=["weekday-step", "day-of-month-or-week"])
def test_cron_only_schedules_are_not_timers(cron: str) -> None:
    with pytest.raises(ReportError, match="crontab line"):
        sch.Cron.parse(cron).on_calendar()


def test_crontab_line_logs_and_keeps_secrets_out(tmp_path: Path) -> None:
    cmd = sch.run_command(["/r/weekly.ipynb", "-p", "start", "monday-1w", "-o", "/r/out/weekly-{date}.ipynb",
                           "--subject", "100% sales"])
    line = sch.crontab_line(sch.Cron.parse("0 7 * * 1"), cmd, name="weekly", log=tmp_path / "w.log",
                            env_file=tmp_path / "secrets.env", cwd=Path("/r"))
    assert line.startswith("0 7 * * 1 cd /r && set -a && . ")
    assert f"report run /r/weekly.ipynb -p start monday-1w" in line and "100\\% sales" in line
    assert line.endswith(f">> {tmp_path / 'w.log'} 2>&1  # bivoice-report:weekly")


def test_systemd_units(tmp_path: Path) -> None:
    units = sch.systemd_units(sch.Cron.parse("0 7 * * 1"), sch.run_command([str(WEEKLY), "--subject", "a $b 5%"]),
                              name="w", env_file=tmp_path / "env")
    service, timer = units["bivoice-report-w.service"], units["bivoice-report-w.timer"]
    assert "Type=oneshot" in service and f"EnvironmentFile={tmp_path / 'env'}" in service
    assert '"a $$b 5%%"' in service and "journalctl --user -u bivoice-report-w.service" in service
    assert "OnCalendar=Mon *-*-* 07:00:00" in timer and "Persistent=true" in timer
    if shutil.which("systemd-analyze"):
        (tmp_path / "env").touch()
        for name, text in units.items():
            (tmp_path / name).write_text(text)
        checked = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in units)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_environment_file_must_be_private(tmp_path: Path) -> None:
    env = tmp_path / "report.env"
    with pytest.raises(ReportError, match="No environment file"):
        sch.check_env_file(env)
    env.write_text("export BIVOICE_SMTP_HOST=mail.example.org\nBIVOICE_SMTP_PASSWORD=x\n# a comment\n")
    env.chmod(0o644)
    with pytest.raises(ReportError, match="chmod 600"):
        sch.check_env_file(env)
    env.chmod(0o600)
    sch.check_env_file(env)
    assert sch.env_file_names(env) == {"BIVOICE_SMTP_HOST", "BIVOICE_SMTP_PASSWORD"}


def _fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_schedule_install_crontab_replaces_its_own_line(tmp_path: Path, monkeypatch) -> None:
    table = tmp_path / "crontab.txt"
    table.write_text("5 4 * * * backup  # not ours\n0 6 * * * old  # bivoice-report:weekly\n")
    _fake_tool(tmp_path, "crontab", f'if [ "$1" = "-l" ]; then cat {table}; else cat > {table}; fi\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    sch.install_crontab("0 7 * * 1 new  # bivoice-report:weekly", name="weekly")
    assert table.read_text().splitlines() == ["5 4 * * * backup  # not ours", "0 7 * * 1 new  # bivoice-report:weekly"]


def test_schedule_install_systemd(tmp_path: Path, monkeypatch) -> None:
    calls = tmp_path / "calls.txt"
    _fake_tool(tmp_path, "systemctl", f'echo "$@" >> {calls}\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    units = sch.systemd_units(sch.Cron.parse("@daily"), ["/bin/true"], name="d")
    written = sch.install_systemd(units, unit_dir=tmp_path / "units")
    assert sorted(p.name for p in written) == ["bivoice-report-d.service", "bivoice-report-d.timer"]
    assert calls.read_text().splitlines() == ["--user daemon-reload", "--user enable --now bivoice-report-d.timer"]


def test_schedule_command_prints_a_crontab_line(tmp_path: Path, capsys, monkeypatch) -> None:
    from bivoice_jupyter.cli import main
    from bivoice_jupyter.config import data_home

    monkeypatch.chdir(tmp_path)
    code = main(["report", "schedule", str(WEEKLY), "--cron", "0 7 * * 1", "-p", "start", "monday-1w",
                 "-p", "end", "monday", "-o", "w-{date}.ipynb", "--html", "w-{date}.html"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith(f"0 7 * * 1 cd {tmp_path} && ")
    assert "-p start monday-1w -p end monday -o " + shlex.quote(str(tmp_path / "w-{date}.ipynb")) in out
    assert f">> {data_home() / 'reports' / 'weekly_sales.log'} 2>&1" in out
    assert main(["report", "schedule", str(WEEKLY), "--cron", "0 7 * *", "-o", "w.ipynb"]) == 2
    assert capsys.readouterr().err.startswith("error: '0 7 * *' is not a cron expression")


# ------------------------------------------------------------------ delivery over a real SMTP server


class _Inbox:
    def __init__(self, refuse: bool = False) -> None:
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802, ANN001
        if self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        self.messages.append((envelope, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"reports" and auth_data.password == b"s3cret-pw"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535

    started = []

    def start(refuse: bool = False) -> tuple[_Inbox, int]:
        inbox = _Inbox(refuse)
        port = _free_port()
        ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
        ctl.start()
        started.append(ctl)
        return inbox, port

    yield start
    for ctl in started:
        ctl.stop()


def _settings(port: int, **kw) -> SMTPSettings:
    return SMTPSettings(**{"host": "127.0.0.1", "port": port, "tls": "none", "user": "reports",
                           "password": "s3cret-pw", "sender": "reports@example.org", "timeout": 10, **kw})


def _message(tmp_path: Path):
    page = tmp_path / "weekly.html"
    page.write_text("<html><body>Plotly.newPlot(...)</body></html>")
    return build_message(sender="reports@example.org", to=["boss@example.org"], subject="Weekly sales",
                         text="- total revenue\n  183,496.87", html="<ul><li>183,496.87</li></ul>", attachment=page)


def test_email_arrives_with_summary_and_attachment(smtp_server, tmp_path: Path) -> None:
    inbox, port = smtp_server()
    send(_settings(port), _message(tmp_path))
    ((envelope, msg),) = inbox.messages
    assert envelope.rcpt_tos == ["boss@example.org"] and msg["Subject"] == "Weekly sales"
    assert "183,496.87" in msg.get_body(("plain",)).get_content()
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == "weekly.html" and "Plotly.newPlot" in part.get_content()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("refuse", "refused the recipients"),
        ("bad-password", "refused: 535"),
        ("closed-port", "Cannot reach the SMTP server"),
        ("no-starttls", "does not offer STARTTLS"),
    ],
    ids=["recipient-refused", "bad-password", "unreachable", "no-starttls"],
)
def test_email_failures_are_clear(smtp_server, tmp_path: Path, setup: str, message: str) -> None:
    inbox, port = smtp_server(refuse=setup == "refuse")
    settings = {"bad-password": _settings(port, password="wrong"), "closed-port": _settings(1),
                "no-starttls": _settings(port, tls="starttls")}.get(setup, _settings(port))
    with pytest.raises(DeliveryError, match=message):
        send(settings, _message(tmp_path))
    assert not inbox.messages


def test_smtp_settings_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("BIVOICE_SMTP_HOST", raising=False)
    with pytest.raises(ReportError, match="BIVOICE_SMTP_HOST is not set"):
        SMTPSettings.from_env()
    monkeypatch.setenv("BIVOICE_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("BIVOICE_SMTP_TLS", "ssl")
    monkeypatch.setenv("BIVOICE_SMTP_PASSWORD", "s3cret-pw")
    settings = SMTPSettings.from_env()
    assert (settings.port, settings.tls) == (465, "ssl") and "s3cret-pw" not in repr(settings)


# ------------------------------------------------------------------ profiles and files


def test_profiles_name_secrets_but_never_hold_them(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text('[profiles.wh]\ndsn = "https://reporter@ch.example.org:8443"\ndatabase = "sales"\n'
                    'password_env = "WH_PASSWORD"\n')
    wh = load_profiles(path)["wh"]
    monkeypatch.delenv("WH_PASSWORD", raising=False)
    with pytest.raises(ReportError, match=r"\$WH_PASSWORD, which is not set"):
        wh.check()
    monkeypatch.setenv("WH_PASSWORD", "p@ss word")
    assert wh.connect_dsn() == "https://reporter:p%40ss%20word@ch.example.org:8443"
    path.write_text('[profiles.wh]\ndsn = "https://reporter@ch.example.org"\npassword = "x"\n')
    with pytest.raises(ReportError, match="holds a secret"):
        load_profiles(path)
    path.write_text('[profiles.wh]\ndsn = "https://reporter:x@ch.example.org"\n')
    with pytest.raises(ReportError, match="DSN of profile 'wh' holds a password"):
        load_profiles(path)


def test_atomic_write_leaves_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    atomic_write(target, "<html>whole</html>")
    assert target.read_text() == "<html>whole</html>"
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable like any file the user writes

    class Boom(str):
        def encode(self, *args, **kwargs):  # noqa: ANN002, ANN003
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, Boom("x"))
    assert target.read_text() == "<html>whole</html>" and list(target.parent.iterdir()) == [target]
