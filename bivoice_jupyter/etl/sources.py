"""Sources: what can be loaded, and how ClickHouse reads each one.

Every source becomes a *raw relation* (:class:`Raw`): something the engine can ``SELECT`` from
whose text columns are ``String`` (typed sources keep their types), plus a source row number.

===========================  ====================================================================
source                       how it is read
===========================  ====================================================================
CSV / TSV / TXT (.gz .bz2    sniffed in Python (encoding, delimiter, header); rows parsed by
.xz)                         ClickHouse's ``file()`` as ``String`` columns, read in place (a
                             non-UTF-8 file is first re-encoded to a temporary UTF-8 copy)
JSON array / NDJSON          ``file(..., 'JSONEachRow')``, every value read as text
Parquet                      ``file(..., 'Parquet')``, its own types kept
Excel .xlsx .xlsm .xls .xlsb python-calamine (the ``etl`` extra) into a staging table
.ods
http(s):// URL               sniffed from its first megabyte; the engine's ``url()`` reads it
                             once into a staging table (server-side on a ClickHouse server); a
                             workbook is downloaded (up to 1 GiB) and read as a local Excel file
postgresql://u:p@h:p/db/tbl  the engine's ``postgresql()`` / ``mysql()`` table functions, once,
mysql:// (mariadb://)        into a staging table; with ``query=``, psycopg's ``COPY`` or
                             pymysql's streaming cursor (the ``etl`` extra)
pandas DataFrame, pyarrow    inserted into a staging table; typed columns keep their types,
Table (anything with         text columns are inspected
``to_pandas``)
===========================  ====================================================================

A local file read through a ClickHouse *server* (not the embedded engine) is streamed to it.
"""

from __future__ import annotations

import base64
import bz2
import codecs
import csv
import datetime as dt
import http.client
import io
import lzma
import math
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlglot import exp

from .._optional import import_extra
from ..errors import BivoiceError, QueryError, SourceError
from ..sql.clickhouse import Connection
from . import clean as c
from . import engine
from .infer import RawColumn
from .names import DIALECT, STAGE_PREFIX, check_names, clean_names, dtype, ident, qualified, table
from .progress import Progress
from .sniff import COMPRESSED, HEADER_ROWS, TextFormat, detect_header, find_start, open_binary, sniff, uncompressed

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab", ".dat")
JSON_SUFFIXES = (".json", ".ndjson", ".jsonl")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
ROW = "_bivoice_row"
EXTRA = "_bivoice_extra"
CHUNK_ROWS = 200_000

_CONNECT_CODES = {279, 614, 1000, 210, 209}  # connection refused / failed, socket timeout


@dataclass(frozen=True)
class ReadOptions:
    """How to read a source. ``None`` means detect (encoding, delimiter, header) or default."""

    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    sheet: str | int | None = None
    query: str | None = None
    clean_names: bool | None = None
    fmt: str | None = None
    null_tokens: tuple[str, ...] | None = None  # None: clean.NULL_TOKENS


@dataclass
class Raw:
    """A relation the engine reads the rows from (a table function or a staging table)."""

    relation: exp.Expression
    columns: list[RawColumn]
    row: exp.Expression
    extra: str | None = None
    settings: list[exp.Expression] = field(default_factory=list)
    text_source: bool = False
    size_bytes: int | None = None
    rows: int | None = None
    details: dict[str, str] = field(default_factory=dict)
    staged: bool = False
    null_tokens: tuple[str, ...] = c.NULL_TOKENS  # text read as missing (see clean.value)
    # where the engine writes the rows it could not parse (delimited text read in place)
    malformed: Path | None = None
    # what the reader must know about how the source was read (lines skipped, an index kept)
    notes: list[str] = field(default_factory=list)


class Scratch:
    """The temporary tables and files of one load; :meth:`cleanup` removes them all."""

    def __init__(self, conn: Connection, database: str, load_id: str) -> None:
        self.conn, self.database, self.load_id = conn, database, load_id
        self.tables: list[str] = []
        self._dir: Path | None = None

    def table(self, what: str) -> str:
        name = f"{STAGE_PREFIX}{what}_{self.load_id}"
        self.tables.append(name)
        return name

    def file(self, suffix: str, *, name: str = "") -> Path:
        """A new path in the load's temporary folder: ``name`` (a downloaded file keeps its own
        name, which its errors then show) where it is a plain file name ending in ``suffix``."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="bivoice-etl-"))
        plain = re.fullmatch(r"[\w.() -]{1,120}", name) and name.lower().endswith(suffix) and not name.startswith(".")
        return self._dir / name if plain else self._dir / f"{uuid.uuid4().hex[:8]}{suffix}"

    def cleanup(self) -> list[str]:
        """Drop every staging table and temporary file; returns what could not be removed."""
        left: list[str] = []
        for name in reversed(self.tables):
            try:
                self.conn.command(exp.Drop(tables=[table(self.database, name)], kind="TABLE", exists=True))
            except BivoiceError:
                left.append(name)
        self.tables.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        return left


def _structure(columns: list[tuple[str, str]]) -> str:
    """A table function's structure argument, with every name quoted by sqlglot."""
    return ", ".join(
        exp.ColumnDef(this=ident(n), kind=dtype(t)).sql(DIALECT) for n, t in columns
    )


def _names(raw: list[str], clean: bool) -> list[str]:
    return clean_names([str(n) for n in raw]) if clean else check_names(list(raw))


def _create_stage(conn: Connection, scratch: Scratch, columns: list[tuple[str, str]], what: str = "raw") -> str:
    """A new unordered MergeTree scratch table with ``columns`` (name, ClickHouse type); its name."""
    name = scratch.table(what)
    conn.command(exp.Create(
        this=exp.Schema(this=table(scratch.database, name),
                        expressions=[exp.ColumnDef(this=ident(n), kind=dtype(t))
                                     for n, t in columns]),
        kind="TABLE",
        properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.to_identifier("MergeTree")),
                                               exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[]))])]),
    ))
    return name


# ------------------------------------------------------------------ the Source kinds


class Source:
    """A resolved source: ``kind`` and a ``label`` safe to show and store (no passwords)."""

    kind = "source"
    label = ""

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        raise NotImplementedError


@dataclass
class FileSource(Source):
    """A local file: its path is its label."""

    path: Path
    options: ReadOptions

    def __post_init__(self) -> None:
        self.label = str(self.path)


def _describe(conn: Connection, relation: exp.Expression, settings: list[exp.Expression], what: str) -> list[tuple[str, str]]:
    q = exp.select(exp.Star()).from_(relation).limit(0)
    if settings:
        q.set("settings", settings)
    try:
        df = engine.read(conn, exp.Describe(this=q.subquery()))
    except QueryError as exc:
        raise SourceError(f"ClickHouse could not read {what}: {exc}".split(" (hint:")[0]) from exc
    return [(str(r.name), str(r.type)) for r in df.itertuples()]


def _stage_from(conn: Connection, scratch: Scratch, progress: Progress, raw: Raw, label: str) -> Raw:
    """Copy a readable relation once into a MergeTree staging table (URLs, databases)."""
    defs = [(rc.source, rc.type) for rc in raw.columns] + ([(raw.extra, "String")] if raw.extra else [])
    name = _create_stage(conn, scratch, [*defs, (ROW, "UInt64")])
    select = exp.select(*[c.col(n) for n, _ in defs], exp.alias_(raw.row, ROW, quoted=True)).from_(raw.relation)
    if raw.settings:
        select.set("settings", raw.settings)
    progress.step("reading " + label, size_bytes=raw.size_bytes, rows=raw.rows)
    conn.command(exp.insert(select, exp.Schema(this=table(scratch.database, name),
                                               expressions=[ident(n) for n, _ in defs] + [ident(ROW)])))
    progress.advance()
    return Raw(relation=table(scratch.database, name), columns=raw.columns, row=c.col(ROW), extra=raw.extra,
               text_source=raw.text_source, details=raw.details, staged=True, notes=raw.notes)


