"""planner.safe_io: limited YAML, regular files only, path policy, CSV and writes."""

import os
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from planner import safe_io
from planner.safe_io import SafeIOError


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The 'billion laughs' in YAML: each level repeats the previous one ``width``
    times, so ``levels`` levels expand to width**levels strings."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_in_under_a_second_and_100_mb():
    text = alias_bomb(9)  # 9**9 = 387 million strings once expanded
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(SafeIOError, match="alias bomb"):
        safe_io.load_yaml(text)
    seconds = time.perf_counter() - started
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 1.0
    assert peak_bytes < 100e6


def test_small_anchors_and_aliases_still_work():
    text = "base: &b {x: 1}\nother: *b\nmerged: {<<: *b, y: 2}\n"
    assert safe_io.load_yaml(text) == {
        "base": {"x": 1},
        "other": {"x": 1},
        "merged": {"x": 1, "y": 2},
    }


def test_deep_nesting_is_a_message_not_a_recursion_error():
    with pytest.raises(SafeIOError, match="nested deeper than 32 levels"):
        safe_io.load_yaml("[" * 2000 + "]" * 2000)
    chain = "\n".join(
        ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 40)]
    )
    with pytest.raises(SafeIOError, match="once aliases are expanded"):
        safe_io.load_yaml(chain)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a: &a [*a]", "refers to the value that contains it"),
        ("x: " + "9" * 5000, "cannot be read"),
        ("d: 2024-13-45", "cannot be read"),
        ("{[1]: 2}", "unhashable"),
        ("a: !!python/object/apply:os.system [ls]", "constructor"),
        ("a: [1", "line 1, column 6"),
        ('a: "\x00"', "special characters"),
        ("x" * (safe_io.MAX_YAML_CHARACTERS + 1), "longer than the limit"),
    ],
)
def test_hostile_yaml_is_one_clean_line(text, match):
    with pytest.raises(SafeIOError, match=match) as error:
        safe_io.load_yaml(text)
    assert "\n" not in str(error.value)
    assert len(str(error.value)) < 300


def test_shorten_is_bounded_on_an_expanded_bomb():
    value: object = ["lol"] * 9
    for _ in range(9):
        value = [value] * 9  # 9**10 strings if walked whole
    started = time.perf_counter()
    text = safe_io.shorten(value)
    assert time.perf_counter() - started < 0.1
    assert len(text) <= safe_io.EXCERPT_CHARACTERS
    assert safe_io.shorten("\x00\x1b[31m") == "'\\x00\\x1b[31m'"
    long = safe_io.shorten("secret" * 10_000)
    assert "60,000 characters" in long
    assert len(long) <= safe_io.EXCERPT_CHARACTERS


def _in_thread(function, timeout_s=5.0):
    """Run ``function`` in a thread; fail the test if it does not return in time."""
    outcome: dict[str, object] = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), "the call blocked"
    return outcome


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "jobs.csv"
    os.mkfifo(fifo)  # nobody ever writes to it: a blocking open would hang
    outcome = _in_thread(lambda: safe_io.read_regular_file(fifo, max_bytes=100))
    assert isinstance(outcome.get("error"), SafeIOError)
    assert "not a regular file" in str(outcome["error"])


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/tty"])
def test_devices_are_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    outcome = _in_thread(lambda: safe_io.read_regular_file(device, max_bytes=100))
    error = outcome.get("error")
    assert isinstance(error, SafeIOError)


def test_directories_big_files_and_nul_names(tmp_path):
    with pytest.raises(SafeIOError, match="is a directory"):
        safe_io.read_regular_file(tmp_path, max_bytes=10)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 11)
    with pytest.raises(SafeIOError, match="larger than the limit of 10 bytes"):
        safe_io.read_regular_file(big, max_bytes=10)
    assert safe_io.read_regular_file(big, max_bytes=11) == b"x" * 11
    with pytest.raises(SafeIOError, match="NUL"):
        safe_io.read_regular_file(str(tmp_path / "a\x00b"), max_bytes=10)
    with pytest.raises(SafeIOError, match="No such file"):
        safe_io.read_regular_file(tmp_path / "missing", max_bytes=10)


