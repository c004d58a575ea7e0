"""Annual cost per office, calibrated to the 1 003.1 MSEK of 2024.

Cost of an office with placed staff (SEK per year)::

    cost_i = k · (site_fixed + min_staff) + site_per_visit · V0_i + staff_per_visit · V_i

where ``V0_i`` is its 2024 visits (premises are sized to them), ``V_i`` its
visits in the plan, and ``k = 148 / offices in the register`` spreads the fixed
costs of the offices the register lacks over the registered ones (so the
modelled network costs exactly the reference 1 003.1 MSEK; ``k = 1`` when the
baseline is calibrated to the register's own totals). A flexible office
has no placed staff::

    cost_i = site_share · (k · site_fixed + site_per_visit · V0_i) + travel + staff_per_visit · V_i

and takes at most ``flexible_capacity_visits`` visits. A closed office costs
nothing; its visitors' staff time moves to the office that receives them.
Every parameter and its derivation: ``data/model/parameters.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Network
from .params import Parameters
from .visits import VisitModel, existing_offices

__all__ = ["CostModel", "fit_costs"]


@dataclass(frozen=True, eq=False)
class CostModel:
    """Per-office cost figures (SEK per year) the optimiser and the reports share."""

    fixed_full_sek: np.ndarray
    fixed_flex_sek: np.ndarray
    staff_per_visit_sek: float
    flexible_capacity_visits: float
    fixed_scale: float
    cost_estimated: np.ndarray
    baseline_cost_sek: float  # every office kept, 2024 visits (SEK per year)

    def office_cost_sek(self, mode: np.ndarray, visits: np.ndarray) -> np.ndarray:
        """Cost per office for modes (0 closed, 1 flexible, 2 kept) and visits per year."""
        fixed = np.where(mode == 2, self.fixed_full_sek, np.where(mode == 1, self.fixed_flex_sek, 0.0))
        return np.where(mode > 0, fixed + self.staff_per_visit_sek * visits, 0.0)


def fit_costs(network: Network, visits: VisitModel, params: Parameters) -> CostModel:
    """Cost figures per office; a register's own ``cost_msek`` replaces the estimate."""
    existing = existing_offices(network)
    n = int(existing.sum())
    v0 = visits.baseline_visits
    # spread the fixed costs of the reference network's other offices over the
    # register (not when calibrating to the register's own totals)
    scale = params.scale_fixed_costs_to_reference and params.calibrate_to_reference
    k = params.reference_offices_total / n if (scale and n < params.reference_offices_total) else 1.0
    # extra candidate sites have no 2024 share of the reference network: unscaled fixed costs
    ks = np.where(existing, k, 1.0)
    site = ks * params.site_fixed_msek * 1e6 + params.site_per_visit_sek * v0
    full = site + ks * params.min_staff_msek * 1e6
    cpv = params.staff_per_visit_sek
    given = network.offices["cost_msek_given"].to_numpy(dtype=float)
    has = ~np.isnan(given)
    full = np.where(has, np.maximum(given * 1e6 - cpv * v0, 0.0), full)
    site = np.where(has, np.minimum(site, full), site)
    flex = params.flexible_site_share * site + params.flexible_travel_sek
    return CostModel(
        fixed_full_sek=full,
        fixed_flex_sek=flex,
        staff_per_visit_sek=cpv,
        flexible_capacity_visits=params.flexible_capacity_visits,
        fixed_scale=k,
        cost_estimated=~has,
        baseline_cost_sek=float(full[existing].sum() + cpv * v0.sum()),
    )
