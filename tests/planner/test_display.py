"""Display helpers: labels from descriptions, money without noise."""

import pandas as pd

from planner.display import (
    column_label,
    distinct_labels,
    field_label,
    money,
    nice_ticks,
    plural,
    rounded_for_download,
)
from planner.optimise import OptimiseOptions
from planner.quick import QuickCompare
from planner.scenario import Institution, OnPremStrategy, Scenario, Site


def test_every_field_has_a_label_in_words():
    for model in (Scenario, Site, Institution, OnPremStrategy, QuickCompare):
        for name, info in model.model_fields.items():
            label = field_label(name, info)
            assert label
            assert "_" not in label.split("[")[0], (model.__name__, name, label)


def test_optimiser_labels_are_words():
    fields = OptimiseOptions.model_fields
    assert field_label("server_specs", fields["server_specs"]) == (
        "Servers the plan may buy"
    )
    assert "YAML" not in field_label("min_onprem_share", fields["min_onprem_share"])


def test_indirect_cost_labels_are_not_us_only():
    label = field_label(
        "indirect_cost_rate", Institution.model_fields["indirect_cost_rate"]
    )
    assert "overheads" in label
    assert "F&A" in label


def test_column_labels_have_units():
    assert column_label("npv_usd") == "Present value (USD)"
    assert column_label("least_core_epsilon_usd") == "Least-core epsilon (USD)"
    assert column_label("hosting_usd_per_kw_month").startswith("Hosting")


def test_downloads_round_money_to_the_cent():
    # The three numbers of issue 16's CSV.
    frame = pd.DataFrame(
        {
            "npv_usd": [694492.7999999999, 1082195.1954, 8848886.779296983],
            "co2e_kg": [0.1 + 0.2, 1 / 3, 2.0],
            "strategy": ["a", "b", "c"],
        }
    )
    out = rounded_for_download(frame)
    assert out["npv_usd"].tolist() == [694492.8, 1082195.2, 8848886.78]
    assert out["co2e_kg"].tolist() == [0.3, 0.3333333333, 2.0]
    assert "694492.8," in out.to_csv(index=False)
    assert frame["npv_usd"].iloc[0] == 694492.7999999999  # the input is kept


def test_money_and_plural():
    assert money(694492.7999999999) == "$694,493"
    assert plural(1, "year") == "1 year"
    assert plural(6, "year") == "6 years"


def test_distinct_labels_never_collide():
    names = [
        f"gcp a3-highgpu-8g {kind}"
        for kind in ("on-demand", "spot", "1-year commitment", "3-year commitment")
    ]
    short = distinct_labels(names, width=24)
    assert len(set(short)) == 4
    assert all(len(s) <= 24 for s in short)


def test_nice_ticks_are_many_and_cover_the_top():
    ticks = nice_ticks(160)
    assert ticks[0] == 0
    assert ticks[-1] >= 160
    assert len(ticks) > 5