@dataclass
class TextFile(FileSource):
    """CSV/TSV and other delimited text."""

    kind: str = "csv"

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        fmt = sniff(self.path, encoding=self.options.encoding, delimiter=self.options.delimiter, header=self.options.header)
        self.kind = "tsv" if fmt.delimiter == "\t" else "csv"
        names = _names(list(fmt.names), self.options.clean_names is not False)
        # the engine reads UTF-8 with LF (or CRLF) line ends, and skips leading lines of CSV only
        rewrite = not fmt.utf8 or fmt.lone_cr or bool(fmt.skip and fmt.delimiter == "\t")
        path = _transcode(self.path, fmt, scratch, progress) if rewrite else self.path
        columns = text_columns(names)
        settings, format_name = _text_format(fmt.delimiter, fmt.header, 0 if rewrite else fmt.skip)
        structure = _structure([(rc.source, rc.type) for rc in columns] + [(EXTRA, "String")])
        details = {"format": self.kind.upper(), "encoding": fmt.encoding, "delimiter": fmt.delimiter,
                   "header": str(fmt.header).lower()}
        size = path.stat().st_size if path.suffix.lower() not in COMPRESSED else None
        if conn.embedded and not stage:
            relation = exp.Table(this=c.fn("file", c.lit(str(path)), c.lit(format_name), c.lit(structure)))
            raw = Raw(relation=relation, columns=columns, row=exp.Add(this=exp.column("_row_number"), expression=c.lit(1)),
                      extra=EXTRA, settings=[*settings, *engine.settings(**READ_IN_PLACE)], text_source=True, size_bytes=size,
                      details=details, malformed=scratch.file(".errors.csv"))
        else:
            raw = _stream_to_stage(conn, scratch, progress, path, format_name, columns, settings, details, self.label)
        raw.notes += _skipped_note(fmt)
        return raw


def _skipped_note(fmt: TextFormat) -> list[str]:
    """The load's warning for the lines read as a title or comments above the table."""
    return _skipped_lines(fmt.skipped, fmt.header)


def _skipped_lines(skipped: tuple[str, ...], header: bool) -> list[str]:
    """The same warning for any source: ``skipped`` the lines (or a sheet's rows) that held text."""
    if not skipped:
        return []
    quoted = "; ".join(repr(line if len(line) <= 60 else line[:57] + "...") for line in skipped)
    n = len(skipped)
    where = "the header" if header else "the first row"
    return [f"skipped {n} line{'s' if n > 1 else ''} above {where} (a title or comments, narrower than the table): {quoted}"]


# A file the embedded engine reads in place is read with pread(), not mapped into memory (the
# engine's default for local files): every page of a mapped file counts in the process's
# resident memory until it is unmapped, so a 600 MB CSV added about 600 MB to a load's peak
# (bench/RESULTS.md, 10 M rows: the engine's own text ingestion peaked at 1.4 GiB mapped, 0.8
# GiB with pread(), and was no slower).
READ_IN_PLACE = {"storage_file_read_method": "pread"}


def text_columns(names: list[str]) -> list[RawColumn]:
    """The raw columns of delimited text, every field as text. The last one is Nullable: with
    the settings of :func:`_text_format` it reads NULL exactly where a row has fewer fields than
    the header (an empty field reads ``''``), so a short row can be rejected."""
    return [RawColumn(n, n, "Nullable(String)" if i == len(names) - 1 else "String") for i, n in enumerate(names)]


# No text is ever read as NULL except a missing field: ``\N`` stays text (it is a null token,
# cleaned like the others).
_NO_NULL_TEXT = "\\N\u0001bivoice-no-null"
# A row the CSV parser cannot read (a quote closed in the middle of a field, ``"ab"c``) is
# skipped and written to a file the load turns into rejected rows (see ``load``), unless more
# than this many rows and this share of them fail: then the file is not the CSV it looks like.
MALFORMED_ROWS = 100
MALFORMED_SHARE = 0.01


def _text_format(delimiter: str, header: bool, skip: int = 0) -> tuple[list[exp.Expression], str]:
    """Read settings and format for delimited text, every field as text. A tab-separated file
    is CSV with tabs (quotes and all), which ClickHouse reads as CustomSeparated with CSV
    escaping: its CSV format refuses a tab delimiter. Blank lines at the end are not rows (a
    blank line within is a row without fields: the load counts it as skipped, see
    ``load._malformed``). ``skip`` lines before the header are skipped: CSV only, the
    CustomSeparated format has no such setting (a TSV's are dropped by :func:`_transcode`)."""
    common = dict(input_format_with_names_use_header=0, input_format_csv_detect_header=0,
                  format_csv_null_representation=_NO_NULL_TEXT, input_format_csv_empty_as_default=0,
                  input_format_allow_errors_num=MALFORMED_ROWS)
    if delimiter == "\t":
        if skip:
            raise ValueError("CustomSeparated cannot skip lines: rewrite the file (_transcode)")
        settings = engine.settings(format_custom_escaping_rule="CSV", format_custom_field_delimiter="\t",
                             input_format_custom_allow_variable_number_of_columns=1,
                             input_format_custom_skip_trailing_empty_lines=1, **common)
        return settings, "CustomSeparatedWithNames" if header else "CustomSeparated"
    settings = engine.settings(format_csv_delimiter=delimiter, input_format_csv_allow_variable_number_of_columns=1,
                         input_format_csv_trim_whitespaces=0, input_format_csv_skip_trailing_empty_lines=1,
                         **common, **({"input_format_csv_skip_first_lines": skip} if skip else {}))
    return settings, "CSVWithNames" if header else "CSV"


def _transcode(path: Path, fmt: TextFormat, scratch: Scratch, progress: Progress) -> Path:
    """A UTF-8 copy of a file in another encoding (streamed, 1 MiB at a time); also what reads
    a file with lone-CR line ends (as LF) and a TSV with lines above its header (dropped)."""
    out = scratch.file(".csv")
    progress.step(f"re-encoding from {fmt.encoding}" if not fmt.utf8 else "rewriting line ends" if fmt.lone_cr
                  else "dropping the lines above the header")
    # a UTF-8 file's stray bytes pass through as they are (the engine repairs them, clean.text)
    errors = "surrogateescape" if fmt.utf8 else "strict"
    decoder = codecs.getincrementaldecoder(fmt.encoding)(errors=errors)
    skip = fmt.skip
    try:
        with open_binary(path) as src, open(out, "w", encoding="utf-8", errors=errors, newline="") as dst:
            first = True
            while chunk := src.read(1 << 20):
                text = decoder.decode(chunk)
                if first:
                    text, first = text.lstrip("\ufeff"), False
                if fmt.lone_cr:
                    text = text.replace("\r", "\n")
                while skip and text:
                    cut = text.find("\n")
                    text, skip = ("", skip) if cut < 0 else (text[cut + 1:], skip - 1)
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name} is not readable as {fmt.encoding}: {exc.reason} after its first megabyte.",
                          hint="pass encoding= with the file's real encoding") from exc
    return out


def _stream_to_stage(conn: Connection, scratch: Scratch, progress: Progress, path: Path, format_name: str,
                     columns: list[RawColumn], settings: list[exp.Expression], details: dict[str, str], label: str) -> Raw:
    """A local file sent to a ClickHouse server (which cannot open the notebook's files)."""
    defs = [(rc.source, rc.type) for rc in columns] + [(EXTRA, "String")]
    name = _create_stage(conn, scratch, [*defs, (ROW, "UInt64")])
    progress.step("sending " + label, size_bytes=path.stat().st_size)

    def chunks() -> Iterator[bytes]:
        with open_binary(path) as f:
            while block := f.read(1 << 20):
                yield block

    try:
        conn.client.raw_insert(qualified(scratch.database, name), [n for n, _ in defs], chunks(), fmt=format_name,
                               # no skipped rows here: the server would keep their record, not us
                               settings={s.this.name: s.expression.this for s in settings
                                         if s.this.name != "input_format_allow_errors_num"})
    except Exception as exc:  # clickhouse-connect's own errors
        raise SourceError(f"Sending {path.name} to ClickHouse failed: {str(exc).splitlines()[0][:300]}") from exc
    progress.advance()
    return Raw(relation=table(scratch.database, name), columns=columns, row=c.col(ROW), extra=EXTRA,
               text_source=True, details=details, staged=True)


@dataclass
class JsonFile(FileSource):
    kind: str = "json"

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        with open_binary(self.path) as f:
            head = f.read(4096)
        if not head.lstrip(codecs.BOM_UTF8 + b" \t\r\n"):
            raise SourceError(f"{self.path.name} is empty.", hint="a JSON source needs at least one object")
        if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] not in (b"{", b"["):
            raise SourceError(f"{self.path.name} is not JSON objects (one per line, or an array of them).")
        settings = engine.settings(
            input_format_json_read_objects_as_strings=1, input_format_json_read_arrays_as_strings=1,
            input_format_json_read_bools_as_strings=1, input_format_json_read_numbers_as_strings=1,
            input_format_json_infer_incomplete_types_as_strings=1, input_format_json_ignore_unknown_keys_in_named_tuple=1,
            input_format_skip_unknown_fields=1,
        )
        if not conn.embedded:
            raise SourceError("JSON files load into a ClickHouse server only through the embedded engine in this version.",
                              hint="load the file with dsn='chdb://...' or convert it to CSV")
        keys = _json_keys(conn, "file", c.lit(str(self.path)), settings, self.path.name)
        if not keys:
            raise SourceError(f"{self.path.name} has no keys.")
        names = _names(keys, self.options.clean_names is not False)
        structure = _structure([(k, "Nullable(String)") for k in keys])
        relation = exp.Table(this=c.fn("file", c.lit(str(self.path)), c.lit("JSONEachRow"), c.lit(structure)))
        columns = [RawColumn(n, k) for n, k in zip(names, keys)]
        return Raw(relation=relation, columns=columns, row=exp.Add(this=exp.column("_row_number"), expression=c.lit(1)),
                   settings=settings, text_source=True, size_bytes=self.path.stat().st_size,
                   details={"format": "JSONEachRow"})


