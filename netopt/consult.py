"""Decision support for consultations: what keeping an office would cost, the
price of the planner's locks, near-optimal alternatives, and what a plan
written by hand breaks.

Before SSC closes an office it consults the municipality, the region and the
county board. Their first question is "what would it take to keep our
office?", the second "what else could you have done?". This module answers
them from a solved :class:`~netopt.plan.Plan`:

* :func:`keep_costs`: for every office the plan closes or turns flexible, the
  best plan at the same cut that keeps it (a re-solve with the office locked
  open, started from the plan with the office kept), and the money that would
  keep it with nothing else changed;
* :func:`lock_price`: the same scenario solved without the planner's locks
  (started from the plan, which stays feasible);
* :func:`alternatives`: up to N plans, each differing from the optimum and from
  each other in which offices are kept, within a share of the optimum, best
  first (no-good rows on the kept offices of the last stage);
* :func:`plan_breaks`: every hard constraint a plan breaks, by name (for
  ``netopt evaluate``).

Every re-solve goes through the solver layer (:func:`netopt.solver.optimise`,
widening, warm starts, tie-break) on the plan's own instance with one change;
its status, bound and gap are kept with its figures, and figures come from the
independent evaluator. A sequence of re-solves shares one deadline.
Results are frozen dataclasses holding DataFrames; :mod:`netopt.tables` turns
them into the outputs.
"""

from __future__ import annotations

import math
import time
from typing import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .metrics import CLOSED, FLEXIBLE, KEPT, access_shares, evaluate_stage, floor_met, mean_km_difference, ratio
from .model import ModelParts, access_at_most
from .plan import EVALUATED, MODE_NAMES, Plan, plan_from_optimum
from .solver import SolveStatus, optimise
from .solver.verify import BUDGET_TOLERANCE_SEK

__all__ = [
    "LockPrice", "KeepCosts", "Alternatives", "Consultation", "Break",
    "lock_price", "keep_costs", "alternatives", "consult", "plan_breaks", "exclude_kept_sets",
    "KEEP_COST_COLUMNS", "ALTERNATIVE_COLUMNS", "MATERIAL_WITHIN",
]

#: Columns of ``keep_costs.csv``, in order.
KEEP_COST_COLUMNS = (
    "office_id", "office_name", "municipality", "decision", "changed_in", "status", "gap", "objective", "objective_if_kept",
    "delta_objective", "mean_km", "mean_km_if_kept", "delta_mean_km", "offices_changed", "changes_instead",
    "cut_smaller_by_msek", "mean_km_kept_alone",
)
#: Columns of ``alternatives.csv``, in order.
ALTERNATIVE_COLUMNS = (
    "rank", "status", "gap", "objective", "gap_to_optimum", "mean_km", "delta_mean_km", "savings_msek", "flexible_allowance_used_msek", "offices_closed", "offices_flexible",
    "closed", "flexible", "differs_from_optimum", "folder",
)
#: The share of the optimum within which the report counts the materially different plans (1 %).
MATERIAL_WITHIN = 0.01


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class LockPrice:
    """What the planner's locks cost: the scenario solved with and without them.

    ``locks``: one row per locked office (``office_id, office_name,
    municipality, lock`` (``"open"``/``"closed"``), ``decision`` in the plan,
    ``decision_without``: in the plan without locks, empty if that re-solve
    found no plan). ``objective_*`` in the scenario's objective unit (summed
    over stages), ``mean_km_*`` the last stage's population-weighted mean
    distance (km). ``status``/``gap``/``seconds`` are the re-solve's;
    ``objective_without`` is None when it found no plan. ``offices_changed``:
    IDs whose last-stage decision differs between the two plans.
    """

    locks: pd.DataFrame
    objective_with: float
    mean_km_with: float
    objective_without: float | None
    mean_km_without: float | None
    status: str
    gap: float | None
    bound: float | None
    seconds: float
    offices_changed: tuple = ()
    population: int = 1  # inhabitants the mean distances are over (for delta_mean_km)

    @property
    def delta_objective(self) -> float | None:
        return None if self.objective_without is None else self.objective_with - self.objective_without

    @property
    def delta_mean_km(self) -> float | None:
        return None if self.mean_km_without is None else mean_km_difference(self.mean_km_with, self.mean_km_without, self.population)


