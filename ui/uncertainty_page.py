"""Page: how sure the answer is: Monte Carlo over the uncertain inputs.

The scenario is the workbench's, as edited (the session's scenario, see
:mod:`ui.state`), priced with the session's catalog. The uncertain inputs start
from the scenario's sourced default
(:func:`planner.uncertainty.default_uncertainty`) and are edited as YAML; the
run is :func:`planner.uncertainty.monte_carlo` (vectorised only, so one click
stays within seconds), cached by the scenario, the ranges, the draws, the seed,
the view, the Sobol' choice and the overlays' content. Once Run was pressed,
every change runs again in the same script run (as the Optimiser re-plans).
"""

import json
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from planner import display
from planner.resolve import resolve
from planner.safe_io import MAX_YAML_CHARACTERS, SafeIOError, load_yaml
from planner.scenario import Scenario
from planner.uncertainty import analysis
from planner.uncertainty.batched import NotVectorisedError
from planner.uncertainty.sampling import quantiles
from planner.uncertainty.spec import (
    DEFAULT_SEED,
    UncertaintyError,
    UncertaintySpec,
    default_uncertainty,
    input_label,
    uncertainty_from_dict,
    uncertainty_to_yaml,
)
from ui import common, state

WORKBENCH = "workbench"
"""The session's part whose scenario is analysed (the workbench's, as edited)."""

MAX_DRAWS = 20_000
"""Most Monte Carlo draws in the app: 20,000 draws of the department example took
1.5 s on the page with Sobol' indices (2,000: 1.2 s) on two cores when this was
set; the CLI runs more. [-]"""

DEFAULT_DRAWS = 2_000
"""Draws of a run unless changed (P(cheapest) to about +-1 %). [-]"""

MIN_DRAWS = 100
"""Fewest draws of a run. [-]"""

MAX_SEED = 2**32 - 1
"""Largest seed offered (a browser keeps integers exact up to 2**53). [-]"""

RUN_CACHE_ENTRIES = 4
"""Runs kept (each a few tables of a few kB). [-]"""

VIEW_LABELS = {
    "institution": "Institution (economic cost)",
    "award": f"Award (what the grant pays, with {display.INDIRECT})",
}

STAGES = {
    "preparing": "Preparing the scenario",
    "draws": "Evaluating the draws",
    "tornado": "Tornado: each input at its P10 and P90",
    "sobol": "Sobol' indices",
    "done": "Done",
}
"""Words for the stages :func:`planner.uncertainty.monte_carlo` reports."""

YAML_KEY = "unc_yaml"
KEPT = "unc_kept"
"""Session keys (not widgets) keeping the page's inputs across pages."""
BASE = "unc_yaml_base"
"""Session key of the default ranges the text area started from."""
STARTED = "unc_started"
"""Session key set once Run was pressed."""


@st.cache_data(max_entries=16, show_spinner=False)
def _default_yaml(scenario_json: str, overlays: common.OverlayKey = ()) -> str:
    """The scenario's sourced default ranges as YAML (cached by content)."""
    scenario = Scenario.model_validate_json(scenario_json)
    spec = default_uncertainty(scenario, catalog=common.catalog_of(overlays))
    return uncertainty_to_yaml(spec)


def parse_spec(text: str) -> UncertaintySpec:
    """The ranges from the text area, with the scenario file's YAML limits.

    Raises
    ------
    UncertaintyError
        One line per problem: not YAML, too long, too deep, an alias bomb, or
        an invalid spec.
    """
    try:
        data = load_yaml(text, max_characters=MAX_YAML_CHARACTERS)
    except SafeIOError as error:
        raise UncertaintyError([str(error)]) from None
    return uncertainty_from_dict(data)


def _distribution_text(spec: UncertaintySpec, index: int) -> str:
    data = spec.inputs[index].distribution.model_dump(mode="json")
    kind = str(data.pop("kind"))
    words = ", ".join(f"{k} {v:g}" for k, v in data.items() if v is not None)
    return f"{kind} ({words})"


