"""``bivoice report run``: execute a template with papermill, replaying its frozen answers.

Every check happens before the kernel starts (the template, its parameters, the profile, the
SMTP settings, the output folders). Outputs are written whole or not at all (a temporary file,
then a rename). A failed cell still leaves the executed notebook, with the error in place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._optional import import_extra
from . import export
from .errors import ReportError, ReportFailed
from .frozen import ANSWERS_ENV, SESSION_ENV, answer_map, iter_frozen, store_in_cells
from .parameters import SECRET_NAME, Parameter, template_parameters, validate

_SECRET_MIN = 6  # shorter values would be redacted wherever they happen to appear


@dataclass(frozen=True)
class RunResult:
    """What a run wrote: ``notebook`` and ``html`` paths, ``seconds`` the run took, ``charts``
    drawn, ``answers`` given (``replayed`` of them from frozen intents), ``emailed`` recipients,
    and ``redacted`` secret variables whose values were removed from the outputs."""

    notebook: Path
    html: Path | None
    seconds: float
    charts: int
    answers: int
    replayed: int
    parameters: dict[str, Any]
    emailed: tuple[str, ...] = ()
    redacted: tuple[str, ...] = field(default_factory=tuple)


def kernel_path(folder: Path) -> str:
    """A ``python3`` kernelspec that runs *this* interpreter, first on JUPYTER_PATH (a user-level
    ``python3`` kernelspec would otherwise win and run the report in another Python)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        # log_level: ipykernel 7 warns on every start that the loopback kernel runs over TCP
        # without encryption; a scheduled run's log should show the report.
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
        "display_name": "Python 3 (bivoice report)",
        "language": "python",
    }))
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))


@contextlib.contextmanager
def _environment(set_: dict[str, str], drop: Sequence[str]) -> Iterator[None]:
    """This process's environment changed for the kernel it starts (the kernel inherits it)."""
    saved = {k: os.environ.get(k) for k in (*set_, *drop)}
    for k in drop:
        os.environ.pop(k, None)
    os.environ.update(set_)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _secrets(extra: Sequence[str] = ()) -> dict[str, str]:
    """Environment variables holding secrets (by name), with values long enough to look for."""
    names = {k for k in os.environ if SECRET_NAME.search(k)} | set(extra)
    return {k: os.environ[k] for k in names if len(os.environ.get(k, "")) >= _SECRET_MIN}


def _redact(nb: Any, secrets: dict[str, str]) -> list[str]:
    """Remove secret values from every output (a cell that printed one); returns their names."""
    if not secrets:
        return []
    import nbformat

    text = nbformat.writes(nb)
    found = [k for k, v in secrets.items() if v in text or json.dumps(v)[1:-1] in text]
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for key, value in list(out.items()):
                if key in ("output_type", "execution_count", "name"):
                    continue
                raw = json.dumps(value)
                for name in found:
                    raw = raw.replace(json.dumps(secrets[name])[1:-1], f"[${name} removed]")
                out[key] = json.loads(raw)
    return found


def resolve_template(template: str | Path) -> Path:
    path = Path(template).expanduser()
    if path.suffix != ".ipynb" and not path.exists() and path.with_suffix(".ipynb").exists():
        path = path.with_suffix(".ipynb")
    if not path.is_file():
        raise ReportError(f"No template {str(template)!r}.", hint="give the path of a notebook (.ipynb) with a parameters cell")
    return path.resolve()


def _out_path(value: str | Path | None, template: Path, suffix: str, today: dt.date) -> Path | None:
    if value is None:
        return None
    text = str(value).replace("{date}", today.isoformat()).replace("{name}", template.stem)
    path = Path(text).expanduser().resolve()
    if path == template:
        raise ReportError(f"The output {path} is the template itself.", hint="write the report somewhere else")
    if path.suffix != suffix:
        raise ReportError(f"{path} should end in {suffix}.")
    if (path.exists() and not os.access(path, os.W_OK)) or not _writable_dir(path.parent):
        raise ReportError(f"Cannot write {path}.")
    return path


def _writable_dir(folder: Path) -> bool:
    while not folder.exists():
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