@dataclass(frozen=True, eq=False)
class KeepCosts:
    """What keeping each office the plan closes or turns flexible would cost.

    ``table`` has the columns :data:`KEEP_COST_COLUMNS`, one row per office
    (order: the smallest ``delta_objective`` first, offices that cannot be kept
    last): ``objective_if_kept`` is the objective of the best plan at the same
    cut that keeps the office with placed staff in every stage (a re-solve with
    the office locked open; ``status`` and ``gap`` are that re-solve's: OPTIMAL
    is proven, INFEASIBLE means no plan keeps it at this cut, NO_PLAN that the
    time ran out), ``delta_objective`` and ``delta_mean_km`` its difference
    from the plan (last stage's mean distance, km), ``offices_changed`` how
    many other offices are decided otherwise and ``changes_instead`` which
    (``"Name: keep → close"``, "; "-separated). ``cut_smaller_by_msek`` is the
    money that would keep the office with nothing else changed: the plan with
    only this office kept misses its budget by this much (MSEK per year, the
    largest over the stages; 0 when it still meets it), with
    ``mean_km_kept_alone`` its mean distance. ``seconds``: the time of all
    re-solves (not in the table, so that the file is the same on every run).
    ``skipped``: offices not re-solved and why (locked closed by the planner).
    """

    table: pd.DataFrame
    seconds: float
    skipped: tuple = ()


@dataclass(frozen=True, eq=False)
class Alternatives:
    """Near-optimal plans that differ from the optimum in which offices are kept.

    ``table`` has the columns :data:`ALTERNATIVE_COLUMNS`, one row per
    alternative, best first (rank 1, 2, …): ``objective`` and its
    ``gap_to_optimum`` (share above the optimum's objective), ``mean_km`` and
    ``delta_mean_km`` (last stage), ``savings_msek``, ``closed`` and
    ``flexible`` (office IDs, "; "-separated), ``differs_from_optimum``
    (``"+id"`` kept here and not in the optimum, ``"-id"`` the reverse),
    ``status``/``gap`` of the solve that found it (OPTIMAL: proven the best plan
    that differs from the optimum and the earlier alternatives), ``folder``.
    ``plans`` holds each alternative's :class:`~netopt.plan.Plan`.
    ``within`` is the share asked, ``n`` the number asked; ``exhausted`` is
    True when a solve proved that no further plan lies within ``within`` (so
    the table holds all of them), ``stopped`` says why the search ended.
    """

    table: pd.DataFrame
    plans: tuple
    within: float
    n: int
    exhausted: bool
    stopped: str
    seconds: float

    def count_within(self, share: float = MATERIAL_WITHIN) -> tuple[int, bool]:
        """(number of alternatives within ``share`` of the optimum, whether that count is
        complete). Complete when the search proved there are no more within
        ``self.within`` ≥ ``share``, or when an alternative beyond ``share`` was
        found (alternatives come best first)."""
        t = self.table
        k = int((t["gap_to_optimum"] <= share + 1e-12).sum())
        complete = (self.exhausted and self.within >= share - 1e-12) or k < len(t)
        return k, complete


@dataclass(frozen=True, eq=False)
class Consultation:
    """What a consultation asks of a plan, each part None when not computed."""

    lock_price: LockPrice | None = None
    keep_costs: KeepCosts | None = None
    alternatives: Alternatives | None = None