MAX_JSON_KEYS = 1000  # more distinct top-level keys than this: not a table (objects keyed by id?)


def _json_keys(conn: Connection, function: str, where: exp.Expression, settings: list[exp.Expression],
               label: str, compression: str | None = None) -> list[str]:
    """Every top-level key of a JSON source (``file`` or ``url``), in the order they first
    appear. ClickHouse infers the structure from the source's start only (25,000 rows or 32
    MiB), and the rows are read with ``input_format_skip_unknown_fields``, so a key first seen
    below would be dropped without a word: one more pass over the whole source collects them
    (``JSONAsString`` reads an array or one object per line alike; about 1.3 s for 1 M lines,
    118 MB, on 2 cores, next to 0.2 s for the sampling ``DESCRIBE``)."""
    tail = [c.lit(compression)] if compression else []
    probe = exp.Table(this=c.fn(function, where, c.lit("JSONEachRow"), *([c.lit("auto"), *tail] if tail else [])))
    described = [n for n, _ in _describe(conn, probe, settings, label)]
    objects = exp.Table(this=c.fn(function, where, c.lit("JSONAsString"), c.lit("json String"), *tail))
    keys = c.fn("JSONExtractKeys", c.col("json"))
    every = exp.CombinedParameterizedAgg(this=exp.to_identifier("groupUniqArrayArray"),
                                         expressions=[c.lit(MAX_JSON_KEYS + 1)], params=[keys])
    try:
        found = list(engine.read(conn, exp.select(every.as_("keys")).from_(objects))["keys"].iloc[0])
        known = set(described)
        late = [k for k in found if k not in known]
        if late:  # in the order they first appear
            first = exp.select(c.fn("arrayJoin", keys).as_("key", quoted=True)).from_(objects) \
                .where(exp.In(this=c.col("key"), expressions=[c.lit(k) for k in late])) \
                .group_by(c.col("key")).order_by(c.fn("min", exp.column("_row_number")), c.col("key"))
            late = [str(k) for k in engine.read(conn, first)["key"]]
    except QueryError as exc:
        raise SourceError(f"ClickHouse could not read {label}: {exc}".split(" (hint:")[0]) from exc
    if len(described) + len(late) > MAX_JSON_KEYS:
        raise SourceError(f"{label} has more than {MAX_JSON_KEYS:,} distinct keys: its objects are not the rows "
                          "of a table (an object keyed by id or by date, say).",
                          hint="reshape it into one object per row with the same keys, or load it with pandas first")
    return described + late


@dataclass
class ParquetFile(FileSource):
    kind: str = "parquet"

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path.name} is empty.")
        if not conn.embedded:
            raise SourceError("Parquet files load into a ClickHouse server only through the embedded engine in this version.",
                              hint="load the file with dsn='chdb://...'")
        relation = exp.Table(this=c.fn("file", c.lit(str(self.path)), c.lit("Parquet")))
        described = _describe(conn, relation, [], self.path.name)
        names = _names([n for n, _ in described], self.options.clean_names is not False)
        columns = [RawColumn(n, s, t) for n, (s, t) in zip(names, described)]
        return Raw(relation=relation, columns=columns, row=exp.Add(this=exp.column("_row_number"), expression=c.lit(1)),
                   size_bytes=self.path.stat().st_size, details={"format": "Parquet"})


# ------------------------------------------------------------------ Python-side sources


def _cell(v: Any) -> str | None:
    """A spreadsheet or object cell as text (None for empty)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    s = str(v)
    return s if s != "" else None


def _frame_types(df: pd.DataFrame) -> list[str]:
    """ClickHouse types for a DataFrame's typed columns; ``String`` for text to inspect."""
    out = []
    for name in df.columns:
        s = df[name]
        kind = s.dtype.kind
        nullable = bool(s.isna().any())
        if pd.api.types.is_bool_dtype(s):
            base = "Bool"
        elif kind == "i":
            base = "Int64"
        elif kind == "u":
            base = "UInt64"
        elif kind == "f":
            base = "Float64"
        elif pd.api.types.is_datetime64_any_dtype(s):
            valid = s.dropna()
            midnight = bool(len(valid)) and bool((valid == valid.dt.normalize()).all())
            base = "Date32" if midnight else "DateTime64(3)"
        else:
            out.append("String")
            continue
        out.append(f"Nullable({base})" if nullable else base)
    return out


def _insert_frame(conn: Connection, scratch: Scratch, progress: Progress, df: pd.DataFrame, names: list[str],
                  types: list[str], label: str) -> Raw:
    """Stage a DataFrame: text columns as Nullable(String), typed ones as they are."""
    stage_types = ["Nullable(String)" if t == "String" else t for t in types]
    name = _create_stage(conn, scratch, [*zip(names, stage_types), (ROW, "UInt64")])
    progress.step("staging " + label, rows=len(df))
    total = len(df)
    for start in range(0, max(total, 1), CHUNK_ROWS):
        part = df.iloc[start : start + CHUNK_ROWS]
        if part.empty:
            break
        out = pd.DataFrame(index=range(len(part)))
        for col_name, src, t in zip(names, part.columns, types):
            s = part[src]
            if t == "String":
                values = s.astype(object).tolist() if s.dtype == object else s.astype(object).where(s.notna(), None).tolist()
                out[col_name] = pd.Series([_cell(v) for v in values], dtype=object)
            elif t.startswith(("Date32", "Nullable(Date32")):
                out[col_name] = pd.to_datetime(s).dt.date.where(s.notna(), None).reset_index(drop=True)
            else:
                out[col_name] = s.reset_index(drop=True)
        out[ROW] = range(start + 1, start + len(part) + 1)
        conn.insert_df(scratch.database, name, out)
        progress.rows_done(start + len(part), total)
        progress.check()
    progress.advance()
    columns = [RawColumn(n, n, "String" if t == "String" else t) for n, t in zip(names, stage_types)]
    return Raw(relation=table(scratch.database, name), columns=columns, row=c.col(ROW), staged=True)


@dataclass
class Frame(Source):
    df: pd.DataFrame
    options: ReadOptions
    kind: str = "dataframe"

    def __post_init__(self) -> None:
        self.label = f"{type(self.df).__name__} ({len(self.df):,} rows x {len(self.df.columns)} columns)"
        self.df, self.notes = _with_index(self.df)

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        if len(self.df.columns) == 0:
            raise SourceError("The DataFrame has no columns.")
        names = _names([str(x) for x in self.df.columns] if self.options.clean_names else list(self.df.columns),
                       bool(self.options.clean_names))
        raw = _insert_frame(conn, scratch, progress, self.df, names, _frame_types(self.df), "DataFrame")
        raw.notes += self.notes
        return raw


def _with_index(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The frame with its index as column(s), as ``reset_index()`` makes them, unless it only
    numbers the rows: unnamed integers (0, 1, 2 ..., or the row numbers a filter or a sort left
    behind), which are not data. A ``groupby`` result or a frame after ``set_index`` keeps its
    keys there, and a time series its times: pandas' ``to_sql`` writes them too."""
    index = df.index
    if index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index.dtype):
        return df, []
    try:
        out = df.reset_index()
    except ValueError as exc:  # an index named like a column
        raise SourceError(f"The DataFrame's index cannot become a column: {exc}.",
                          hint="rename the index (df.rename_axis('new_name')), or pass df.reset_index(drop=True) "
                               "to leave it out") from exc
    added = [str(n) for n in out.columns[: len(out.columns) - len(df.columns)]]
    return out, [f"the DataFrame's index was loaded as column{'s' if len(added) > 1 else ''} {', '.join(added)} "
                 "(pass df.reset_index(drop=True) to leave it out)"]


