"""Report files: funder lines, DOCX, Markdown, XLSX, LaTeX; numbers equal the engine's.

LibreOffice tests need ``soffice`` (``make test`` installs it with apt); they
skip without it.
"""

import io
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import openpyxl
import pytest
import yaml
from docx import Document

from planner import cli, safe_io, tco
from planner.report import files, justification, statement, workbook
from planner.report.budget import funder_budget
from planner.report.safe import FORMULA_PREFIXES
from planner.resolve import ResolvedOwnedStrategy
from planner.scenario import load_scenario, scenario_from_dict
from planner.tco.budget import budget_table, nominal_totals
from pricing.catalog import Catalog

EXAMPLES = Path(__file__).parents[2] / "examples"
DATA = Path(__file__).parents[2] / "pricing" / "data"
SCENARIOS = ("grant.yaml", "department.yaml", "lisa.yaml")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice absent")

HOSTILE_NAMES = (
    '=HYPERLINK("http://example.invalid","x")',
    "+cmd|' /C calc'!A0",
    "-2+3 on-demand",
    "@SUM(1+1)",
    "\tTabbed\rcloud",
    "شراء خادم GPU שרת 🚀🔥",
    "L" * 80,
    "L" * 79 + "M",
)


@cache
def evaluation_of(name):
    return tco.evaluate(load_scenario(EXAMPLES / name))


@cache
def hostile_evaluation():
    data = yaml.safe_load((EXAMPLES / "grant.yaml").read_text("utf-8"))
    data["name"] = "=cmd|' /C calc'!A0 🚀 " + "עברית " * 10
    data["description"] = "@SUM(A1) <script>alert(1)</script> | pipe \x07 bell"
    strategies = data["strategies"]
    extra = [dict(strategies[0]) for _ in range(len(HOSTILE_NAMES) - len(strategies))]
    for strategy, name in zip(strategies + extra, HOSTILE_NAMES, strict=True):
        strategy["name"] = name
    data["strategies"] = strategies + extra
    return tco.evaluate(scenario_from_dict(data))


def convert(path, target, out_dir):
    """Convert with LibreOffice headless; return the converted file."""
    profile = out_dir / "profile"
    result = subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{profile}",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = out_dir / (path.stem + "." + target.split(":")[0])
    assert result.returncode == 0, result.stderr
    assert converted.exists(), result.stdout + result.stderr
    return converted


# --- funder rules -------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_engine_category_has_a_funder_line(name):
    table = funder_budget(evaluation_of(name))
    assert not table["line_name"].str.contains(r"\(capex|\(cloud_", regex=True).any()


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("view", ["award", "institution"])
def test_funder_budget_totals_equal_the_engine(name, view):
    evaluation = evaluation_of(name)
    table = funder_budget(evaluation, funder="nsf", view=view)
    engine = nominal_totals(evaluation).set_index("strategy")[f"{view}_nominal_usd"]
    totals = table.groupby("strategy")["amount_usd"].sum()
    for strategy, expected in engine.items():
        assert totals.get(strategy, 0.0) == pytest.approx(expected, abs=1e-6)
    indirect = table[table["line"] == "I"]
    residual = indirect["amount_usd"] - indirect["fa_rate"] * indirect["fa_base_usd"]
    assert (residual.abs() < 1e-6).all()


def test_ukri_budget_is_in_current_prices_and_funds_80_percent():
    evaluation = evaluation_of("grant.yaml")
    table = funder_budget(evaluation, funder="ukri_fec80")
    real = budget_table(evaluation, "award").groupby("strategy")["real_usd"].sum()
    assert table.groupby("strategy")["amount_usd"].sum().to_dict() == pytest.approx(
        real.to_dict()
    )
    doc = justification.justification(evaluation, funder="ukri_fec80")
    sheet = doc.budgets[doc.strategy]
    total = sheet.loc[sheet["kind"] == "total", "total"].item()
    funded = sheet.loc[sheet["kind"] == "funded", "total"].item()
    assert funded == pytest.approx(0.8 * total)


# --- Markdown and DOCX: every number is the engine's ---------------------------------

MONEY = re.compile(r"-?\$-?[\d,]+")


