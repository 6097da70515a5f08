"""Input and output that hostile or careless data cannot abuse.

Everything the planner reads from a user or writes for one goes through here:

* :func:`load_yaml`: YAML with limits on size, nesting depth and alias
  expansion, checked *before* any value is built (an "alias bomb" of a few KB
  is refused at once instead of expanding to gigabytes);
* :func:`open_regular_file` / :func:`read_regular_file`: only regular files,
  opened non-blocking (a FIFO or a terminal cannot hang the reader), with a
  size limit;
* :func:`resolve_inside`: the path policy for files named inside a scenario
  (relative to the scenario's folder, and inside it unless explicitly allowed);
* :func:`shorten`: a bounded, printable excerpt of any value, for messages;
* :func:`neutralise_csv_cell` / :func:`csv_text`: CSV cells that a spreadsheet
  cannot run as formulas;
* :func:`write_text_atomically`: writes that never overwrite an input, never
  follow a symbolic link, never clobber an existing temporary file and leave
  nothing behind on error.

Every failure is a :class:`SafeIOError` (a ``ValueError``) with a one-line
message.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import reprlib
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd
    import yaml

MAX_YAML_CHARACTERS: Final = 262_144
"""Largest YAML text accepted (256 Ki characters). [characters]

About 80 times the largest shipped scenario preset (3.4 KB). The loader that
counts depth and aliases is pure Python, about 1 s per MB on this project's
reference machine, so the bound keeps one parse near a quarter of a second."""

MAX_YAML_DEPTH: Final = 32
"""Deepest nesting of lists and mappings accepted in YAML. [levels]

A scenario nests at most about 8 levels (scenario, strategies, a strategy, its
burst offer or members, a member's shape, its deadline surges, a surge); the
bound leaves room and keeps every recursive step far from Python's recursion
limit (a 2,000-deep list used to raise ``RecursionError``)."""

MAX_YAML_NODES: Final = 100_000
"""Most values (scalars, lists, mappings) a YAML document may expand to. [values]

Counted after aliases are expanded, so an alias bomb (nine levels of nine
aliases: 387 million values from 2.6 KB) is refused while it is still a small
graph. The largest shipped preset has a few hundred values; validating
100,000 with pydantic takes a fraction of a second."""

EXCERPT_CHARACTERS: Final = 80
"""Default length of a value quoted in a message. [characters]"""

_EXCERPT_REPR = reprlib.Repr()
_EXCERPT_REPR.maxlevel = 3
_EXCERPT_REPR.maxlist = _EXCERPT_REPR.maxtuple = _EXCERPT_REPR.maxdict = 4
_EXCERPT_REPR.maxset = _EXCERPT_REPR.maxfrozenset = 4
_EXCERPT_REPR.maxstring = _EXCERPT_REPR.maxother = _EXCERPT_REPR.maxlong = 120

CSV_FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (OWASP,
"CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection, accessed
2026-01)."""


class SafeIOError(ValueError):
    """Input refused by a limit or a policy, or an output that cannot be written.

    The message is one line, meant for the user, and never quotes more than a
    short excerpt of the input.
    """


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


def shorten(value: object, limit: int = EXCERPT_CHARACTERS) -> str:
    """A printable excerpt of ``value`` for a message, at most ``limit`` characters.

    Strings are quoted as by ``repr``; containers are abbreviated without
    walking them whole (an expanded alias bomb is summarised in microseconds).

    Parameters
    ----------
    value : object
        Anything.
    limit : int, default 80
        Longest result. [characters]

    Returns
    -------
    str
        ``repr``-like text, cut with ``...`` and the full length when long.

    Examples
    --------
    >>> shorten("a" * 1000, 40)
    "'aaaaaaaaaaaaaaaaa... (1,000 characters)"
    >>> shorten([[1, 2], [3, 4]])
    '[[1, 2], [3, 4]]'
    """
    try:
        text = _EXCERPT_REPR.repr(value)
    except Exception:  # a hostile __repr__ must not break an error message
        text = f"<{type(value).__name__}>"
    # Non-printable characters (a NUL, a terminal escape) are shown escaped.
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    keep = max(limit - len(size) - 3, 8)
    return f"{text[:keep]}...{size}"


def clip(text: str, limit: int = 200) -> str:
    r"""One printable line of at most ``limit`` characters (no quotes added).

    Parameters
    ----------
    text : str
        A message or part of one.
    limit : int, default 200
        Longest result. [characters]

    Returns
    -------
    str
        The text with line breaks and control characters escaped, cut with
        ``...`` when long.

    Examples
    --------
    >>> print(clip("first line\nsecond " + "x" * 300, 30))
    first line\nsecond xxxxxxxx...
    """
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit * 2])
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --------------------------------------------------------------------------
# YAML with limits
# --------------------------------------------------------------------------


