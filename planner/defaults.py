"""Default assumptions of the planner, each a named constant with its source.

Prices and rates that move with markets or policy are marked *volatile*: every one
of them is a scenario field a user can override. Money is real USD of
``DEFAULT_CURRENCY_YEAR``. Section numbers refer to the project's methods notes
(``docs/methods.md`` in the repository), which cite the primary sources repeated
here.
"""

from __future__ import annotations

DEFAULT_CURRENCY_YEAR = 2026
"""Year whose US dollars the defaults are stated in. [year]"""

REAL_DISCOUNT_RATE_PUBLIC = 0.03
"""Real discount rate for universities and public bodies (docs/methods.md §5.1/9:
assumption, user-editable; OMB Circular A-94 Appendix C for federal
lease-versus-purchase). [1/year]"""

BUDGET_ESCALATION_PER_YEAR = 0.03
"""Nominal escalation of out-year costs in a grant budget: 3 % a year, the factor
suggested by Duke Office of Research Support ("Types of Budgets": "an
inflationary factor of 3 % be used"), University of North Texas (PI handbook,
"a standard 3 % increase") and University of Nevada, Reno (recommended
escalation rates, Dec 2022: other direct costs 3 %); all accessed 2026-12-01.
Sponsors may strip it at award. [1/year]"""

HARDWARE_LIFETIME_YEARS = 5
"""Economic life of accelerator servers: hyperscaler 10-K lives of 5-6 years,
Magellan 4 years (docs/methods.md §6.3). [years]"""

SUPPORT_FRACTION_PER_YEAR = 0.10
"""Vendor support, maintenance and spares per year as a fraction of capex:
DOE Magellan Final Report (2011) Table 12.2, maintenance and support 10 % of
acquisition per year (docs/methods.md §5.5). [1/year]"""

AVAILABILITY = 0.97
"""Share of installed capacity usable after failures and maintenance (methods
6.4, informed by the Llama 3 report's interruption statistics). [-]"""

CAPEX_TREND_PER_YEAR = -0.25
"""Real change per year of the price of one reference-accelerator of capacity:
Epoch AI, "Trends in GPU price-performance" (Hobbhahn & Besiroglu 2022), 21-28 %
a year decline in $ per FLOP/s (docs/methods.md §6.1). Applies to refresh
purchases. [1/year]"""

SPOT_INTERRUPTION_OVERHEAD = 0.10
"""Extra hours re-run per useful spot hour after pre-emptions (assumption: 10 %,
for jobs that checkpoint hourly; docs/methods.md §1.1 treats spot as
interruptible supply). [-]"""

COMMITMENT_DISCOUNT = 0.40
"""Fallback discount for a 1- or 3-year commitment when the catalog has none for
the provider (docs/methods.md §6.2/9: 30-60 % typical, 40 % default;
assumption). [-]"""

INDIRECT_COST_RATE = 0.55
"""Negotiated on-campus F&A (indirect cost) rate applied to services such as
cloud compute (docs/methods.md §5.4/9: assumption, range 0-70 %; volatile
policy). [-]"""

EQUIPMENT_THRESHOLD_USD = 10_000.0
"""Per-unit cost at or above which an item is equipment, excluded from MTDC and so
from F&A: 2 CFR 200.1 as revised 2024-04-22, effective 2024-10-01 (was $5,000).
[USD]"""

INDUSTRY_PUE_FACILITY = "industry average (any data centre)"
"""Row of the pue catalog used when no PUE is given and none is known for the
provider (Uptime Institute 2024 global survey). [-]"""

PUE_UNIVERSITY_MACHINE_ROOM = 1.5
"""PUE of a university machine room (docs/methods.md §7.1: default 1.5, range 1.2-2.0;
Uptime Institute global average 1.56 in 2024). [-]"""

GRID_TREND_PER_YEAR = -0.035
"""Real change per year of grid carbon intensity (docs/methods.md §7.1: IEA Electricity
2025 projects -3.6 %/y to 2027; assumption -3.5 %/y). [1/year]"""

GRID_CO2E_G_PER_KWH_WORLD_2024 = 445.0
"""World average grid carbon intensity in 2024 (IEA Electricity 2025). [g/kWh]"""

STAFF_USD_PER_FTE_YEAR = 124_000.0
"""Loaded cost of one systems-administration FTE: U.S. BLS Occupational Outlook
Handbook, network and computer systems administrators, median pay $95,360 (May
2023), plus 30 % fringe benefits (assumption). Volatile; set your own. [USD/year]"""

COLOCATION_USD_PER_KW_MONTH = 184.06
"""Data-centre colocation rent per kW of IT load: CBRE "North America Data Center
Trends H2 2024" (published 2025-02-26), average asking rate for 250-500 kW
requirements across primary markets, $184.06/kW/month (+12.6 % year on year;
H1 2024: $174.06). Volatile. Used when the project pays for hosting.
[USD/(kW month)]"""

HOST_POWER_FACTOR = 10_200.0 / (8 * 700.0)
"""Server power at load per accelerator over the accelerator's TDP: a DGX H100
draws up to 10.2 kW for 8 H100 of 700 W TDP (NVIDIA DGX H100 datasheet; methods
5.5), i.e. x1.82 for host, memory, network and fans. Used for cloud instances whose
server is not in the catalog. [-]"""

PROVIDER_LIFETIME_YEARS = 6.0
"""Service life over which a cloud provider's hardware is amortised for embodied
carbon: Alphabet 6 years (2023), Microsoft 6 years (FY2023) (docs/methods.md
§6.3). [years]"""

PROVIDER_UTILISATION = 0.7
"""Average utilisation of a cloud provider's accelerators, for embodied carbon per
rented hour (docs/methods.md §7.3: assumption 0.6-0.8). [-]"""

EMBODIED_SERVER_BASE_CO2E_KG = 2_500.0
"""Embodied emissions of a GPU server node excluding GPUs: Luccioni, Viguier and
Ligozat, "Estimating the carbon footprint of BLOOM", JMLR 24(253), 2023. [kg]"""

EMBODIED_PER_ACCELERATOR_CO2E_KG = 150.0
"""Embodied emissions of one accelerator card (A100 class): Luccioni et al. 2023.
[kg]"""

STORAGE_USD_PER_TB_MONTH = 23.0
"""Object storage list price: AWS S3 Standard, first 50 TB/month, us-east-1,
$0.023 per GB-month (AWS S3 pricing page, 2024-2025; volatile). [USD/(TB month)]"""

EGRESS_USD_PER_TB = 90.0
"""Internet data transfer out: AWS EC2, first 10 TB/month, $0.09 per GB (AWS EC2
on-demand pricing page, 2024-2025; volatile). [USD/TB]"""

REFERENCE_ACCELERATOR = "A100-80GB-SXM4"
"""Accelerator whose hour is the unit of demand ("reference accelerator-hour"). The
catalog's ``relative_throughput`` is measured against it. [-]"""