@dataclass
class Excel(FileSource):
    kind: str = "excel"

    def __post_init__(self) -> None:
        self.label = str(self.path) + (f" [{self.options.sheet}]" if self.options.sheet is not None else "")

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        calamine = import_extra("python_calamine", "etl", package="python-calamine")
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path.name} is empty.")
        progress.step(f"reading {self.path.name}")
        try:
            wb = calamine.CalamineWorkbook.from_path(str(self.path))
            sheets = list(wb.sheet_names)
            sheet = self.options.sheet
            if sheet is None:
                sheet = sheets[0] if sheets else None
            elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in sheets):
                idx = int(sheet)
                if not 0 <= idx < len(sheets):
                    raise SourceError(f"{self.path.name} has {len(sheets)} sheets; there is no sheet {idx}.",
                                      hint=f"sheets are: {', '.join(sheets)}")
                sheet = sheets[idx]
            if sheet not in sheets:
                raise SourceError(f"{self.path.name} has no sheet {sheet!r}.", hint=f"sheets are: {', '.join(sheets)}")
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=True)
        except SourceError:
            raise
        except Exception as exc:  # calamine raises its own error types for corrupt files
            raise SourceError(f"{self.path.name} could not be read as a spreadsheet: {exc}") from exc
        rows = [[_cell(v) for v in r] for r in rows]
        while rows and not any(v is not None for v in rows[-1]):
            rows.pop()
        if not rows:
            raise SourceError(f"Sheet {sheet!r} of {self.path.name} is empty.")
        # a title, notes or blank rows above the table are skipped, as in a CSV (sniff.find_start)
        filled = [i for i, r in enumerate(rows) if any(v is not None for v in r)][:HEADER_ROWS]
        text = [[v or "" for v in rows[i]] for i in filled]
        start = find_start(text, self.options.header)
        skipped = tuple(", ".join(v for v in text[i] if v.strip()) for i in range(start))
        if start:
            rows = rows[filled[start]:]
        width = max(len(r) for r in rows)
        header = self.options.header
        if header is None:
            header = detect_header([[v or "" for v in r] for r in rows[:200]])
        raw_names = [(rows[0][j] if j < len(rows[0]) and rows[0][j] is not None else "") for j in range(width)] \
            if header else [f"column_{j}" for j in range(1, width + 1)]
        body = rows[1:] if header else rows
        names = _names(raw_names, self.options.clean_names is not False)
        df = pd.DataFrame([r + [None] * (width - len(r)) for r in body], columns=names, dtype=object)
        raw = _insert_frame(conn, scratch, progress, df, names, ["String"] * width, self.path.name)
        raw.details = {"format": "Excel", "sheet": str(sheet), "header": str(header).lower()}
        raw.notes += _skipped_lines(skipped, header)
        return raw


# ------------------------------------------------------------------ URLs and databases


def _urlopen(url: str, headers: dict[str, str]) -> Any:
    """The open response for ``url``; a ``user:password@`` in the URL is sent as basic
    authentication (urllib would take it for part of the host name)."""
    u = urllib.parse.urlsplit(url)
    headers = {"User-Agent": "bivoice-jupyter", **headers}
    if u.username is not None or u.password is not None:
        headers["Authorization"] = _basic_auth(url)
        url = urllib.parse.urlunsplit(u._replace(netloc=u.netloc.rsplit("@", 1)[1]))
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=15)  # noqa: S310 - http(s) only, checked by the caller
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{_url_label(url)} answered HTTP {exc.code} {exc.reason}.",
                          hint="check the user and password in the URL" if exc.code in (401, 403) else None) from None
    except (urllib.error.URLError, OSError) as exc:
        raise SourceError(f"Could not reach {_url_label(url)}: {getattr(exc, 'reason', exc)}.",
                          hint="check the address and the network") from None


def _read(resp: Any, size: int, label: str) -> bytes:
    try:
        return resp.read(size)
    except (OSError, http.client.HTTPException) as exc:  # a reset connection, a timeout, a body cut short
        raise SourceError(f"Reading {label} broke off: {exc!r}.", hint="check the network and load it again") from None


def _fetch_sample(url: str, size: int = 1 << 20) -> tuple[bytes, str, str]:
    """The first ``size`` bytes at ``url``, its content type and content encoding."""
    with _urlopen(url, {"Range": f"bytes=0-{size - 1}"}) as resp:
        return _read(resp, size, _url_label(url)), resp.headers.get_content_type() or "", \
            resp.headers.get("Content-Encoding", "")


# a workbook fetched whole from a URL (the engine reads no Excel): at most 1 GiB; a JSON URL is
# fetched whole up to this size too, and read from the URL itself beyond it (Url._downloaded_json)
MAX_DOWNLOAD = 1 << 30


class _NotKept(SourceError):
    """A download that could not be kept whole: past :data:`MAX_DOWNLOAD`, or no room for it."""


class _Streams:
    """A decompressor for a body of one or more gzip, bzip2 or xz streams put together (pbzip2,
    bgzip or ``cat`` make them): each stream ended, the next one starts on what follows."""

    def __init__(self, magic: str) -> None:
        self.magic, self.one = magic, _DECOMPRESS[magic]()

    @property
    def eof(self) -> bool:
        return self.one.eof


def _unpack(unpack: _Streams, data: bytes, step: int, write: Any) -> None:
    """Feed ``data`` to ``unpack``, writing at most ``step`` bytes of output at a time (a small
    body can unpack to gigabytes, which ``write`` refuses past its limit)."""
    gzip = unpack.magic == "gzip"
    while True:
        if unpack.one.eof:
            data = unpack.one.unused_data + data
            if not data:
                return  # the stream is complete unless more follows
            unpack.one = _DECOMPRESS[unpack.magic]()
        out = unpack.one.decompress(data, step)
        write(out)
        if unpack.one.eof:  # what follows the stream is in unused_data (zlib keeps it in the tail too)
            data = b""
            continue
        data = unpack.one.unconsumed_tail if gzip else b""
        # more to come from what was given: input held back, or output the step cut short
        if not (data or len(out) == step if gzip else not unpack.one.needs_input):
            return


def _download(url: str, dest: Path, label: str) -> Path:
    """The whole body at ``url`` in ``dest`` (a scratch file, removed with the load's scratch
    whatever happens), decompressed where it is gzip, bzip2 or xz."""
    limit, step = MAX_DOWNLOAD, 1 << 20
    got = 0

    def too_large() -> _NotKept:
        most = f"{limit >> 20:,} MiB" if limit >= 1 << 20 else f"{limit:,} bytes"
        return _NotKept(f"{label} is larger than {most}, the most a workbook is downloaded for.",
                        hint="download it yourself and load the file, or save it as CSV or Parquet")

    def write(data: bytes) -> None:
        nonlocal got
        got += len(data)
        if got > limit:
            raise too_large()
        try:
            f.write(data)
        except OSError as exc:  # a full disk, say
            raise _NotKept(f"{label} could not be saved to be read: {exc.strerror or exc}.",
                           hint=f"make room in {dest.parent.parent} (the temporary folder), or download it yourself "
                                "and load the file") from None

    with _urlopen(url, {}) as resp, open(dest, "wb") as f:
        chunk = _read(resp, step, label)
        magic = next((m for b, m in _MAGIC if chunk.startswith(b)), None)
        if magic is None and resp.length is not None and len(chunk) + resp.length > limit:
            raise too_large()  # said by its Content-Length: not fetched
        unpack = _Streams(magic) if magic else None
        while chunk:
            if unpack is None:
                write(chunk)
            else:
                try:
                    _unpack(unpack, chunk, step, write)
                except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
                    raise SourceError(f"{label} could not be read as {magic}: {exc}.") from None
            chunk = _read(resp, step, label)
        if resp.length:  # fewer bytes than its Content-Length (http.client returns them without a word)
            raise SourceError(f"{label} ends before the server said it would: the download was cut short.",
                              hint="check the network and load it again")
        if unpack is not None and not unpack.eof:
            raise SourceError(f"{label} ends before its {magic} stream does: the download was cut short.",
                              hint="check the network and load it again")
    return dest