def prepare(template: Path, parameters: dict[str, Any] | None = None, *, today: dt.date | None = None
            ) -> tuple[dict[str, Parameter], dict[str, Any], list[str]]:
    """The template's declared parameters, the typed values to inject, and the environment
    variables holding the named profile's secrets (raises on any problem)."""
    declared = template_parameters(template)
    values = validate(declared, dict(parameters or {}), today=today)
    profile = values.get("profile", declared["profile"].default if "profile" in declared else None)
    secrets = []
    if isinstance(profile, str):  # a template's `profile` parameter names a workspace profile
        from .profiles import get_profile

        chosen = get_profile(profile)
        chosen.check()
        secrets = [chosen.password_env] if chosen.password_env else []
    return declared, values, secrets


def run(
    template: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    output: str | Path | None = None,
    html: str | Path | None = None,
    email: Sequence[str] = (),
    subject: str | None = None,
    hide_code: bool = False,
    live: bool = False,
    timeout: float | None = None,
    today: dt.date | None = None,
) -> RunResult:
    """Run a report template; see :mod:`bivoice_jupyter.reports` for the whole story.

    ``parameters`` are names -> values (text is read as the declared type); ``output`` the
    executed notebook (default ``<template>-<date>.ipynb`` here) and ``html`` the page;
    ``{date}`` in either is the day of the run. ``email`` recipients get the page over SMTP
    (``BIVOICE_SMTP_*``). ``live`` plans every question afresh instead of replaying.
    ``timeout`` is seconds per cell. Raises ReportFailed when a cell fails (the notebook is
    written), DeliveryError when the email fails (the files are written).
    """
    started = time.perf_counter()
    today = today or dt.date.today()
    template = resolve_template(template)
    declared, values, profile_secrets = prepare(template, parameters, today=today)
    notebook_path = _out_path(output or f"{template.stem}-{{date}}.ipynb", template, ".ipynb", today)
    html_path = _out_path(html, template, ".html", today)
    assert notebook_path is not None
    smtp = None
    if email:
        from .delivery import SMTPSettings

        smtp = SMTPSettings.from_env()
    papermill = import_extra("papermill", "reports")
    nbformat = import_extra("nbformat", "reports")
    from papermill.exceptions import PapermillExecutionError

    title = str(values.get("title", declared["title"].default if "title" in declared else template.stem))
    secrets = _secrets(profile_secrets)
    failure: str | None = None
    with tempfile.TemporaryDirectory(prefix="bivoice-report-") as tmp:
        work = Path(tmp)
        nb = nbformat.read(template, as_version=4)
        store_in_cells(nb)
        answers = answer_map(nb)
        for cell in nb.cells:  # papermill keeps the outputs of cells a failure leaves unrun
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        source, executed = work / template.name, work / "executed.ipynb"
        nbformat.write(nb, source)
        env = {"JUPYTER_PATH": kernel_path(work)}
        # the kernel needs no SMTP password, and must not think it runs in a JupyterLab session
        # (plotly's renderer is left to its default in a kernel: its JSON mimetype)
        drop = ["BIVOICE_SMTP_PASSWORD", SESSION_ENV, "PLOTLY_RENDERER"]
        if live:  # an ordinary execution: every question planned afresh, as in JupyterLab
            drop.append(ANSWERS_ENV)
        else:
            answers_file = work / "answers.json"
            answers_file.write_text(json.dumps(answers), encoding="utf-8")
            env[ANSWERS_ENV] = str(answers_file)
        with _environment(env, drop):
            try:
                papermill.execute_notebook(
                    str(source), str(executed), parameters=values, kernel_name="python3",
                    cwd=str(template.parent),  # the template's relative paths (audio/q1.wav) start there
                    progress_bar=False, request_save_on_cell_execute=False, execution_timeout=timeout,
                )
            except PapermillExecutionError as exc:
                failure = f"cell [{exc.exec_count}] failed: {exc.ename}: {exc.evalue}"
            except Exception as exc:  # the kernel died or did not start: nothing was executed
                raise ReportError(f"The report's kernel failed: {type(exc).__name__}: {exc}") from None
        result_nb = nbformat.read(executed, as_version=4)
    result_nb.metadata.get("papermill", {}).update(input_path=str(template), output_path=str(notebook_path))
    store_in_cells(result_nb)
    redacted = _redact(result_nb, secrets)
    export.atomic_write(notebook_path, nbformat.writes(result_nb))
    if failure is not None:
        failure = _failed_cell(result_nb) or failure
        raise ReportFailed(f"{template.name}: {failure}", output=notebook_path,
                           hint=f"the executed notebook, with the error in place, is {notebook_path}")
    frozen = list(iter_frozen(result_nb))
    charts = 0
    if html_path is not None or email:
        page, charts = export.to_html(result_nb, title=title, hide_code=hide_code)
        if html_path is None:
            html_path = notebook_path.with_suffix(".html")
        export.atomic_write(html_path, page)
    emailed: tuple[str, ...] = ()
    if email and smtp is not None and html_path is not None:
        from .delivery import build_message, send

        scope = _scope_line(values, declared)
        lines = export.summary(result_nb)
        text = "\n".join([title, scope, "", *(f"- {q}\n  {a}" for q, a in lines), "",
                          f"The full report is attached ({html_path.name})."])
        msg = build_message(sender=smtp.sender, to=list(email), subject=subject or (f"{title} ({scope})" if scope else title),
                            text=text, html=export.summary_html(title, lines, scope), attachment=html_path)
        send(smtp, msg)
        emailed = tuple(email)
    return RunResult(notebook=notebook_path, html=html_path, seconds=time.perf_counter() - started, charts=charts,
                     answers=len(frozen), replayed=sum(f.replayed for f in frozen), parameters=values,
                     emailed=emailed, redacted=tuple(redacted))