@dataclass(frozen=True)
class Break:
    """One hard constraint a plan breaks in one stage.

    ``kind``: ``"every_office_closed"``, ``"budget"``, ``"fa_region"``,
    ``"municipality"``, ``"max_closures"``, ``"max_distance"``,
    ``"access_floor"``, ``"flexible_capacity"``, ``"growth"``, ``"lock_open"``,
    ``"lock_closed"``, ``"flexible_not_allowed"``, ``"open_count"`` or
    ``"nesting"``; ``year`` the stage's; ``text`` the break in English with its
    figures; ``items`` the FA-regions (``"code name"``), municipalities or
    offices concerned, by name, with ``details`` a figure per item where one
    tells more (the share within the floor, the visits of a flexible office,
    the growth); ``values`` the figures of the text, for other languages.
    """

    kind: str
    year: int
    text: str
    items: tuple = ()
    details: tuple = ()
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "year": self.year, "text": self.text, "items": list(self.items), "details": list(self.details), "values": dict(self.values)}


# --------------------------------------------------------------------------- helpers


def _deadline(plan: Plan, deadline: float | None) -> float:
    return deadline if deadline is not None else time.perf_counter() + plan.scenario.solver.time_limit_s


def _last_mean_km(inst, modes) -> float:
    return float(evaluate_stage(inst, modes[-1], len(modes) - 1).metrics["population_mean_distance_km"])


def _names(plan: Plan) -> np.ndarray:
    return plan.prepared.network.offices["office_name"].to_numpy()


def _word(mode: int, existing: bool) -> str:
    return MODE_NAMES[int(mode)] if existing or mode > 0 else "not opened"


def _changes(plan: Plan, base: np.ndarray, other: np.ndarray, skip: int | None = None) -> tuple[list[int], str]:
    """Offices decided otherwise in ``other`` than in ``base`` (last stage), and the text
    ``"Name: keep → close; …"`` (sorted by office ID)."""
    ex = plan.prepared.instance.existing_mask
    names = _names(plan)
    idx = [int(i) for i in np.flatnonzero(base != other) if i != skip]
    text = "; ".join(f"{names[i]}: {_word(base[i], ex[i])} → {_word(other[i], ex[i])}" for i in idx)
    return idx, text


def _objective_gap(objective: float, optimum: float) -> float:
    """Share by which ``objective`` lies above ``optimum``: one division of the two integers
    when both are whole (inhabitant-metres, inhabitants), so the share is correctly rounded."""
    if float(objective).is_integer() and float(optimum).is_integer() and optimum != 0:
        return ratio(int(objective) - int(optimum), abs(int(optimum)))
    return (objective - optimum) / max(abs(optimum), 1e-9)


def _gap(opt) -> float | None:
    return None if opt.gap is None else float(opt.gap)


# --------------------------------------------------------------------------- the price of the locks


def lock_price(plan: Plan, *, deadline: float | None = None) -> LockPrice | None:
    """The plan's scenario solved without its locks (``lock_open``, ``lock_closed``):
    objective and mean distance with and without them. None when the scenario
    has no locks. The re-solve starts from the plan (it stays feasible without
    the locks), through the solver layer, within ``deadline`` (default: now +
    the scenario's time limit)."""
    c = plan.scenario.constraints
    if not c.lock_open and not c.lock_closed:
        return None
    deadline = _deadline(plan, deadline)
    prep = plan.prepared
    inst = prep.instance
    free = inst.with_(lock_open=np.zeros(inst.n, bool), lock_closed=np.zeros(inst.n, bool))
    modes = tuple(st.modes for st in plan.stages)
    t0 = time.perf_counter()
    opt = optimise(free, plan.scenario.solver, start=modes, deadline=deadline)
    seconds = time.perf_counter() - t0
    off = prep.network.offices
    ids = list(inst.office_ids)
    rows = []
    for lock, group in (("open", c.lock_open), ("closed", c.lock_closed)):
        for oid in group:
            i = ids.index(oid)
            rows.append({"office_id": oid, "office_name": off.at[i, "office_name"], "municipality": off.at[i, "municipality"], "lock": lock,
                         "decision": _word(modes[-1][i], inst.existing_mask[i]),
                         "decision_without": _word(opt.modes[-1][i], inst.existing_mask[i]) if opt.modes is not None else ""})
    locks = pd.DataFrame(rows, columns=["office_id", "office_name", "municipality", "lock", "decision", "decision_without"])
    with_km = _last_mean_km(inst, modes)
    if not opt.status.has_plan:
        return LockPrice(locks=locks, objective_with=plan.objective, mean_km_with=with_km, objective_without=None, mean_km_without=None,
                         status=str(opt.status), gap=None, bound=opt.bound, seconds=seconds)
    changed, _ = _changes(plan, modes[-1], opt.modes[-1])
    return LockPrice(locks=locks, objective_with=plan.objective, mean_km_with=with_km, objective_without=float(opt.objective),
                     mean_km_without=_last_mean_km(inst, opt.modes), status=str(opt.status), gap=_gap(opt), bound=opt.bound, seconds=seconds,
                     offices_changed=tuple(ids[i] for i in changed), population=int(inst.population.sum()))