def _basic_auth(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    pair = f"{urllib.parse.unquote(u.username or '')}:{urllib.parse.unquote(u.password or '')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _url_label(url: str) -> str:
    """``url`` safe to show and store: no password, and every query-string value (a token, a
    presigned URL's signature) and fragment replaced by ``***``."""
    u = urllib.parse.urlsplit(_safe_url(url))
    query = "&".join(k + (f"{sep}***" if v else sep) for k, sep, v in (p.partition("=") for p in u.query.split("&"))) \
        if u.query else ""
    return urllib.parse.urlunsplit(u._replace(query=query, fragment="***" if u.fragment else ""))


def _url_secrets(url: str) -> list[str]:
    """What of ``url`` must not show in an error or the audit table (the engine's messages
    quote the URL it read), longest first: the userinfo, password, query values, fragment and
    the basic-authentication header (values under 3 characters are not taken for secrets)."""
    u = urllib.parse.urlsplit(url)
    found: set[str] = set()
    if u.password:
        found |= {u.netloc.rsplit("@", 1)[0] + "@", _basic_auth(url).split()[1]}
        found |= {p for p in (u.password, urllib.parse.unquote(u.password)) if len(p) >= 3}
    values = [part.partition("=")[2] for part in u.query.split("&")] + [u.fragment]
    for value in values:
        found |= {v for v in (value, urllib.parse.unquote_plus(value)) if len(v) >= 3}
    return sorted(found, key=len, reverse=True)


_DECOMPRESS = {"gzip": lambda: zlib.decompressobj(wbits=47), "bz2": bz2.BZ2Decompressor, "xz": lzma.LZMADecompressor}
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))
# compressions the engine's url() tells from the suffix or reads, and _download does not unpack
_ENGINE_COMPRESSION = (".zst", ".zstd", ".lz4", ".br", ".brotli", ".snappy", ".deflate", ".zz", ".lzma")
_ENGINE_MAGIC = (b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18")  # zstd, lz4 frames


def _safe_url(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    if u.password is None:
        return url
    netloc = (f"{u.username}@" if u.username else "") + (u.hostname or "") + (f":{u.port}" if u.port else "")
    return urllib.parse.urlunsplit(u._replace(netloc=netloc))


@dataclass
class Url(Source):
    url: str
    options: ReadOptions
    kind: str = "url"

    def __post_init__(self) -> None:
        self.label = _url_label(self.url)
        self.secrets = _url_secrets(self.url)

    def _suffix(self) -> str:
        """The URL path's suffix, a compression suffix aside (``.csv`` of ``x.csv.gz``)."""
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(self.url).path))
        return uncompressed(path).suffix.lower()

    def _file_name(self) -> str:
        """The URL path's file name, a compression suffix aside (``book.xlsx`` of ``book.xlsx.gz``):
        a downloaded copy keeps it, and its errors show it."""
        return uncompressed(Path(urllib.parse.unquote(urllib.parse.urlsplit(self.url).path))).name

    def _compression(self, sample: bytes, content_encoding: str) -> tuple[str | None, bytes]:
        """The compression the engine reads the URL with (``None``: the engine tells from the
        suffix, or there is none) and the sample's first megabyte decompressed."""
        path = urllib.parse.urlsplit(self.url).path.lower()
        method = next((m for s, m in _COMPRESSION.items() if path.endswith(s)), None)
        magic = next((m for b, m in _MAGIC if sample.startswith(b)), None)
        if magic is None:
            return None, sample
        try:
            sample = _DECOMPRESS[magic]().decompress(sample, 1 << 20)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise SourceError(f"{self.label} could not be read as {magic}: {exc}.") from None
        # a suffix, or a server's Content-Encoding, the engine sees for itself
        return (None if method or content_encoding.lower() in ("gzip", "x-gzip") else magic), sample

    def _format(self, content_type: str, sample: bytes) -> str:
        if self.options.fmt:
            return {"tsv": "csv"}.get(self.options.fmt.lower(), self.options.fmt.lower())
        suffix = self._suffix()
        if suffix in EXCEL_SUFFIXES or "spreadsheet" in content_type or "ms-excel" in content_type \
                or sample[:4] == b"\xd0\xcf\x11\xe0":
            return "excel"
        if sample[:4] == b"PK\x03\x04":  # a zip: a workbook names its parts near the start
            return "excel" if any(m in sample for m in (b"[Content_Types].xml", b"xl/", b"opendocument.spreadsheet")) \
                else "zip"
        if suffix in PARQUET_SUFFIXES or sample[:4] == b"PAR1" or "parquet" in content_type:
            return "parquet"
        if suffix in JSON_SUFFIXES or "json" in content_type:
            return "json"
        return "csv"

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        progress.step("probing " + self.label)
        sample, content_type, content_encoding = _fetch_sample(self.url)
        # compressed in a way only the engine reads (zstd, lz4, brotli ...): never downloaded
        engine_only = sample.startswith(_ENGINE_MAGIC) or \
            Path(urllib.parse.urlsplit(self.url).path).suffix.lower() in _ENGINE_COMPRESSION
        compression, sample = self._compression(sample, content_encoding)
        if not sample.strip():
            raise SourceError(f"{self.label} is empty.")
        fmt = self._format(content_type, sample)
        if fmt == "excel":  # the engine reads no workbook: fetched whole, then read as a local one
            progress.step("downloading " + self.label)
            suffix = self._suffix()
            suffix = suffix if suffix in EXCEL_SUFFIXES else \
                ".xls" if sample.startswith(b"\xd0\xcf\x11\xe0") else ".xlsx"
            path = _download(self.url, scratch.file(suffix, name=self._file_name()), self.label)
            raw = Excel(path, self.options).open(conn, scratch, progress, stage=stage)
            raw.details = {**raw.details, "format": "Excel (downloaded)"}
            return raw
        if fmt == "zip":
            raise SourceError(f"{self.label} is a zip archive, not a workbook.",
                              hint="unzip it and load the files inside (CSV, JSON, Parquet or Excel)")
        if fmt not in ("csv", "json", "parquet"):
            raise SourceError(f"{self.label} is {fmt!r}, which cannot be read from a URL (CSV/TSV, JSON, Parquet and "
                              "Excel can).", hint="pass fmt='csv', 'json', 'parquet' or 'excel'")
        if fmt == "json" and conn.embedded and not engine_only:
            raw = self._downloaded_json(conn, scratch, progress, stage=stage)
            if raw is not None:
                return raw
        url_lit = c.lit(self.url)
        # the engine's url(): address, format, structure ('auto': inferred), compression
        tail = [c.lit(compression)] if compression else []
        if fmt == "csv":
            local = scratch.file(self._suffix() if self._suffix() in TEXT_SUFFIXES else ".csv")
            local.write_bytes(sample)
            try:
                tf = sniff(local, encoding=self.options.encoding, delimiter=self.options.delimiter,
                           header=self.options.header)
            except SourceError as exc:  # its message names the local copy of the sample
                raise SourceError(str(exc.args[0]).replace(local.name, self.label),
                                  hint=exc.hint or None) from None
            if codecs.lookup(tf.encoding).name not in ("utf-8",) and not _single_byte(tf.encoding):
                raise SourceError(f"{self.label} is {tf.encoding}, which the engine cannot read from a URL.",
                                  hint="download it and load the file")
            if tf.lone_cr or (tf.skip and tf.delimiter == "\t"):
                why = "its lines end in a lone CR (classic Mac OS)" if tf.lone_cr else "it has lines above its header"
                raise SourceError(f"{self.label} cannot be read from the URL as it is: {why}.",
                                  hint="download it and load the file, which is rewritten for the engine")
            names = _names(list(tf.names), self.options.clean_names is not False)
            columns = text_columns(names)
            structure = _structure([(rc.source, rc.type) for rc in columns] + [(EXTRA, "String")])
            settings, format_name = _text_format(tf.delimiter, tf.header, tf.skip)
            relation = exp.Table(this=c.fn("url", url_lit, c.lit(format_name), c.lit(structure), *tail))
            details = {"format": "CSV", "encoding": tf.encoding, "delimiter": tf.delimiter, "header": str(tf.header).lower()}
            if not _single_byte(tf.encoding):
                raw = Raw(relation=relation, columns=columns, row=_row_number(), extra=EXTRA, settings=settings,
                          text_source=True, details=details, notes=_skipped_note(tf))
                return _stage_from(conn, scratch, progress, raw, self.label) if stage else raw
            # a single-byte encoding: the engine converts each value as it stages them
            inner = exp.select(*[c.fn("convertCharset", c.col(n), c.lit(_icu(tf.encoding)), c.lit("UTF-8")).as_(n, quoted=True)
                                 for n in names], c.col(EXTRA), _row_number().as_(ROW, quoted=True)).from_(relation)
            inner.set("settings", settings)
            raw = Raw(relation=inner.subquery("_converted"), columns=columns, row=c.col(ROW), extra=EXTRA,
                      text_source=True, details=details, notes=_skipped_note(tf))
            return _stage_from(conn, scratch, progress, raw, self.label) if stage else raw
        if fmt == "json":
            settings = engine.settings(input_format_json_read_objects_as_strings=1, input_format_json_read_arrays_as_strings=1,
                                 input_format_json_read_bools_as_strings=1, input_format_json_read_numbers_as_strings=1,
                                 input_format_json_infer_incomplete_types_as_strings=1, input_format_skip_unknown_fields=1)
            keys = _json_keys(conn, "url", url_lit, settings, self.label, compression)
            names = _names(keys, self.options.clean_names is not False)
            relation = exp.Table(this=c.fn("url", url_lit, c.lit("JSONEachRow"),
                                           c.lit(_structure([(k, "Nullable(String)") for k in keys])), *tail))
            raw = Raw(relation=relation, columns=[RawColumn(n, k) for n, k in zip(names, keys)], row=_row_number(),
                      settings=settings, text_source=True, details={"format": "JSONEachRow"})
        else:
            relation = exp.Table(this=c.fn("url", url_lit, c.lit("Parquet"), *([c.lit("auto"), *tail] if tail else [])))
            described = _describe(conn, relation, [], self.label)
            names = _names([n for n, _ in described], self.options.clean_names is not False)
            raw = Raw(relation=relation, columns=[RawColumn(n, s, t) for n, (s, t) in zip(names, described)],
                      row=_row_number(), details={"format": "Parquet"})
        return _stage_from(conn, scratch, progress, raw, self.label) if stage else raw

    def _downloaded_json(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw | None:
        """The JSON at the URL, fetched once and read as a local file: its keys, its sample and its
        rows are read apart (see :func:`_json_keys`), which from the URL itself was up to three
        reads of the whole body, and an API's answer may change from one read to the next. None
        past :data:`MAX_DOWNLOAD` or without room for it: then it is read from the URL."""
        progress.step("downloading " + self.label)
        suffix = self._suffix() if self._suffix() in JSON_SUFFIXES else ".json"
        dest = scratch.file(suffix, name=self._file_name())
        try:
            path = _download(self.url, dest, self.label)
        except _NotKept:
            dest.unlink(missing_ok=True)
            return None
        try:
            raw = JsonFile(path, self.options).open(conn, scratch, progress, stage=stage)
        except SourceError as exc:  # its message names the downloaded copy (the engine's, by its path)
            text = str(exc.args[0]).replace(str(path), self.label).replace(path.name, self.label)
            raise SourceError(text, hint=exc.hint or None) from None
        raw.details = {**raw.details, "format": "JSONEachRow (downloaded)"}
        return raw


def _row_number() -> exp.Expression:
    return exp.Add(this=exp.column("_row_number"), expression=c.lit(1))


def _row_in_order() -> exp.Expression:
    """A row's number in the order the source sends its rows, from 1 like a file's (a database
    table or query: the number a rejected row is reported by)."""
    return exp.Add(this=c.fn("rowNumberInAllBlocks"), expression=c.lit(1))


def _single_byte(encoding: str) -> bool:
    """An ASCII-compatible one-byte-per-character codec (Windows-125x, ISO-8859-x, KOI8 ...):
    the engine can convert its values in place."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return bool(re.match(r"^(cp12\d\d|cp437|cp85\d|cp86\d|iso8859-\d+|latin-1|koi8-[ru]|mac-[a-z]+)$", name))


def _icu(encoding: str) -> str:
    """ICU's name for a Python single-byte codec (what ``convertCharset`` understands)."""
    name = codecs.lookup(encoding).name
    m = re.match(r"^cp(125\d)$", name)
    if m:
        return f"windows-{m.group(1)}"
    m = re.match(r"^iso8859-(\d+)$", name)
    if m:
        return f"ISO-8859-{m.group(1)}"
    return {"latin-1": "ISO-8859-1", "koi8-r": "KOI8-R", "koi8-u": "KOI8-U", "mac-roman": "macintosh"}.get(name, name)


@dataclass(frozen=True)
class DbUrl:
    """``postgresql://user:password@host:port/database/[schema.]table`` (or ``mysql://``)."""

    kind: str
    host: str
    port: int
    user: str
    password: str
    database: str
    schema: str | None
    table: str | None

    @property
    def display(self) -> str:
        where = f"{self.database}/{self.schema + '.' if self.schema else ''}{self.table or ''}".rstrip("/")
        return f"{self.kind}://{self.user}@{self.host}:{self.port}/{where}"


def parse_db_url(url: str) -> DbUrl:
    u = urllib.parse.urlsplit(url)
    scheme = u.scheme.lower().split("+")[0]
    kind = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}.get(scheme)
    if kind is None:
        raise SourceError(f"Unknown database scheme {u.scheme!r}.", hint="use postgresql:// or mysql://")
    parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
    query = dict(urllib.parse.parse_qsl(u.query))
    if not parts:
        raise SourceError(f"{_safe_url(url)} names no database.", hint=f"{kind}://user:password@host:port/database/table")
    database = parts[0]
    tbl = query.get("table") or (parts[1] if len(parts) > 1 else None)
    schema = query.get("schema")
    if tbl and "." in tbl and schema is None:
        schema, tbl = tbl.split(".", 1)
    try:
        port = u.port or (5432 if kind == "postgresql" else 3306)
    except ValueError as exc:
        raise SourceError(f"{_safe_url(url)} has a bad port.") from exc
    return DbUrl(kind, u.hostname or "127.0.0.1", port, urllib.parse.unquote(u.username or ""),
                 urllib.parse.unquote(u.password or ""), database, schema, tbl)