def inputs_table(spec: UncertaintySpec, scenario: Scenario) -> pd.DataFrame:
    """The uncertain inputs: words, distribution, P10, median, P90 and source."""
    low, middle, high = (quantiles(spec, q) for q in (0.1, 0.5, 0.9))
    return pd.DataFrame(
        {
            "what": [input_label(i.path, scenario) for i in spec.inputs],
            "distribution": [
                _distribution_text(spec, j) for j in range(len(spec.inputs))
            ],
            "p10": low,
            "median": middle,
            "p90": high,
            "source": [i.source or "(none given)" for i in spec.inputs],
            "input": list(spec.paths),
        }
    )


INPUT_COLUMNS = {
    "what": st.column_config.TextColumn("Uncertain input", width="large"),
    "distribution": st.column_config.TextColumn("Distribution", width="medium"),
    "p10": st.column_config.NumberColumn("P10", format="%.4g"),
    "median": st.column_config.NumberColumn("Median", format="%.4g"),
    "p90": st.column_config.NumberColumn("P90", format="%.4g"),
    "source": st.column_config.TextColumn("Source", width="large"),
    "input": st.column_config.TextColumn("Path in the ranges (YAML)"),
}


@st.cache_data(max_entries=RUN_CACHE_ENTRIES, show_spinner=False)
def run_analysis(
    scenario_json: str,
    spec_yaml: str,
    draws: int,
    seed: int,
    view: str,
    sobol: bool,
    overlays: common.OverlayKey = (),
    log_content: bytes | None = None,
) -> dict[str, Any]:
    """One Monte Carlo run's tables, or the problems that stopped it.

    The progress bar is drawn (and removed) inside, so a cached run replays
    nothing visible. Only the vectorised path runs here: an input that needs
    the engine draw by draw is refused with a message (``planner
    uncertainty`` runs it).

    Returns
    -------
    dict
        ``headline``, ``strategies`` (:func:`~planner.uncertainty.strategy_table`
        plus CO2e P10/P90), ``fan``, ``tornado``, ``sobol``, ``conditional``,
        ``leader``, ``advantage_usd``, ``json``, ``warnings`` and the run's
        ``draws``, ``seed``, ``sampling``, ``method``; or ``problems`` with
        ``where`` (``ranges`` or ``scenario``).
    """
    if not MIN_DRAWS <= draws <= MAX_DRAWS:
        msg = f"draws must be from {MIN_DRAWS:,} to {MAX_DRAWS:,} here, got {draws:,}"
        return {"problems": [msg], "where": "ranges"}
    scenario = Scenario.model_validate_json(scenario_json)
    spec = parse_spec(spec_yaml)
    catalog = common.catalog_of(overlays)
    bar = st.progress(0.0, text=STAGES["preparing"])

    def progress(fraction: float, stage: str) -> None:
        bar.progress(fraction, text=STAGES.get(stage, stage))

    try:
        with common.with_uploaded_log(scenario, log_content) as runnable:
            warnings = list(resolve(runnable, catalog).warnings)
            result = analysis.monte_carlo(
                runnable,
                spec,
                draws=draws,
                seed=seed,
                view=view,  # type: ignore[arg-type]
                catalog=catalog,
                method="vectorised",
                sobol_inputs=analysis.SOBOL_INPUTS if sobol else 0,
                progress=progress,
            )
    except NotVectorisedError as error:
        return {
            "problems": [
                f"{error}. The app runs only inputs it can evaluate for every draw "
                "at once; leave this one out, or run `planner uncertainty` on the "
                "command line, which evaluates it draw by draw."
            ],
            "where": "ranges",
        }
    except UncertaintyError as error:
        return {"problems": list(error.problems), "where": "ranges"}
    except ValueError as error:  # a scenario the engine refuses (said in words)
        problems = getattr(error, "problems", None) or [str(error)]
        return {"problems": [str(p) for p in problems], "where": "scenario"}
    finally:
        bar.empty()
    table = analysis.strategy_table(result)
    names = list(result.outcomes.strategies)
    conditional = pd.DataFrame(
        [
            {
                "input": item.input,
                "value": item.value,
                "share_of_draws": item.share_of_draws,
                **{name: item.p_cheapest[name] for name in names},
            }
            for item in result.conditional
        ],
        columns=["input", "value", "share_of_draws", *names],
    )
    return {
        "headline": analysis.headline(result),
        "strategies": table,
        "fan": analysis.fan_table(result),
        "tornado": analysis.tornado_table(result),
        "sobol": pd.DataFrame(
            [
                {"input": i.input, "first_order": i.first_order, "total": i.total}
                for i in result.sobol
            ],
            columns=["input", "first_order", "total"],
        ),
        "sobol_base_draws": result.sobol_base_draws,
        "conditional": conditional,
        "leader": result.leader,
        "runner_up": result.runner_up,
        "advantage_usd": result.advantage_usd,
        "draws": result.draws,
        "seed": result.seed,
        "sampling": result.sampling,
        "method": result.method,
        "notes": list(result.notes),
        "warnings": warnings,
        "json": json.dumps(result.as_json(), indent=2, default=str),
    }


