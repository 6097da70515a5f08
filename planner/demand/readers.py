"""Job-log readers: Slurm sacct, generic CSV and CodeCarbon, into one :class:`JobLog`.

A log becomes a :class:`JobLog`: a tidy table of the jobs that ran, counts of
the records that carry no usage (pending jobs, jobs without known times, job
steps) and every rejected row with its line number, column and reason;
nothing is dropped silently.

Conventions
-----------
* Times are tz-aware UTC timestamps. A log's naive times (``sacct`` prints the
  cluster's local time without an offset) are read as UTC: totals are exact,
  the hour-of-day shape is shifted by the cluster's UTC offset. Times with an
  offset are converted to UTC. A file mixing naive and offset times is
  ambiguous, so the rows that disagree with the file's first time are
  rejected.
* Files are read in chunks, so memory grows with the number of jobs kept,
  not with the file's size. Only regular files are opened (non-blocking, so a
  FIFO or a terminal named as a log cannot hang the reader), up to
  :data:`MAX_LOG_BYTES`; a log can also be given in memory (bytes), so an
  upload never has to be written to disk.
* A record is one line. A quoted field cannot continue on the next line: a
  line with a malformed quote is a rejected row with its line number, so a
  stray quote never merges the records after it into one.
* Numbers, ids and dates are ASCII digits only (``gres/gpu=²`` or
  Arabic-Indic digits are rejected rows, not numbers).
* Messages quote the file's content only as short excerpts.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import math
import operator
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.safe_io import clip, open_regular_file, shorten
from pricing.units import WATTS_PER_KILOWATT

LogKind = Literal["sacct", "csv", "codecarbon"]
"""The log formats :func:`read_log` understands."""

Source = str | os.PathLike[str] | IO[str] | bytes
"""A path to a text file, an open text stream (``io.StringIO``, ``sys.stdin``),
or the file's content as bytes (an upload, read in memory)."""

MAX_LOG_BYTES: Final = 512_000_000
"""Default size limit of a job log (512 MB). [bytes]

About 2.8 million sacct rows (180 bytes a row): the import of a million rows
takes under 10 s and 1 GB (``benchmarks/bench_joblog.py``), so the bound keeps
one import within about half a minute on the command line. The app sets its
own, smaller limit (its upload limit, 50 MB)."""

MAX_ELAPSED_DAYS: Final = 36_525
"""Longest run accepted (100 years, the plausible time range); a longer
``Elapsed`` or ``duration`` is a corrupt row. [days]"""

SLURM_JOB_STATES: Final = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "CONFIGURING",
        "COMPLETING",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PENDING",
        "PREEMPTED",
        "RUNNING",
        "RESV_DEL_HOLD",
        "REQUEUE_FED",
        "REQUEUE_HOLD",
        "REQUEUED",
        "RESIZING",
        "REVOKED",
        "SIGNALING",
        "SPECIAL_EXIT",
        "STAGE_OUT",
        "STOPPED",
        "SUSPENDED",
        "TIMEOUT",
    }
)
"""Job states Slurm reports (SchedMD, "squeue", JOB STATE CODES,
https://slurm.schedmd.com/squeue.html, accessed 2026-01); any other state is
counted in :attr:`JobLog.unknown_state_jobs`."""

XDMOD_SACCT_FIELDS: Final = (
    "jobid",
    "jobidraw",
    "cluster",
    "partition",
    "account",
    "group",
    "gid",
    "user",
    "uid",
    "submit",
    "eligible",
    "start",
    "end",
    "elapsed",
    "exitcode",
    "state",
    "nnodes",
    "ncpus",
    "reqcpus",
    "reqmem",
    "reqgres",
    "reqtres",
    "timelimit",
    "nodelist",
    "jobname",
)
"""Fields of the headerless ``sacct --parsable2 --noheader`` export that Open
XDMoD's shredder reads (Open XDMoD, "Slurm Notes",
https://open.xdmod.org/resource-manager-slurm.html, accessed 2026-01); pass
``fields="xdmod"`` for such a file."""

MAX_GPUS_PER_JOB: Final = 100_000
"""Largest GPU count accepted for one job; more is treated as a corrupt row.

A plausibility bound, not a published figure: it is the size of the largest
single GPU clusters announced by 2024, far beyond any research job. [GPUs]"""

EARLIEST_PLAUSIBLE_TIME: Final = pd.Timestamp("2000-01-01", tz="UTC")
"""Times before this are treated as corrupt (GPU job logs start after 2000)."""

LATEST_PLAUSIBLE_TIME: Final = pd.Timestamp("2100-01-01", tz="UTC")
"""Times from this on are treated as corrupt (a typo like 2204 for 2024)."""

MAX_REJECTED_LISTED: Final = 10_000
"""Default number of rejected rows listed one by one; all are counted. [rows]"""

_NS_PER_SECOND: Final = 1_000_000_000
_NS_PER_HOUR: Final = 3_600 * _NS_PER_SECOND
_NAT: Final = np.iinfo(np.int64).min
_EARLIEST_NS: Final = int(EARLIEST_PLAUSIBLE_TIME.value)
_LATEST_NS: Final = int(LATEST_PLAUSIBLE_TIME.value)
_CHUNK_ROWS: Final = 50_000

# Status codes of a parsed time field.
_NAIVE: Final = 0
_AWARE: Final = 1
_MISSING: Final = 2
_INVALID: Final = 3
_OUT_OF_RANGE: Final = 4

_MISSING_WORDS: Final = frozenset({"", "unknown", "none", "n/a", "nan", "nat"})
_RUNNING_STATES: Final = frozenset({"RUNNING", "COMPLETING", "SUSPENDED"})
# re.ASCII everywhere: \d must not match other scripts' digits (int() takes them).
_JOB_ID_RE: Final = re.compile(r"\d+(?:_(?:\d+|\[[^\]]*\]))?(?:\+\d+)?", re.ASCII)
_STEP_ID_RE: Final = re.compile(r"\d+(?:_(?:\d+|\[[^\]]*\]))?(?:\+\d+)?\.\w+", re.ASCII)
_ELAPSED: Final = re.compile(
    r"(?:(?P<days>\d+)-)?(?P<a>\d+):(?P<b>\d\d?)(?::(?P<c>\d\d?))?(?:\.\d+)?",
    re.ASCII,
)
_ISO_TIME: Final = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?)?"
    r"(?:Z|[+-]\d\d(?::?\d\d)?)?",
    re.ASCII,
)
_GPU_MODEL_COUNT_PREFIX: Final = re.compile(r"^\s*\d+\s*x\s*", re.IGNORECASE | re.ASCII)
_WHOLE_NUMBER: Final = re.compile(r"\+?\d+(?:\.0*)?", re.ASCII)
_DECIMAL: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_GRES_DETAIL: Final = re.compile(r"\([^)]*\)")
_MAX_ELAPSED_S: Final = MAX_ELAPSED_DAYS * 86_400
_EXCERPT: Final = 40
_STATES_LISTED: Final = 20


def _excerpt(value: str) -> str:
    """A field's value as a short quoted excerpt (messages never quote more)."""
    return shorten(value, _EXCERPT)


