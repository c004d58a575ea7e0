"""Does a plan meet every hard constraint of the full problem? Checked from the
decisions alone (brute-force nearest offices), not from the solver's values.

The optimisation works on truncated candidate lists (a relaxation): a plan
from a model that was not widened to the end may break the budget or another
rule when measured exactly. :func:`violations` says which, in words, so that
such a plan is never presented as a success.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance

__all__ = ["measure", "violations", "objective_of", "cost_of", "BUDGET_TOLERANCE_SEK"]

#: A budget is met when cost − allowance ≤ budget + this (floating-point sums of SEK).
BUDGET_TOLERANCE_SEK = 1.0
CLOSED, FLEXIBLE, KEPT = 0, 1, 2


def objective_of(inst: Instance, modes: list) -> float:
    """The objective of a plan (summed over stages), from the independent evaluator."""
    return measure(inst, modes)[1]


def cost_of(inst: Instance, modes: list) -> float:
    """Net cost of a plan summed over its stages (SEK per year): cost less the
    allowance it uses (what the budget rows bound), measured exactly."""
    return measure(inst, modes)[2]


def _n(count, one: str, other: str) -> str:
    """The words for a count: ``one`` when it is 1, else ``other``."""
    return one if int(count) == 1 else other


def violations(inst: Instance, modes: list) -> list[str]:
    """Every hard constraint the plan (one mode array per stage: 0 closed, 1
    flexible, 2 kept) breaks, in words; empty when it meets them all."""
    return measure(inst, modes)[0]


def measure(inst: Instance, modes: list) -> tuple[list[str], float, float]:
    """(violations, objective, net cost) of a plan, each stage's nearest offices found once."""
    from ..metrics import objective_value, offices_used

    out: list[str] = []
    ids = inst.office_ids
    existing = inst.existing_mask
    objective = 0.0
    net_cost = 0.0
    for s, m in enumerate(modes):
        m = np.asarray(m, np.int64)
        year = f"stage {s + 1}: " if inst.n_stages > 1 else ""
        is_open = m > 0
        if not is_open.any():
            out.append(f"{year}every office is closed")
            objective, net_cost = float("inf"), float("inf")
            continue
        near, dist, eq = offices_used(inst, m)
        objective += objective_value(inst, eq)
        visits = np.bincount(near, weights=inst.propensity * inst.g(eq), minlength=inst.n)
        fixed = np.where(m == KEPT, inst.fixed_full_sek, np.where(m == FLEXIBLE, inst.fixed_flex_sek, 0.0))
        cost = float(np.sum(np.where(is_open, fixed + inst.staff_per_visit_sek * visits, 0.0)))
        allowance = min(float(inst.allowances_sek[s]), float(np.sum(np.where(m == FLEXIBLE, inst.fixed_flex_sek, 0.0))))
        net_cost += cost - allowance
        if inst.budgets_sek[s] < 1e17 and cost - allowance > inst.budgets_sek[s] + BUDGET_TOLERANCE_SEK:
            out.append(f"{year}the budget is missed by {(cost - allowance - inst.budgets_sek[s]) / 1e6:.3f} MSEK")
        regions = inst.fa_regions_to_cover
        lost = np.setdiff1d(regions, np.unique(inst.fa_of_office[is_open]))
        if lost.size:
            out.append(f"{year}{lost.size} {_n(lost.size, 'FA-region', 'FA-regions')} with an office today {_n(lost.size, 'has', 'have')} none")
        if inst.keep_municipalities:
            munis = np.unique(inst.muni_of_office[existing])
            left = np.setdiff1d(munis, np.unique(inst.muni_of_office[is_open]))
            if left.size:
                out.append(f"{year}{left.size} municipality(ies) with an office today have none")
        closed = int(np.sum(~is_open & existing))
        if inst.max_closures is not None and closed > inst.max_closures:
            out.append(f"{year}{closed} {_n(closed, 'office', 'offices')} closed, more than max_closures = {inst.max_closures}")
        if inst.max_distance_m is not None:
            far = (inst.baseline_dist_m <= inst.max_distance_m) & (eq > inst.max_distance_m)  # a flexible office counts δ farther
            if far.any():
                out.append(f"{year}{int(far.sum())} {_n(int(far.sum()), 'demand point ends', 'demand points end')} up farther than the maximum distance")
        if inst.has_access_floor:
            from ..metrics import access_shares, floor_met

            shares = access_shares(inst, eq)  # a flexible office counts δ farther, as in the model
            below = ~floor_met(inst, shares)
            if below.any():
                where = "nationally" if inst.access_floor_scope == "national" else f"in {int(below.sum())} {_n(int(below.sum()), 'FA-region', 'FA-regions')}"
                out.append(f"{year}the access floor is missed {where}: {100 * float(np.nanmin(shares)):.2f} % within {inst.access_floor_m / 1000:g} km, "
                           f"not {100 * inst.access_floor_share:g} %")
        over = (m == FLEXIBLE) & (visits > inst.flex_capacity_visits + 1e-6)
        if over.any():
            out.append(f"{year}{_n(int(over.sum()), 'a flexible office', 'flexible offices')} over capacity: " + ", ".join(ids[i] for i in np.flatnonzero(over)))
        if inst.max_growth is not None:
            grown = existing & is_open & (visits > (1 + inst.max_growth) * inst.baseline_visits + 1e-3)
            if grown.any():
                out.append(f"{year}{_n(int(grown.sum()), 'an office grows', 'offices grow')} more than max_growth: " + ", ".join(ids[i] for i in np.flatnonzero(grown)))
        if (m[inst.lock_open_mask] != KEPT).any():
            out.append(f"{year}an office locked open is not kept")
        if (m[inst.lock_closed_mask] != CLOSED).any():
            out.append(f"{year}an office locked closed is open")
        if (m[~inst.flex_allowed_mask] == FLEXIBLE).any():
            out.append(f"{year}a flexible office where flexible offices are not allowed")
        if inst.open_count is not None and int(is_open.sum()) != inst.open_count:
            out.append(f"{year}{int(is_open.sum())} {_n(int(is_open.sum()), 'site', 'sites')} open, not {inst.open_count}")
    for s in range(1, len(modes)):
        a, b = np.asarray(modes[s - 1]), np.asarray(modes[s])
        if np.any((b > 0) & ~(a > 0)) or np.any((b == KEPT) & (a != KEPT)):
            out.append(f"stage {s + 1}: an office reopens or gets placed staff back")
    return out, objective, net_cost