def _kept(name: str, default: Any) -> Any:
    """The page's input ``name`` as last set (kept while other pages run)."""
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    return kept.get(name, default)


def _keep(name: str, value: Any) -> None:
    st.session_state.setdefault(KEPT, {})[name] = value


def _reset_ranges(default_text: str) -> None:
    st.session_state[YAML_KEY] = default_text


def _ranges(
    scenario: Scenario, default_text: str
) -> tuple[UncertaintySpec | None, Any]:
    """The ranges' table and YAML; the spec (None if invalid) and its message slot."""
    session = st.session_state
    if session.get(BASE) != default_text:
        current = session.get(YAML_KEY, _kept("yaml", None))
        if current is None or current == session.get(BASE):
            # Never edited: follow the scenario's default (a new tariff, say).
            session[YAML_KEY] = default_text
            _keep("yaml", default_text)
        session[BASE] = default_text
    table = st.container()
    text = st.text_area(
        "Uncertain inputs (YAML): change a range, add or remove an input",
        key=state.bind(YAML_KEY, _kept("yaml", default_text)),
        height=320,
        max_chars=MAX_YAML_CHARACTERS,
        help="Each input: a scenario path (strategies.2.price_change_per_year) "
        "or a cross-cutting factor, a distribution (uniform, triangular, pert, "
        "normal, lognormal, bernoulli, integer) and its source; correlations "
        "between inputs; the sampler (lhs, sobol, random). The format of "
        "`planner uncertainty --uncertainty FILE` (examples/uncertainty.yaml).",
    )
    _keep("yaml", text)
    slot = st.container()
    if text != default_text:
        st.caption("Your ranges (the scenario's sourced default is one click away).")
        st.button(
            "Reset to the default ranges",
            key="unc_reset",
            on_click=_reset_ranges,
            args=(default_text,),
        )
    try:
        spec: UncertaintySpec | None = parse_spec(str(text))
    except UncertaintyError as error:
        spec = None
        with slot:
            common.show_error("The ranges are not used: " + "\n".join(error.problems))
    with table:
        if spec is None:
            st.info("Fix the ranges below (your text is kept) to see them here.")
        else:
            st.caption(
                common.plain(
                    f"{display.plural(len(spec.inputs), 'uncertain input')}, "
                    f"{spec.sampling} sampling, "
                    f"{display.plural(len(spec.correlations), 'correlation')}; P10, "
                    "median and P90 of each distribution, in its own unit."
                )
            )
            common.show_table(
                inputs_table(spec, scenario),
                key="unc_inputs",
                column_config=INPUT_COLUMNS,
            )
    return spec, slot