JOB_COLUMNS: Final = (
    "job_id",
    "group",
    "state",
    "submit",
    "start",
    "end",
    "gpus",
    "gpu_hours",
    "accelerator",
    "line",
)
"""Columns of :attr:`JobLog.jobs`, in order (CodeCarbon logs add
``gpu_energy_kwh``)."""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row of a log that could not be used, and why.

    Attributes
    ----------
    line : int
        Line number in the file, counting the header as line 1.
    reason : str
        What is wrong, naming the field and quoting its value.
    column : str
        The field at fault, or ``"(row)"`` when the row itself is malformed.
    """

    line: int
    reason: str
    column: str = "(row)"


@dataclass(frozen=True, eq=False)
class JobLog:
    """Jobs that ran, plus an account of every record that did not.

    Attributes
    ----------
    jobs : pandas.DataFrame
        One row per job that ran, columns :data:`JOB_COLUMNS`: ``job_id``,
        ``group`` (account, partition, user or project), ``state`` (upper
        case, e.g. ``COMPLETED``), ``submit``, ``start`` and ``end`` (UTC
        timestamps; ``submit`` equals ``start`` when the log has none),
        ``gpus`` [GPUs], ``gpu_hours`` [GPU-h], ``accelerator`` (GPU type, or
        missing) and ``line`` (line in the file; 0 for generated jobs).
    kind : str
        ``"sacct"``, ``"csv"``, ``"codecarbon"`` or ``"generated"``.
    source : str
        File name, ``"<stream>"``, or the generator's description.
    rejected : tuple of RejectedRow
        Malformed rows, in line order (at most ``max_rejected_listed``).
    rejected_count : int
        All malformed rows, listed or not. [rows]
    pending_jobs : int
        Jobs still pending: counted, no usage. [jobs]
    unknown_time_jobs : int
        Jobs without a usable start or end (e.g. cancelled before starting):
        counted, no usage. [jobs]
    step_rows : int
        Slurm job steps (``.batch``, ``.extern``, ``.0``), which are not
        jobs: counted and skipped. [rows]
    rows_read : int
        Data rows in the file, excluding the header and blank lines. [rows]
    zero_length_jobs : int
        Jobs whose start equals their end (e.g. cancelled at once): counted,
        not jobs that ran. [jobs]
    unknown_state_jobs : int
        Jobs kept although their state is not one Slurm reports (see
        :data:`SLURM_JOB_STATES`). [jobs]
    unknown_states : tuple of str
        Those states (at most 20, each shortened).
    export_time : pandas.Timestamp or None
        When the log was exported; running jobs are cut there.
    period_start, period_end : pandas.Timestamp or None
        Observation window; the hourly series covers at least this window.
    power_calibration : pandas.DataFrame or None
        CodeCarbon only: measured power per GPU by model, see
        :func:`read_codecarbon`.
    """

    jobs: pd.DataFrame
    kind: str
    source: str
    rejected: tuple[RejectedRow, ...] = ()
    rejected_count: int = 0
    pending_jobs: int = 0
    unknown_time_jobs: int = 0
    step_rows: int = 0
    rows_read: int = 0
    zero_length_jobs: int = 0
    unknown_state_jobs: int = 0
    unknown_states: tuple[str, ...] = ()
    export_time: pd.Timestamp | None = None
    period_start: pd.Timestamp | None = None
    period_end: pd.Timestamp | None = None
    power_calibration: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def rejected_rows_truncated(self) -> bool:
        """Whether more rows were rejected than are listed in ``rejected``."""
        return self.rejected_count > len(self.rejected)


# --------------------------------------------------------------------------
# Reading text
# --------------------------------------------------------------------------


class _Limited:
    """Lines of a text stream, refusing to read past a size limit."""

    def __init__(self, stream: IO[str], name: str, max_characters: int) -> None:
        self.lines = iter(stream)
        self.name = name
        self.left = max_characters
        self.limit = max_characters

    def __iter__(self) -> _Limited:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.left -= len(line)
        if self.left < 0:
            msg = f"{self.name} is larger than the limit of {self.limit:,} characters"
            raise ValueError(msg)
        return line


class _Capped(io.RawIOBase):
    """A binary file that refuses to be read past a size limit (a growing file)."""

    def __init__(self, raw: io.BufferedReader, name: str, max_bytes: int) -> None:
        self.raw = raw
        self.name_shown = name
        self.left = max_bytes
        self.limit = max_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        self.left -= count
        if self.left < 0:
            msg = f"{self.name_shown} is larger than the limit of {self.limit:,} bytes"
            raise ValueError(msg)
        return count


def _source_name(source: Source, name: str | None) -> str:
    if name is not None:
        return clip(name, 120)
    if isinstance(source, bytes):
        return "<upload>"
    if isinstance(source, str | os.PathLike):
        return clip(os.fspath(source), 120)
    return clip(str(getattr(source, "name", "<stream>")), 120)


def _binary_check(head: bytes, name: str) -> None:
    if b"\x00" in head:
        msg = f"{name} is a binary file, not a job log (text: sacct -P, CSV)"
        raise ValueError(msg)


@contextmanager
def _open_text(
    source: Source, *, max_bytes: int = MAX_LOG_BYTES, name: str | None = None
) -> Iterator[tuple[Iterator[str], str]]:
    """Lines of a log given as a path, bytes or a stream, with its display name.

    A path is opened only if it is a regular file (non-blocking open, then
    ``fstat``) no larger than ``max_bytes``; bytes and streams are held to
    the same limit.
    """
    label = _source_name(source, name)
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            msg = (
                f"{label} is larger than the limit of {max_bytes:,} bytes "
                f"({len(source):,} bytes)"
            )
            raise ValueError(msg)
        _binary_check(source[:8192], label)
        # errors="replace": an undecodable byte spoils one row, which is then
        # rejected with its line number, instead of aborting the whole import.
        with io.TextIOWrapper(
            io.BytesIO(source), encoding="utf-8-sig", errors="replace", newline=""
        ) as stream:
            yield stream, label
        return
    if not isinstance(source, str | os.PathLike):
        yield _Limited(source, label, max_bytes), label
        return
    with open_regular_file(source, max_bytes=max_bytes, what="job log") as raw:
        _binary_check(raw.peek(8192)[:8192], label)
        capped = io.BufferedReader(_Capped(raw, label, max_bytes))
        with io.TextIOWrapper(
            capped, encoding="utf-8-sig", errors="replace", newline=""
        ) as stream:
            yield stream, label


def _read_header(stream: Iterator[str], name: str) -> tuple[str, int]:
    """Return the first non-blank line (without BOM) and its line number."""
    for line_number, line in enumerate(stream, start=1):
        text = line.lstrip("\ufeff").rstrip("\r\n")
        if text.strip():
            return text, line_number
    msg = f"{name} is empty: no header line and no jobs"
    raise ValueError(msg)


def _header_of(
    stream: Iterator[str], name: str, fields: Fields, delimiter: str
) -> tuple[str, int]:
    """The header line and its number; ``fields`` stand for a missing header.

    With ``fields`` (a headerless export), nothing is read and line 1 is the
    first data row.
    """
    names = field_names(fields)
    if names is None:
        return _read_header(stream, name)
    return delimiter.join(names), 0


def _split_header(header: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([header], delimiter=delimiter))
    except csv.Error:  # e.g. a quoted cell longer than the csv module's limit
        cells = header.split(delimiter)
    return [cell.strip() for cell in cells]


def _detect_kind(header: str) -> LogKind | None:
    """Guess the log format from its header line."""
    if "|" in header:
        names = {name.strip().lower() for name in header.split("|")}
        if "jobid" in names:
            return "sacct"
    names = {name.lower() for name in _split_header(header, ",")}
    if "duration" in names and ("emissions" in names or "energy_consumed" in names):
        return "codecarbon"
    if _find_alias(names, _CSV_ALIASES["start"]) and _find_alias(
        names, _CSV_ALIASES["gpus"]
    ):
        return "csv"
    return None


def _find_alias(names: set[str] | Sequence[str], aliases: Sequence[str]) -> str | None:
    for alias in aliases:
        if alias in names:
            return alias
    return None


class _Rows:
    """Rows of a delimited file in chunks, with their line numbers.

    One line is one record. Rows with the wrong number of fields, or with a
    malformed quote, are rejected here with their line; a quoted field never
    swallows the lines after it.
    """

    def __init__(
        self,
        stream: Iterator[str],
        builder: _Builder,
        *,
        delimiter: str,
        n_fields: int,
        header_line: int,
        chunk_rows: int,
        quoting: bool,
    ) -> None:
        self.stream = stream
        self.builder = builder
        self.delimiter = delimiter
        self.n_fields = n_fields
        self.header_line = header_line
        self.chunk_rows = chunk_rows
        self.quoting = quoting

    def _split(self, line: str, number: int) -> list[str] | None:
        """Fields of one line, or None when it is blank or rejected."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return None
        if self.quoting and '"' in text:
            try:
                parsed = list(csv.reader([text], delimiter=self.delimiter, strict=True))
            except csv.Error as error:
                self.builder.rows_read += 1
                self.builder.reject(
                    number,
                    f"malformed quoting ({error}); a quoted field must close on "
                    "its own line",
                )
                return None
            row = parsed[0] if len(parsed) == 1 else []
        else:
            row = text.split(self.delimiter)
        n = self.n_fields
        if len(row) == n + 1 and not row[-1]:
            row.pop()  # a trailing delimiter (sacct -p)
        if len(row) != n:
            self.builder.rows_read += 1
            self.builder.reject_row_shape(number, len(row), n)
            return None
        return row

    def __iter__(self) -> Iterator[tuple[npt.NDArray[np.int64], list[list[str]]]]:
        """Chunks as (line numbers, one list of values per field).

        Values are split a chunk at a time into one flat list of strings, so
        a million rows do not make a million lists (which would keep the
        garbage collector busy); only lines that need a closer look (wrong
        field count, blank, a trailing delimiter, a quote in a quoted format)
        are split one by one.
        """
        next_line = self.header_line + 1
        d = self.delimiter
        n = self.n_fields
        builder = self.builder
        while True:
            block = list(itertools.islice(self.stream, self.chunk_rows))
            if not block:
                return
            k = len(block)
            numbers = np.arange(next_line, next_line + k, dtype=np.int64)
            next_line += k
            text = [line.rstrip("\r\n") for line in block]
            del block
            counts = np.fromiter(map(str.count, text, itertools.repeat(d)), np.int64, k)
            fast = counts == n - 1
            if self.quoting:
                quoted = np.fromiter(
                    map(operator.contains, text, itertools.repeat('"')), bool, k
                )
                fast &= ~quoted
            recovered: dict[int, list[str]] = {}
            for i in np.flatnonzero(~fast):
                row = self._split(text[i], int(numbers[i]))
                if row is not None:
                    recovered[int(i)] = row
            is_recovered = np.zeros(k, dtype=bool)
            is_recovered[list(recovered)] = True
            order = np.flatnonzero(fast | is_recovered)
            flat: list[str] = []
            if order.size:
                slow = is_recovered[order]
                breaks = np.flatnonzero(np.diff(slow.astype(np.int8))) + 1
                for segment in np.split(order, breaks):
                    if is_recovered[segment[0]]:
                        for i in segment:
                            flat.extend(recovered[int(i)])
                    else:
                        flat.extend(d.join([text[i] for i in segment]).split(d))
            builder.rows_read += int(order.size)
            if order.size:
                yield numbers[order], [flat[j::n] for j in range(n)]


# --------------------------------------------------------------------------
# Accumulating results
# --------------------------------------------------------------------------


