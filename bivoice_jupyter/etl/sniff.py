"""Sniffing a delimited text file from its first megabyte: encoding, delimiter, header.

Only the sample is read here; the rows themselves are parsed by ClickHouse. A file whose late
rows are in another encoding than the sample (UTF-8 with a few Windows-1252 rows, say) is
caught in the engine, value by value (see ``clean.text``).

The sample also says where the table starts: lines above the header that are narrower than
the rows below (a title, a ``# comment``, an export's "Generated on ..." line) are counted in
``TextFormat.skip`` and quoted in ``TextFormat.skipped`` (see :func:`find_start`), and a file
whose lines end in a lone CR (classic Mac OS) is flagged, since the engine splits rows on LF.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import SourceError

SAMPLE_BYTES = 1 << 20
HEADER_ROWS = 200
PREAMBLE_LINES = 10  # at most this many lines above the header are taken for a title or comments
DELIMITERS = (",", ";", "\t", "|")
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def uncompressed(path: Path) -> Path:
    """``path`` less its compression suffix, if any: ``x.csv`` of ``x.csv.gz``."""
    return path.with_suffix("") if path.suffix.lower() in COMPRESSED else path

_NUMBER = re.compile(r"^\(?[-+]?[$€£¥]?\s?\d[\d,. ]*%?\)?$")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}.*)?$")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class TextFormat:
    """What the sample says: ``encoding`` is a Python codec name (``utf-8`` needs no
    conversion), ``names`` the header cells (or ``column_N`` when there is no header)."""

    encoding: str
    delimiter: str
    header: bool
    names: tuple[str, ...]
    bom: bool = False
    # physical lines before the header (or the first row): a title, comments, blank lines
    skip: int = 0
    # the lines of ``skip`` that held text, as they read (for the load's warnings)
    skipped: tuple[str, ...] = ()
    # lines end in a lone CR (classic Mac OS): the engine needs them rewritten with LF
    lone_cr: bool = False

    @property
    def utf8(self) -> bool:
        return codecs.lookup(self.encoding).name == "utf-8"


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its suffix says so (.gz, .bz2, .xz)."""
    opener = COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener else open(path, "rb")  # noqa: SIM115 - the caller closes it


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    try:
        with open_binary(path) as f:
            return f.read(size)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise SourceError(f"{path.name} could not be read: {exc}") from exc