# --------------------------------------------------------------------------- what keeping an office would cost


def _kept_alone(plan: Plan, i: int) -> tuple[float, float]:
    """The plan with only office ``i`` kept: (how much it misses its budget by, MSEK per
    year, the largest over the stages; 0 if it meets it), and its last-stage mean km."""
    inst = plan.prepared.instance
    short = 0.0
    km = float("nan")
    for s, st in enumerate(plan.stages):
        m = st.modes.copy()
        m[i] = KEPT
        r = evaluate_stage(inst, m, s)
        net = r.metrics["cost_msek"] - r.metrics["flexible_allowance_used_msek"]
        short = max(short, round(net - r.metrics["budget_msek"], 6))  # to the krona, as the figures it is made of
        km = r.metrics["population_mean_distance_km"]
    return (short if short * 1e6 > BUDGET_TOLERANCE_SEK else 0.0), km


def keep_costs(plan: Plan, *, offices=None, deadline: float | None = None) -> KeepCosts:
    """For every office the plan closes or turns flexible (or those in ``offices``,
    by ID), the best plan at the same cut that keeps it, and the money that would
    keep it with nothing else changed (:class:`KeepCosts`).

    Each row is a re-solve of the plan's instance with the office locked open
    (placed staff in every stage), started from the plan with the office kept,
    through the solver layer; all share ``deadline`` (default: now + the
    scenario's time limit), and a row the time did not reach says NO_PLAN.
    Offices locked closed by the planner are skipped (see :func:`lock_price`).

    Raises:
      ValueError: ``offices`` names an office the plan keeps or does not know.
    """
    deadline = _deadline(plan, deadline)
    prep = plan.prepared
    inst = prep.instance
    ids = list(inst.office_ids)
    modes = tuple(st.modes for st in plan.stages)
    last = modes[-1]
    candidates = [i for i in range(inst.n) if inst.existing_mask[i] and last[i] != KEPT]
    if offices is not None:
        wanted = list(offices)
        unknown = [o for o in wanted if o not in ids]
        kept = [o for o in wanted if o in ids and ids.index(o) not in candidates]
        if unknown or kept:
            raise ValueError(f"keep_costs: {', '.join(unknown + kept)} " + ("is not an office of the plan" if unknown else "is kept by the plan (or a candidate site)"))
        candidates = [ids.index(o) for o in wanted]
    locked_closed = inst.lock_closed_mask
    skipped = tuple((ids[i], "locked closed by the planner") for i in candidates if locked_closed[i])
    off = prep.network.offices
    base_km = _last_mean_km(inst, modes)
    changed_in = {}
    if len(modes) > 1:
        years = [s.year for s in plan.scenario.stages]
        for i in candidates:
            changed_in[i] = next(years[s] for s in range(len(modes)) if modes[s][i] != KEPT)
    else:
        changed_in = {i: plan.scenario.stages[-1].year for i in candidates}
    rows = []
    t_all = time.perf_counter()
    for i in candidates:
        if locked_closed[i]:
            continue
        row = {"office_id": ids[i], "office_name": off.at[i, "office_name"], "municipality": off.at[i, "municipality"],
               "decision": _word(last[i], True), "changed_in": changed_in[i], "objective": plan.objective, "mean_km": base_km}
        row["cut_smaller_by_msek"], row["mean_km_kept_alone"] = _kept_alone(plan, i)
        if time.perf_counter() >= deadline:
            row.update(status=str(SolveStatus.NO_PLAN))
            rows.append(row)
            continue
        lock = inst.lock_open_mask.copy()
        lock[i] = True
        start = []
        for m in modes:
            m = m.copy()
            m[i] = KEPT
            start.append(m)
        opt = optimise(inst.with_(lock_open=lock), plan.scenario.solver, start=tuple(start), deadline=deadline)
        row["status"] = str(opt.status)
        if opt.status.has_plan:
            changed, text = _changes(plan, last, opt.modes[-1], skip=i)
            row.update(gap=_gap(opt), objective_if_kept=float(opt.objective), delta_objective=float(opt.objective) - plan.objective,
                       mean_km_if_kept=_last_mean_km(inst, opt.modes), offices_changed=len(changed), changes_instead=text)
            row["delta_mean_km"] = mean_km_difference(row["mean_km_if_kept"], base_km, int(inst.population.sum()))
        rows.append(row)
    t = pd.DataFrame(rows, columns=list(KEEP_COST_COLUMNS))
    t["offices_changed"] = t["offices_changed"].astype("Int64")
    t["changed_in"] = t["changed_in"].astype("Int64")
    t["changes_instead"] = t["changes_instead"].fillna("").astype(str)
    t = t.sort_values(["delta_objective", "office_id"], na_position="last", kind="mergesort").reset_index(drop=True)
    return KeepCosts(table=t, seconds=time.perf_counter() - t_all, skipped=skipped)


