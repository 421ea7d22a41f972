"""A template's parameters, read with papermill's inspection, and the values a run gives them.

The parameters cell declares each name with its type, as an annotation or a type comment, and
a help text::

    start = "2024-12-02"  # type: date  first day of the report (inclusive)
    regions = ["Europe"]  # type: list[str]  regions to include ([] for all)

Types are ``str``, ``int``, ``float``, ``bool``, ``date`` (an ISO date, passed to the notebook as
text), ``list[str]``, ``list[int]``, ``list[float]``, ``list`` and ``dict``; a name without one
takes its default's type. A value given on the command line is read as that type (lists and
dicts as JSON); a date may also be relative to the day of the run: ``today``, ``monday`` (the
latest Monday, today included), ``today-7d``, ``monday-1w``.

Secrets are never parameters: a template that declares one, a run that gives one, or a value
holding a URL with a password is refused (profiles name the environment variable instead).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._optional import import_extra
from .errors import ParameterError, ReportError

SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api_?key|credential", re.IGNORECASE)
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
_RELATIVE_DATE = re.compile(r"^(today|monday)(?:([+-])(\d+)([dw]))?$")
TYPES = ("str", "int", "float", "bool", "date", "list[str]", "list[int]", "list[float]", "list", "dict")
_PY_TYPES = {str: "str", int: "int", float: "float", bool: "bool", list: "list", dict: "dict"}


@dataclass(frozen=True)
class Parameter:
    """A parameter of a template: ``type`` is one of :data:`TYPES`; ``default`` its value in the
    template (None when it is not a literal); ``help`` the comment after it."""

    name: str
    type: str
    default: Any
    help: str = ""


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def _type_of(value: Any) -> str:
    if isinstance(value, list) and value and all(type(v) is type(value[0]) for v in value):
        inner = _PY_TYPES.get(type(value[0]))
        if inner in ("str", "int", "float"):
            return f"list[{inner}]"
    return _PY_TYPES.get(type(value), "str")


def template_parameters(template: Path) -> dict[str, Parameter]:
    """The parameters the template's ``parameters`` cell declares (papermill's inspection)."""
    papermill = import_extra("papermill", "reports")
    nbformat = import_extra("nbformat", "reports")
    try:
        nb = nbformat.read(template, as_version=4)
    except (OSError, ValueError) as exc:
        raise ReportError(f"Cannot read the template {template}: {exc}") from None
    if not any("parameters" in c.metadata.get("tags", ()) for c in nb.cells):
        raise ReportError(f"Template {template} has no parameters cell.",
                          hint="tag the cell that sets its parameters 'parameters' (JupyterLab: Property Inspector)")
    found: dict[str, Parameter] = {}
    for name, info in papermill.inspect_notebook(str(template)).items():
        default = _literal(info["default"])
        declared = (info.get("inferred_type_name") or "None").replace(" ", "")
        kind = declared if declared != "None" else _type_of(default)
        if kind not in TYPES:
            raise ReportError(f"Template {template}: parameter {name!r} has type {declared!r}.",
                              hint="types are " + ", ".join(TYPES))
        if SECRET_NAME.search(name):
            raise ParameterError(
                f"Template {template} declares {name!r} as a parameter: secrets are never parameters.",
                hint="name a workspace profile instead; the profile names the environment variable that holds it",
            )
        found[name] = Parameter(name, kind, default, (info.get("help") or "").strip())
    return found


def resolve_date(text: str, today: dt.date | None = None) -> dt.date:
    """An ISO date, or a date relative to ``today``: ``today``, ``monday``, ``monday-1w`` ..."""
    today = today or dt.date.today()
    m = _RELATIVE_DATE.match(text.strip().lower())
    if m is None:
        return dt.date.fromisoformat(text.strip())
    day = today if m.group(1) == "today" else today - dt.timedelta(days=today.weekday())
    if m.group(2):
        n = int(m.group(3)) * (7 if m.group(4) == "w" else 1)
        day += dt.timedelta(days=n if m.group(2) == "+" else -n)
    return day


def parse_value(param: Parameter, raw: Any, *, today: dt.date | None = None) -> Any:
    """``raw`` (text from the command line, or a Python value) as the parameter's type."""
    kind = param.type
    try:
        if kind == "date":
            return resolve_date(raw.isoformat() if isinstance(raw, dt.date) else str(raw), today).isoformat()
        if not isinstance(raw, str):
            value = raw
        elif kind == "str":
            value = raw
        elif kind == "bool":
            if raw.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            value = raw.strip().lower() in ("true", "1", "yes")
        elif kind in ("int", "float"):
            value = int(raw) if kind == "int" else float(raw)
        else:
            value = json.loads(raw)
        _check(kind, value)
        return value
    except (ValueError, TypeError):
        example = {"date": "2024-12-02 or monday-1w", "list[str]": '\'["Europe","Asia Pacific"]\'', "bool": "true",
                   "list[int]": "'[1,2]'", "dict": "'{\"a\": 1}'"}.get(kind, param.default)
        raise ParameterError(f"Parameter {param.name!r} takes a {kind}, not {raw!r}.",
                             hint=f"for example -p {param.name} {example}") from None


def _check(kind: str, value: Any) -> None:
    ok = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "dict": lambda v: isinstance(v, dict),
        "list[str]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "list[int]": lambda v: isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v),
        "list[float]": lambda v: isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
    }[kind]
    if not ok(value):
        raise TypeError(kind)


def _holds_secret(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_URL_WITH_PASSWORD.search(value))
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    if isinstance(value, dict):
        return any(SECRET_NAME.search(str(k)) or _holds_secret(v) for k, v in value.items())
    return False


def validate(declared: dict[str, Parameter], given: dict[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """The values to inject, typed; every problem is raised before anything runs."""
    values: dict[str, Any] = {}
    for name, raw in given.items():
        if SECRET_NAME.search(name):
            raise ParameterError(f"{name!r} looks like a secret; secrets are never report parameters.",
                                 hint="put it in the environment and name its variable in a workspace profile")
        if name not in declared:
            known = ", ".join(f"{p.name} ({p.type})" for p in declared.values()) or "none"
            raise ParameterError(f"The template has no parameter {name!r}.", hint=f"its parameters are: {known}")
        value = parse_value(declared[name], raw, today=today)
        if _holds_secret(value):
            raise ParameterError(f"The value of {name!r} holds a password.",
                                 hint="put it in the environment and name its variable in a workspace profile")
        values[name] = value
    return values