def _controls(scenario: Scenario) -> tuple[str, int, int, bool]:
    columns = st.columns([3, 1, 1, 1])
    view = columns[0].radio(
        "Whose cost the answer shows",
        list(VIEW_LABELS),
        format_func=VIEW_LABELS.get,
        horizontal=True,
        key=state.bind("unc_view", _kept("view", scenario.view)),
        help=Scenario.model_fields["view"].description,
    )
    draws = columns[1].number_input(
        "Draws (futures sampled)",
        min_value=MIN_DRAWS,
        max_value=MAX_DRAWS,
        step=500,
        key=state.bind("unc_draws", _kept("draws", DEFAULT_DRAWS)),
        help=f"At most {MAX_DRAWS:,} here; `planner uncertainty --draws N` on the "
        "command line runs more.",
    )
    seed = columns[2].number_input(
        "Seed",
        min_value=0,
        max_value=MAX_SEED,
        step=1,
        key=state.bind("unc_seed", _kept("seed", DEFAULT_SEED)),
        help="The same seed, draws and ranges give the same numbers; it replaces "
        "the seed in the ranges.",
    )
    sobol = columns[3].checkbox(
        "Sobol' indices",
        key=state.bind("unc_sobol", _kept("sobol", True)),
        help=f"Variance-based indices of the {analysis.SOBOL_INPUTS} leading inputs "
        f"(scipy, {analysis.SOBOL_BASE_DRAWS:,} base draws whatever the draws "
        "above).",
    )
    # Clamped again: the browser refuses values outside the bounds, the page too.
    chosen = (str(view), min(max(int(draws), MIN_DRAWS), MAX_DRAWS), int(seed), sobol)
    for name, value in zip(("view", "draws", "seed", "sobol"), chosen, strict=True):
        _keep(name, value)
    return chosen


def render() -> None:
    """Draw the ranges and the controls; run; show the answer's spread."""
    st.title("Uncertainty: how sure is the answer?")
    st.caption(
        "Monte Carlo over the uncertain inputs of the workbench scenario as edited: "
        "the plan is fixed (servers, commitments), the future varies (prices, "
        "demand, lives, tariffs). Every strategy sees the same sampled futures, so "
        "the share of futures in which each is cheapest and its expected regret "
        "compare fairly. Priced with this session's catalog."
    )
    state.problem_banner(common.show_error)
    scenario = state.get(WORKBENCH, state.WorkbenchPart).scenario
    st.caption(common.plain(f"Analysing: {scenario.name} (edit it on the workbench)"))
    log: bytes | None = st.session_state.get("wb_log")
    problem = common.named_file_problem(scenario, has_log_upload=log is not None)
    if problem is not None:
        common.show_error(f"{problem} (on the workbench).")
        return
    log = log if scenario.demand.joblog is not None else None
    scenario_json, overlays = scenario.model_dump_json(), common.overlay_key()
    view, draws, seed, sobol = _controls(scenario)
    try:
        default_text = _default_yaml(scenario_json, overlays)
    except (LookupError, ValueError) as error:  # the catalogs cannot resolve it
        common.show_error(f"The scenario cannot be analysed: {error}")
        return
    with st.expander(
        "Uncertain inputs, their distributions and sources", expanded=True
    ):
        spec, slot = _ranges(scenario, default_text)
    pressed = st.button("Run", type="primary", key="unc_run")
    session = st.session_state
    session[STARTED] = bool(pressed or session.get(STARTED))
    if spec is None:
        return
    if not session[STARTED]:
        st.info(
            f"Press Run to sample {draws:,} futures; after that, every change runs "
            "again."
        )
        return
    spec_yaml = uncertainty_to_yaml(spec)
    found = run_analysis(
        scenario_json, spec_yaml, draws, seed, view, sobol, overlays, log
    )
    if "problems" in found:
        lines = "\n".join(str(p) for p in found["problems"][:20])
        if found["where"] == "ranges":
            with slot:
                common.show_error("The ranges cannot be run: " + lines)
        else:
            common.show_error("The scenario cannot be analysed: " + lines)
        return
    _draw(found, scenario, spec_yaml, view)


def _basis(scenario: Scenario, view: str) -> str:
    return (
        f"present value in real USD of {scenario.currency_year}, discounted at "
        f"{scenario.real_discount_rate:.1%}, {view} view"
    )