class _Builder:
    """Collects accepted jobs chunk by chunk, and counts everything else."""

    def __init__(self, name: str, *, strict: bool, max_rejected_listed: int) -> None:
        self.name = name
        self.strict = strict
        self.max_listed = max_rejected_listed
        self.rejected: list[RejectedRow] = []
        self.rejected_count = 0
        self.rows_read = 0
        self.pending = 0
        self.unknown = 0
        self.steps = 0
        self.zero_length = 0
        self.has_states = False  # the file has a state column
        self.tz_mode: int | None = None
        self.parts: dict[str, list[npt.NDArray[Any]]] = {}
        self.ids: list[Any] = []

    def reject(self, line: int, reason: str, column: str = "(row)") -> None:
        self.rejected_count += 1
        if len(self.rejected) < self.max_listed:
            self.rejected.append(RejectedRow(int(line), reason, column))

    def raise_if_strict(self) -> None:
        """In strict mode, raise for the first rejected row so far."""
        if self.strict and self.rejected:
            first = min(self.rejected, key=lambda r: r.line)
            msg = f"{self.name}, line {first.line}: {first.reason}"
            raise ValueError(msg)

    def reject_row_shape(self, line: int, found: int, expected: int) -> None:
        hint = " (truncated line?)" if found < expected else ""
        self.reject(line, f"expected {expected} fields, found {found}{hint}")

    def add(self, **arrays: npt.NDArray[Any]) -> None:
        for key, values in arrays.items():
            if key == "job_id":
                # Arrow-backed strings take ~10 bytes per id, not ~60.
                self.ids.append(pd.array(values, dtype="str"))
            else:
                self.parts.setdefault(key, []).append(values)

    def check_tz(
        self,
        status: npt.NDArray[np.int8],
        values: Sequence[str],
        column: str,
        bad: npt.NDArray[np.bool_],
        reasons: dict[int, tuple[str, str]],
    ) -> None:
        """Reject rows whose time zone style differs from the file's first time."""
        parsed = np.flatnonzero((status <= _AWARE) & ~bad)
        if parsed.size == 0:
            return
        if self.tz_mode is None:
            self.tz_mode = int(status[parsed[0]])
        clash = parsed[status[parsed] != self.tz_mode]
        earlier = "none" if self.tz_mode == _NAIVE else "one"
        has = "has a UTC offset" if self.tz_mode == _NAIVE else "has no UTC offset"
        for i in clash:
            reasons[int(i)] = (
                column,
                f"{column}: {_excerpt(values[i])} {has} but earlier rows have "
                f"{earlier} (mixed time zones)",
            )
            bad[i] = True

    def apply_rejections(
        self, lines: npt.NDArray[np.int64], reasons: dict[int, tuple[str, str]]
    ) -> None:
        for i in sorted(reasons):
            column, reason = reasons[i]
            self.reject(int(lines[i]), reason, column)

    def finish(
        self,
        *,
        kind: str,
        extra_float_columns: Sequence[str] = (),
        export_time: pd.Timestamp | None = None,
        fill_end_ns: int | None = None,
    ) -> JobLog:
        self.raise_if_strict()
        if self.rows_read == 0:
            msg = f"{self.name} has a header but no job rows"
            raise ValueError(msg)
        accepted = self.rows_read - self.rejected_count
        if accepted == 0:
            first = "; ".join(f"line {r.line}: {r.reason}" for r in self.rejected[:3])
            msg = (
                f"{self.name}: none of its {self.rows_read} rows could be read, "
                f"so it does not look like a usable job log. First problems: {first}"
            )
            raise ValueError(msg)

        def cat(key: str, dtype: Any) -> npt.NDArray[Any]:
            parts = self.parts.get(key, [])
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        start = cat("start", np.int64)
        end = cat("end", np.int64)
        if fill_end_ns is None:
            candidates = [int(end[end != _NAT].max())] if (end != _NAT).any() else []
            candidates += [int(start.max())] if start.size else []
            fill_end_ns = max(candidates) if candidates else 0
        end = np.where(end == _NAT, np.maximum(fill_end_ns, start), end)
        # A run whose start equals its end (cancelled at once) is not a job
        # that ran: counted, then left out of every column.
        ran = end > start
        zero_length = int((~ran).sum())
        start, end = start[ran], end[ran]
        submit = cat("submit", np.int64)[ran]
        submit = np.where(submit == _NAT, start, np.minimum(submit, start))
        gpus = cat("gpus", np.int64)[ran]
        state = cat("state", object)[ran]
        unknown_states: tuple[str, ...] = ()
        unknown_state_jobs = 0
        if self.has_states:
            unknown = ~np.isin(state, list(SLURM_JOB_STATES))
            unknown_state_jobs = int(unknown.sum())
            names = sorted({clip(str(v), 40) for v in pd.unique(state[unknown])})
            unknown_states = tuple(names[:_STATES_LISTED])
        ids = (
            pd.concat([pd.Series(p) for p in self.ids], ignore_index=True)
            if self.ids
            else pd.Series([], dtype="str")
        )
        columns: dict[str, Any] = {
            "job_id": ids[ran].reset_index(drop=True),
            "group": pd.Categorical(cat("group", object)[ran]),
            "state": pd.Categorical(state),
            "submit": _utc(submit),
            "start": _utc(start),
            "end": _utc(end),
            "gpus": gpus,
            "gpu_hours": gpus * ((end - start) / _NS_PER_HOUR),
            "accelerator": pd.Categorical(cat("accelerator", object)[ran]),
            "line": cat("line", np.int64)[ran],
        }
        for key in extra_float_columns:
            columns[key] = cat(key, np.float64)[ran]
        jobs = pd.DataFrame(columns)
        return JobLog(
            jobs=jobs,
            kind=kind,
            source=self.name,
            rejected=tuple(sorted(self.rejected, key=lambda r: r.line)),
            rejected_count=self.rejected_count,
            pending_jobs=self.pending,
            unknown_time_jobs=self.unknown,
            step_rows=self.steps,
            rows_read=self.rows_read,
            zero_length_jobs=self.zero_length + zero_length,
            unknown_state_jobs=unknown_state_jobs,
            unknown_states=unknown_states,
            export_time=export_time,
            period_end=export_time,
        )


