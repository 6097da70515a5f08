"""What the fleet optimiser may choose, and the limits it must respect."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from planner.scenario import Fraction, Frozen

RACK_UNITS_PER_RACK = 42
"""Usable height of a full-height 19-inch rack (EIA-310 "42U" cabinet, the common
data-centre size; assumption, user-editable). [U]"""

MAX_BLOCKS_PER_YEAR = 8_760
"""Most load-duration blocks a year may be cut into (hourly). [-]"""

MAX_SPECS = 12
"""Most server specifications one plan may choose among: every catalog server
(eight today) with room for overlays; each adds a column per purchase year and
doubles the capacity sets the solver may need, which keeps a solve in seconds. [-]"""


class OptimiseOptions(Frozen):
    """What the fleet optimiser may choose, and the limits it must respect.

    Every limit is optional (``None`` = no limit). Values are validated here;
    their consistency with a scenario (known servers and offers, purchase years
    inside the horizon) is checked when the problem is built.
    """

    server_specs: tuple[str, ...] | Literal["all"] | None = Field(
        None,
        description="Servers (servers catalog keys) the plan may buy; 'all' for "
        "every catalog server; default: the servers of the scenario's owned "
        "strategies, else 8xH100-SXM; () buys none. [-]",
    )
    cloud_offers: tuple[str, ...] | None = Field(
        None,
        description="Names of the scenario strategies whose cloud offers the plan "
        "may rent (cloud strategies and the bursts of hybrid or shared ones); "
        "default: every one of them. [-]",
    )
    allow_cloud: bool = Field(
        True, description="Allow renting cloud capacity at all. [-]"
    )
    allow_spot: bool = Field(
        False,
        description="Allow spot (pre-emptible) capacity where an offer has a spot "
        "price; interrupted work is re-run at the offer's overhead. Off by default: "
        "the model treats spot capacity as unlimited, which large GPU requests "
        "rarely find. [-]",
    )
    commitment_terms: tuple[Literal[1, 3], ...] = Field(
        (1, 3),
        description="Cloud commitment terms offered, in whole instances of each "
        "offer (each must fit in the horizon; longer ones are skipped). [years]",
    )
    purchase_years: tuple[int, ...] | None = Field(
        None,
        description="Years (0 = start) in which servers may be bought; default "
        "every year of the horizon. [years]",
    )
    blocks_per_year: int | None = Field(
        None,
        ge=1,
        le=MAX_BLOCKS_PER_YEAR,
        description="None (default): exact, every year's hourly load-duration "
        "curve; a number: an approximation by that many load-duration blocks "
        "(the peak hour and equal blocks), its error bound printed. [-]",
    )
    demand_sample: Literal["tiled", "weighted"] = Field(
        "tiled",
        description="How a demand log shorter than a year stands for it: "
        "'tiled' repeats it to 8,760 hours (the engine's year); 'weighted' keeps "
        "its hours as snapshots weighted 8760 / its length each (a 168-hour week "
        "counts 52.14 times), exactly. [-]",
    )
    capex_view: Literal["cash_flow", "annuity"] = Field(
        "cash_flow",
        description="How server capex counts: 'cash_flow' (the engine's: price "
        "and F&A on it when bought, resale at retirement or the horizon) or "
        "'annuity' (as capacity-expansion models annualise it: the capital "
        "recovery factor of annuity_rate and the server's lifetime times its "
        "capex, paid each year in service inside the horizon, no resale). [-]",
    )
    annuity_rate: Fraction | None = Field(
        None,
        description="Rate of the capex annuity; default the scenario's real "
        "discount rate (then a server serving its whole life inside the horizon "
        "costs the same present value either way). [1/year]",
    )
    allow_delay: bool = Field(
        True,
        description="Let work wait for spare owned or committed hours later in "
        "the same year, at the scenario's delay cost. [-]",
    )
    allow_unserved: bool = Field(
        True,
        description="Let work go unserved at the scenario's unserved cost (else "
        "every hour of demand must be served within its year). [-]",
    )
    view: Literal["institution", "award"] | None = Field(
        None,
        description="Whose cost the plan minimises; default the scenario's view. [-]",
    )
    capital_budget_usd_per_year: float | None = Field(
        None,
        ge=0.0,
        description="Most capex (servers, integration, F&A on supplies) paid in "
        "any one year. [USD/year]",
    )
    total_budget_usd: float | None = Field(
        None,
        ge=0.0,
        description="Most the project pays over the horizon, undiscounted, F&A "
        "included, before resale income (costs the institution pays excluded). "
        "[USD]",
    )
    site_power_kw: float | None = Field(
        None,
        ge=0.0,
        description="Most IT power at full load of the servers active in any "
        "year. [kW]",
    )
    racks: int | None = Field(
        None, ge=0, le=10_000, description="Racks available for servers. [-]"
    )
    rack_units_per_rack: int = Field(
        RACK_UNITS_PER_RACK,
        ge=1,
        le=60,
        description="Usable height of one rack (42U standard cabinet). [U]",
    )
    carbon_cap_co2e_kg_per_year: float | None = Field(
        None,
        ge=0.0,
        description="Most CO2e (operational and embodied, owned and rented) "
        "booked in any year. [kg/year]",
    )
    carbon_price_usd_per_t: float = Field(
        0.0,
        ge=0.0,
        le=10_000.0,
        description="Price on every tonne of CO2e, added to the objective "
        "(discounted like a cost). [USD/t]",
    )
    min_onprem_share: Fraction | None = Field(
        None,
        description="Least share of the horizon's work served by owned servers. [0-1]",
    )
    max_servers_per_year: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Most servers (all specs) installed in any one year. [-]",
    )
    max_owned_accelerators: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Most owned accelerators active in any year. [-]",
    )
    max_committed_accelerators: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Most committed cloud accelerators in any year. [-]",
    )
    continuous: bool = Field(
        False,
        description="Solve the continuous relaxation (fractional servers and "
        "commitments), as screening curves assume. [-]",
    )
    time_limit_s: float = Field(
        30.0, gt=0.0, le=600.0, description="Solver time limit. [s]"
    )
    mip_rel_gap: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Relative optimality gap at which branch-and-cut stops (0: "
        "proven optimal; the gap reached is printed in the summary). [-]",
    )

    @model_validator(mode="after")
    def _unique(self) -> OptimiseOptions:
        for name in (
            "server_specs",
            "cloud_offers",
            "commitment_terms",
            "purchase_years",
        ):
            values = getattr(self, name)
            if isinstance(values, tuple) and len(set(values)) != len(values):
                msg = f"{name} must not repeat values, got {values!r}"
                raise ValueError(msg)
        if self.purchase_years is not None and min(self.purchase_years, default=0) < 0:
            msg = f"purchase_years must be >= 0, got {self.purchase_years!r}"
            raise ValueError(msg)
        if isinstance(self.server_specs, tuple) and len(self.server_specs) > MAX_SPECS:
            msg = f"server_specs: at most {MAX_SPECS} specifications, got "
            raise ValueError(msg + str(len(self.server_specs)))
        return self
