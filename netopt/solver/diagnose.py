"""Why a scenario has no plan: checks before solving, and the explanation after.

:func:`precheck` fails before any solve when the locks or the data make the
scenario impossible, naming the FA-regions, municipalities and offices.
:func:`explain_infeasible` runs when the solver proved the scenario
infeasible: it solves for the largest saving possible under the constraints
in force (without the budget), with the same optimisation loop and within the
caller's time limit, and says which cut cannot be met and which constraints
were in force. With an access floor it first solves for the highest floor
that can be met at the cut (:func:`max_floor`) and, when that is below the
floor asked, says so. Figures are exact when the solve was proven optimal and
are said to be bounds otherwise.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..errors import InfeasibleError
from ..instance import Prepared
from .loop import optimise
from .result import SolveStatus

__all__ = ["precheck", "explain_infeasible", "max_saving", "max_floor", "constraints_in_force", "floor_text"]


def _names(prep: Prepared) -> dict:
    return dict(zip(prep.network.fa_regions["fa_code"], prep.network.fa_regions["fa_name"]))


def constraints_in_force(prep: Prepared) -> list[str]:
    """The constraints of this scenario, in words (every infeasibility message names them)."""
    sc, inst = prep.scenario, prep.instance
    c = sc.constraints
    out = [f"every FA-region with an office today keeps one ({inst.fa_regions_to_cover.size} FA-regions, {prep.network.division_name})"]
    if not sc.modes.flexible:
        out.append("flexible offices switched off")
    else:
        out.append(f"a flexible office takes at most {inst.flex_capacity_visits:,.0f} visits a year".replace(",", " "))
    if c.lock_open:
        out.append(f"{len(c.lock_open)} {'office' if len(c.lock_open) == 1 else 'offices'} locked open ({', '.join(c.lock_open)})")
    if c.lock_closed:
        out.append(f"{len(c.lock_closed)} {'office' if len(c.lock_closed) == 1 else 'offices'} locked closed ({', '.join(c.lock_closed)})")
    if c.max_closures is not None:
        out.append(f"max_closures = {c.max_closures}")
    if c.max_distance_km is not None:
        out.append(f"max_distance_km = {c.max_distance_km:g}")
    if c.keep_municipalities:
        out.append("keep_municipalities: every municipality with an office today keeps one")
    if c.max_growth is not None:
        out.append(f"max_growth = {c.max_growth:g} (a receiving office grows by at most {100 * c.max_growth:g} %)")
    if inst.has_access_floor:
        out.append(floor_text(inst))
    if len(sc.stages) > 1:
        out.append(f"{len(sc.stages)} nested stages (an office closed stays closed; a flexible office gets no staff back)")
    return out


def floor_text(inst, share: float | None = None) -> str:
    """The access floor in words: "access floor: 90 % of the population within 30 km of an office (in every FA-region)"."""
    share = inst.access_floor_share if share is None else share
    where = "nationally" if inst.access_floor_scope == "national" else "in every FA-region"
    return f"access floor: {_pct(share)} of the population within {inst.access_floor_m / 1000:g} km of an office, {where}"


def _pct(share: float) -> str:
    """A share as a percentage with as many decimals as it has (90 %, 80.995 %)."""
    return f"{100 * share:.3f}".rstrip("0").rstrip(".") + " %"


def _floor_pct_down(share: float) -> str:
    """A highest share, rounded down to 0.001 % (so that "at most" stays true)."""
    return f"{math.floor(100000 * share + 1e-9) / 1000:.3f} %"


def precheck(prep: Prepared) -> None:
    """Raise :class:`InfeasibleError` before solving when the scenario cannot be met, naming why."""
    net, sc, inst = prep.network, prep.scenario, prep.instance
    names = _names(prep)
    off = net.offices
    existing = inst.existing_mask
    problems: dict = {}
    parts: list[str] = []
    if sc.constraints.require_all_fa_regions:
        missing = net.fa_regions_without_office()
        if missing:
            problems["fa_regions_without_any_office"] = [f"{code} {names[code]}" for code in missing]
            parts.append("FA-regions with no office in the register (require_all_fa_regions = true): " + ", ".join(problems["fa_regions_without_any_office"]))
    locked = inst.lock_closed_mask
    blocked = []
    for fa, grp in off.groupby("fa_code", sort=True):
        rows = grp.index.to_numpy()
        if existing[rows].any() and locked[rows].all():
            blocked.append(f"{fa} {names.get(fa, '')}")
    if blocked:
        problems["fa_regions_with_every_office_locked_closed"] = blocked
        parts.append("FA-regions whose every office is locked closed: " + ", ".join(blocked))
    if sc.constraints.keep_municipalities:
        stuck = []
        for code, grp in off.groupby("municipality_code", sort=True):
            rows = grp.index.to_numpy()
            if existing[rows].any() and locked[rows].all():
                stuck.append(f"{code} {grp['municipality'].iloc[0]}")
        if stuck:
            problems["municipalities_with_every_office_locked_closed"] = stuck
            parts.append("keep_municipalities is on, but every office of these municipalities is locked closed: " + ", ".join(stuck))
    if inst.has_access_floor:
        # the most any plan can reach: every office open that is not locked closed (candidate sites included)
        from ..metrics import access_shares, floor_met

        best = access_shares(inst, inst.nearest_open(~locked)[1]) if (~locked).any() else np.zeros(inst.floor_groups()[1])
        below = np.flatnonzero(~floor_met(inst, best))
        if below.size:
            highest = float(np.nanmin(best))
            if inst.access_floor_scope == "national":
                where = "nationally"
                problems["access_floor_unreachable"] = {"highest_share": highest}
            else:
                fa_codes = sorted(net.fa_regions["fa_code"])
                regions = [f"{fa_codes[g]} {names.get(fa_codes[g], '')} ({_floor_pct_down(best[g])})" for g in below]
                where = "in these FA-regions: " + ", ".join(regions)
                problems["access_floor_unreachable"] = {"highest_share": highest, "fa_regions": regions}
            parts.append(f"the access floor ({_pct(inst.access_floor_share)} within {inst.access_floor_m / 1000:g} km) cannot be met even with every office open "
                         f"that is not locked closed, {where}; the highest floor any plan can meet is {_floor_pct_down(highest)}. "
                         "Fix: lower access_floor_share, raise access_floor_km" + (", or use access_floor_scope = \"national\"" if inst.access_floor_scope == "fa_region" else ""))
    closures = int((locked & existing).sum())
    if sc.constraints.max_closures is not None and closures > sc.constraints.max_closures:
        problems["locked_closed_exceeds_max_closures"] = {"locked_closed": closures, "max_closures": sc.constraints.max_closures}
        parts.append(f"{closures} {'office is' if closures == 1 else 'offices are'} locked closed but max_closures is {sc.constraints.max_closures}")
    if problems:
        raise InfeasibleError("the scenario cannot be met: " + "; ".join(parts), {"status": "INFEASIBLE", **problems})


def _n(count, one: str, other: str) -> str:
    """The words for a count: ``one`` when it is 1, else ``other``."""
    return one if int(count) == 1 else other


def max_saving(prep: Prepared, stage: int, *, cover_fa: bool = True, deadline: float | None = None) -> tuple[float | None, bool]:
    """The largest saving (MSEK per year, allowance included) of one stage's year
    under the scenario's other constraints (no budget), and whether it is proven
    (``False``: the value is an upper bound, the time limit stopped the proof).
    ``(None, True)`` when no plan meets the constraints even without a budget."""
    inst = prep.instance
    relaxed = inst.with_(budgets_sek=(1e18,), allowances_sek=(inst.allowances_sek[stage],), cover_fa=cover_fa and inst.cover_fa)
    settings = prep.scenario.solver
    opt = optimise(relaxed, settings.__class__(**{**_plain(settings), "tie_break": False, "relative_gap": 0.0}),
                   objective="cost", deadline=deadline)
    baseline = prep.costs.baseline_cost_sek
    if opt.status == SolveStatus.INFEASIBLE:
        return None, True
    if opt.status == SolveStatus.OPTIMAL:
        return (baseline - opt.objective) / 1e6, True  # the cheapest plan's net cost, measured exactly
    if opt.bound is None:
        return None, False
    return (baseline - opt.bound) / 1e6, False


def max_floor(prep: Prepared, *, deadline: float | None = None) -> tuple[float | None, bool]:
    """The highest access floor (share of the population within ``access_floor_km``
    of an office, nationally or in the worst FA-region) that a plan can meet under
    every other constraint of the scenario, budgets included, and whether it is
    proven (``False``: the value is an upper bound). ``(None, True)`` when no plan
    meets the other constraints. One solve of the ``"floor"`` objective."""
    inst = prep.instance
    relaxed = inst.with_(access_floor_share=None)
    settings = prep.scenario.solver
    opt = optimise(relaxed, settings.__class__(**{**_plain(settings), "tie_break": False, "relative_gap": 0.0}), objective="floor", deadline=deadline)
    if opt.status == SolveStatus.INFEASIBLE:
        return None, True
    if opt.status == SolveStatus.OPTIMAL:
        return -opt.objective, True  # the plan's lowest share, measured exactly
    if opt.bound is None:
        return None, False
    return min(1.0, -opt.bound), False


def _plain(settings) -> dict:
    from dataclasses import fields

    return {f.name: getattr(settings, f.name) for f in fields(settings)}


def _msek(value: float, against: float) -> str:
    """An upper bound on a saving, in MSEK, rounded up (so that "at most" stays true)
    with as many decimals as it takes not to look equal to ``against``."""
    for digits in (1, 2, 3):
        up = math.ceil(value * 10**digits - 1e-9) / 10**digits
        if up < against or value >= against or digits == 3:
            return f"{up:.{digits}f}"
    return f"{value:.3f}"


def explain_infeasible(prep: Prepared, deadline: float | None = None) -> InfeasibleError:
    """An :class:`InfeasibleError` saying which cut cannot be met, with the largest
    saving possible and the constraints in force (its solves share ``deadline``)."""
    sc = prep.scenario
    deadline = deadline if deadline is not None else time.perf_counter() + min(sc.solver.time_limit_s, 60.0)
    force = constraints_in_force(prep)
    info: dict = {"status": "INFEASIBLE", "constraints_in_force": force}
    inst = prep.instance
    if inst.has_access_floor:
        highest, proven = max_floor(prep, deadline=deadline)
        if highest is not None and highest < inst.access_floor_share - 1e-9:
            info.update({"access_floor_share": inst.access_floor_share, "highest_access_floor_share": highest, "highest_access_floor_proven": proven})
            msg = (f"the access floor cannot be met at this cut: at most {_floor_pct_down(highest)} of the population "
                   + ("" if inst.access_floor_scope == "national" else "of every FA-region ")
                   + f"can be within {inst.access_floor_m / 1000:g} km of an office"
                   + ("" if proven else " (an upper bound: the time limit stopped before the highest floor was proven)")
                   + f", but the scenario asks for {_pct(inst.access_floor_share)}. Constraints in force: " + "; ".join(force)
                   + f". Fix: lower access_floor_share to {math.floor(100000 * highest + 1e-9) / 100000:.5f} or less, raise access_floor_km, or lower cut_msek")
            return InfeasibleError(msg, info)
    allowances = {}
    short = []
    for s, st in enumerate(sc.stages):
        key = st.flexible_allowance_msek
        if key not in allowances:
            allowances[key] = max_saving(prep, s, deadline=deadline)
        best, proven = allowances[key]
        if best is None and not proven:
            info["max_saving_msek"] = None
            return InfeasibleError("the solver proved the scenario infeasible, but the time limit stopped the search for the largest saving "
                                   "before any plan was found. Constraints in force: " + "; ".join(force)
                                   + ". Fix: raise solver.time_limit_s to get the explanation, or lower cut_msek", info)
        if best is None:
            msg = ("no plan meets the constraints in force even without a budget cut: " + "; ".join(force)
                   + ". Fix: relax the locks or the constraints")
            info["max_saving_msek"] = None
            return InfeasibleError(msg, info)
        if best + 1e-9 < st.cut_msek:
            short.append((st, best, proven))
    if short:
        st, best, proven = max(short, key=lambda t: t[0].cut_msek - t[1])
        info.update({"stage_year": st.year, "target_cut_msek": st.cut_msek, "max_saving_msek": best, "max_saving_proven": proven})
        inst = prep.instance
        off = prep.network.offices[inst.existing_mask]
        counts = off.groupby("fa_code").size()
        names = _names(prep)
        single = [f"{code} {names.get(code, '')}" for code in counts.index[counts == 1]]
        without, w_proven = max_saving(prep, sc.stages.index(st), cover_fa=False, deadline=deadline)
        info["fa_regions_with_a_single_office"] = single
        info["max_saving_without_fa_requirement_msek"] = without
        at_most = _msek(best, st.cut_msek)
        msg = (
            f"the cut of {st.year} cannot be met: at most {at_most} MSEK per year can be saved (allowance included)"
            + ("" if proven else " (an upper bound: the time limit stopped before the largest saving was proven)")
            + f", but the scenario asks for {st.cut_msek:.1f} MSEK. Constraints in force: " + "; ".join(force)
            + (f". Without the FA-region requirement up to {_msek(without, st.cut_msek)} MSEK could be saved"
               + ("" if w_proven else " (a bound)") + f"; {len(single)} {_n(len(single), 'FA-region has', 'FA-regions have')} a single office, which can at most become flexible"
               if without is not None else "")
            + ". Fix: lower cut_msek, allow flexible offices, or relax locks and constraints"
        )
        return InfeasibleError(msg, info)
    msg = ("each year's cut can be met on its own, but not all together under the constraints in force: " + "; ".join(force)
           + ". Fix: relax the stages' cuts, max_growth or the locks")
    info["max_saving_msek_by_year"] = {st.year: allowances[st.flexible_allowance_msek][0] for st in sc.stages}
    return InfeasibleError(msg, info)