def _utc(ns: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")


# --------------------------------------------------------------------------
# Field parsers (each works on the distinct values of a chunk's column)
# --------------------------------------------------------------------------


def _factorize(values: Sequence[str]) -> tuple[npt.NDArray[np.intp], list[str]]:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return np.asarray(codes, dtype=np.intp), list(uniques)


def _parse_times(
    values: Sequence[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Parse ISO 8601 times to UTC nanoseconds, with a status per value."""
    raw = np.asarray(values, dtype=object)
    n = raw.size
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int8)
    # The fast path, vectorised: sacct's own format, nearly every value.
    fast = pd.DatetimeIndex(
        pd.to_datetime(raw, format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    )
    ns = np.asarray(fast.as_unit("ns").asi8, dtype=np.int64).copy()
    # pandas reads other scripts' digits (Arabic-Indic ...) as numbers: refuse them.
    if not "".join(map(str, values)).isascii():
        foreign = np.fromiter((not str(v).isascii() for v in raw), bool, count=n)
        ns[foreign] = _NAT
    status = np.where(ns == _NAT, _INVALID, _NAIVE).astype(np.int8)
    failed = np.flatnonzero(ns == _NAT)
    if failed.size:
        codes, uniques = _factorize(raw[failed].tolist())
        slow = [_parse_one_time(text.strip()) for text in uniques]
        ns[failed] = np.asarray([v for v, _ in slow], dtype=np.int64)[codes]
        status[failed] = np.asarray([c for _, c in slow], dtype=np.int8)[codes]
    out = (status <= _AWARE) & ((ns < _EARLIEST_NS) | (ns >= _LATEST_NS))
    status[out] = _OUT_OF_RANGE
    return ns, status


def _parse_one_time(text: str) -> tuple[int, int]:
    """Nanoseconds and status of one ISO 8601 time (the slow path)."""
    if text.lower() in _MISSING_WORDS:
        return _NAT, _MISSING
    if _ISO_TIME.fullmatch(text) is None:  # fromisoformat takes any separator
        return _NAT, _INVALID
    try:
        stamp = pd.Timestamp(dt.datetime.fromisoformat(text))
        if stamp.tzinfo is None:
            return int(stamp.as_unit("ns").value), _NAIVE
        return int(stamp.tz_convert("UTC").as_unit("ns").value), _AWARE
    except (ValueError, OverflowError):
        return _NAT, _INVALID


def _time_reason(column: str, value: str, status: int) -> str:
    if status == _OUT_OF_RANGE:
        return (
            f"{column}: {_excerpt(value)} is outside the plausible range "
            f"{EARLIEST_PLAUSIBLE_TIME.year}-{LATEST_PLAUSIBLE_TIME.year - 1}"
        )
    return (
        f"{column}: {_excerpt(value)} is not a date-time (expected YYYY-MM-DDTHH:MM:SS)"
    )


_ELAPSED_INVALID: Final = -1.0
_ELAPSED_TOO_LONG: Final = -3.0


def _parse_elapsed_seconds(text: str) -> float:
    """Seconds in a Slurm duration ``[D-]HH:MM:SS`` or ``MM:SS``.

    Returns -1 if the text is not a duration and -3 if it is longer than
    :data:`MAX_ELAPSED_DAYS` (so it can never overflow nanoseconds).
    """
    match = _ELAPSED.fullmatch(text.strip())
    if match is None:
        return _ELAPSED_INVALID
    if len(text) > 40:  # far more digits than 100 years need
        return _ELAPSED_TOO_LONG
    days = int(match["days"] or 0)
    if match["c"] is not None:
        hours, minutes, seconds = int(match["a"]), int(match["b"]), int(match["c"])
    elif match["days"] is not None:
        hours, minutes, seconds = int(match["a"]), int(match["b"]), 0
    else:
        hours, minutes, seconds = 0, int(match["a"]), int(match["b"])
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return _ELAPSED_TOO_LONG if total > _MAX_ELAPSED_S else float(total)


def _gpu_count(value: str, text: str) -> tuple[int, str | None]:
    """A GPU count of ASCII digits within the plausibility limit, or an error."""
    if not value or not (value.isascii() and value.isdigit()):
        return 0, f"GPU count {_excerpt(value)} in {_excerpt(text)} is not a number"
    shown = f"{int(value)}" if len(value) <= 12 else _excerpt(value)
    if len(value) > 12 or int(value) > MAX_GPUS_PER_JOB:
        return 0, (
            f"{shown} GPUs in {_excerpt(text)} exceeds the plausibility limit of "
            f"{MAX_GPUS_PER_JOB} GPUs per job"
        )
    return int(value), None


def _gpus_from_tres(text: str) -> tuple[int, str | None, str | None, bool, bool]:
    """GPU count, GPU type, error, non-emptiness and GPU mention of a TRES string.

    ``gres/gpu=N`` is the total; ``gres/gpu:TYPE=N`` gives the type (and the
    total when no untyped entry is present: Slurm usually prints both).
    """
    untyped: str | None = None
    typed: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.strip().partition("=")
        if key == "gres/gpu":
            untyped = value.strip()
        elif key.startswith("gres/gpu:"):
            typed[key[len("gres/gpu:") :]] = value.strip()
    nonempty = bool(text.strip())
    mentions = untyped is not None or bool(typed)
    gpus = 0
    for value in [untyped] if untyped is not None else list(typed.values()):
        count, error = _gpu_count(str(value), text)
        if error is not None:
            return 0, None, error, nonempty, mentions
        gpus += count
    if gpus > MAX_GPUS_PER_JOB:
        return (
            0,
            None,
            f"{gpus} GPUs in {_excerpt(text)} exceeds the plausibility limit of "
            f"{MAX_GPUS_PER_JOB} GPUs per job",
            nonempty,
            mentions,
        )
    accelerator = "+".join(sorted(typed)) if typed else None
    return gpus, accelerator, None, nonempty, mentions


def _gpus_from_gres(text: str) -> tuple[int, str | None, str | None, bool, bool]:
    """GPU count, type, error, non-emptiness and GPU mention of a GRES string.

    The older ``ReqGRES``/``AllocGRES`` fields list ``name[:type][:count]``
    entries separated by commas, each maybe followed by details in
    parentheses (``gpu:p100:2(IDX:0-1),hbm:0``) [1]_; several ``gpu``
    entries add up. A bare ``gpu`` is one GPU, as in ``--gres=gpu``.

    References
    ----------
    .. [1] SchedMD, "Generic Resource (GRES) Scheduling," Slurm documentation.
       https://slurm.schedmd.com/gres.html
    """
    plain = _GRES_DETAIL.sub("", text)
    nonempty = bool(plain.strip())
    gpus = 0
    types: set[str] = set()
    mentions = False
    for item in plain.split(","):
        parts = [part.strip() for part in item.strip().split(":")]
        if parts[0] != "gpu":
            continue
        mentions = True
        if len(parts) == 1:
            gpus += 1
            continue
        count, error = _gpu_count(parts[-1], text)
        if error is not None:
            return 0, None, error, nonempty, mentions
        gpus += count
        if len(parts) >= 3 and parts[1]:
            types.add(parts[1])
    if gpus > MAX_GPUS_PER_JOB:
        return (
            0,
            None,
            f"{gpus} GPUs in {_excerpt(text)} exceeds the plausibility limit of "
            f"{MAX_GPUS_PER_JOB} GPUs per job",
            nonempty,
            mentions,
        )
    return gpus, "+".join(sorted(types)) or None, None, nonempty, mentions


def _whole_gpus(text: str, column: str) -> tuple[int, str | None]:
    """A GPU count from a CSV cell; empty means 0 (a CPU-only run)."""
    value = text.strip()
    if not value:
        return 0, None
    if _WHOLE_NUMBER.fullmatch(value) is None:
        if _DECIMAL.fullmatch(value) is not None:
            return 0, (
                f"{column}: {_excerpt(text)} is not a whole, non-negative number "
                "of GPUs"
            )
        return 0, f"{column}: {_excerpt(text)} is not a number of GPUs"
    number = float(value)
    if not number <= MAX_GPUS_PER_JOB:  # also inf, from a very long number
        shown = f"{int(number)}" if number < 1e12 else _excerpt(text)
        return 0, (
            f"{column}: {shown} GPUs exceeds the plausibility limit of "
            f"{MAX_GPUS_PER_JOB} GPUs per job"
        )
    return int(number), None


def _map_unique(
    values: Sequence[str], parse: Callable[[str], Any]
) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Apply ``parse`` once per distinct value; return codes and parsed values."""
    codes, uniques = _factorize(values)
    return codes, [parse(u) for u in uniques]


def _labels(values: Sequence[str], default: str) -> npt.NDArray[np.object_]:
    codes, parsed = _map_unique(values, lambda u: u.strip() or default)
    return np.asarray(parsed, dtype=object)[codes]


def _upper_state(text: str) -> str:
    # "CANCELLED by 123" -> CANCELLED; a trailing "+" is sacct's truncation mark.
    word = text.strip().split(" ", 1)[0].rstrip("+").upper()
    return word or "UNKNOWN"


def _as_utc_ns(time: str | dt.datetime | pd.Timestamp | None, name: str) -> int | None:
    if time is None:
        return None
    try:
        stamp = pd.Timestamp(time)
    except (ValueError, TypeError) as err:
        msg = f"{name} must be a date-time, got {shorten(time)}: {clip(str(err))}"
        raise ValueError(msg) from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def _guard_common(*, chunk_rows: int, max_rejected_listed: int, max_bytes: int) -> None:
    if chunk_rows < 1:
        msg = f"chunk_rows must be at least 1, got {chunk_rows}"
        raise ValueError(msg)
    if max_rejected_listed < 0:
        msg = f"max_rejected_listed must be non-negative, got {max_rejected_listed}"
        raise ValueError(msg)
    if max_bytes < 0:
        msg = f"max_bytes must be non-negative, got {max_bytes}"
        raise ValueError(msg)


Fields = Sequence[str] | str | None
"""Field names of a headerless export: a sequence, a comma-separated string,
or ``"xdmod"`` for :data:`XDMOD_SACCT_FIELDS`."""


def field_names(fields: Fields) -> tuple[str, ...] | None:
    """The field names a ``fields`` argument stands for.

    Parameters
    ----------
    fields : sequence of str, str or None
        Names, ``"a,b,c"``, or ``"xdmod"``.

    Returns
    -------
    tuple of str or None
        The names (None when ``fields`` is None).

    Raises
    ------
    ValueError
        If a name is empty.

    Examples
    --------
    >>> field_names("JobID, Start,End")
    ('JobID', 'Start', 'End')
    >>> field_names("xdmod")[:3]
    ('jobid', 'jobidraw', 'cluster')
    """
    if fields is None:
        return None
    if isinstance(fields, str):
        if fields.strip().lower() == "xdmod":
            return XDMOD_SACCT_FIELDS
        fields = fields.split(",")
    names = tuple(str(name).strip() for name in fields)
    if not names or not all(names):
        msg = f"fields must name every column, got {shorten(list(fields))}"
        raise ValueError(msg)
    return names


# --------------------------------------------------------------------------
# Slurm sacct
# --------------------------------------------------------------------------

_SACCT_GROUPS: Final = ("Account", "Partition", "User")
_GPU_FIELDS: Final = ("alloctres", "reqtres", "allocgres", "reqgres")


def read_sacct(
    source: Source,
    *,
    fields: Fields = None,
    export_time: str | dt.datetime | pd.Timestamp | None = None,
    group_by: Literal["Account", "Partition", "User"] | None = None,
    strict: bool = False,
    max_rejected_listed: int = MAX_REJECTED_LISTED,
    chunk_rows: int = _CHUNK_ROWS,
    max_bytes: int = MAX_LOG_BYTES,
    name: str | None = None,
) -> JobLog:
    r"""Read a Slurm ``sacct -P`` (pipe-separated) accounting export.

    The header (or ``fields``, for a ``--noheader`` export) names the fields;
    the reader needs ``JobID``, GPU counts from ``AllocTRES`` or ``ReqTRES``
    (``gres/gpu=N`` or ``gres/gpu:TYPE=N``) or, from older Slurm,
    ``AllocGRES`` or ``ReqGRES`` (``gpu:TYPE:N``), and ``Start`` with ``End``
    and/or ``Elapsed`` (or ``End`` with ``Elapsed``). ``State``, ``Submit``,
    ``Account``, ``Partition`` and ``User`` are used when present. The file
    is read in chunks, so a file of millions of rows imports in bounded
    memory [1]_.

    Parameters
    ----------
    source : str, os.PathLike, text stream or bytes
        The export (``sacct -P -X -o JobID,Submit,Start,End,Elapsed,State,``
        ``AllocTRES,ReqTRES,Account,Partition,User``; ``-p`` with its trailing
        ``|`` also works), or its content.
    fields : sequence of str or str, optional
        Field names of a headerless export (``sacct --noheader``), in order;
        ``"xdmod"`` is :data:`XDMOD_SACCT_FIELDS`. The first line is then
        data (line 1).
    export_time : str, datetime or pandas.Timestamp, optional
        When the export was taken (naive means UTC). Running jobs are cut
        there, and jobs ending later are truncated to it. Without it, a
        running job ends at its ``Start + Elapsed`` or, failing that, at the
        latest time in the file.
    group_by : {"Account", "Partition", "User"}, optional
        Field used as the job's group; default the first present of
        Account, Partition, User (else every job is in group ``"all"``).
    strict : bool, default False
        Raise at the first malformed row instead of listing it.
    max_rejected_listed : int, default 10,000
        Malformed rows listed one by one; beyond it they are only counted.
        [rows]
    chunk_rows : int, default 50,000
        Rows parsed per chunk (memory versus speed). [rows]
    max_bytes : int, default 512,000,000
        Largest log read. [bytes]
    name : str, optional
        Name shown in messages (default: the path, or ``<upload>``).

    Returns
    -------
    JobLog
        Jobs that ran; pending jobs, jobs without times, steps, zero-length
        runs, unknown states and rejected rows are counted (and rejected
        rows listed).

    Raises
    ------
    ValueError
        If the file is missing, empty, binary or not a sacct export (a
        required field is absent), if no row can be read, or, with
        ``strict``, at the first malformed row (naming the line and field).

    Notes
    -----
    * Job steps (``123.batch``, ``123.extern``, ``123.0``) repeat their job's
      allocation and are skipped (counted in ``step_rows``).
    * Array jobs (``123_4``; ``123_[1-5]`` while pending) and heterogeneous
      job components (``123+0``, ``123+1``) are jobs; each component is one
      row, as sacct lists it.
    * ``PENDING`` jobs count in ``pending_jobs``. Jobs with an ``Unknown`` or
      ``None`` start (cancelled before they ran) count in
      ``unknown_time_jobs``. Neither carries usage.
    * GPUs come from ``AllocTRES``, or ``ReqTRES`` when the allocation is
      empty; when the TRES field has no GPU entry (older Slurm, Open XDMoD's
      exports), from ``AllocGRES``, or ``ReqGRES`` when that is empty. A job
      without GPUs is kept with ``gpus = 0``.
    * A job whose start equals its end counts in ``zero_length_jobs``, not
      as a job that ran; a state Slurm does not report counts in
      ``unknown_state_jobs`` (the job is kept).
    * A missing ``End`` is ``Start + Elapsed``; a missing ``Start`` with a
      positive ``Elapsed`` is ``End - Elapsed``.

    References
    ----------
    .. [1] SchedMD, "sacct," Slurm Workload Manager documentation.
       https://slurm.schedmd.com/sacct.html

    Examples
    --------
    >>> import io
    >>> text = (
    ...     "JobID|Start|End|State|AllocTRES|Account\n"
    ...     "7|2024-01-01T00:00:00|2024-01-01T02:30:00|COMPLETED|"
    ...     "cpu=8,gres/gpu:a100=4,gres/gpu=4|nlp\n"
    ...     "7.batch|2024-01-01T00:00:00|2024-01-01T02:30:00|COMPLETED|"
    ...     "cpu=8,gres/gpu=4|nlp\n"
    ...     "8|Unknown|Unknown|PENDING||nlp\n"
    ... )
    >>> log = read_sacct(io.StringIO(text))
    >>> log.jobs[["job_id", "gpus", "gpu_hours", "accelerator"]].to_dict("records")
    [{'job_id': '7', 'gpus': 4, 'gpu_hours': 10.0, 'accelerator': 'a100'}]
    >>> log.pending_jobs, log.step_rows
    (1, 1)
    """
    _guard_common(
        chunk_rows=chunk_rows,
        max_rejected_listed=max_rejected_listed,
        max_bytes=max_bytes,
    )
    export_ns = _as_utc_ns(export_time, "export_time")
    with _open_text(source, max_bytes=max_bytes, name=name) as (stream, label):
        header_text, header_line = _header_of(stream, label, fields, "|")
        trailing = header_text.rstrip().endswith("|")
        names = [cell.strip() for cell in header_text.rstrip().split("|")]
        if trailing:
            names = names[:-1]
        index = {n.lower(): i for i, n in enumerate(names)}
        if "jobid" not in index and "jobidraw" in index:
            index["jobid"] = index["jobidraw"]
        if "jobid" not in index:
            msg = (
                f"{label} is not a sacct -P export: its first line has no JobID "
                f"field (found {_excerpt(header_text)})"
            )
            raise ValueError(msg)
        if not any(key in index for key in _GPU_FIELDS):
            msg = (
                f"{label}: the sacct export has no AllocTRES, ReqTRES, AllocGRES or "
                "ReqGRES field, so GPU counts are unknown; export with "
                "-o ...,AllocTRES,ReqTRES"
            )
            raise ValueError(msg)
        has_time = ("start" in index and ("end" in index or "elapsed" in index)) or (
            "end" in index and "elapsed" in index
        )
        if not has_time:
            msg = (
                f"{label}: the sacct export needs Start with End or Elapsed (or End "
                "with Elapsed) to place jobs in time"
            )
            raise ValueError(msg)
        if group_by is not None and group_by.lower() not in index:
            msg = f"group_by={shorten(group_by)} but {label} has no such field"
            raise ValueError(msg)
        group_field = group_by or next(
            (g for g in _SACCT_GROUPS if g.lower() in index), None
        )
        sacct_fields = _SacctFields(
            names=names,
            index=index,
            group=None if group_field is None else index[group_field.lower()],
        )
        builder = _Builder(
            label, strict=strict, max_rejected_listed=max_rejected_listed
        )
        builder.has_states = "state" in index
        rows = _Rows(
            stream,
            builder,
            delimiter="|",
            n_fields=len(names),
            header_line=header_line,
            chunk_rows=chunk_rows,
            quoting=False,  # sacct -P never quotes: a quote is a character
        )
        for lines, chunk in rows:
            _sacct_chunk(lines, chunk, sacct_fields, builder, export_ns)
            builder.raise_if_strict()
    export_stamp = None if export_ns is None else _utc(np.array([export_ns]))[0]
    return builder.finish(kind="sacct", export_time=export_stamp, fill_end_ns=export_ns)


@dataclass(frozen=True)
class _SacctFields:
    names: list[str]
    index: dict[str, int]
    group: int | None

    def get(self, columns: list[list[str]], key: str) -> list[str] | None:
        i = self.index.get(key)
        return None if i is None else columns[i]

    def name(self, key: str) -> str:
        return self.names[self.index[key]]


def _sacct_chunk(
    lines: npt.NDArray[np.int64],
    columns: list[list[str]],
    fields: _SacctFields,
    builder: _Builder,
    export_ns: int | None,
) -> None:
    """Parse one chunk of sacct rows (vectorised over the chunk)."""
    n = len(lines)
    job_ids = fields.get(columns, "jobid")
    assert job_ids is not None  # checked with the header
    ids = np.asarray(job_ids, dtype=object)
    is_step = np.asarray(["." in x for x in job_ids], dtype=bool)
    plain = np.asarray([x.isascii() and x.isdigit() for x in job_ids], dtype=bool)
    reasons: dict[int, tuple[str, str]] = {}
    bad = np.zeros(n, dtype=bool)
    id_name = fields.name("jobid")
    for i in np.flatnonzero(~plain):
        text = job_ids[i].strip()
        if (_STEP_ID_RE if is_step[i] else _JOB_ID_RE).fullmatch(text):
            ids[i] = text
            continue
        is_step[i] = False
        reasons[int(i)] = (
            id_name,
            f"{id_name}: {_excerpt(job_ids[i])} is not a Slurm job id "
            "(expected 123, 123_4, 123_[1-5] or 123+0)",
        )
        bad[i] = True
    builder.steps += int(is_step.sum())

    state_values = fields.get(columns, "state")
    if state_values is None:
        state = np.full(n, "UNKNOWN", dtype=object)
    else:
        codes, parsed = _map_unique(state_values, _upper_state)
        state = np.asarray(parsed, dtype=object)[codes]
    pending = (state == "PENDING") & ~is_step & ~bad
    builder.pending += int(pending.sum())
    live = ~is_step & ~pending  # rows that must be jobs with usage

    times: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]] = {}
    for key in ("submit", "start", "end"):
        values = fields.get(columns, key)
        if values is None:
            times[key] = (
                np.full(n, _NAT, dtype=np.int64),
                np.full(n, _MISSING, dtype=np.int8),
            )
            continue
        ns, status = _parse_times(values)
        col_name = fields.name(key)
        for i in np.flatnonzero(live & ~bad & (status >= _INVALID)):
            reasons[int(i)] = (col_name, _time_reason(col_name, values[i], status[i]))
            bad[i] = True
        builder.check_tz(
            np.where(live, status, _MISSING), values, col_name, bad, reasons
        )
        times[key] = (ns, status)
    start_ns, start_status = times["start"]
    end_ns, end_status = times["end"]
    submit_ns = times["submit"][0]
    has_start = start_status <= _AWARE
    has_end = end_status <= _AWARE

    # Elapsed, only where a time is missing (most rows have Start and End).
    elapsed_s = np.full(n, -2.0)
    elapsed_values = fields.get(columns, "elapsed")
    if elapsed_values is not None:
        need = np.flatnonzero(live & ~bad & ~(has_start & has_end))
        if need.size:
            sub = [elapsed_values[i] for i in need]
            codes, parsed = _map_unique(
                sub, lambda u: -2.0 if not u.strip() else _parse_elapsed_seconds(u)
            )
            elapsed_s[need] = np.asarray(parsed, dtype=np.float64)[codes]
            col_name = fields.name("elapsed")
            for i in need[elapsed_s[need] == _ELAPSED_INVALID]:
                reasons[int(i)] = (
                    col_name,
                    f"{col_name}: {_excerpt(elapsed_values[i])} is not a duration "
                    "(expected [D-]HH:MM:SS)",
                )
                bad[i] = True
            for i in need[elapsed_s[need] == _ELAPSED_TOO_LONG]:
                reasons[int(i)] = (
                    col_name,
                    f"{col_name}: {_excerpt(elapsed_values[i])} is longer than "
                    f"{MAX_ELAPSED_DAYS:,} days (100 years), so it is corrupt",
                )
                bad[i] = True
    has_elapsed = elapsed_s >= 0
    elapsed_ns = np.where(has_elapsed, elapsed_s * _NS_PER_SECOND, 0).astype(np.int64)

    # GPUs: AllocTRES, or ReqTRES where the allocation is empty; where that
    # TRES has no GPU entry (older Slurm), AllocGRES, or ReqGRES if it is empty.
    everything = np.arange(n)
    gpus, accelerator, gpu_error, mentions, gpu_field = _gpu_family(
        fields, columns, ("alloctres", "reqtres"), _gpus_from_tres, everything
    )
    silent = np.flatnonzero(~mentions & pd.isna(gpu_error))
    if silent.size and ("allocgres" in fields.index or "reqgres" in fields.index):
        g, acc, err, said, src = _gpu_family(
            fields, columns, ("allocgres", "reqgres"), _gpus_from_gres, silent
        )
        take = said | pd.notna(err)
        chosen = silent[take]
        gpus[chosen], accelerator[chosen] = g[take], acc[take]
        gpu_error[chosen], gpu_field[chosen] = err[take], src[take]
    for i in np.flatnonzero(live & ~bad & pd.notna(gpu_error)):
        reasons[int(i)] = (str(gpu_field[i]), f"{gpu_field[i]}: {gpu_error[i]}")
        bad[i] = True

    # Start and end.
    running = np.isin(state, list(_RUNNING_STATES))
    start = np.where(has_start, start_ns, _NAT)
    derive_start = ~has_start & has_end & has_elapsed & (elapsed_s > 0)
    start = np.where(derive_start, end_ns - elapsed_ns, start)
    known_start = has_start | derive_start
    end = np.where(has_end, end_ns, _NAT)
    open_end = known_start & ~has_end
    if export_ns is not None:
        end = np.where(open_end & running, export_ns, end)
    end = np.where(open_end & (end == _NAT) & has_elapsed, start + elapsed_ns, end)
    # Running without Elapsed or export time: filled with the file's last time.
    known_end = (end != _NAT) | (open_end & running)
    unknown = live & ~bad & ~(known_start & known_end)
    builder.unknown += int(unknown.sum())
    ran = live & ~bad & known_start & known_end

    end_before = ran & (end != _NAT) & (end < start)
    start_name = fields.name("start") if "start" in fields.index else "Start"
    end_name = fields.name("end") if "end" in fields.index else "End"
    for i in np.flatnonzero(end_before):
        reasons[int(i)] = (
            end_name,
            f"{end_name} ({_iso(end[i])}) is before {start_name} ({_iso(start[i])})",
        )
    ran &= ~end_before
    if export_ns is not None:
        late = ran & (start > export_ns)
        for i in np.flatnonzero(late):
            reasons[int(i)] = (
                start_name,
                f"{start_name} ({_iso(start[i])}) is after the export time "
                f"({_iso(export_ns)})",
            )
        ran &= ~late
        end = np.where(ran & (end != _NAT), np.minimum(end, export_ns), end)
    builder.apply_rejections(lines, reasons)

    if fields.group is None:
        group = np.full(n, "all", dtype=object)
    else:
        group = _labels(columns[fields.group], "(none)")
    keep = np.flatnonzero(ran)
    builder.add(
        job_id=ids[keep],
        group=group[keep],
        state=state[keep],
        submit=np.where(times["submit"][1] <= _AWARE, submit_ns, _NAT)[keep],
        start=start[keep],
        end=end[keep],
        gpus=gpus[keep],
        accelerator=accelerator[keep],
        line=lines[keep],
    )


def _gpu_family(
    fields: _SacctFields,
    columns: list[list[str]],
    keys: tuple[str, str],
    parse: Callable[[str], tuple[int, str | None, str | None, bool, bool]],
    rows: npt.NDArray[np.intp],
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.object_],
    npt.NDArray[np.object_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.object_],
]:
    """GPUs of ``rows`` from the first of ``keys`` that is non-empty in each row.

    Returns the count, type, error, whether GPUs are mentioned at all, and the
    field used, for each row (zero GPUs when no field of ``keys`` exists).
    """
    m = rows.size
    gpus = np.zeros(m, dtype=np.int64)
    accelerator = np.full(m, None, dtype=object)
    error = np.full(m, None, dtype=object)
    mentions = np.zeros(m, dtype=bool)
    used = np.full(m, "", dtype=object)
    present = [key for key in keys if key in fields.index]
    todo = np.ones(m, dtype=bool)
    for position, key in enumerate(present):
        values = fields.get(columns, key)
        assert values is not None  # present
        waiting = np.flatnonzero(todo)
        if waiting.size == 0:
            break
        codes, parsed = _map_unique([values[rows[i]] for i in waiting], parse)
        if position < len(present) - 1:  # later fields only where this is empty
            nonempty = np.asarray([p[3] for p in parsed], dtype=bool)[codes]
            waiting, codes = waiting[nonempty], codes[nonempty]
        gpus[waiting] = np.asarray([p[0] for p in parsed], dtype=np.int64)[codes]
        accelerator[waiting] = np.asarray([p[1] for p in parsed], dtype=object)[codes]
        error[waiting] = np.asarray([p[2] for p in parsed], dtype=object)[codes]
        mentions[waiting] = np.asarray([p[4] for p in parsed], dtype=bool)[codes]
        used[waiting] = fields.name(key)
        todo[waiting] = False
    return gpus, accelerator, error, mentions, used