# --------------------------------------------------------------------------- near-optimal alternatives


def exclude_kept_sets(kept_sets) -> Callable[[ModelParts], None]:
    """A constraint family (see :class:`netopt.model.ModelParts`): in the last stage,
    the set of offices kept with placed staff differs from every set in
    ``kept_sets`` (bool arrays per office) by at least one office:
    Σ_{i∈K} (1 − y_i) + Σ_{i∉K} y_i ≥ 1 for every excluded set K (a "no-good" row).
    Turning a closed office flexible instead does not make a plan different."""
    kept_sets = [np.asarray(k, bool) for k in kept_sets]

    def family(p: ModelParts) -> None:
        y = p.y[p.S - 1]
        for k in kept_sets:
            p.add_rows(1, 1.0 - float(k.sum()), np.inf, (np.zeros(p.n, np.int64), y, np.where(k, -1.0, 1.0)))

    family.needs_exact_distances = False
    return family


def alternatives(plan: Plan, n: int, within: float, *, deadline: float | None = None) -> Alternatives:
    """Up to ``n`` plans that differ from ``plan`` (the optimum) and from each other in
    which offices are kept with placed staff in the last stage, each with an
    objective at most ``within`` (a share: 0.01 = 1 %) above the plan's, best first.

    Alternative k is the best plan (through the solver layer, with its own status
    and gap) under the scenario's constraints, an objective bound of
    (1 + within) × the plan's objective, and one no-good row
    (:func:`exclude_kept_sets`) per plan found before it. The search ends at ``n``
    plans, when a solve proves no further plan lies within the bound, or at
    ``deadline`` (default: now + the scenario's time limit).

    Raises:
      ValueError: ``n`` < 1, ``within`` < 0, or a plan that is not optimised.
    """
    if n < 1 or within < 0 or not math.isfinite(within):
        raise ValueError(f"alternatives: n must be at least 1 and within a share ≥ 0, not n={n}, within={within}")
    if plan.status == EVALUATED:
        raise ValueError("alternatives: the plan must come from netopt.solve (an evaluated plan has no optimum to compare with)")
    deadline = _deadline(plan, deadline)
    prep = plan.prepared
    inst = prep.instance
    ids = list(inst.office_ids)
    base = tuple(st.modes for st in plan.stages)
    integer = inst.objective in ("distance", "coverage")
    limit = plan.objective + abs(plan.objective) * within
    limit = math.floor(limit + 1e-9) if integer else limit
    found = [base[-1] == KEPT]
    plans, rows = [], []
    exhausted, stopped = False, f"{n} {_n(n, 'alternative', 'alternatives')} found"
    base_km = _last_mean_km(inst, base)
    t_all = time.perf_counter()
    while len(plans) < n:
        if time.perf_counter() >= deadline:
            stopped = "the time limit ended the search"
            break
        opt = optimise(inst, plan.scenario.solver, extra=(exclude_kept_sets(found), access_at_most(limit + (0.5 if integer else 0.0))), deadline=deadline)
        if opt.status == SolveStatus.INFEASIBLE:
            exhausted, stopped = True, f"no further plan lies within {100 * within:g} % of the optimum (proven)"
            break
        if not opt.status.has_plan:
            stopped = "the time limit ended the search"
            break
        if opt.objective > limit + 1e-6 * max(1.0, abs(limit)):  # only if the time stopped the widening
            stopped = "the time limit ended the search (the last plan found was not measured within the bound)"
            break
        rank = len(plans) + 1
        alt = plan_from_optimum(prep, opt)
        note = (f"alternative {rank}: the best plan that keeps a different set of offices than the optimum"
                + (f" and alternatives 1–{rank - 1}" if rank > 2 else " and alternative 1" if rank == 2 else "")
                + f"; {100 * (alt.objective - plan.objective) / max(abs(plan.objective), 1e-9):.3f} % above the optimum's objective")
        alt = replace(alt, phase=f"alternative {rank}", notes=(note, *alt.notes))
        last = opt.modes[-1]
        found.append(last == KEPT)
        plans.append(alt)
        plus = [f"+{ids[i]}" for i in np.flatnonzero((last == KEPT) & (base[-1] != KEPT))]
        minus = [f"-{ids[i]}" for i in np.flatnonzero((last != KEPT) & (base[-1] == KEPT))]
        rows.append({
            "rank": rank, "status": str(opt.status), "gap": _gap(opt), "objective": alt.objective,
            "gap_to_optimum": _objective_gap(alt.objective, plan.objective),
            "mean_km": _last_mean_km(inst, opt.modes), "savings_msek": alt.final.metrics["savings_msek"],
            "flexible_allowance_used_msek": alt.final.metrics["flexible_allowance_used_msek"],
            "offices_closed": int(((last == CLOSED) & inst.existing_mask).sum()), "offices_flexible": int((last == FLEXIBLE).sum()),
            "closed": "; ".join(ids[i] for i in np.flatnonzero((last == CLOSED) & inst.existing_mask)),
            "flexible": "; ".join(ids[i] for i in np.flatnonzero(last == FLEXIBLE)),
            "differs_from_optimum": "; ".join(sorted(plus + minus, key=lambda x: x[1:])), "folder": f"alternatives/alt-{rank}",
        })
        rows[-1]["delta_mean_km"] = mean_km_difference(rows[-1]["mean_km"], base_km, int(inst.population.sum()))
    t = pd.DataFrame(rows, columns=list(ALTERNATIVE_COLUMNS))
    return Alternatives(table=t, plans=tuple(plans), within=within, n=n, exhausted=exhausted, stopped=stopped, seconds=time.perf_counter() - t_all)