def test_read_text_file_refuses_non_utf8(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert safe_io.read_text_file(file, max_bytes=100) == "name: x\n"
    file.write_bytes(b"name: \xff\n")
    with pytest.raises(SafeIOError, match="not UTF-8"):
        safe_io.read_text_file(file, max_bytes=100)


def test_resolve_inside_keeps_paths_in_the_folder(tmp_path):
    folder = tmp_path / "scenarios"
    (folder / "logs").mkdir(parents=True)
    (folder / "logs" / "jobs.csv").write_text("x")
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "link.csv").symlink_to(tmp_path / "secret.txt")
    inside = safe_io.resolve_inside(
        "logs/jobs.csv", folder, field="f", allow_outside=False
    )
    assert inside == (folder / "logs" / "jobs.csv").resolve()
    for hostile in ["../secret.txt", str(tmp_path / "secret.txt"), "link.csv"]:
        with pytest.raises(SafeIOError, match="outside the scenario's folder"):
            safe_io.resolve_inside(hostile, folder, field="f", allow_outside=False)
        assert safe_io.resolve_inside(hostile, folder, field="f", allow_outside=True)
    with pytest.raises(SafeIOError, match=r"f: .* contains a NUL"):
        safe_io.resolve_inside("a\x00b", folder, field="f", allow_outside=True)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-2.5, -2.5),
        (3, 3),
        (None, None),
    ],
)
def test_neutralise_csv_cell(cell, expected):
    assert safe_io.neutralise_csv_cell(cell) == expected


def test_csv_text_neutralises_cells_headers_and_categories():
    frame = pd.DataFrame(
        {
            "=evil": ["ok", "=1+1"],
            "group": pd.Categorical(["@x", "y"]),
            "ids": pd.array(["+1", "2"], dtype="str"),
            "usd": [-3.0, 4.0],
        }
    )
    text = safe_io.csv_text(frame)
    lines = text.splitlines()
    assert lines[0] == "'=evil,group,ids,usd"
    assert lines[1] == "ok,'@x,'+1,-3.0"
    assert lines[2] == "'=1+1,y,2,4.0"
    assert frame.iloc[1, 0] == "=1+1"  # the caller's table is untouched


def test_atomic_write_replaces_whole(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("old")
    safe_io.write_text_atomically(out, "new")
    assert out.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_write_never_overwrites_an_input(tmp_path):
    log = tmp_path / "job.csv"
    log.write_text("the user's log")
    alias = tmp_path / "hard.csv"
    os.link(log, alias)
    for target in (log, alias, tmp_path / "." / "job.csv"):
        with pytest.raises(SafeIOError, match="also an input"):
            safe_io.write_text_atomically(target, "curve", inputs=[log])
    assert log.read_text() == "the user's log"


def test_atomic_write_leaves_a_users_partial_and_links_alone(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "OUT"
    (tmp_path / "OUT.partial").symlink_to(victim)  # the old fixed temporary name
    safe_io.write_text_atomically(out, "result")
    assert out.read_text() == "result"
    assert victim.read_text() == "precious"
    assert (tmp_path / "OUT.partial").is_symlink()
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    with pytest.raises(SafeIOError, match="symbolic link"):
        safe_io.write_text_atomically(link, "x")
    assert victim.read_text() == "precious"


def test_atomic_write_errors_are_one_line_and_leave_nothing(tmp_path, monkeypatch):
    with pytest.raises(SafeIOError, match=r"cannot write .*No such file"):
        safe_io.write_text_atomically(tmp_path / "missing" / "out.csv", "x")
    out = tmp_path / "out.csv"
    with pytest.raises(SafeIOError, match="cannot write"):
        safe_io.write_text_atomically(out, "lone surrogate \udcff")
    assert list(tmp_path.iterdir()) == []
    real_replace = os.replace

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(SafeIOError, match=r"cannot write .*Permission denied"):
        safe_io.write_text_atomically(out, "x")
    monkeypatch.setattr(os, "replace", real_replace)
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    assert not out.exists()


def test_atomic_write_without_overwrite_refuses_existing(tmp_path):
    out = tmp_path / "s.yaml"
    safe_io.write_text_atomically(out, "one", overwrite=False)
    with pytest.raises(SafeIOError, match="--force"):
        safe_io.write_text_atomically(out, "two", overwrite=False)
    assert out.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def test_written_files_get_ordinary_permissions(tmp_path):
    out = tmp_path / "new.csv"
    safe_io.write_text_atomically(out, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_library_module_has_no_heavy_imports():
    import subprocess
    import sys

    code = (
        "import sys, planner.safe_io; "
        "sys.exit(bool({'pandas', 'yaml', 'streamlit'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_path_objects_and_strings_behave_alike(tmp_path):
    file = tmp_path / "a.txt"
    file.write_text("hello")
    assert safe_io.read_regular_file(str(file), max_bytes=10) == b"hello"
    assert safe_io.read_regular_file(Path(file), max_bytes=10) == b"hello"