def _iso(ns: int | np.integer[Any]) -> str:
    return str(pd.Timestamp(int(ns), tz="UTC").isoformat())


# --------------------------------------------------------------------------
# Generic CSV and CodeCarbon
# --------------------------------------------------------------------------

_CSV_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "start": ("start", "start_time"),
    "end": ("end", "end_time"),
    "gpus": ("gpus", "gpu_count", "n_gpus"),
    "submit": ("submit", "submit_time"),
    "job_id": ("job_id", "jobid", "id"),
    "group": ("group", "account", "project", "user"),
    "accelerator": ("accelerator", "gpu_model", "gpu_type"),
    "state": ("state", "status"),
}


def read_generic_csv(
    source: Source,
    *,
    fields: Fields = None,
    strict: bool = False,
    max_rejected_listed: int = MAX_REJECTED_LISTED,
    chunk_rows: int = _CHUNK_ROWS,
    max_bytes: int = MAX_LOG_BYTES,
    name: str | None = None,
) -> JobLog:
    r"""Read a generic CSV job log: one row per job with start, end and GPUs.

    Required columns (case-insensitive): ``start`` (or ``start_time``),
    ``end`` (or ``end_time``), ``gpus`` (or ``gpu_count``, ``n_gpus``).
    Optional: ``job_id``, ``group`` (or ``account``, ``project``, ``user``),
    ``accelerator`` (or ``gpu_model``, ``gpu_type``), ``state``, ``submit``.
    Times are ISO 8601 (naive means UTC).

    Parameters
    ----------
    source : str, os.PathLike, text stream or bytes
        The CSV file (comma-separated, header line, RFC 4180 quoting within
        a line), or its content.
    fields : sequence of str or str, optional
        Column names of a file without a header line; its first line is then
        data (line 1).
    strict : bool, default False
        Raise at the first malformed row instead of listing it.
    max_rejected_listed : int, default 10,000
        Malformed rows listed one by one; all are counted. [rows]
    chunk_rows : int, default 50,000
        Rows parsed per chunk. [rows]
    max_bytes : int, default 512,000,000
        Largest log read. [bytes]
    name : str, optional
        Name shown in messages (default: the path, or ``<upload>``).

    Returns
    -------
    JobLog
        Every valid row with a start before its end is a job that ran
        (``state`` defaults to ``COMPLETED``; ``job_id`` to the line number).

    Raises
    ------
    ValueError
        If the file is missing, empty or lacks a required column, if no row
        can be read, or with ``strict`` at the first malformed row.

    Examples
    --------
    >>> import io
    >>> text = "start,end,gpus,group\n2024-03-01T10:00,2024-03-01T11:30,2,vision\n"
    >>> log = read_generic_csv(io.StringIO(text))
    >>> log.jobs[["group", "gpus", "gpu_hours"]].to_dict("records")
    [{'group': 'vision', 'gpus': 2, 'gpu_hours': 3.0}]
    """
    _guard_common(
        chunk_rows=chunk_rows,
        max_rejected_listed=max_rejected_listed,
        max_bytes=max_bytes,
    )
    with _open_text(source, max_bytes=max_bytes, name=name) as (stream, label):
        header_text, header_line = _header_of(stream, label, fields, ",")
        names = _split_header(header_text, ",")
        lower = [n.lower() for n in names]
        found = {
            key: _find_alias(lower, aliases) for key, aliases in _CSV_ALIASES.items()
        }
        missing = [key for key in ("start", "end", "gpus") if found[key] is None]
        if missing:
            msg = (
                f"{label} is not a generic CSV job log: missing column(s) "
                f"{', '.join(missing)} (found {', '.join(names[:12]) or 'none'})"
            )
            raise ValueError(msg)
        index = {key: lower.index(alias) for key, alias in found.items() if alias}
        builder = _Builder(
            label, strict=strict, max_rejected_listed=max_rejected_listed
        )
        builder.has_states = "state" in index
        rows = _Rows(
            stream,
            builder,
            delimiter=",",
            n_fields=len(names),
            header_line=header_line,
            chunk_rows=chunk_rows,
            quoting=True,
        )
        for lines, chunk in rows:
            _csv_chunk(lines, chunk, names, index, builder, codecarbon=False)
            builder.raise_if_strict()
    return builder.finish(kind="csv")