def detect_encoding(sample: bytes, name: str, given: str | None = None) -> tuple[str, bool]:
    """(codec, has_bom). ``given`` is checked, not trusted: a sample it cannot decode fails."""
    if given:
        try:
            codec = codecs.lookup(given).name
        except LookupError as exc:
            raise SourceError(f"Unknown encoding {given!r}.", hint="use a Python codec name such as utf-8 or cp1252") from exc
        _decode_or_fail(sample, codec, name)
        return codec, any(sample.startswith(b) for b, enc in _BOMS if codecs.lookup(enc).name == codec)
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            _decode_or_fail(sample, enc, name)
            return enc, True
    if b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) * 0.3 and even < len(sample) * 0.05:
            enc = "utf-16-le"
        elif even > len(sample) * 0.3 and odd < len(sample) * 0.05:
            enc = "utf-16-be"
        else:
            raise SourceError(f"{name} does not look like text (it has NUL bytes).",
                              hint="check the file, or pass encoding= if it is UTF-16 or UTF-32")
        _decode_or_fail(sample, enc, name)
        return enc, False
    if _binary_share(sample) > 0.01:
        raise SourceError(f"{name} does not look like a text file.",
                          hint="pass a CSV/TSV, JSON, Parquet or Excel file (compressed files need .gz/.bz2/.xz)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", False
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few stray bytes (rows pasted from a Windows-1252 file): read it as
    # UTF-8; the engine repairs those values one by one.
    text = sample.decode("utf-8", errors="replace")
    stray = text.count("\ufffd")
    wide = sum(1 for ch in text if ord(ch) > 127) - stray
    if wide > stray:
        return "utf-8", False
    return _guess_legacy(sample), False


def _binary_share(sample: bytes) -> float:
    control = sum(sample.count(bytes([b])) for b in (*range(0, 9), 11, 12, *range(14, 27), *range(28, 32)))
    return control / max(len(sample), 1)


_LATIN = ("cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin-1", "mac-roman")


def _guess_legacy(sample: bytes) -> str:
    """The encoding of text that is not UTF-8: Windows-1252 (Western European, a superset of
    Latin-1 for printable text), unless charset-normalizer (when installed) is sure it is a
    script Windows-1252 cannot be: Cyrillic, Greek, Hebrew, Arabic, CJK. Its guesses between
    Latin code pages are unreliable on small samples, so those are not taken."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional; the default below is right for Western European files
        from_bytes = None
    if from_bytes is not None:
        best = from_bytes(sample[:200_000]).best()
        if best is not None and best.encoding:
            name = codecs.lookup(best.encoding).name
            if name != "utf-8" and name not in _LATIN and not name.startswith("iso8859"):
                return name
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # decodes every byte


def _decode_or_fail(sample: bytes, encoding: str, name: str, errors: str = "strict") -> str:
    try:
        return codecs.getincrementaldecoder(encoding)(errors=errors).decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name} is not readable as {encoding}: {exc.reason} at byte {exc.start}.",
                          hint="pass encoding= with the file's real encoding (cp1252, latin-1, utf-16 ...)") from exc


def _rows(text: str, delimiter: str, limit: int = HEADER_ROWS) -> list[list[str]]:
    return [row for _, row in _numbered_rows(text, delimiter, limit)]


def _numbered_rows(text: str, delimiter: str, limit: int = HEADER_ROWS) -> list[tuple[int, list[str]]]:
    """The sample's non-empty rows, each with the number of physical lines before it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    before = 0
    try:
        for row in reader:
            if row:
                out.append((before, row))
            before = reader.line_num
            if len(out) >= limit:
                break
    except csv.Error:  # a quote left open by the cut at the sample's end
        pass
    return out


def detect_delimiter(text: str, suffix: str = "") -> str:
    """The candidate that splits the sample's rows into the same number (> 1) of fields most
    consistently; ties go to tab for .tsv files, else to comma."""
    best, best_key = ("\t" if suffix == ".tsv" else ","), (False, 0.0, 0, 0)
    for i, d in enumerate(DELIMITERS):
        counts = [len(r) for r in _rows(text, d, 100)]
        if not counts:
            continue
        mode, n = Counter(counts).most_common(1)[0]
        preferred = 1 if (d == "\t") == (suffix == ".tsv") else 0
        key = (mode > 1, round(n / len(counts), 2), preferred, mode if mode > 1 else 0, -i)
        if key > best_key:
            best, best_key = d, key
    return best


def _typed(cell: str) -> bool:
    c = cell.strip()
    return bool(c) and bool(_NUMBER.match(c) or _DATE.match(c))


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns. A column whose values are numbers or dates
    under a word is evidence for; a number or date in the first row is evidence against; a
    table of text has a header when the first row's cells are filled, distinct and not
    repeated below."""
    if not rows:
        return True
    first, rest = rows[0], rows[1:]
    if not rest:
        return not any(_typed(c) for c in first)
    for_, against = 0, 0
    for j, cell in enumerate(first):
        values = [r[j] for r in rest if len(r) > j and r[j].strip()]
        if values and sum(_typed(v) for v in values) >= 0.8 * len(values):
            if _typed(cell):
                against += 1
            elif cell.strip():
                for_ += 1
    if for_ or against:
        return for_ > against
    if any(_typed(c) for c in first):
        return False
    cells = [c.strip() for c in first]
    if not all(cells) or len(set(cells)) != len(cells):
        return False
    below = [{r[j].strip() for r in rest if len(r) > j} for j in range(len(cells))]
    return not any(c in below[j] for j, c in enumerate(cells))


def _filled(row: list[str]) -> int:
    """The number of fields up to the last non-empty one (an export's trailing delimiters
    aside)."""
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


def _mode(values: list[int]) -> int:
    """The most common value; a tie goes to the larger (the table, not its title lines)."""
    return max(Counter(values).items(), key=lambda kv: (kv[1], kv[0]))[0]


def find_start(rows: list[list[str]], header: bool | None = None) -> int:
    """The index in ``rows`` of the table's first row (its header, or its first data row): 0,
    unless up to :data:`PREAMBLE_LINES` rows above it have fewer fields than the rows below
    (counted with and without trailing empty fields; or one field filled, the rest empty, as a
    spreadsheet exports a title) and

    * a header is found (or given) right below them: a title or notes above a table; or
    * each is one cell of text, or a ``#`` comment, above a table without a header.

    Otherwise the narrow first rows are the table's own (a short data row is rejected, as any
    other), and nothing is skipped."""
    if len(rows) < 2:
        return 0
    width = _mode([len(r) for r in rows[1:]])
    filled = _mode([_filled(r) for r in rows[1:]])

    def narrow(row: list[str]) -> bool:
        return (len(row) < width and _filled(row) < filled) or _filled(row) <= 1 < filled

    if width < 2 or not narrow(rows[0]):
        return 0  # the common case: the first row is as wide as the table
    start = 0
    while start < min(PREAMBLE_LINES, len(rows)) and narrow(rows[start]):
        start += 1
    below = rows[start:start + 50]
    if not below or len(below[0]) != width or sum(len(r) == width for r in below) < 0.8 * len(below):
        return 0
    if header if header is not None else detect_header(below):
        return start
    title = all(r[0].lstrip().startswith("#") or (_filled(r) <= 1 and not _typed(r[0])) for r in rows[:start])
    return start if title else 0


def sniff(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
          header: bool | None = None) -> TextFormat:
    """Encoding, delimiter and header of a delimited text file, from its first megabyte."""
    sample = read_sample(path)
    if not sample.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise SourceError(f"{path.name} is empty.", hint="a CSV needs at least a header row")
    enc, bom = detect_encoding(sample, path.name, encoding)
    # a detected UTF-8 may hold a few stray bytes (repaired later, in the engine)
    text = _decode_or_fail(sample, enc, path.name, "strict" if encoding else "replace").lstrip("\ufeff")
    lone_cr = "\r" in text and "\n" not in text
    if lone_cr:  # classic Mac OS line endings: read as LF here, rewritten for the engine
        text = text.replace("\r", "\n")
    if len(sample) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # drop the row cut in half at the sample's end
    suffix = uncompressed(path).suffix.lower()
    if delimiter is not None and len(delimiter) != 1:
        raise SourceError(f"delimiter must be one character, not {delimiter!r}.")
    delim = delimiter or detect_delimiter(text, suffix)
    numbered = _numbered_rows(text, delim)
    if not numbered:
        raise SourceError(f"{path.name} is empty.", hint="a CSV needs at least a header row")
    start = find_start([r for _, r in numbered], header)
    skipped = tuple(delim.join(r[: _filled(r)]) for _, r in numbered[:start])
    skip, rows = numbered[start][0], [r for _, r in numbered[start:]]
    has_header = detect_header(rows) if header is None else bool(header)
    width = len(rows[0]) if has_header else Counter(len(r) for r in rows).most_common(1)[0][0]
    names = tuple(rows[0]) if has_header else tuple(f"column_{i}" for i in range(1, width + 1))
    return TextFormat(encoding=enc, delimiter=delim, header=has_header, names=names, bom=bom, skip=skip,
                      skipped=skipped, lone_cr=lone_cr)