@dataclass
class Database(Source):
    url: str
    options: ReadOptions
    kind: str = "database"

    def __post_init__(self) -> None:
        self.db = parse_db_url(self.url)
        self.kind = self.db.kind
        if self.options.query:
            self.label = f"{self.db.display} query: {' '.join(self.options.query.split())[:200]}"
        else:
            if not self.db.table:
                raise SourceError(f"{self.db.display} names no table.",
                                  hint=f"{self.db.kind}://user:password@host:port/database/table, or pass query=")
            self.label = self.db.display

    def _scrub(self, text: str) -> str:
        return text.replace(self.db.password, "***") if self.db.password else text

    def _fail(self, exc: Exception) -> SourceError:
        code = getattr(exc, "code", None)
        msg = self._scrub(str(exc).split(" (hint:")[0])
        # every engine error reads "ClickHouse refused the query: ...": only the text after it
        # tells a refused connection from a missing table
        detail = msg.split("ClickHouse refused the query: ", 1)[-1]
        if code == 60 or "UNKNOWN_TABLE" in detail:
            d = self.db
            where = f"{d.schema + '.' if d.schema else ''}{d.table}"
            tables = ("SELECT table_schema, table_name FROM information_schema.tables" if d.kind == "postgresql"
                      else "SHOW TABLES")
            return SourceError(f"{d.display}: there is no table {where!r} in database {d.database!r}.",
                               hint=f"check the name (and the schema); query=\"{tables}\" lists the tables")
        if code in _CONNECT_CODES or "onnection" in detail or "refused" in detail:
            return SourceError(f"Could not connect to {self.db.display}: {msg}",
                               hint="check that the server runs, and the host, port, user and password")
        return SourceError(f"Reading {self.db.display} failed: {msg}")

    def table_function(self) -> exp.Expression:
        d = self.db
        args = [c.lit(f"{d.host}:{d.port}"), c.lit(d.database), c.lit(d.table or ""), c.lit(d.user), c.lit(d.password)]
        if d.kind == "postgresql" and d.schema:
            args.append(c.lit(d.schema))
        elif d.kind == "mysql" and d.schema:
            args[1] = c.lit(d.schema)
        return exp.Table(this=c.fn("postgresql" if d.kind == "postgresql" else "mysql", *args))

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        if self.options.query:
            return self._open_query(conn, scratch, progress, self.options.query)
        relation = self.table_function()
        try:
            described = _describe(conn, relation, [], self.db.display)
        except SourceError as exc:
            raise self._fail(exc.__cause__ or exc) from None
        details = {"format": self.db.kind, "table": f"{self.db.schema + '.' if self.db.schema else ''}{self.db.table}"}
        if self._engine_would_change(conn, described):
            raw = self._open_query(conn, scratch, progress, self._select_all())
            raw.details = {**details, "read": "through the driver"}
            return raw
        names = _names([n for n, _ in described], self.options.clean_names is not False)
        columns = [RawColumn(n, s, t) for n, (s, t) in zip(names, described)]
        raw = Raw(relation=relation, columns=columns, row=_row_in_order(), details=details)
        if not stage:
            return raw
        try:
            return _stage_from(conn, scratch, progress, raw, self.db.display)
        except QueryError as exc:
            raise self._fail(exc) from None

    def _engine_would_change(self, conn: Connection, described: list[tuple[str, str]]) -> bool:
        """Whether the engine's table function would change values the driver reads exactly: a
        PostgreSQL ``numeric`` without precision (read as Decimal(38, 19), which refuses wider
        numbers) or a MariaDB/MySQL zero date ('0000-00-00', read as 1970-01-01)."""
        d = self.db
        if d.kind == "postgresql":
            if not any("Decimal(38, 19)" in t for _, t in described):
                return False  # no column read that way: no need to ask the source
            info = exp.Table(this=c.fn("postgresql", c.lit(f"{d.host}:{d.port}"), c.lit(d.database), c.lit("columns"),
                                       c.lit(d.user), c.lit(d.password), c.lit("information_schema")))
            where = exp.and_(exp.column("table_name").eq(c.lit(d.table or "")), exp.column("data_type").eq(c.lit("numeric")),
                             exp.column("numeric_precision").is_(exp.null()),
                             *([exp.column("table_schema").eq(c.lit(d.schema))] if d.schema else []))
            try:
                found = engine.read(conn, exp.select(exp.Count(this=exp.Star()).as_("n")).from_(info).where(where))
            except QueryError as exc:
                raise self._fail(exc) from None
            return int(found["n"].iloc[0]) > 0
        dates = [n for n, t in described if "Date" in t]
        if not dates:
            return False
        zero = exp.or_(*[exp.func(part, exp.column(n, quoted=True)).eq(0) for n in dates for part in ("YEAR", "MONTH", "DAY")])
        check = exp.select(exp.Count(this=exp.Star())).from_(exp.table_(d.table or "", db=d.schema or d.database, quoted=True))
        (_names, _fields, rows) = _mysql_rows(d, check.where(zero).sql("mysql"), self._fail)
        return any(r[0] for batch in rows for r in batch)

    def _select_all(self) -> str:
        d = self.db
        dialect = "postgres" if d.kind == "postgresql" else "mysql"
        schema = d.schema if d.kind == "postgresql" else d.schema or d.database
        return exp.select(exp.Star()).from_(exp.table_(d.table or "", db=schema, quoted=True)).sql(dialect)

    def _open_query(self, conn: Connection, scratch: Scratch, progress: Progress, query: str) -> Raw:
        """A query runs in the source database through its Python driver: PostgreSQL's ``COPY``
        text streamed as CSV (``numeric`` columns as Decimal, the rest as text to inspect);
        MySQL's rows as Python values, with the types the driver reports (:func:`_mysql_columns`)."""
        progress.step("querying " + self.db.display)
        try:
            if self.db.kind == "postgresql":
                raw = self._pg_query(conn, scratch, query)
            else:
                raw = self._mysql_query(conn, scratch, query)
        except BivoiceError:
            raise
        except Exception as exc:  # noqa: BLE001 - driver or clickhouse-connect errors
            raise self._fail(exc) from exc
        progress.advance()
        raw.details = {"format": self.db.kind, "query": "yes"}
        return raw

    def _pg_query(self, conn: Connection, scratch: Scratch, query: str) -> Raw:
        names_raw, numeric, chunks = _pg_copy(self.db, query, self._fail)
        names = _names(names_raw, self.options.clean_names is not False)
        types = [_pg_decimal(*n) if n else "Nullable(String)" for n in numeric]
        name = _create_stage(conn, scratch, list(zip(names, types)))
        conn.client.raw_insert(qualified(scratch.database, name), names, chunks, fmt="CSV",
                               settings={"input_format_csv_empty_as_default": 1})
        wide = [n for n, t, kind in zip(names, types, numeric) if kind and t == "Nullable(String)"]
        if not wide:
            return Raw(relation=table(scratch.database, name), columns=[RawColumn(n, n, t) for n, t in zip(names, types)],
                       row=_row_in_order(), staged=True)
        # a numeric without precision: the narrowest Decimal that holds every value, found once
        # the values are staged as text (the query is not run twice)
        widths = dict(zip(wide, (_decimal_width(conn, table(scratch.database, name), n) for n in wide)))
        types = [widths.get(n, t) for n, t in zip(names, types)]
        typed = _create_stage(conn, scratch, [*zip(names, types), (ROW, "UInt64")], "typed")
        select = exp.select(*[exp.cast(c.col(n), dtype(t)) if n in widths else c.col(n)
                              for n, t in zip(names, types)],
                            exp.alias_(_row_in_order(), ROW, quoted=True)
                            ).from_(table(scratch.database, name))
        conn.command(exp.insert(select, exp.Schema(this=table(scratch.database, typed),
                                                   expressions=[ident(n) for n in names] + [ident(ROW)])))
        return Raw(relation=table(scratch.database, typed), columns=[RawColumn(n, n, t) for n, t in zip(names, types)],
                   row=c.col(ROW), staged=True)

    def _mysql_query(self, conn: Connection, scratch: Scratch, query: str) -> Raw:
        names_raw, fields, batches = _mysql_rows(self.db, query, self._fail)
        names = _names(names_raw, self.options.clean_names is not False)
        columns = [_MySQLColumn(n, f) for n, f in zip(names, fields)]
        types = [col.type for col in columns]
        name = _create_stage(conn, scratch, [*zip(names, types), (ROW, "UInt64")])
        done = 0
        for batch in batches:
            data = [[col.convert(v) for col, v in zip(columns, r)] + [done + i + 1] for i, r in enumerate(batch)]
            conn.client.insert(table=name, data=data, database=scratch.database, column_names=[*names, ROW],
                               column_type_names=[*types, "UInt64"])
            done += len(batch)
        notes = [f"{col.name}: {col.zero_dates:,} zero date{'s' if col.zero_dates > 1 else ''} ('0000-00-00') "
                 "loaded as NULL" for col in columns if col.zero_dates]
        return Raw(relation=table(scratch.database, name), columns=[RawColumn(n, n, t) for n, t in zip(names, types)],
                   row=c.col(ROW), staged=True, notes=notes)


