"""Workspace profiles: named connections that reports run against, without their secrets.

A profile names a DSN, a database and the *environment variable* that holds the password; the
password itself is never in the profile, a report parameter or the output notebook. Profiles
live in ``$BIVOICE_PROFILES`` or ``$BIVOICE_HOME/profiles.toml``::

    [profiles.warehouse]
    dsn = "https://reporter@clickhouse.example.org:8443"
    database = "sales"
    databases = ["sales", "reference"]     # optional: more readable databases
    password_env = "CLICKHOUSE_REPORTER_PASSWORD"

Two profiles are built in: ``default`` (``$BIVOICE_DSN``, else the embedded chDB under
``$BIVOICE_HOME``) and ``demo`` (always the embedded chDB, where the templates load the demo
table when it is missing).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from ..config import data_home
from .errors import ReportError

PROFILES_ENV = "BIVOICE_PROFILES"
_SECRET_KEYS = re.compile(r"pass(word|wd)?|secret|token|api_?key", re.IGNORECASE)


@dataclass(frozen=True)
class Profile:
    """A named connection. ``dsn`` None means the default (``$BIVOICE_DSN`` or embedded chDB)."""

    name: str
    dsn: str | None = None
    database: str = "default"
    databases: tuple[str, ...] = ()
    password_env: str | None = None

    def check(self) -> None:
        """Fail now, not in the middle of a run, when the password's variable is unset."""
        if self.password_env and self.password_env not in os.environ:
            raise ReportError(
                f"Profile {self.name!r} takes its password from ${self.password_env}, which is not set.",
                hint=f"export {self.password_env}=... in the environment that runs the report",
            )

    def connect_dsn(self) -> str | None:
        """The DSN with the password from the environment (for the connection only; never shown)."""
        self.check()
        if not self.password_env or not self.dsn:
            return self.dsn
        u = urlparse(self.dsn)
        password = quote(os.environ[self.password_env], safe="")
        user = quote(u.username or "default", safe="")
        host = u.hostname or ""
        netloc = f"{user}:{password}@{host}" + (f":{u.port}" if u.port else "")
        return u._replace(netloc=netloc).geturl()

    def workspace(self) -> Any:
        from ..workspace import Workspace

        return Workspace(dsn=self.connect_dsn(), database=self.database, databases=self.databases or None)


def profiles_path() -> Path:
    return Path(os.environ.get(PROFILES_ENV) or data_home() / "profiles.toml").expanduser()


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: the reports extra installs tomli
        from .._optional import import_extra

        tomllib = import_extra("tomli", "reports")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"Cannot read the profiles in {path}: {exc}") from None


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The built-in profiles and those of the profiles file (which may override them)."""
    profiles = {
        "default": Profile("default"),
        "demo": Profile("demo", dsn=f"chdb://{data_home() / 'chdb'}"),
    }
    path = path or profiles_path()
    if not path.exists():
        return profiles
    for name, entry in (_toml(path).get("profiles") or {}).items():
        if not isinstance(entry, dict):
            raise ReportError(f"{path}: profiles.{name} must be a table.")
        secrets = [k for k in entry if _SECRET_KEYS.search(k) and k != "password_env"]
        if secrets:
            raise ReportError(
                f"{path}: profile {name!r} holds a secret ({', '.join(secrets)}).",
                hint="profiles name the variable that holds a password: password_env = \"MY_PASSWORD_VAR\"",
            )
        unknown = set(entry) - {"dsn", "database", "databases", "password_env"}
        if unknown:
            raise ReportError(f"{path}: profile {name!r} has unknown keys: {', '.join(sorted(unknown))}.",
                              hint="a profile has dsn, database, databases and password_env")
        dsn = entry.get("dsn")
        if dsn and urlparse(dsn).password:
            raise ReportError(f"{path}: the DSN of profile {name!r} holds a password.",
                              hint="remove it from the DSN and name its variable in password_env")
        profiles[name] = Profile(
            name=name, dsn=dsn, database=entry.get("database", "default"),
            databases=tuple(entry.get("databases", ())), password_env=entry.get("password_env"),
        )
    return profiles


def get_profile(name: str | None) -> Profile:
    profiles = load_profiles()
    name = name or "default"
    if name not in profiles:
        raise ReportError(f"No workspace profile {name!r}.",
                          hint=f"profiles are: {', '.join(sorted(profiles))} (defined in {profiles_path()})")
    return profiles[name]


def open_profile(name: str | None) -> Any:
    """The Workspace the profile ``name`` describes (``None``: the default workspace)."""
    return get_profile(name).workspace()