def read_codecarbon(
    source: Source,
    *,
    tdp_w_by_gpu_model: Mapping[str, float] | float | None = None,
    strict: bool = False,
    max_rejected_listed: int = MAX_REJECTED_LISTED,
    chunk_rows: int = _CHUNK_ROWS,
    max_bytes: int = MAX_LOG_BYTES,
    name: str | None = None,
) -> JobLog:
    r"""Read a CodeCarbon ``emissions.csv`` and calibrate GPU power against TDP.

    Each row is one tracked run [1]_: ``timestamp`` (when the run was saved,
    taken as its end), ``duration`` [s], ``gpu_count``, ``gpu_model`` (e.g.
    ``"4 x NVIDIA A100-SXM4-40GB"``), ``gpu_energy`` [kWh], ``project_name``
    (the group) and ``run_id``. The run started ``duration`` before its
    timestamp. A run with an empty ``gpu_count`` used no GPU.

    Parameters
    ----------
    source : str, os.PathLike, text stream or bytes
        The ``emissions.csv`` file, or its content.
    tdp_w_by_gpu_model : mapping or float, optional
        Thermal design power per GPU [W]: one number for every model, or a
        mapping from model name to TDP (e.g. from the pricing catalog). Names
        match exactly, then ignoring case, spaces, hyphens and a leading
        ``NVIDIA``, then by the longest catalog name contained in the model.
    strict : bool, default False
        Raise at the first malformed row instead of listing it.
    max_rejected_listed : int, default 10,000
        Malformed rows listed one by one; all are counted. [rows]
    chunk_rows : int, default 50,000
        Rows parsed per chunk. [rows]
    max_bytes : int, default 512,000,000
        Largest log read. [bytes]
    name : str, optional
        Name shown in messages (default: the path, or ``<upload>``).

    Returns
    -------
    JobLog
        Jobs with an extra ``gpu_energy_kwh`` column [kWh], and
        ``power_calibration``: one row per GPU model with ``runs``,
        ``gpu_hours`` [GPU-h], ``gpu_energy_kwh`` [kWh],
        ``measured_w_per_gpu`` (energy over GPU-hours) [W], ``tdp_w`` [W] and
        ``measured_to_tdp`` [unitless] (missing where no TDP matches).

    Raises
    ------
    ValueError
        If the file lacks ``timestamp``, ``duration`` or ``gpu_count`` (older
        CodeCarbon versions did not record GPUs), is empty or unreadable, or
        with ``strict`` at the first malformed row.

    Notes
    -----
    Measured power per GPU :math:`P = 1000\,E_{gpu} / (n_{gpu}\, t)` with
    :math:`E_{gpu}` in kWh and :math:`t` in hours. The ratio
    :math:`P / P_{TDP}` replaces the "GPU draws its TDP" assumption in energy
    estimates. CodeCarbon measures every GPU it can see on the machine, so a
    run sharing a node reports its neighbours' draw too.

    References
    ----------
    .. [1] B. Courty et al., "mlco2/codecarbon," Zenodo, 2024,
       doi:10.5281/zenodo.11171501.

    Examples
    --------
    >>> import io
    >>> text = (
    ...     "timestamp,project_name,run_id,duration,emissions,gpu_energy,"
    ...     "gpu_count,gpu_model\n"
    ...     "2024-05-01T12:00:00,lm,r1,7200,1.0,0.8,2,2 x NVIDIA A100-SXM4-40GB\n"
    ... )
    >>> log = read_codecarbon(io.StringIO(text), tdp_w_by_gpu_model={"A100": 400})
    >>> table = log.power_calibration.set_index("accelerator")
    >>> table[["measured_w_per_gpu", "measured_to_tdp"]].to_dict("index")
    {'NVIDIA A100-SXM4-40GB': {'measured_w_per_gpu': 200.0, 'measured_to_tdp': 0.5}}
    """
    _guard_common(
        chunk_rows=chunk_rows,
        max_rejected_listed=max_rejected_listed,
        max_bytes=max_bytes,
    )
    with _open_text(source, max_bytes=max_bytes, name=name) as (stream, label):
        header_text, header_line = _read_header(stream, label)
        names = _split_header(header_text, ",")
        lower = [n.lower() for n in names]
        missing = [k for k in ("timestamp", "duration", "gpu_count") if k not in lower]
        if missing:
            extra = (
                " (CodeCarbon records GPUs from version 2; older files cannot be "
                "used for GPU demand)"
                if "gpu_count" in missing and "duration" in lower
                else ""
            )
            msg = (
                f"{label} is not a CodeCarbon emissions.csv with GPU data: missing "
                f"column(s) {', '.join(missing)}{extra}"
            )
            raise ValueError(msg)
        index = {
            key: lower.index(col)
            for key, col in (
                ("end", "timestamp"),
                ("duration", "duration"),
                ("gpus", "gpu_count"),
                ("accelerator", "gpu_model"),
                ("gpu_energy", "gpu_energy"),
                ("group", "project_name"),
                ("job_id", "run_id"),
            )
            if col in lower
        }
        builder = _Builder(
            label, strict=strict, max_rejected_listed=max_rejected_listed
        )
        rows = _Rows(
            stream,
            builder,
            delimiter=",",
            n_fields=len(names),
            header_line=header_line,
            chunk_rows=chunk_rows,
            quoting=True,
        )
        for lines, chunk in rows:
            _csv_chunk(lines, chunk, names, index, builder, codecarbon=True)
            builder.raise_if_strict()
    log = builder.finish(kind="codecarbon", extra_float_columns=("gpu_energy_kwh",))
    calibration = power_calibration_table(log.jobs, tdp_w_by_gpu_model)
    return dataclasses.replace(log, power_calibration=calibration)