MAX_DECIMAL = 76  # ClickHouse's widest Decimal (Decimal256)


def _pg_decimal(precision: int | None, scale: int | None) -> str:
    """The staging type of a PostgreSQL ``numeric(p, s)``; text when it has no precision (or one
    ClickHouse cannot hold): :func:`_decimal_width` then finds the Decimal its values need."""
    if precision and scale is not None and 0 <= scale <= precision <= MAX_DECIMAL:
        return f"Nullable(Decimal({precision}, {scale}))"
    return "Nullable(String)"


def _decimal_width(conn: Connection, relation: exp.Expression, name: str) -> str:
    """``Nullable(Decimal(p, s))`` for a staged text column of PostgreSQL numbers, or a clear
    error when they are not all plain numbers or need more than 76 digits."""
    x = c.col(name)
    whole = c.fn("length", c.fn("replaceRegexpOne", x, c.lit(r"^-?0*([0-9]*).*$"), c.lit(r"\1")))
    frac = c.fn("length", c.fn("replaceRegexpOne", x, c.lit(r"^[^.]*\.?"), c.lit("")))
    bad = exp.and_(exp.Not(this=x.is_(exp.null())), exp.Not(this=c.fn("match", x, c.lit(r"^-?[0-9]+(\.[0-9]+)?$"))))
    row = engine.one_row(conn, exp.select(c.fn("max", whole).as_("w"), c.fn("max", frac).as_("f"),
                                          c.fn("countIf", bad).as_("bad")).from_(relation))
    w, f, n_bad = int(row["w"]), int(row["f"]), int(row["bad"])
    if n_bad:
        raise SourceError(f"Column {name}: {n_bad:,} values are not plain numbers (NaN or Infinity), which "
                          "ClickHouse's Decimal cannot hold.",
                          hint=f"turn them into NULL in query=, e.g. NULLIF({name}, 'NaN')")
    if w + f > MAX_DECIMAL:
        raise SourceError(f"Column {name}: its numbers need {w + f} digits ({w} before the point, {f} after); "
                          f"ClickHouse's Decimal holds {MAX_DECIMAL}.",
                          hint=f"round or cast them in query=, e.g. round({name}, {max(MAX_DECIMAL - w, 0)}) or {name}::text")
    return f"Nullable(Decimal({max(w + f, 1)}, {f}))"


def _pg_copy(db: DbUrl, query: str, fail: Any) -> tuple[list[str], list[tuple[int | None, int | None] | None], Iterator[bytes]]:
    """The query's column names, (precision, scale) of its ``numeric`` columns (None for the
    others), and its rows as CSV from ``COPY``."""
    psycopg = import_extra("psycopg", "etl")
    from psycopg import sql as pgsql

    try:
        pg = psycopg.connect(host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.database,
                             connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise fail(exc) from exc
    try:
        with pg.cursor() as cur:
            cur.execute(pgsql.SQL("SELECT * FROM ({}) AS bivoice_q LIMIT 0").format(pgsql.SQL(query)))
            names = [d.name for d in cur.description or []]
            numeric = [(d.precision, d.scale) if d.type_code == _PG_NUMERIC else None for d in cur.description or []]
    except psycopg.Error as exc:
        pg.close()
        raise fail(exc) from exc

    def chunks() -> Iterator[bytes]:
        try:
            with pg.cursor() as cur, cur.copy(pgsql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(pgsql.SQL(query))) as cp:
                for block in cp:
                    yield bytes(block)
        except psycopg.Error as exc:
            raise fail(exc) from exc
        finally:
            pg.close()

    return names, numeric, chunks()


def _mysql_rows(db: DbUrl, query: str, fail: Any) -> tuple[list[str], list[Any], Iterator[list[tuple]]]:
    """The query's column names, PyMySQL's field descriptions, and its rows in batches."""
    pymysql = import_extra("pymysql", "etl", package="PyMySQL")
    cursors = import_extra("pymysql.cursors", "etl", package="PyMySQL")

    try:
        my = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password,
                             database=db.schema or db.database, connect_timeout=10, charset="utf8mb4",
                             cursorclass=cursors.SSCursor)
        cur = my.cursor()
        cur.execute(query)
    except pymysql.Error as exc:
        raise fail(exc) from exc
    names = [d[0] for d in cur.description or []]
    # the flags (unsigned, not null) are only there
    fields = list(cur._result.fields) if cur._result is not None else []  # noqa: SLF001

    def batches() -> Iterator[list[tuple]]:
        try:
            while rows := cur.fetchmany(20_000):
                yield rows
        except pymysql.Error as exc:
            raise fail(exc) from exc
        finally:
            my.close()

    return names, fields, batches()