STRATEGY_COLUMNS = {
    "strategy": st.column_config.TextColumn("Strategy", width="medium"),
    "npv_scenario_usd": common.money_column(
        "As written (USD)", "Every input at the scenario's own value."
    ),
    "npv_p10_usd": common.money_column("P10 (USD)"),
    "npv_p50_usd": common.money_column("Median (USD)"),
    "npv_p90_usd": common.money_column("P90 (USD)"),
    "p_cheapest": st.column_config.NumberColumn(
        "Cheapest in", format="percent", help="Share of the futures sampled."
    ),
    "p_cheapest_se": st.column_config.NumberColumn(
        "+- (standard error)", format="percent", help="sqrt(p (1 - p) / draws)."
    ),
    "expected_regret_usd": common.money_column(
        "Regret, mean (USD)",
        "Mean cost above the cheapest strategy of the same future.",
    ),
    "co2e_p10_t": common.number_column("CO2e P10 (t)", 1),
    "co2e_p50_t": common.number_column("CO2e median (t)", 1),
    "co2e_p90_t": common.number_column("CO2e P90 (t)", 1),
}


def _draw(found: dict[str, Any], scenario: Scenario, spec_yaml: str, view: str) -> None:
    st.success(common.plain(found["headline"]))
    common.answer_warnings(found["warnings"])
    for note in found["notes"]:
        st.caption(common.plain(note))
    basis = _basis(scenario, view)
    st.subheader("Each strategy over the sampled futures")
    st.caption(
        common.plain(
            f"{found['draws']:,} draws ({found['sampling']} sampling, seed "
            f"{found['seed']}, {found['method']}); money is {basis}. The shares of "
            "futures in which each strategy is cheapest add up to 100 %."
        )
    )
    common.show_table(
        found["strategies"], key="unc_strategies", column_config=STRATEGY_COLUMNS
    )
    conditional: pd.DataFrame = found["conditional"]
    if not conditional.empty:
        shown = conditional.assign(
            what=[input_label(str(p), scenario) for p in conditional["input"]]
        ).drop(columns=["input"])
        shown = shown[["what", *[c for c in shown.columns if c != "what"]]]
        st.caption(
            "Shares cheapest among the futures in which each switch is 0 or 1 "
            "(a policy switch is a choice to find out, not a coin)."
        )
        common.show_table(
            shown,
            key="unc_conditional",
            column_config={
                "what": st.column_config.TextColumn("Switch", width="large"),
                "value": st.column_config.NumberColumn("Value", format="%d"),
                "share_of_draws": st.column_config.NumberColumn(
                    "Share of futures", format="percent"
                ),
                **{
                    name: st.column_config.NumberColumn(name, format="percent")
                    for name in conditional.columns[3:]
                },
            },
        )
    st.subheader("Cumulative cost: median and P10 to P90 band")
    st.altair_chart(
        fan_chart(found["fan"], scenario, view), width="stretch", height=520
    )
    st.caption(
        common.plain(
            f"Cumulative {basis}; year {scenario.start_year} holds the first purchases."
        )
    )
    _sensitivity(found, scenario, view)
    left, middle, right = st.columns(3)
    stem = common.file_stem(scenario.name)
    common.download(
        left,
        "Strategy table (CSV)",
        partial(common.csv_download, found["strategies"]),
        file_name=f"{stem}-uncertainty-{view}.csv",
        key="unc_download_csv",
    )
    common.download(
        middle,
        "Ranges used (YAML)",
        partial(str, spec_yaml),
        file_name=f"{stem}-uncertainty.yaml",
        key="unc_download_yaml",
    )
    common.download(
        right,
        "Every result (JSON)",
        partial(str, found["json"]),
        file_name=f"{stem}-uncertainty.json",
        key="unc_download_json",
    )
    common.catalog_dates_panel(key="unc")