def _csv_chunk(
    lines: npt.NDArray[np.int64],
    columns: list[list[str]],
    names: list[str],
    index: dict[str, int],
    builder: _Builder,
    *,
    codecarbon: bool,
) -> None:
    """Parse one chunk of a generic CSV or CodeCarbon file."""
    n = len(lines)
    reasons: dict[int, tuple[str, str]] = {}
    bad = np.zeros(n, dtype=bool)
    repeated = np.ones(n, dtype=bool)
    for column, header_name in zip(columns, names, strict=True):
        repeated &= np.asarray(column, dtype=object) == header_name
    for i in np.flatnonzero(repeated):
        reasons[int(i)] = ("(row)", "repeated header line")
        bad[i] = True

    def parse_time(key: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        values = columns[index[key]]
        ns, status = _parse_times(values)
        col_name = names[index[key]]
        for i in np.flatnonzero(~bad & (status >= _MISSING)):
            reason = (
                f"{col_name}: missing"
                if status[i] == _MISSING
                else _time_reason(col_name, values[i], status[i])
            )
            reasons[int(i)] = (col_name, reason)
            bad[i] = True
        builder.check_tz(status, values, col_name, bad, reasons)
        return ns, status

    end_key = "end"
    end_ns, _ = parse_time(end_key)
    if codecarbon:
        dur_values = columns[index["duration"]]
        codes, parsed = _map_unique(dur_values, _float_or_nan)
        duration_s = np.asarray(parsed, dtype=np.float64)[codes]
        col_name = names[index["duration"]]
        for i in np.flatnonzero(~bad & ~(duration_s >= 0)):
            reasons[int(i)] = (
                col_name,
                f"{col_name}: {_excerpt(dur_values[i])} is not a non-negative "
                "number of seconds",
            )
            bad[i] = True
        # A duration beyond the plausible range would overflow nanoseconds.
        early = ~bad & (duration_s > _MAX_ELAPSED_S)
        safe_s = np.where(bad | early, 0.0, duration_s)
        duration_ns = (safe_s * _NS_PER_SECOND).astype(np.int64)
        start_ns = np.where(bad | early, _NAT, end_ns - duration_ns)
        early |= ~bad & (start_ns < _EARLIEST_NS)
        for i in np.flatnonzero(early):
            reasons[int(i)] = (
                col_name,
                f"{col_name}: {_excerpt(dur_values[i])} is implausibly long",
            )
            bad[i] = True
        submit_ns = np.full(n, _NAT, dtype=np.int64)
    else:
        start_ns, _ = parse_time("start")
        if "submit" in index:
            submit_ns, submit_status = _parse_times(columns[index["submit"]])
            submit_ns = np.where(submit_status <= _AWARE, submit_ns, _NAT)
        else:
            submit_ns = np.full(n, _NAT, dtype=np.int64)

    gpu_name = names[index["gpus"]]
    codes, parsed_gpus = _map_unique(
        columns[index["gpus"]], lambda u: _whole_gpus(u, gpu_name)
    )
    gpus = np.asarray([p[0] for p in parsed_gpus], dtype=np.int64)[codes]
    gpu_error = np.asarray([p[1] for p in parsed_gpus], dtype=object)[codes]
    has_error = np.asarray([p[1] is not None for p in parsed_gpus], dtype=bool)[codes]
    for i in np.flatnonzero(~bad & has_error):
        reasons[int(i)] = (gpu_name, str(gpu_error[i]))
        bad[i] = True

    if not codecarbon:
        end_name = names[index["end"]]
        start_name = names[index["start"]]
        before = ~bad & (end_ns < start_ns)
        for i in np.flatnonzero(before):
            reasons[int(i)] = (
                end_name,
                f"{end_name} ({_iso(end_ns[i])}) is before {start_name} "
                f"({_iso(start_ns[i])})",
            )
            bad[i] = True
    builder.apply_rejections(lines, reasons)
    keep = np.flatnonzero(~bad)

    def text_column(key: str, default: str) -> npt.NDArray[np.object_]:
        if key not in index:
            return np.full(n, default, dtype=object)
        return _labels(columns[index[key]], default)

    if "accelerator" in index:
        codes, parsed_acc = _map_unique(
            columns[index["accelerator"]],
            lambda u: _GPU_MODEL_COUNT_PREFIX.sub("", u).strip() or None,
        )
        accelerator = np.asarray(parsed_acc, dtype=object)[codes]
    else:
        accelerator = np.full(n, None, dtype=object)
    job_id = text_column("job_id", "")
    job_id = np.where(job_id == "", lines.astype(str).astype(object), job_id)
    if "state" in index:
        codes, parsed_state = _map_unique(columns[index["state"]], _upper_state)
        state = np.asarray(parsed_state, dtype=object)[codes]
    else:
        state = np.full(n, "COMPLETED", dtype=object)
    extra: dict[str, npt.NDArray[Any]] = {}
    if codecarbon:
        if "gpu_energy" in index:
            codes, parsed_energy = _map_unique(
                columns[index["gpu_energy"]], _float_or_nan
            )
            energy = np.asarray(parsed_energy, dtype=np.float64)[codes]
        else:
            energy = np.full(n, np.nan)
        extra["gpu_energy_kwh"] = energy[keep]
    builder.add(
        job_id=job_id[keep],
        group=text_column("group", "all")[keep],
        state=np.asarray(state, dtype=object)[keep],
        submit=submit_ns[keep],
        start=start_ns[keep],
        end=end_ns[keep],
        gpus=gpus[keep],
        accelerator=accelerator[keep],
        line=lines[keep],
        **extra,
    )


def _float_or_nan(text: str) -> float:
    """A decimal number of ASCII digits (``1.5``, ``2e-05``), else NaN."""
    if _DECIMAL.fullmatch(text.strip()) is None:
        return math.nan
    value = float(text)
    return value if math.isfinite(value) else math.nan


def _normalise_model(name: str) -> str:
    text = _GPU_MODEL_COUNT_PREFIX.sub("", name).casefold()
    text = re.sub(r"^(nvidia|amd)\s+", "", text.strip())
    return re.sub(r"[\s_\-]+", "", text)


def _match_tdp_w(model: str, tdp: Mapping[str, float] | float | None) -> float:
    """TDP for a GPU model name: exact, normalised, then longest contained name."""
    if tdp is None:
        return math.nan
    if not isinstance(tdp, Mapping):
        return float(tdp)
    if model in tdp:
        return float(tdp[model])
    target = _normalise_model(model)
    normalised = {_normalise_model(k): float(v) for k, v in tdp.items()}
    if target in normalised:
        return normalised[target]
    contained = [k for k in normalised if k and k in target]
    return normalised[max(contained, key=len)] if contained else math.nan


def power_calibration_table(
    jobs: pd.DataFrame, tdp_w_by_gpu_model: Mapping[str, float] | float | None = None
) -> pd.DataFrame:
    """Measured power per GPU by model, and its ratio to the model's TDP.

    Parameters
    ----------
    jobs : pandas.DataFrame
        Jobs with ``accelerator``, ``gpus``, ``gpu_hours`` [GPU-h] and
        ``gpu_energy_kwh`` [kWh] (as :func:`read_codecarbon` returns).
    tdp_w_by_gpu_model : mapping or float, optional
        TDP per GPU [W], one value or by model name (see
        :func:`read_codecarbon` for the matching rules).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``accelerator``, ``runs``, ``gpu_hours`` [GPU-h],
        ``gpu_energy_kwh`` [kWh], ``measured_w_per_gpu`` [W], ``tdp_w`` [W],
        ``measured_to_tdp`` [unitless]. Runs without GPUs, without duration
        or without a measured energy are left out.

    Raises
    ------
    ValueError
        If a TDP is not positive, or a required column is missing.

    Examples
    --------
    >>> jobs = pd.DataFrame({"accelerator": ["V100"], "gpus": [1],
    ...                      "gpu_hours": [2.0], "gpu_energy_kwh": [0.5]})
    >>> power_calibration_table(jobs, 300.0)["measured_to_tdp"].round(4).tolist()
    [0.8333]
    """
    needed = {"accelerator", "gpus", "gpu_hours", "gpu_energy_kwh"}
    if not needed <= set(jobs.columns):
        msg = f"jobs must have columns {sorted(needed)}, got {list(jobs.columns)}"
        raise ValueError(msg)
    values = (
        [tdp_w_by_gpu_model]
        if isinstance(tdp_w_by_gpu_model, int | float)
        else list((tdp_w_by_gpu_model or {}).values())
    )
    for value in values:
        if not float(value) > 0:
            msg = (
                "tdp_w_by_gpu_model values must be positive watts, got "
                f"{shorten(value)}"
            )
            raise ValueError(msg)
    usable = jobs[
        (jobs["gpus"] > 0)
        & (jobs["gpu_hours"] > 0)
        & jobs["gpu_energy_kwh"].notna()
        & jobs["accelerator"].notna()
    ]
    grouped = usable.groupby(usable["accelerator"].astype(str), observed=True).agg(
        runs=("gpus", "size"),
        gpu_hours=("gpu_hours", "sum"),
        gpu_energy_kwh=("gpu_energy_kwh", "sum"),
    )
    table = grouped.reset_index()
    table["runs"] = table["runs"].astype(np.int64)
    table["measured_w_per_gpu"] = (
        table["gpu_energy_kwh"] * WATTS_PER_KILOWATT / table["gpu_hours"]
    )
    table["tdp_w"] = [
        _match_tdp_w(str(m), tdp_w_by_gpu_model) for m in table["accelerator"]
    ]
    table["measured_to_tdp"] = table["measured_w_per_gpu"] / table["tdp_w"]
    return table


def read_log(
    source: Source,
    *,
    kind: LogKind | None = None,
    fields: Fields = None,
    export_time: str | dt.datetime | pd.Timestamp | None = None,
    tdp_w_by_gpu_model: Mapping[str, float] | float | None = None,
    strict: bool = False,
    max_rejected_listed: int = MAX_REJECTED_LISTED,
    max_bytes: int = MAX_LOG_BYTES,
    name: str | None = None,
) -> JobLog:
    r"""Read a job log of any supported kind, detecting the kind if not given.

    Safe on any input: a path is opened only if it is a regular file (a FIFO,
    terminal, device or directory is refused without waiting on it), no
    larger than ``max_bytes``; content given as bytes (an upload) is read in
    memory, never written to disk. Every problem is a ``ValueError`` with a
    one-line message that quotes the file only as a short excerpt.

    Parameters
    ----------
    source : str, os.PathLike, text stream or bytes
        The log file, an open text stream, or the file's content.
    kind : {"sacct", "csv", "codecarbon"}, optional
        Format; detected from the header line (or ``fields``) when omitted: a
        ``|``-separated header with ``JobID`` is sacct; ``duration`` with
        ``emissions`` or ``energy_consumed`` is CodeCarbon; ``start`` and
        ``gpus`` is a generic CSV.
    fields : sequence of str or str, optional
        Field names of a headerless export (``sacct --noheader``): a
        sequence, ``"JobID,Start,..."``, or ``"xdmod"`` for
        :data:`XDMOD_SACCT_FIELDS`. With ``JobID`` among them the file is
        read as sacct (``|``-separated), otherwise as a generic CSV.
    export_time : str, datetime or pandas.Timestamp, optional
        sacct only: when the export was taken (see :func:`read_sacct`).
    tdp_w_by_gpu_model : mapping or float, optional
        CodeCarbon only: TDP per GPU [W] (see :func:`read_codecarbon`).
    strict : bool, default False
        Raise at the first malformed row instead of listing it.
    max_rejected_listed : int, default 10,000
        Malformed rows listed one by one; all are counted. [rows]
    max_bytes : int, default 512,000,000
        Largest log read (:data:`MAX_LOG_BYTES`). [bytes]
    name : str, optional
        Name shown in messages and as the log's ``source`` (default: the
        path; ``<upload>`` for bytes).

    Returns
    -------
    JobLog
        The parsed log.

    Raises
    ------
    ValueError
        If the kind is unknown or cannot be detected (the file is not a job
        log), the file cannot be opened safely or is too large, or the reader
        for the kind rejects the file.

    Examples
    --------
    >>> import io
    >>> read_log(io.StringIO("start,end,gpus\n2024-01-01,2024-01-02,1\n")).kind
    'csv'
    >>> log = read_log(b"7|2024-01-01T00:00:00|2024-01-01T01:00:00|gpu:2\n",
    ...                fields="JobID,Start,End,ReqGRES", name="jobs.txt")
    >>> log.kind, log.source, int(log.jobs["gpus"].iloc[0])
    ('sacct', 'jobs.txt', 2)
    """
    if kind is not None and kind not in ("sacct", "csv", "codecarbon"):
        msg = f"kind must be 'sacct', 'csv' or 'codecarbon', got {shorten(kind)}"
        raise ValueError(msg)
    names = field_names(fields)
    if kind is None and names is not None:
        kind = "sacct" if "jobid" in {n.lower() for n in names} else "csv"
    if kind is None:
        if isinstance(source, bytes | str | os.PathLike):
            with _open_text(source, max_bytes=max_bytes, name=name) as (stream, label):
                header, _ = _read_header(stream, label)
        else:
            if not source.seekable():
                msg = "kind must be given when reading an unseekable stream"
                raise ValueError(msg)
            position = source.tell()
            label = _source_name(source, name)
            header, _ = _read_header(_Limited(source, label, max_bytes), label)
            source.seek(position)
        kind = _detect_kind(header)
        if kind is None:
            msg = (
                f"{label} does not look like a job log: its first line is "
                f"{_excerpt(header)}. Expected a sacct -P export (JobID|Start|...), "
                "a CSV with start,end,gpus columns, or a CodeCarbon emissions.csv"
            )
            raise ValueError(msg)
    if kind == "sacct":
        return read_sacct(
            source,
            fields=names,
            export_time=export_time,
            strict=strict,
            max_rejected_listed=max_rejected_listed,
            max_bytes=max_bytes,
            name=name,
        )
    if kind == "codecarbon":
        if names is not None:
            msg = "fields: a CodeCarbon emissions.csv always has a header line"
            raise ValueError(msg)
        return read_codecarbon(
            source,
            tdp_w_by_gpu_model=tdp_w_by_gpu_model,
            strict=strict,
            max_rejected_listed=max_rejected_listed,
            max_bytes=max_bytes,
            name=name,
        )
    return read_generic_csv(
        source,
        fields=names,
        strict=strict,
        max_rejected_listed=max_rejected_listed,
        max_bytes=max_bytes,
        name=name,
    )