def _failed_cell(nb: Any) -> str | None:
    """``cell [n] failed: what it said`` for the cell papermill marks failed (its error, or the
    last line it printed: IPython's usage errors are printed, not raised)."""
    for cell in nb.cells:
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            said = ""
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    said = f"{out.get('ename')}: {out.get('evalue')}"
                elif out.get("output_type") == "stream" and not said:
                    lines = [x for x in str(out.get("text", "")).splitlines() if x.strip()]
                    said = lines[-1] if lines else ""
            return f"cell [{cell.get('execution_count')}] failed: {said}" if said else None
    return None


def _scope_line(values: dict[str, Any], declared: dict[str, Parameter]) -> str:
    """The run's dates, in words, for the email: ``2024-12-02 to 2024-12-08``."""
    def value(name: str) -> Any:
        return values.get(name, declared[name].default if name in declared else None)

    dates = [p.name for p in declared.values() if p.type == "date"]
    if len(dates) == 2:
        start, end = (value(n) for n in dates)
        with contextlib.suppress(TypeError, ValueError):
            end = (dt.date.fromisoformat(end) - dt.timedelta(days=1)).isoformat() if re.search("end|until|to", dates[1]) else end
        return f"{start} to {end}"
    return ", ".join(f"{n} {value(n)}" for n in dates)


def freeze(template: str | Path, *, timeout: float | None = None) -> RunResult:
    """Run ``template`` live with its own parameters and store the outputs and frozen answers
    back into it, slim enough to commit (``bivoice report freeze``)."""
    template = resolve_template(template)
    nbformat = import_extra("nbformat", "reports")
    with tempfile.TemporaryDirectory(prefix="bivoice-freeze-") as tmp:
        out = Path(tmp) / template.name
        try:
            result = run(template, output=out, live=True, timeout=timeout)
        except ReportFailed as exc:
            raise ReportFailed(exc.args[0], hint=f"{template.name} was left as it was; "
                               "`bivoice report run --live` keeps the executed notebook to look at") from None
        nb = export.slim(nbformat.read(out, as_version=4))
    if errors := export.errors_in(nb):
        raise ReportFailed("; ".join(errors))
    nbformat.validate(nb)
    export.atomic_write(template, nbformat.writes(nb))
    return RunResult(notebook=template, html=None, seconds=result.seconds, charts=0, answers=result.answers,
                     replayed=0, parameters={})
