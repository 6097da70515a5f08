"""Funder budget rules: complete, cited, and the lines of the funders' forms."""

import pytest

from planner import rules


@pytest.mark.parametrize("funder", rules.funder_ids())
def test_funder_rules_place_every_category_with_a_citation(funder):
    lines = rules.funder_lines(funder)
    assert set(lines.index) == set(rules.RULE_CATEGORIES)
    assert lines["source"].str.len().min() > 10
    assert rules.funder(funder).source


def test_nsf_lines_are_those_of_its_budget_form():
    lines = rules.funder_lines("nsf")["line"]
    # NSF Form 1030: D Equipment, G.1 Materials and supplies, G.4 Computer
    # services, G.6 Other; F&A on line I.
    assert lines["capex_equipment"] == "D"
    assert lines["capex_supplies"] == "G.1"
    assert {lines[c] for c in rules.RULE_CATEGORIES if c.startswith("cloud_")} == {
        "G.4"
    }
    assert lines["hosting"] == "G.6"
    assert rules.funder("nsf").indirect_line == "I"


def test_unknown_funder_names_the_known_ones():
    with pytest.raises(ValueError, match="nsf"):
        rules.funder("nih")