def _sensitivity(found: dict[str, Any], scenario: Scenario, view: str) -> None:
    tornado: pd.DataFrame = found["tornado"]
    if tornado.empty:
        return
    st.subheader("What decides it")
    shown = common.tornado_frame(tornado)
    st.altair_chart(
        common.tornado_chart(
            shown,
            leader=str(found["leader"]),
            advantage_usd=float(found["advantage_usd"]),
            view=view,
        ),
        width="stretch",
    )
    st.caption(
        common.plain(
            f"Each input alone at its P10 and its P90, the others at their medians: "
            f"the change of the lead of {found['leader']} over the cheapest other "
            f"strategy ({common.money(float(found['advantage_usd']))} with every "
            f"input at its median), {_basis(scenario, view)}. A bar past the dashed "
            "line flips the recommendation."
        )
    )
    common.show_table(shown, key="unc_tornado", column_config=common.TORNADO_COLUMNS)
    sobol: pd.DataFrame = found["sobol"]
    if sobol.empty:
        return
    shown_sobol = sobol.assign(
        what=[input_label(str(p), scenario) for p in sobol["input"]]
    )[["what", "first_order", "total", "input"]]
    st.markdown("**Sobol' indices of that lead**")
    st.altair_chart(sobol_chart(shown_sobol), width="stretch")
    common.show_table(
        shown_sobol,
        key="unc_sobol",
        column_config={
            "what": st.column_config.TextColumn("Uncertain input", width="medium"),
            "first_order": st.column_config.NumberColumn("Alone", format="%.2f"),
            "total": st.column_config.NumberColumn(
                "With its interactions", format="%.2f"
            ),
            "input": st.column_config.TextColumn("Path in the ranges (YAML)"),
        },
    )
    st.caption(
        f"Share of the variance of the lead explained by each input alone (first "
        f"order) and with its interactions (total); Saltelli/Jansen estimators "
        f"(scipy) on {int(found['sobol_base_draws']):,} base draws, the other inputs "
        "at their medians, correlations left out."
    )


def fan_chart(fan: pd.DataFrame, scenario: Scenario, view: str) -> alt.LayerChart:
    """Each strategy's cumulative present value by year: median line, P10-P90 band."""
    names = list(dict.fromkeys(fan["strategy"]))
    short = dict(zip(names, display.distinct_labels(names, width=60), strict=True))
    data = fan.assign(
        label=fan["strategy"].map(short),
        calendar_year=scenario.start_year + fan["year"],
    )
    base = alt.Chart(data).encode(
        x=alt.X("calendar_year:O", title="Year"),
        color=alt.Color(
            "label:N",
            title=f"{view.capitalize()} view",
            legend=alt.Legend(
                orient="bottom", columns=2, labelLimit=400, symbolOpacity=1
            ),
        ),
    )
    title = f"Cumulative cost, present value (real USD of {scenario.currency_year})"
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p10_usd:Q", title=title, axis=alt.Axis(format="$,.3s")),
        y2="p90_usd:Q",
    )
    line = base.mark_line(point=True).encode(
        y="p50_usd:Q",
        tooltip=[
            alt.Tooltip("strategy:N", title="Strategy"),
            alt.Tooltip("calendar_year:O", title="Year"),
            alt.Tooltip("p10_usd:Q", title="P10 (USD)", format="$,.0f"),
            alt.Tooltip("p50_usd:Q", title="Median (USD)", format="$,.0f"),
            alt.Tooltip("p90_usd:Q", title="P90 (USD)", format="$,.0f"),
        ],
    )
    return (band + line).properties(height=common.CHART_HEIGHT)


def sobol_chart(shown: pd.DataFrame) -> alt.Chart:
    """First-order and total Sobol' indices of each input, as grouped bars."""
    long = shown.melt(
        id_vars=["what"], value_vars=["first_order", "total"], var_name="index"
    )
    long["index"] = long["index"].map(
        {"first_order": "Alone (first order)", "total": "With interactions (total)"}
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                "what:N",
                title=None,
                sort=list(shown["what"]),
                axis=alt.Axis(labelLimit=320),
            ),
            yOffset="index:N",
            x=alt.X("value:Q", title="Share of the variance of the lead [0-1]"),
            color=alt.Color("index:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("what:N", title="Input"),
                alt.Tooltip("index:N", title="Index"),
                alt.Tooltip("value:Q", title="Share", format=".2f"),
            ],
        )
        .properties(height=max(120, 50 * len(shown)))
    )


render()