# --------------------------------------------------------------------------- all of it


def consult(plan: Plan, *, explain: bool = False, n_alternatives: int = 0, within: float = MATERIAL_WITHIN, time_limit_s: float | None = None) -> Consultation:
    """What a consultation asks of ``plan``: the price of its locks (when it has
    any), with ``explain`` what keeping each office would cost, with
    ``n_alternatives`` > 0 that many near-optimal alternatives within ``within``
    (a share). All re-solves share one time limit (default: the scenario's)."""
    if plan.status == EVALUATED:
        return Consultation()
    deadline = time.perf_counter() + (plan.scenario.solver.time_limit_s if time_limit_s is None else time_limit_s)
    return Consultation(
        lock_price=lock_price(plan, deadline=deadline),
        keep_costs=keep_costs(plan, deadline=deadline) if explain else None,
        alternatives=alternatives(plan, n_alternatives, within, deadline=deadline) if n_alternatives > 0 else None,
    )


# --------------------------------------------------------------------------- what a plan breaks


def _n(count, one: str, other: str) -> str:
    """The words for a count: ``one`` when it is 1, else ``other``."""
    return one if int(count) == 1 else other


def plan_breaks(plan: Plan) -> list[Break]:
    """Every hard constraint the plan breaks, stage by stage, with the FA-regions,
    municipalities and offices concerned by name (empty for a plan that meets them
    all). The same rules as :func:`netopt.solver.verify.violations`, which
    a test keeps in step."""
    prep = plan.prepared
    inst = prep.instance
    net = prep.network
    off = net.offices
    names = off["office_name"].to_numpy()
    fa_codes = sorted(net.fa_regions["fa_code"])
    fa_names = dict(zip(net.fa_regions["fa_code"], net.fa_regions["fa_name"]))
    existing = inst.existing_mask
    out: list[Break] = []
    years = [s.year for s in plan.scenario.stages]
    for s, st in enumerate(plan.stages):
        year = years[s]
        m = np.asarray(st.modes)
        is_open = m > 0
        met = st.metrics
        if not is_open.any():
            out.append(Break("every_office_closed", year, "every office is closed"))
            continue
        if inst.budgets_sek[s] < 1e17 and not met["meets_budget"]:
            short = met["cost_msek"] - met["flexible_allowance_used_msek"] - met["budget_msek"]
            values = {"cut": plan.scenario.stages[s].cut_msek, "saving": met["savings_msek"], "allowance": met["flexible_allowance_used_msek"], "short": short}
            out.append(Break("budget", year, f"the cut of {values['cut']:g} MSEK is not met: the plan saves {values['saving']:.1f} MSEK "
                             f"+ {values['allowance']:.1f} MSEK allowance, {short:.1f} MSEK short", values=values))
        lost = np.setdiff1d(inst.fa_regions_to_cover, np.unique(inst.fa_of_office[is_open]))
        if lost.size:
            items = tuple(f"{fa_codes[g]} {fa_names.get(fa_codes[g], '')}" for g in lost)
            out.append(Break("fa_region", year, f"{lost.size} {_n(lost.size, 'FA-region', 'FA-regions')} with an office today {_n(lost.size, 'is', 'are')} left without one: " + ", ".join(items), items))
        if inst.keep_municipalities:
            munis = np.unique(inst.muni_of_office[existing])
            left = np.setdiff1d(munis, np.unique(inst.muni_of_office[is_open]))
            if left.size:
                items = tuple(sorted({str(off.at[int(np.flatnonzero(inst.muni_of_office == mu)[0]), "municipality"]) for mu in left}))
                out.append(Break("municipality", year, "keep_municipalities: municipalities left without an office: " + ", ".join(items), items))
        closed = int(np.sum(~is_open & existing))
        if inst.max_closures is not None and closed > inst.max_closures:
            out.append(Break("max_closures", year, f"{closed} {_n(closed, 'office', 'offices')} closed, more than max_closures = {inst.max_closures}",
                             values={"closed": closed, "limit": inst.max_closures}))
        if inst.max_distance_m is not None:
            far = (inst.baseline_dist_m <= inst.max_distance_m) & (st.dist_m > inst.max_distance_m)
            if far.any():
                values = {"people": int(inst.population[far].sum()), "points": int(far.sum()), "km": inst.max_distance_m / 1000}
                out.append(Break("max_distance", year, f"{values['people']} inhabitants ({values['points']} demand points) end up farther than "
                                 f"max_distance_km = {values['km']:g}", values=values))
        if inst.has_access_floor:
            shares = access_shares(inst, st.dist_m if st.equivalent_dist_m is None else st.equivalent_dist_m)
            below = np.flatnonzero(~floor_met(inst, shares))
            if below.size:
                values = {"floor": inst.access_floor_share, "km": inst.access_floor_m / 1000, "share": float(np.nanmin(shares)), "scope": inst.access_floor_scope}
                if inst.access_floor_scope == "national":
                    out.append(Break("access_floor", year, f"the access floor is missed: {100 * shares[0]:.2f} % of the population within {values['km']:g} km, "
                                     f"not {100 * values['floor']:g} %", values=values))
                else:
                    items = tuple(f"{fa_codes[g]} {fa_names.get(fa_codes[g], '')}" for g in below)
                    details = tuple(float(shares[g]) for g in below)
                    out.append(Break("access_floor", year, f"the access floor ({100 * values['floor']:g} % within {values['km']:g} km) is missed in {below.size} "
                                     f"{_n(below.size, 'FA-region', 'FA-regions')}: " + ", ".join(f"{x} ({100 * d:.2f} %)" for x, d in zip(items, details)), items, details, values))
        over = np.flatnonzero((m == FLEXIBLE) & (st.visits_after > inst.flex_capacity_visits + 1e-6))
        if over.size:
            items = tuple(str(names[i]) for i in over)
            details = tuple(float(st.visits_after[i]) for i in over)
            out.append(Break("flexible_capacity", year, f"{_n(over.size, 'a flexible office', 'flexible offices')} over the capacity of {inst.flex_capacity_visits:.0f} visits a year: "
                             + ", ".join(f"{x} ({d:.0f} visits)" for x, d in zip(items, details)), items, details, {"capacity": inst.flex_capacity_visits}))
        if inst.max_growth is not None:
            grown = np.flatnonzero(existing & is_open & (st.visits_after > (1 + inst.max_growth) * inst.baseline_visits + 1e-3))
            if grown.size:
                items = tuple(str(names[i]) for i in grown)
                details = tuple(float(st.visits_after[i] / inst.baseline_visits[i] - 1) if inst.baseline_visits[i] > 0 else math.inf for i in grown)
                out.append(Break("growth", year, f"{_n(grown.size, 'a receiving office grows', 'receiving offices grow')} by more than max_growth = {100 * inst.max_growth:g} %: "
                                 + ", ".join(f"{x} (+{100 * d:.0f} %)" for x, d in zip(items, details)), items, details, {"limit": inst.max_growth}))
        for kind, bad, what in (("lock_open", inst.lock_open_mask & (m != KEPT), "locked open but not kept"),
                                ("lock_closed", inst.lock_closed_mask & (m != CLOSED), "locked closed but open"),
                                ("flexible_not_allowed", ~inst.flex_allowed_mask & (m == FLEXIBLE), "flexible although flexible offices are not allowed")):
            if bad.any():
                items = tuple(str(names[i]) for i in np.flatnonzero(bad))
                out.append(Break(kind, year, f"{_n(len(items), 'an office', 'offices')} {what}: " + ", ".join(items), items))
        if inst.open_count is not None and int(is_open.sum()) != inst.open_count:
            out.append(Break("open_count", year, f"{int(is_open.sum())} {_n(int(is_open.sum()), 'site', 'sites')} open, not {inst.open_count}", values={"open": int(is_open.sum()), "p": inst.open_count}))
    for s in range(1, len(plan.stages)):
        a, b = plan.stages[s - 1].modes, plan.stages[s].modes
        bad = np.flatnonzero(((b > 0) & ~(a > 0)) | ((b == KEPT) & (a != KEPT)))
        if bad.size:
            items = tuple(str(names[i]) for i in bad)
            out.append(Break("nesting", years[s], _n(len(items), "an office reopens or gets", "offices reopen or get") + " placed staff back: " + ", ".join(items), items))
    return out