def _limited_loader(text: str, max_depth: int) -> yaml.SafeLoader:
    import yaml

    class _Loader(yaml.SafeLoader):
        """SafeLoader that refuses to compose deeper than ``max_depth``."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > max_depth:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    msg = f"line {mark.line + 1}: nested deeper than {max_depth} levels"
                    raise SafeIOError(msg)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return _Loader(text)


def _measure(root: yaml.Node, *, max_depth: int, max_nodes: int) -> int:
    """Values the node graph expands to; raise when a limit is passed."""
    import yaml

    memo: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    active: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        known = memo.get(key)
        if known is None:
            if key in active:
                msg = (
                    f"line {node.start_mark.line + 1}: an alias refers to the "
                    "value that contains it (a recursive structure)"
                )
                raise SafeIOError(msg)
            active.add(key)
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            size, height = 1, 1
            for child in children:
                child_size, child_height = visit(child, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
                if size > max_nodes:
                    break
            active.discard(key)
            known = (size, height)
            memo[key] = known
        if known[0] > max_nodes:
            msg = (
                f"expands to more than {max_nodes:,} values (aliases repeating "
                "aliases: an 'alias bomb'?)"
            )
            raise SafeIOError(msg)
        if depth + known[1] - 1 > max_depth:
            msg = (
                f"line {node.start_mark.line + 1}: nested deeper than {max_depth} "
                "levels once aliases are expanded"
            )
            raise SafeIOError(msg)
        return known

    return visit(root, 1)[0]


def load_yaml(
    text: str,
    *,
    max_characters: int = MAX_YAML_CHARACTERS,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> object:
    r"""Parse one YAML document with the safe loader, within size, depth and alias limits.

    The document is first composed into a node graph (aliases still shared),
    which is checked for depth, recursion and expanded size; only then are
    Python values built. Only standard YAML tags are allowed (``SafeLoader``).

    Parameters
    ----------
    text : str
        YAML text.
    max_characters : int, default 262,144
        Longest text accepted. [characters]
    max_depth : int, default 32
        Deepest nesting, aliases expanded. [levels]
    max_nodes : int, default 100,000
        Most values after alias expansion. [values]

    Returns
    -------
    object
        The parsed value (``None`` for an empty document).

    Raises
    ------
    SafeIOError
        If a limit is passed or the text is not YAML; one line, with the line
        number where known.

    Examples
    --------
    >>> load_yaml("a: [1, 2]")
    {'a': [1, 2]}
    >>> bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]"
    >>> load_yaml(bomb, max_nodes=10)
    Traceback (most recent call last):
    ...
    planner.safe_io.SafeIOError: malformed YAML: expands to more than 10 values (aliases repeating aliases: an 'alias bomb'?)
    """  # noqa: E501
    import yaml

    if len(text) > max_characters:
        msg = (
            f"YAML text of {len(text):,} characters is longer than the limit of "
            f"{max_characters:,}"
        )
        raise SafeIOError(msg)
    loader: yaml.SafeLoader | None = None
    try:
        loader = _limited_loader(text, max_depth)
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, max_depth=max_depth, max_nodes=max_nodes)
        return loader.construct_document(node)
    except SafeIOError as error:
        msg = f"malformed YAML: {error}"
        raise SafeIOError(msg) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = (
            getattr(error, "problem", None)
            or getattr(error, "reason", None)
            or str(error)
        )
        msg = f"malformed YAML: {where}{clip(problem, 200)}"
        raise SafeIOError(msg) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        # e.g. an integer of more than 4,300 digits, or a date like 2024-13-45.
        msg = f"malformed YAML: a value cannot be read ({clip(str(error), 200)})"
        raise SafeIOError(msg) from None
    finally:
        if loader is not None:
            loader.dispose()


def dump_yaml(data: object) -> str:
    """YAML text of plain data, keys in their given order, that :func:`load_yaml` reads.

    Parameters
    ----------
    data : object
        Plain values (e.g. a pydantic model's ``model_dump(mode="json")``).

    Returns
    -------
    str
        Block-style YAML, Unicode kept, lines folded near 88 characters.

    Examples
    --------
    >>> load_yaml(dump_yaml({"b": 1, "a": ["x", "é"]}))
    {'b': 1, 'a': ['x', 'é']}
    """
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


# --------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------


def _path_text(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if "\x00" in text:
        msg = f"{shorten(text)}: a file name cannot contain a NUL character"
        raise SafeIOError(msg)
    return text


def open_regular_file(
    path: str | os.PathLike[str], *, max_bytes: int, what: str = "file"
) -> io.BufferedReader:
    """Open a regular file for binary reading, refusing anything else.

    The file is opened non-blocking and without becoming a controlling
    terminal, then checked with ``fstat`` (no race between check and open):
    a FIFO, socket, terminal or other device, or a directory is refused
    without reading from it, as is a file larger than ``max_bytes``.

    Parameters
    ----------
    path : str or os.PathLike
        File to open.
    max_bytes : int
        Largest size accepted. [bytes]
    what : str, default "file"
        What the file is, for messages ("job log", "scenario").

    Returns
    -------
    io.BufferedReader
        The open file (the caller closes it).

    Raises
    ------
    SafeIOError
        If the name has a NUL, the file cannot be opened, is not a regular
        file or is too large.
    """
    text = _path_text(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(text, flags)
    except OSError as error:
        msg = f"cannot read {what} {shorten(text)}: {error.strerror or error}"
        raise SafeIOError(msg) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            msg = f"{shorten(text)} is a directory, not a {what}"
            raise SafeIOError(msg)
        if not stat.S_ISREG(info.st_mode):
            msg = (
                f"{shorten(text)} is not a regular file (a pipe, terminal or "
                f"device), so it is not read as a {what}"
            )
            raise SafeIOError(msg)
        if info.st_size > max_bytes:
            msg = (
                f"{shorten(text)}: {what} of {info.st_size:,} bytes is larger than "
                f"the limit of {max_bytes:,} bytes"
            )
            raise SafeIOError(msg)
        return open(fd, "rb", closefd=True)  # the caller closes it
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(
    path: str | os.PathLike[str], *, max_bytes: int, what: str = "file"
) -> bytes:
    """Read a whole regular file, at most ``max_bytes`` (see :func:`open_regular_file`).

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    max_bytes : int
        Largest size accepted, also while reading (a growing file). [bytes]
    what : str, default "file"
        What the file is, for messages.

    Returns
    -------
    bytes
        The content.

    Raises
    ------
    SafeIOError
        As :func:`open_regular_file`, or if reading fails.
    """
    with open_regular_file(path, max_bytes=max_bytes, what=what) as file:
        try:
            content = file.read(max_bytes + 1)
        except OSError as error:
            msg = f"cannot read {what} {shorten(os.fspath(path))}: {error.strerror}"
            raise SafeIOError(msg) from None
    if len(content) > max_bytes:
        msg = (
            f"{shorten(os.fspath(path))}: {what} is larger than the limit of "
            f"{max_bytes:,} bytes"
        )
        raise SafeIOError(msg)
    return content


def read_text_file(
    path: str | os.PathLike[str], *, max_bytes: int, what: str = "file"
) -> str:
    """Read a regular UTF-8 text file (a BOM is dropped) within a size limit.

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    max_bytes : int
        Largest size accepted. [bytes]
    what : str, default "file"
        What the file is, for messages.

    Returns
    -------
    str
        The text.

    Raises
    ------
    SafeIOError
        As :func:`read_regular_file`, or if the file is not UTF-8.
    """
    content = read_regular_file(path, max_bytes=max_bytes, what=what)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        msg = (
            f"{shorten(os.fspath(path))}: {what} is not UTF-8 text (byte "
            f"{error.start:,})"
        )
        raise SafeIOError(msg) from None


def resolve_inside(
    path: str, folder: str | os.PathLike[str], *, field: str, allow_outside: bool
) -> Path:
    """Resolve a file named in a document against the document's folder.

    A relative name is taken relative to ``folder``; symbolic links are
    resolved; the result must lie inside ``folder`` unless ``allow_outside``
    (so a scenario from elsewhere cannot make the planner read ``/etc/passwd``
    or ``../.git/config``).

    Parameters
    ----------
    path : str
        The name as written.
    folder : str or os.PathLike
        Folder of the document that names it.
    field : str
        Dotted field name, for messages (``demand.joblog.path``).
    allow_outside : bool
        Accept a file outside ``folder``.

    Returns
    -------
    pathlib.Path
        The absolute, resolved path.

    Raises
    ------
    SafeIOError
        If the name has a NUL or lies outside ``folder`` without permission.

    Examples
    --------
    >>> resolve_inside("../x.csv", "/data/scenarios", field="f", allow_outside=False)
    Traceback (most recent call last):
    ...
    planner.safe_io.SafeIOError: f: '../x.csv' is outside the scenario's folder /data/scenarios (allow it explicitly: planner --allow-outside-paths)
    """  # noqa: E501
    if "\x00" in path:
        msg = f"{field}: {shorten(path)} contains a NUL character"
        raise SafeIOError(msg)
    base = Path(folder).resolve()
    try:
        resolved = (base / path).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        msg = f"{field}: {shorten(path)} cannot be resolved ({error})"
        raise SafeIOError(msg) from None
    if not allow_outside and not resolved.is_relative_to(base):
        msg = (
            f"{field}: {shorten(path)} is outside the scenario's folder {base} "
            "(allow it explicitly: planner --allow-outside-paths)"
        )
        raise SafeIOError(msg)
    return resolved


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def neutralise_csv_cell(value: object) -> object:
    r"""Make a text cell inert in a spreadsheet: a formula-like text gets a ``'``.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    is prefixed with a single quote, as OWASP recommends; numbers and other
    values are returned unchanged (a negative *number* is not text).

    Parameters
    ----------
    value : object
        One cell.

    Returns
    -------
    object
        The cell, prefixed when it is dangerous text.

    Examples
    --------
    >>> neutralise_csv_cell('=HYPERLINK("http://x")'), neutralise_csv_cell(-2.5)
    ('\'=HYPERLINK("http://x")', -2.5)
    """
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame, *, index: bool = False) -> str:
    r"""CSV text of a table with every text cell and header neutralised.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    index : bool, default False
        Write the index as a first column.

    Returns
    -------
    str
        CSV text (comma-separated, ``\n`` line ends).

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"name": ["@SUM(A1)", "ok"], "x": [-1, 2]})), end="")
    name,x
    '@SUM(A1),-1
    ok,2
    """  # noqa: E501
    safe = frame.copy()
    for column in safe.columns:
        if not (
            safe[column].dtype == object
            or str(safe[column].dtype) in ("string", "str", "category")
        ):
            continue
        safe[column] = safe[column].astype(object).map(neutralise_csv_cell)
    safe.columns = [neutralise_csv_cell(str(c)) for c in safe.columns]
    if index:
        safe.index = safe.index.map(neutralise_csv_cell)
    return str(safe.to_csv(index=index, lineterminator="\n"))


def _same_file(target: Path, inputs: Iterable[str | os.PathLike[str]]) -> str | None:
    """The input that ``target`` would overwrite (same inode), if any."""
    try:
        here = target.stat()
    except OSError:
        return None
    for source in inputs:
        try:
            there = os.stat(os.fspath(source))
        except (OSError, ValueError):
            continue
        if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
            return os.fspath(source)
    return None


def write_text_atomically(
    path: str | os.PathLike[str],
    text: str,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Write a text file (UTF-8) whole or not at all; never over an input or a link.

    The text is encoded, then written by :func:`write_bytes_atomically`.

    Raises
    ------
    SafeIOError
        As :func:`write_bytes_atomically`, or if the text is not encodable.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        shown = shorten(_path_text(path))
        msg = f"cannot write {shown}: not encodable as UTF-8 ({error.reason})"
        raise SafeIOError(msg) from None
    return write_bytes_atomically(path, data, inputs=inputs, overwrite=overwrite)


def write_bytes_atomically(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Write a file whole or not at all; never over an input or a link.

    The text goes to a new file with a unique random name in the target's
    folder (created exclusively, so no existing file or link is touched),
    which then replaces the target in one step. On any error the temporary
    file is removed.

    Parameters
    ----------
    path : str or os.PathLike
        File to write.
    data : bytes
        Content.
    inputs : iterable of paths, default ()
        Files the command read: writing over one of them is refused.
    overwrite : bool, default True
        Replace an existing target (else refuse, without a race).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    SafeIOError
        If the target is an input, a symbolic link, not a regular file,
        exists without ``overwrite``, or the write fails (permission, disk
        full, missing folder); one line naming the file and the reason.
    """
    target = Path(_path_text(path))
    shown = shorten(str(target))
    same = _same_file(target, inputs)
    if same is not None:
        msg = f"{shown} is also an input of this command; choose another output file"
        raise SafeIOError(msg)
    try:
        info = target.lstat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        msg = f"cannot write {shown}: {error.strerror}"
        raise SafeIOError(msg) from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            msg = f"{shown} is a symbolic link; it is not followed (write elsewhere)"
            raise SafeIOError(msg)
        if not stat.S_ISREG(info.st_mode):
            msg = f"{shown} exists and is not a regular file"
            raise SafeIOError(msg)
        if not overwrite:
            msg = f"{shown} exists; pass --force to overwrite it"
            raise SafeIOError(msg)
    folder = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    partial: Path | None = None
    try:
        for _ in range(100):
            candidate = folder / f".{target.name}.{secrets.token_hex(6)}.partial"
            try:
                # Mode 0o666 less the umask, as for any new file.
                fd = os.open(candidate, flags, 0o666)
            except FileExistsError:
                continue
            partial = candidate
            break
        else:  # pragma: no cover - 100 random collisions
            msg = f"cannot write {shown}: no free temporary name"
            raise SafeIOError(msg)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if info is not None:
            with contextlib.suppress(OSError):
                os.chmod(partial, stat.S_IMODE(info.st_mode))
        if overwrite:
            os.replace(partial, target)
        else:
            os.link(partial, target)  # fails if the target appeared meanwhile
            partial.unlink()
        partial = None
    except SafeIOError:
        raise
    except FileExistsError:
        msg = f"{shown} exists; pass --force to overwrite it"
        raise SafeIOError(msg) from None
    except OSError as error:
        reason = error.strerror or errno.errorcode.get(error.errno or 0, str(error))
        msg = f"cannot write {shown}: {reason}"
        raise SafeIOError(msg) from None
    finally:
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink()
    return target