_PG_NUMERIC = 1700  # the oid of numeric
_MY_INTS = {1: 8, 2: 16, 9: 32, 3: 32, 8: 64}  # TINY SHORT INT24 LONG LONGLONG: bits
_MY_DATES = {10, 14}  # DATE, NEWDATE
_MY_DATETIMES = {7, 12}  # TIMESTAMP, DATETIME
_DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2299, 12, 31))  # Date32 and DateTime64


class _MySQLColumn:
    """A MySQL result column: its ClickHouse type, and how a PyMySQL value becomes a value of it.

    ======================  =====================================================================
    MySQL                   ClickHouse
    ======================  =====================================================================
    integers, YEAR          (U)Int8 ... (U)Int64, UInt16
    DECIMAL(p, s)           Decimal(p, s), exactly
    FLOAT, DOUBLE           Float32, Float64
    DATE                    Date32; a zero date ('0000-00-00') is NULL, and the load warns
    DATETIME(n), TIMESTAMP  DateTime64(n): microseconds kept; zero dates as for DATE
    TIME                    text as MySQL writes it: '-838:59:59', '25:00:00.5'
    BIT(n)                  UInt64
    text, BLOB, BINARY ...  String, byte for byte (text is inspected like any text column)
    ======================  =====================================================================

    A date outside ClickHouse's range (1900 to 2299) is an error, never a changed value.
    """

    def __init__(self, name: str, field: Any) -> None:
        self.name, self.zero_dates = name, 0
        code, scale = field.type_code, field.scale
        unsigned, nullable = bool(field.flags & 32), not field.flags & 1
        self.convert = self._text
        if code in _MY_INTS:
            base, self.convert = f"{'U' if unsigned else ''}Int{_MY_INTS[code]}", _same
        elif code in (0, 246):  # DECIMAL, NEWDECIMAL: the length counts the point and the sign
            precision = field.length - (1 if scale else 0) - (0 if unsigned else 1)
            base, self.convert = f"Decimal({min(max(precision, scale, 1), MAX_DECIMAL)}, {scale})", _same
        elif code in (4, 5):
            base, self.convert = ("Float32" if code == 4 else "Float64"), _same
        elif code == 13:
            base, self.convert = "UInt16", _same
        elif code in _MY_DATES or code in _MY_DATETIMES:
            base = "Date32" if code in _MY_DATES else f"DateTime64({scale})"
            self.convert, nullable = self._date, True
        elif code == 16:
            base, self.convert = "UInt64", _bits
        elif code == 11:
            base, self.scale = "String", scale
            self.convert = self._time
        else:
            base = "String"
        self.type = f"Nullable({base})" if nullable else base

    def _text(self, v: Any) -> bytes | None:
        if v is None or isinstance(v, bytes):
            return v
        return (v if isinstance(v, str) else str(v)).encode("utf-8")

    def _date(self, v: Any) -> Any:
        if isinstance(v, str):  # PyMySQL leaves what is not a date as text: '0000-00-00 00:00:00'
            self.zero_dates += 1
            return None
        day = v.date() if isinstance(v, dt.datetime) else v
        if day is not None and not _DATE_RANGE[0] <= day <= _DATE_RANGE[1]:
            raise SourceError(f"Column {self.name}: {v} is outside the dates ClickHouse stores "
                              f"({_DATE_RANGE[0]} to {_DATE_RANGE[1]}).",
                              hint=f"load it as text: CAST({self.name} AS CHAR) in query=")
        return v

    def _time(self, v: Any) -> bytes | None:
        if not isinstance(v, dt.timedelta):
            return self._text(v)
        us = (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds
        sign, us = ("-" if us < 0 else ""), abs(us)
        seconds, fraction = divmod(us, 1_000_000)
        hours, rest = divmod(seconds, 3600)
        text = f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        if self.scale:
            text += "." + f"{fraction:06d}"[: self.scale]
        return text.encode("ascii")


def _same(v: Any) -> Any:
    return v


def _bits(v: Any) -> int | None:
    return None if v is None else int.from_bytes(v, "big") if isinstance(v, bytes) else int(v)


@dataclass
class ArrowTable(Source):
    """A pyarrow Table (or RecordBatch), read by the engine as Parquet: the same types as the
    table written to a Parquet file and loaded (Int64 with nulls, Decimal(p, s), Array ...),
    where a detour through pandas would turn integers with nulls and decimals into floats and
    lists into text."""

    table: Any
    options: ReadOptions
    kind: str = "arrow"

    def __post_init__(self) -> None:
        self.label = f"{type(self.table).__name__} ({self.table.num_rows:,} rows x {self.table.num_columns} columns)"

    def open(self, conn: Connection, scratch: Scratch, progress: Progress, *, stage: bool) -> Raw:
        if self.table.num_columns == 0:
            raise SourceError(f"The {type(self.table).__name__} has no columns.")
        if not conn.embedded:
            raise SourceError("pyarrow Tables load into a ClickHouse server only through the embedded engine in this version.",
                              hint="load it with dsn='chdb://...', or pass table.to_pandas() (decimals become floats)")
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = scratch.file(".parquet")
        progress.step("staging " + self.label, rows=self.table.num_rows)
        data = pa.Table.from_batches([self.table]) if isinstance(self.table, pa.RecordBatch) else self.table
        try:
            pq.write_table(data, path)
        except (pa.ArrowException, ValueError) as exc:
            raise SourceError(f"Could not hand the {type(self.table).__name__} to the engine: {exc}") from exc
        progress.advance()
        # a DataFrame's and an Arrow table's column names are kept unless clean_names=True
        keep = ReadOptions(**{**self.options.__dict__, "clean_names": bool(self.options.clean_names)})
        raw = ParquetFile(path, keep).open(conn, scratch, progress, stage=stage)
        raw.details = {"format": "Arrow"}
        return raw


# ------------------------------------------------------------------ resolving what was given


def resolve(source: Any, options: ReadOptions) -> Source:
    """The :class:`Source` for a path, URL, database URL, DataFrame or Arrow table."""
    if isinstance(source, pd.DataFrame):
        return Frame(source, options)
    if type(source).__module__.split(".")[0] == "pyarrow" and type(source).__name__ in ("Table", "RecordBatch"):
        return ArrowTable(source, options)
    if hasattr(source, "to_pandas") and not isinstance(source, (str, Path)):
        try:
            return Frame(source.to_pandas(), options)
        except Exception as exc:  # noqa: BLE001 - any library's conversion error
            raise SourceError(f"Could not convert the {type(source).__name__} to a DataFrame: {exc}") from exc
    if isinstance(source, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+]*://", source.strip()):
        scheme = source.split("://", 1)[0].lower()
        if scheme in ("http", "https"):
            return Url(source.strip(), options)
        if scheme.split("+")[0] in ("postgresql", "postgres", "mysql", "mariadb"):
            return Database(source.strip(), options)
        if scheme == "file":
            source = urllib.parse.unquote(urllib.parse.urlsplit(source).path)
        else:
            raise SourceError(f"Cannot load from {scheme}:// addresses.",
                              hint="use a file path, http(s)://, postgresql:// or mysql://")
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise SourceError(f"No file at {path}.", hint="check the path, or pass a DataFrame")
        if path.is_dir():
            raise SourceError(f"{path} is a folder, not a file.")
        path = path.resolve()
        suffix = uncompressed(path).suffix.lower()
        fmt = (options.fmt or "").lower()
        if path.stat().st_size == 0:
            raise SourceError(f"{path} is empty.", hint="a CSV needs at least a header row")
        if fmt in ("csv", "tsv") or (not fmt and suffix in TEXT_SUFFIXES):
            return TextFile(path, options)
        if fmt == "json" or (not fmt and suffix in JSON_SUFFIXES):
            return JsonFile(path, options)
        if fmt == "parquet" or (not fmt and suffix in PARQUET_SUFFIXES):
            return ParquetFile(path, options)
        if fmt == "excel" or (not fmt and suffix in EXCEL_SUFFIXES):
            return Excel(path, options)
        raise SourceError(f"{path.name}: unknown file type {path.suffix!r}.",
                          hint="CSV/TSV, JSON/NDJSON, Parquet and Excel load; pass fmt='csv' to read it as CSV")
    raise SourceError(f"Cannot load a {type(source).__name__}.",
                      hint="pass a file path, a URL, a database URL, or a pandas DataFrame")