def money_cells(cells):
    return [
        int(c.replace("$", "").replace(",", "")) for c in cells if MONEY.fullmatch(c)
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_markdown_budget_numbers_equal_the_engine(name):
    evaluation = evaluation_of(name)
    doc = justification.justification(evaluation)
    text = justification.justification_markdown(doc)
    budget = budget_table(evaluation, "award")
    mine = budget[budget["strategy"] == doc.strategy]
    section = text.split(f"## Budget of {doc.strategy}", 1)[1].split("## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip("|").split(" | ")]
        for line in section.splitlines()
        if line.startswith("| ") and "$" in line
    ]
    by_line = {row[0]: money_cells(row[2:]) for row in rows if row[0] != "I"}
    periods = list(range(1, evaluation.scenario.horizon_years + 1))
    # Line J is the engine's budget per period and its total, to the dollar.
    per_period = mine.groupby("budget_period")["nominal_usd"].sum()
    expected_j = [round(per_period.get(p, 0.0)) for p in periods]
    expected_j.append(round(mine["nominal_usd"].sum()))
    assert by_line["J"] == expected_j
    # Line I (F&A) rows sum to the engine's F&A per period.
    fa = (
        mine[mine["category"] == "indirect_costs"]
        .groupby("budget_period")["nominal_usd"]
        .sum()
    )
    fa_rows = [money_cells(row[2:]) for row in rows if row[0] == "I"]
    for index, period in enumerate(periods):
        shown = sum(row[index] for row in fa_rows)
        assert abs(shown - fa.get(period, 0.0)) <= 0.5 * max(len(fa_rows), 1)
    # The comparison's present values are the engine's, to the dollar.
    summary = evaluation.summary.set_index("strategy")
    for strategy in evaluation.results:
        award = round(summary.loc[strategy, "award_npv_usd"])
        assert f"${award:,}" in text


def markdown_rows(text, heading):
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    return [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| Line |")
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_docx_opens_and_its_budget_is_the_markdown_budget(name):
    evaluation = evaluation_of(name)
    data = files.report_bytes(evaluation, ".docx", title="My grant", charts=False)
    document = Document(io.BytesIO(data))
    assert document.core_properties.title == "My grant"
    doc = justification.justification(evaluation, title="My grant")
    md = justification.justification_markdown(doc)
    expected = markdown_rows(md, f"## Budget of {doc.strategy}")
    # The tornado's table ("What decides it") comes first, then the budget.
    assert document.tables[0].rows[0].cells[0].text == "Input"
    shown = [[c.text for c in row.cells] for row in document.tables[1].rows[1:]]
    assert shown == expected
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "Strubell" in texts
    assert doc.recommendation.sentence in texts


def test_title_and_description_are_editable():
    evaluation = evaluation_of("department.yaml")
    doc = justification.justification(
        evaluation, title="Budget for NSF CISE", description="Five years, Boston."
    )
    text = justification.justification_markdown(doc)
    assert text.startswith("# Budget for NSF CISE\n\nFive years, Boston.")
    assert "Massachusetts, 10 years" not in text.split("## Question")[0]


def test_assumptions_carry_source_and_date():
    doc = justification.justification(evaluation_of("department.yaml"))
    looked_up = doc.assumptions.iloc[
        : len(evaluation_of("department.yaml").resolved.assumptions)
    ]
    assert looked_up["source"].str.len().min() > 10
    assert (looked_up["date"] != "").mean() > 0.5


# --- XLSX ---------------------------------------------------------------------------


def user_text_cells(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield sheet.title, cell


@pytest.mark.parametrize("name", SCENARIOS)
def test_xlsx_numbers_are_numbers_and_totals_formulas(name):
    evaluation = evaluation_of(name)
    book = openpyxl.load_workbook(io.BytesIO(workbook.budget_workbook(evaluation)))
    assert book.sheetnames[0] == "Summary"
    assert book.sheetnames[-1] == "Assumptions"
    assert len(book.sheetnames) == len(evaluation.results) + 2
    for sheet in book.worksheets[1:-1]:
        values = [c.value for row in sheet.iter_rows(min_row=5) for c in row[2:]]
        assert any(isinstance(v, int | float) for v in values)
        formulas = [v for v in values if isinstance(v, str)]
        assert formulas
        assert all(v.startswith("=SUM(") or v == "=0" for v in formulas)


@needs_soffice
@pytest.mark.parametrize("name", SCENARIOS)
def test_xlsx_totals_recomputed_by_libreoffice_equal_the_engine(name, tmp_path):
    evaluation = evaluation_of(name)
    source = tmp_path / "in" / "budget.xlsx"
    source.parent.mkdir()
    source.write_bytes(files.report_bytes(evaluation, ".xlsx", charts=False))
    converted = convert(source, "xlsx", tmp_path)
    book = openpyxl.load_workbook(converted, data_only=True)
    engine = nominal_totals(evaluation).set_index("strategy")["award_nominal_usd"]
    summary = book["Summary"]
    shown = {
        row[0].value: row[2].value
        for row in summary.iter_rows(min_row=6, max_row=5 + len(engine))
    }
    for strategy, expected in engine.items():
        assert round(shown[strategy], 2) == round(expected, 2)  # to the cent
    for sheet in book.worksheets[1:-1]:
        strategy = sheet["A1"].value
        last = max(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, 1).value)
        assert sheet.cell(last, 1).value == "Total"
        total = sheet.cell(last, sheet.max_column).value
        assert round(total, 2) == round(engine[strategy], 2)
        budget = budget_table(evaluation, "award")
        mine = budget[budget["strategy"] == strategy]
        per_period = mine.groupby("budget_period")["nominal_usd"].sum()
        for offset in range(evaluation.scenario.horizon_years):
            cell = sheet.cell(last, 3 + offset).value
            assert round(cell, 2) == round(per_period.get(offset + 1, 0.0), 2)


# --- hostile strings ----------------------------------------------------------------


def test_hostile_strings_never_become_formulas():
    evaluation = hostile_evaluation()
    book = openpyxl.load_workbook(io.BytesIO(workbook.budget_workbook(evaluation)))
    assert len(set(book.sheetnames)) == len(book.sheetnames)
    assert all(len(title) <= 31 for title in book.sheetnames)
    ours = re.compile(r"^=(SUM\(|0$|'[^!]+'!)")
    for _, cell in user_text_cells(book):
        if cell.data_type == "f":
            assert ours.match(cell.value), cell.value
        else:
            assert not cell.value.startswith(FORMULA_PREFIXES), cell.value
    names = {cell.value for _, cell in user_text_cells(book)}
    assert "'" + HOSTILE_NAMES[0] in names
    assert HOSTILE_NAMES[5] in names  # right-to-left text and emoji kept


def test_hostile_strings_are_escaped_in_markdown_and_latex():
    evaluation = hostile_evaluation()
    text = files.report_bytes(evaluation, ".md").decode("utf-8")
    assert "<script>" not in text
    assert "\x07" not in text
    assert HOSTILE_NAMES[5] in text
    latex = statement.scenario_latex(evaluation, "award")
    assert "\\begin{tabular}" in latex
    body = latex.split("\\begin{tabular}{ll}", 1)[1]
    assert "&lt;" not in body
    assert re.search(r"(?<!\\)[#%$_]", body.replace("\\\\", "")) is None


@needs_soffice
@pytest.mark.parametrize(("suffix", "target"), [(".docx", "pdf"), (".xlsx", "ods")])
def test_hostile_files_convert_with_libreoffice(suffix, target, tmp_path):
    evaluation = hostile_evaluation()
    source = tmp_path / "in" / f"hostile{suffix}"
    source.parent.mkdir()
    source.write_bytes(
        files.report_bytes(evaluation, suffix, title="T" * 2_000 + " =1+1")
    )
    converted = convert(source, target, tmp_path)
    assert converted.stat().st_size > 1_000
    if suffix == ".docx":
        Document(str(source))  # opens with python-docx
    else:
        openpyxl.load_workbook(source)


@needs_soffice
def test_docx_with_charts_converts_with_libreoffice(tmp_path):
    source = tmp_path / "in" / "grant.docx"
    source.parent.mkdir()
    source.write_bytes(files.report_bytes(evaluation_of("grant.yaml"), ".docx"))
    document = Document(str(source))
    assert len(document.inline_shapes) == 2  # the two PNG charts
    assert convert(source, "pdf", tmp_path).stat().st_size > 10_000


# --- statements ---------------------------------------------------------------------


def test_scenario_statement_numbers_equal_the_engine():
    evaluation = evaluation_of("grant.yaml")
    rows = dict(statement.scenario_rows(evaluation, "award"))
    summary = evaluation.summary.set_index("strategy").loc[rows["Strategy"]]
    assert rows["Energy"] == f"{summary['energy_kwh']:,.0f} kWh"
    assert rows["Cost, present value (award)"].startswith(
        f"${summary['award_npv_usd']:,.0f}"
    )
    nominal = nominal_totals(evaluation).set_index("strategy")
    assert rows["Budget, nominal (award)"] == (
        f"${nominal.loc[rows['Strategy'], 'award_nominal_usd']:,.0f}"
    )
    assert "Strubell" in statement.scenario_markdown(evaluation, "award")


def test_scenario_statement_states_pue_grid_and_only_the_chosen_sources():
    evaluation = evaluation_of("department.yaml")
    rows = dict(statement.scenario_rows(evaluation, "award"))
    chosen = evaluation.resolved.strategy(rows["Strategy"])
    site = evaluation.resolved.site
    if isinstance(chosen, ResolvedOwnedStrategy):
        pue, grid = site.pue, site.grid_co2e_g_per_kwh
    else:
        pue, grid = chosen.offer.pue, chosen.offer.grid_co2e_g_per_kwh
    assert rows["PUE"] == f"{pue:g}"
    assert rows["Grid intensity"].startswith(
        f"{grid[0]:,.1f} g CO2e/kWh in {evaluation.scenario.start_year}"
    )
    sources = statement.scenario_sources(evaluation, "award")
    named = {what for what, _, _ in sources}
    assert rows["Strategy"] in named
    others = set(evaluation.summary["strategy"]) - {rows["Strategy"]}
    assert others
    assert not named & others
    latex = statement.scenario_latex(evaluation, "award")
    assert latex.count("\\item ") == len(sources)


def test_assumption_dates_are_the_catalog_rows_own_dates():
    """Dates come from each row's ``source_date``, not from years cited in the
    source's text ("Cottier et al. 2024"), and at the precision written."""
    evaluation = evaluation_of("department.yaml")
    catalog = Catalog()
    table = justification.assumptions_table(evaluation, catalog)
    for strategy in evaluation.resolved.strategies:
        if isinstance(strategy, ResolvedOwnedStrategy):
            expected = {str(catalog.server(strategy.server.server)["source_date"])}
            if strategy.burst is not None:
                offer = strategy.burst.offer
                expected.add(
                    str(
                        catalog.cloud_offer(
                            offer.provider, offer.region, offer.instance_type
                        )["source_date"]
                    )
                )
        else:
            offer = strategy.offer
            expected = {
                str(
                    catalog.cloud_offer(
                        offer.provider, offer.region, offer.instance_type
                    )["source_date"]
                )
            }
        dates = set(table.loc[table["what"] == strategy.name, "date"])
        assert dates == expected, strategy.name
    grid = table.loc[table["what"].str.startswith("grid intensity"), "date"]
    assert list(grid) == ["2020"]  # "data from 2020", not "2020-01-01"


def test_latex_statement_dates_come_from_the_catalog_it_was_priced_with():
    """A vendor quote overlaid on the catalog carries its own date into the
    paper's statement."""
    lines = (DATA / "servers.csv").read_text("utf-8").splitlines()
    row = next(line for line in lines if line.startswith("8xH100-SXM,"))
    quoted = row.replace(",2023-08,", ",2026-11-30,")
    assert quoted != row
    mine = Catalog().with_overlay(
        "servers", lines[0] + "\n" + quoted + "\n", label="quote.csv"
    )
    scenario = load_scenario(EXAMPLES / "department.yaml")
    evaluation = tco.evaluate(scenario, catalog=mine)
    chosen = dict(statement.scenario_rows(evaluation, "award"))["Strategy"]
    assert isinstance(evaluation.resolved.strategy(chosen), ResolvedOwnedStrategy)
    with_quote = files.report_bytes(evaluation, ".tex", catalog=mine).decode()
    assert "(2026-11-30)" in with_quote
    # by default, the catalog the evaluation was priced with
    assert files.report_bytes(evaluation, ".tex").decode() == with_quote
    shipped = files.report_bytes(evaluation_of("department.yaml"), ".tex").decode()
    assert "(2026-11-30)" not in shipped
    assert "(2023-08)" in shipped


# --- command line -------------------------------------------------------------------


def test_cli_report_writes_and_refuses_to_overwrite(tmp_path, capsys):
    scenario = tmp_path / "grant.yaml"
    scenario.write_text((EXAMPLES / "grant.yaml").read_text("utf-8"), "utf-8")
    out = tmp_path / "budget.md"
    assert cli.main(["report", str(scenario), "--out", str(out), "--title", "X"]) == 0
    assert out.read_text("utf-8").startswith("# X\n")
    assert cli.main(["report", str(scenario), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "report",
                str(scenario),
                "--out",
                str(out),
                "--force",
                "--view",
                "institution",
                "--no-charts",
            ]
        )
        == 0
    )
    assert "(institution view)" in out.read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.md", "grant.yaml"]


def test_cli_report_never_overwrites_the_scenario(tmp_path, capsys):
    scenario = tmp_path / "grant.md"
    text = (EXAMPLES / "grant.yaml").read_text("utf-8")
    scenario.write_text(text, "utf-8")
    status = cli.main(["report", str(scenario), "--out", str(scenario), "--force"])
    assert status == 2
    assert "also an input" in capsys.readouterr().err
    assert scenario.read_text("utf-8") == text


def test_cli_report_rejects_unknown_extensions(tmp_path, capsys):
    status = cli.main(
        ["report", str(EXAMPLES / "grant.yaml"), "--out", str(tmp_path / "x.pdf")]
    )
    assert status == 2
    assert ".docx" in capsys.readouterr().err


def test_write_atomically_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.xlsx"

    def fail(*_args):
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(safe_io.os, "fsync", fail)
    with pytest.raises(safe_io.SafeIOError, match="disk full"):
        safe_io.write_bytes_atomically(target, b"data")
    assert list(tmp_path.iterdir()) == []
