"""Hostile uploads and scenarios through AppTest: no file touched, nothing leaked.

Every upload is made with a hostile client file name (absolute, ``../``,
Windows-style, the app's own data files) and every page run is watched: no file
outside a temporary folder may change, no server file may be opened for a
scenario, no server file's content may appear on the page, and nothing may
escape as an exception.
"""

import builtins
import io
import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from planner.scenario import load_preset
from ui.common import as_text

ROOT = Path(__file__).parents[2]
APP_PATH = str(ROOT / "app.py")
JOBLOGS = ROOT / "tests" / "data" / "joblogs"
GENERIC_LOG = (JOBLOGS / "generic.csv").read_bytes()

# First lines of server files a hostile scenario might try to show.
SERVER_SECRETS = {
    "/etc/passwd": "root:x:0:0",
    str(ROOT / ".git"): "gitdir:",
}


def open_page(page_file: str) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    app.switch_page(page_file).run()
    return app


def snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under the folders."""
    seen: dict[str, tuple[int, int]] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [
                d for d in dirnames if d not in {".venv", ".git", "__pycache__"}
            ]
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                seen[path] = (info.st_size, info.st_mtime_ns)
    return seen


def all_text(app: AppTest) -> str:
    """Everything the page shows as text (Markdown sources included)."""
    parts: list[str] = []
    for kind in ("markdown", "error", "warning", "success", "info", "caption"):
        parts.extend(str(element.value) for element in getattr(app, kind))
    parts.extend(f"{m.label} {m.value}" for m in app.metric)
    for frame in app.dataframe:
        parts.append(frame.value.to_csv())
    for text_element in app.text:
        parts.append(str(text_element.value))
    return as_text("\n".join(parts))


@pytest.fixture
def opened(monkeypatch):
    """Paths opened while the test runs (os.open, open, io.open)."""
    paths: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def watch_os_open(path, *args, **kwargs):
        paths.append(os.fsdecode(path) if not isinstance(path, int) else "")
        return real_os_open(path, *args, **kwargs)

    def watch_open(file, *args, **kwargs):
        if not isinstance(file, int):
            paths.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", watch_os_open)
    monkeypatch.setattr(builtins, "open", watch_open)
    monkeypatch.setattr(io, "open", watch_open)
    return paths


def hostile_names(tmp_path: Path, marker: str) -> list[str]:
    decoy = tmp_path / "decoy.csv"
    return [
        f"../{marker}.csv",
        f"../../{marker}.csv",
        f"../../../../../../tmp/{marker}.csv",
        str(tmp_path / f"{marker}.csv"),
        str(decoy),
        f"..\\..\\{marker}.csv",
        "pricing/data/servers.csv",
        str(ROOT / "pricing" / "data" / "servers.csv"),
        f"{'x' * 300}.csv",
    ]


@pytest.mark.parametrize(
    ("page", "key", "content"),
    [
        ("ui/demand_page.py", "demand_upload", GENERIC_LOG),
        (
            "ui/data_page.py",
            "catalog_overlay",
            b"facility,facility_type,region,pue,year,preferred,source,source_date,"
            b"notes\nmine,on-prem,,1.2,2025,true,,,\n",
        ),
    ],
)
def test_hostile_upload_names_touch_no_file(tmp_path, page, key, content):
    marker = f"pwned_{secrets.token_hex(4)}"
    decoy = tmp_path / "decoy.csv"
    decoy.write_text("the decoy")
    before = snapshot(ROOT, tmp_path)
    app = open_page(page)
    if page == "ui/data_page.py":
        app.selectbox(key="catalog_name").set_value("pue").run()
    for name in hostile_names(tmp_path, marker):
        app.file_uploader(key=key).set_value((name, content, "text/csv")).run()
        assert not app.exception
        assert not app.error, [e.value for e in app.error]
    assert snapshot(ROOT, tmp_path) == before
    assert decoy.read_text() == "the decoy"
    assert not list(tmp_path.glob(f"**/{marker}*"))
    assert not list(Path(tempfile.gettempdir()).glob(f"{marker}*"))
    assert not list(ROOT.glob(f"{marker}*"))
    assert not (Path("/") / f"{marker}.csv").exists()


def scenario_yaml(**demand: object) -> bytes:
    data = load_preset("grant").model_dump(mode="json")
    data["demand"] = {
        "reference_accelerator": data["demand"]["reference_accelerator"],
        **demand,
    }
    return yaml.safe_dump(data).encode()


def upload_scenario(app: AppTest, content: bytes, name: str = "s.yaml") -> AppTest:
    app.file_uploader(key="wb_upload").set_value((name, content, "text/yaml")).run()
    return app


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        str(ROOT / ".git"),
        "../.git/config",
        "../../../../../../etc/passwd",
        "pricing/data/servers.csv",
        "/dev/zero",
        "/dev/stdin",
    ],
)
def test_a_scenario_naming_a_server_file_is_refused_unread(opened, path):
    app = open_page("ui/workbench_page.py")
    opened.clear()
    upload_scenario(app, scenario_yaml(joblog={"path": path}))
    assert not app.exception
    shown = all_text(app)
    assert "the app opens no file a scenario names" in shown
    for secret in SERVER_SECRETS.values():
        assert secret not in shown
    resolved = {os.path.realpath(p) for p in opened if p}
    assert not any(p.startswith(("/etc", "/dev")) for p in resolved)
    assert not any("/.git" in p for p in resolved)
    assert not any(p.endswith("servers.csv") for p in opened if "joblog" in p)


def test_a_scenario_runs_on_a_job_log_uploaded_beside_it():
    from planner import joblog, tco
    from planner.report import summary_table
    from planner.scenario import scenario_from_yaml

    app = open_page("ui/workbench_page.py")
    content = scenario_yaml(joblog={"path": "/etc/passwd", "relative_throughput": 2.0})
    upload_scenario(app, content)
    assert "the app opens no file" in all_text(app)
    app.file_uploader(key="wb_joblog").set_value(
        ("../../jobs.csv", GENERIC_LOG, "text/csv")
    ).run()
    assert not app.exception
    shown = all_text(app)
    assert "the app opens no file" not in shown
    assert "root:x:0:0" not in shown
    # The numbers are the library's on the uploaded log.
    log = joblog.read_log(GENERIC_LOG)
    hourly = joblog.hourly_concurrency_gpus(log)
    scenario = scenario_from_yaml(content.decode())
    with tempfile.NamedTemporaryFile(suffix=".csv") as file:
        file.write(GENERIC_LOG)
        file.flush()
        data = scenario.model_dump(mode="json")
        data["demand"]["joblog"]["path"] = file.name
        expected = summary_table(tco.evaluate(type(scenario).model_validate(data)))
    assert list(app.dataframe[0].value["npv_usd"]) == list(expected["npv_usd"])
    assert hourly.sum() > 0
    # Nothing left behind in the temporary folder.
    assert not list(Path(tempfile.gettempdir()).glob("planner-upload-*"))


def test_the_optimiser_refuses_a_workbench_scenario_naming_a_file(opened):
    app = open_page("ui/workbench_page.py")
    upload_scenario(app, scenario_yaml(joblog={"path": "/etc/passwd"}))
    app.switch_page("ui/optimiser_page.py").run()
    app.radio(key="opt_source").set_value("workbench").run()
    opened.clear()
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    shown = all_text(app)
    assert "the app opens no file a scenario names" in shown
    assert "root:x:0:0" not in shown
    assert not any(os.path.realpath(p) == "/etc/passwd" for p in opened if p)


def alias_bomb() -> bytes:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (alias_bomb(), "alias bomb"),
        (b"description: " + b"[" * 2000 + b"]" * 2000, "nested deeper"),
        (
            scenario_yaml(reference_hours_per_year=".inf").replace(b"'.inf'", b".inf"),
            "finite",
        ),
        (b"name: " + b"x" * 100_000, "100,000 characters"),
        (b"\xff\xfe\x00garbage", "malformed YAML"),
        (b"a: !!python/object/apply:os.system [id]", "constructor"),
        (b"x" * 300_000, "larger than"),
    ],
)
def test_hostile_scenarios_are_one_clean_message(content, expected):
    app = open_page("ui/workbench_page.py")
    before = [as_text(d) for d in app.dataframe[0].value["strategy"]]
    started = time.perf_counter()
    upload_scenario(app, content, name="/etc/cron.d/evil.yaml")
    assert time.perf_counter() - started < 5
    assert not app.exception
    errors = [as_text(e.value) for e in app.error]
    assert any(expected in e for e in errors), errors
    assert all(len(e) < 700 for e in errors)
    assert errors[0].startswith("evil.yaml: ")  # the client's name, as a label only
    # The current scenario is kept.
    assert [as_text(d) for d in app.dataframe[0].value["strategy"]] == before


def test_markdown_in_values_is_shown_as_text():
    data = load_preset("grant").model_dump(mode="json")
    data["name"] = "[Click me](http://evil.example) :smile: **bold** $x$"
    data["strategies"][0]["name"] = "[phish](http://evil.example)"
    app = open_page("ui/workbench_page.py")
    upload_scenario(app, yaml.safe_dump(data).encode())
    assert not app.exception
    app.button(key="wb_keep").click().run()
    sources = [h.value for h in app.subheader] + [e.label for e in app.expander]
    sources += [m.value for m in app.markdown]
    for source in sources:
        assert "](http" not in source
        assert "**bold**" not in source
    assert data["name"] in [as_text(h.value) for h in app.subheader]


def test_an_unexpected_error_is_one_line_with_an_id(monkeypatch, caplog):
    from planner import tco

    def broken(scenario, **_options):
        msg = "secret /srv/app/settings.py"
        raise RuntimeError(msg)

    monkeypatch.setattr(tco, "evaluate", broken)
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    app.switch_page("ui/workbench_page.py").run()
    app.number_input(key="wb1|real_discount_rate").set_value(0.0123).run()
    assert not app.exception
    errors = [as_text(e.value) for e in app.error]
    assert len(errors) == 1
    assert "error id" in errors[0]
    assert "RuntimeError" in errors[0]
    assert "secret" not in all_text(app)
    assert "Traceback" not in all_text(app)
    assert any(r.exc_info for r in caplog.records if r.name == "planner_app")


def test_twenty_sessions_see_only_their_own_values():
    # The same client file name, a different quote per session: any cache
    # keyed by name, or shared state, would show another session's value.
    header = (
        b"facility,facility_type,region,pue,year,preferred,source,source_date,notes\n"
    )
    markers = [f"quote-{i}-{secrets.token_hex(3)}" for i in range(20)]
    apps = []
    for marker in markers:
        app = open_page("ui/data_page.py")
        app.selectbox(key="catalog_name").set_value("pue").run()
        row = f"room-{marker},on-prem,,1.3,2025,true,{marker},2026-01-01,\n".encode()
        app.file_uploader(key="catalog_overlay").set_value(
            ("quote.csv", header + row, "text/csv")
        )
        apps.append(app)
    for app in apps:  # interleaved: every upload first, then every run
        app.run()
    for app, marker in zip(apps, markers, strict=True):
        app.run()
        assert not app.exception
        shown = all_text(app)
        assert marker in shown
        others = [m for m in markers if m != marker and m in shown]
        assert others == []


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00\x01 not text",
        b'facility,"unclosed\n' + b"x" * 200_000,
        b"=cmd|' /C calc'!A0,@SUM(A1)\n1,2\n",
        b"",
    ],
)
def test_a_broken_overlay_is_a_message_and_the_shipped_catalog_stays(content):
    app = open_page("ui/data_page.py")
    app.selectbox(key="catalog_name").set_value("pue").run()
    rows = len(app.dataframe[0].value)
    app.file_uploader(key="catalog_overlay").set_value(
        ("quote.csv", content, "text/csv")
    ).run()
    assert not app.exception
    errors = [as_text(e.value) for e in app.error]
    assert errors
    assert "The overlay was not applied" in errors[0]
    assert all(len(line) < 400 for e in errors for line in e.splitlines())
    assert len(app.dataframe[0].value) == rows


def test_the_optimiser_reports_a_scenario_that_cannot_be_resolved():
    data = load_preset("grant").model_dump(mode="json")
    onprem = next(s for s in data["strategies"] if s["kind"] == "onprem")
    onprem["server"] = "no-such-server"
    app = open_page("ui/workbench_page.py")
    upload_scenario(app, yaml.safe_dump(data).encode())
    assert not app.exception
    assert any("no-such-server" in as_text(e.value) for e in app.error)
    app.switch_page("ui/optimiser_page.py").run()
    app.radio(key="opt_source").set_value("workbench").run()
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    shown = all_text(app)
    assert "cannot be planned" in shown or "no-such-server" in shown


@pytest.mark.parametrize("part", ["consortium", "workbench"])
def test_a_link_naming_a_server_file_opens_nothing(opened, part):
    from planner.share import encode_link

    data = load_preset("consortium").model_dump(mode="json")
    data["demand"]["joblog"] = {"path": "/etc/passwd"}
    data["demand"]["reference_hours_per_year"] = None
    payload = {"consortium": {"source": "example", "scenario": data}}
    if part == "workbench":
        payload = {
            "workbench": {"scenario": data},
            "consortium": {"source": "workbench"},
        }
    app = AppTest.from_file(APP_PATH, default_timeout=60)
    app.query_params["q"] = encode_link(payload)
    opened.clear()
    app.run()
    for page in (
        "ui/consortium_page.py",
        "ui/workbench_page.py",
        "ui/optimiser_page.py",
    ):
        app.switch_page(page).run()
        assert not app.exception
        shown = all_text(app)
        assert "root:x:0:0" not in shown
    app.switch_page("ui/consortium_page.py").run()
    assert "the app opens no file a scenario names" in all_text(app)
    app.switch_page("ui/optimiser_page.py").run()
    app.button(key="opt_run").click().run(timeout=180)
    assert "root:x:0:0" not in all_text(app)
    assert not any(os.path.realpath(p) == "/etc/passwd" for p in opened if p)


def test_shipped_server_settings_keep_tracebacks_and_watchers_off():
    """What .streamlit/config.toml's comments promise: small uploads, no
    tracebacks on the page, no telemetry, no file watcher, no magic."""
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert settings["server"]["maxUploadSize"] <= 50
    assert settings["server"]["fileWatcherType"] == "none"
    assert settings["server"]["runOnSave"] is False
    assert settings["client"]["showErrorDetails"] == "none"
    assert settings["browser"]["gatherUsageStats"] is False
    assert settings["runner"]["magicEnabled"] is False
