"""How sure is the plan? The base plan and the optimum under sampled estimates.

:func:`robustness` reads as the pipeline::

    check the uncertainty file and the run's own values against it
    → solve the base plan (the scenario as it is, one solver thread)
    → on a Dask cluster (:mod:`netopt.cluster`), for each sample k:
        draw the estimates (:func:`netopt.uncertainty.draw`)
        → prepare the instance with them (the usual parameters/overrides path,
          and a factor per office on its estimated visits)
        → measure the base plan under them (:func:`netopt.metrics.evaluate_stage`)
        → solve the sample's own optimum, started from the base plan
    → results in sample order → :class:`Robustness`

:func:`write_robustness` writes an output folder atomically:
``robustness.csv`` (per office: the base decision and the share of samples
whose optimum keeps, makes flexible or closes it; fragile decisions),
``samples.csv`` (per sample: its values, the optimum and the base plan
under it), ``sample_visits.csv`` (per sample, each office's visit factor),
``robustness.json``, ``report.md`` and ``map.html`` (the base plan's map with
a layer of how often each office closes), and a copy of the uncertainty
file. The files are the same bytes wherever and on however many workers the
samples run: nothing in them depends on timing or on the cluster.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .cluster import ClusterError, ClusterSettings, connect, run_ordered, worker_identity
from .data import Network
from .errors import InfeasibleError, Problem, ScenarioError
from .instance import apply_fa_division, prepare
from .metrics import CLOSED, FLEXIBLE, KEPT, evaluate_stage
from .params import Parameters, load_parameters
from .plan import Plan, solve, solve_prepared
from .scenario import Scenario
from .solver.verify import measure
from .uncertainty import Uncertainty, check_values_in_force, draw, load_uncertainty
from .visits import existing_offices

__all__ = [
    "Robustness", "SampleResult", "SampleInputs", "robustness", "run_sample", "write_robustness",
    "office_robustness", "sample_table", "visit_factor_table", "headline", "report_markdown", "wilson_interval",
    "FRAGILE_BELOW", "MAX_SAMPLES",
]

#: A base decision that holds in fewer than this share of the samples is fragile.
FRAGILE_BELOW = 0.8
#: Most samples one run may draw.
MAX_SAMPLES = 1_000_000
#: z of a two-sided 95 % interval.
Z95 = 1.959963984540054
DECISION = {CLOSED: "close", FLEXIBLE: "flexible", KEPT: "keep"}
#: Metrics of a stage kept per sample (names as in summary.json).
STAGE_METRICS = ("savings_msek", "flexible_allowance_used_msek", "cost_msek", "budget_msek", "meets_budget",
                 "offices_closed", "offices_flexible", "population_mean_distance_km", "visits_lost")


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95 % Wilson score interval of a share ``successes / n`` (NaN, NaN when n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------- one sample (runs on a worker)


@dataclass(frozen=True, eq=False)
class SampleInputs:
    """What every sample needs, sent once to each worker.

    ``network`` is already in the scenario's FA division and ``scenario`` has
    one solver thread and no division of its own, so a worker reads no file.
    ``params`` are the parameters before the scenario's overrides;
    ``base_modes`` the base plan (modes per stage); ``identity`` the client's
    (netopt version, source fingerprint), which a worker must share.
    """

    network: Network
    scenario: Scenario
    params: Parameters
    uncertainty: Uncertainty
    seed: int
    base_modes: tuple
    identity: tuple


@dataclass(frozen=True, eq=False)
class SampleResult:
    """Sample ``k``: its drawn values, its optimum and the base plan under it.

    ``status`` is the optimum's :class:`~netopt.solver.SolveStatus` value, or
    ``INFEASIBLE`` / ``NO_PLAN`` (then ``modes`` and ``optimum`` are None and
    ``note`` says why). ``modes``: the optimum's decisions in the last stage.
    ``optimum``: its last stage's metrics; ``base``: the base plan's metrics
    per stage; ``base_breaks``: every hard constraint other than the budget
    that the base plan breaks under the sample, in words. ``seconds`` and ``worker`` describe the run
    and are never written to the output files.
    """

    k: int
    values: dict
    visit_factor: np.ndarray | None
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    modes: np.ndarray | None
    optimum: dict | None
    base: tuple
    base_breaks: tuple
    note: str
    seconds: float
    worker: str
    base_flexible: tuple = ()  # (office_id, visits a year, capacity a year) of each flexible office of the base plan under the sample

    @property
    def over_capacity(self) -> tuple:
        """office_ids of the base plan's flexible offices that take more visits than their capacity under the sample."""
        return tuple(o for o, v, cap in self.base_flexible if v > cap + 1e-6)

    @property
    def has_plan(self) -> bool:
        return self.modes is not None

    @property
    def base_meets_cut(self) -> bool:
        """The base plan meets the budget of every stage under this sample."""
        return all(b["meets_budget"] for b in self.base)


def _stage_metrics(metrics: dict) -> dict:
    return {k: metrics[k] for k in STAGE_METRICS}


def run_sample(inputs: SampleInputs, k: int) -> SampleResult:
    """Sample ``k``: draw, prepare, measure the base plan, solve the optimum.

    Pure (the same inputs give the same result in any process); runs on a
    Dask worker. Raises :class:`~netopt.cluster.ClusterError` when this
    process's netopt is not the client's.
    """
    t0 = time.perf_counter()
    ours = worker_identity()
    if tuple(inputs.identity) != ours:
        from .cluster import _mismatch_message

        raise ClusterError(_mismatch_message("a worker", ours, tuple(inputs.identity)))
    net, sc = inputs.network, inputs.scenario
    off = net.offices
    estimated = ~off["visits_given"].notna().to_numpy() & existing_offices(net)
    in_force = inputs.params.with_overrides(**sc.parameters)
    d = draw(inputs.uncertainty, in_force, inputs.seed, k, off["office_id"].tolist(), estimated)
    sample_sc = sc.with_(parameters={**sc.parameters, **d.values})
    prep = prepare(net, sample_sc, inputs.params, visit_factor=d.visit_factor)
    inst = prep.instance
    base_modes = tuple(np.asarray(m, np.int64) for m in inputs.base_modes)
    evaluated = [evaluate_stage(inst, m, s) for s, m in enumerate(base_modes)]
    base = tuple(_stage_metrics(e.metrics) for e in evaluated)
    # the other rules it breaks (a flexible office over its capacity, a growth or
    # distance limit): measured with the budgets lifted, so the cut is not among them
    breaks, _, _ = measure(inst.with_(budgets_sek=(float("inf"),) * inst.n_stages), base_modes)
    status, objective, bound, gap, modes, optimum, note = "", None, None, None, None, None, ""
    try:
        plan = solve_prepared(prep, start=base_modes)
        status, objective, bound, gap = str(plan.status), plan.objective, plan.best_bound, plan.gap
        modes = np.asarray(plan.stages[-1].modes, np.int8)
        optimum = _stage_metrics(plan.stages[-1].metrics)
    except InfeasibleError as exc:
        status = str(exc.explanation.get("status") or "INFEASIBLE")
        note = str(exc).split(". Fix:")[0]
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = "here"
    return SampleResult(k=int(k), values=d.values, visit_factor=d.visit_factor, status=status, objective=objective, bound=bound, gap=gap,
                        modes=modes, optimum=optimum, base=base, base_breaks=tuple(breaks), note=note,
                        seconds=time.perf_counter() - t0, worker=worker, base_flexible=flexible_load(inst, evaluated))


def flexible_load(inst, evaluated) -> tuple:
    """(office_id, visits a year, capacity a year) of each flexible office of a plan, at
    the stage where it takes the most visits; sorted by office_id. ``evaluated``: the
    plan's :class:`~netopt.metrics.StageResult` per stage."""
    most: dict = {}
    for e in evaluated:
        for i in np.flatnonzero(np.asarray(e.modes) == FLEXIBLE):
            oid = str(inst.office_ids[i])
            most[oid] = max(most.get(oid, -math.inf), float(e.visits_after[i]))
    cap = float(inst.flex_capacity_visits)
    return tuple((oid, v, cap) for oid, v in sorted(most.items()))


def capacity_finding(result: "Robustness") -> dict | None:
    """How often the base plan's flexible offices take more visits than they can, and why.

    None when the base plan has no flexible office. Otherwise: ``samples``
    (samples in which at least one does), ``offices`` (office_id → samples in
    which it does), ``visits_per_day_in_force`` (the capacity the plan was made
    with, ``flexible_visits_per_day``), ``fullest`` (office_id → its visits per
    open day in the base plan at the estimates, the three fullest) and
    ``visits_per_day_to_hold``: the capacity a plan would have to assume for
    every flexible office of the base plan to stay within its sampled capacity
    in every sample: per sample, the smallest over its flexible offices of the
    sampled capacity × the office's visits at the estimates / its visits in the
    sample; the smallest of these over the samples, rounded down to a tenth
    (None when every sample already holds); ``visits_per_day_to_hold_half``:
    their median, rounded down to a tenth (the capacity that would have held in
    at least half the samples).
    """
    base = result.base
    inst = base.prepared.instance
    estimates = dict((o, v) for o, v, _c in flexible_load(inst, base.stages))
    if not estimates:
        return None
    p = base.prepared.params
    days = float(p.flexible_days_per_week * p.flexible_weeks_per_year)
    in_force = float(inst.flex_capacity_visits) / days
    offices: dict = {}
    holds = []
    for r in result.samples:
        for oid in r.over_capacity:
            offices[oid] = offices.get(oid, 0) + 1
        room = [cap / days * estimates[oid] / v for oid, v, cap in r.base_flexible if v > 0 and estimates.get(oid, 0) > 0]
        if room:
            holds.append(min(room))
    tenth = lambda x: math.floor(x * 10) / 10  # noqa: E731  (rounded down: a capacity that holds)
    fullest = sorted(estimates.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    over = sum(1 for r in result.samples if r.over_capacity)
    return {
        "samples": over,
        "offices": dict(sorted(offices.items(), key=lambda kv: (-kv[1], kv[0]))),
        "visits_per_day_in_force": round(in_force, 1),
        "fullest": {oid: round(v / days, 1) for oid, v in fullest},
        "visits_per_day_to_hold": tenth(min(holds)) if over and holds else None,
        "visits_per_day_to_hold_half": tenth(float(np.median(holds))) if over and holds else None,
    }


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True, eq=False)
class Robustness:
    """A robustness run: the base plan, every sample's result (by sample
    number), the uncertainty sampled, the seed and the fragility threshold.
    ``where``, ``workers`` and ``seconds`` describe the run (never written)."""

    base: Plan
    samples: tuple
    uncertainty: Uncertainty
    seed: int
    fragile_below: float = FRAGILE_BELOW
    where: str = ""
    workers: int = 0
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def years(self) -> list[int]:
        return [s.year for s in self.base.scenario.stages]


def _check_run(samples: int, seed: int, fragile_below: float) -> None:
    problems = []
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not (1 <= samples <= MAX_SAMPLES):
        problems.append(Problem("robustness", None, "--samples", repr(samples), f"must be a whole number from 1 to {MAX_SAMPLES:,}".replace(",", " "), "give the number of samples, like --samples 100"))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not (0 <= seed < 2**63):
        problems.append(Problem("robustness", None, "--seed", repr(seed), "must be a whole number from 0 to 2**63 − 1", "give a seed, like --seed 1"))
    if not isinstance(fragile_below, (int, float)) or isinstance(fragile_below, bool) or not (0 < fragile_below <= 1):
        problems.append(Problem("robustness", None, "--fragile-below", repr(fragile_below), "must be a share above 0 and at most 1", "give a share, like --fragile-below 0.8 (80 %)"))
    if problems:
        raise ScenarioError(problems)


def _check_samples(unc: Uncertainty, params: Parameters, scenario: Scenario, seed: int, n: int) -> None:
    """Every sample's parameter values give a valid cost model (checked before any solve)."""
    bad = []
    in_force = params.with_overrides(**scenario.parameters)
    for k in range(n):
        values = draw(unc, in_force, seed, k, []).values
        try:
            params.with_overrides(**{**scenario.parameters, **values})
        except ScenarioError as exc:
            bad.append((k, values, exc))
            if len(bad) >= 3:
                break
    if bad:
        k, values, exc = bad[0]
        shown = ", ".join(f"{name} = {v:.6g}" for name, v in values.items())
        raise ScenarioError([Problem(unc.source, None, None, None,
                                     f"sample {k} (and {len(bad) - 1} more among the first checked) draws values that give no valid cost model: {shown} ({exc})",
                                     "narrow the ranges of the parameters named in the message")])


def robustness(network: Network, scenario: Scenario, *, samples: int, seed: int, params: Parameters | None = None,
               uncertainty: Uncertainty | None = None, cluster: ClusterSettings | None = None, client=None,
               fragile_below: float = FRAGILE_BELOW, progress: Callable[[int, int], None] | None = None,
               on_start: Callable[[str, int], None] | None = None) -> Robustness:
    """Solve the scenario, then ``samples`` samples of its uncertain estimates.

    Args:
      network, scenario, params: as for :func:`netopt.solve` (``params``: before
        the scenario's overrides; default the shipped file). The solver runs
        with one thread, so results are reproducible.
      samples: how many samples (1 to :data:`MAX_SAMPLES`); seed: the run's seed.
      uncertainty: what to sample (default ``data/model/uncertainty.toml``).
      cluster: where to run (default a LocalCluster, one worker per core);
        ``client``: an existing ``distributed.Client`` instead.
      fragile_below: a base decision holding in fewer than this share of the samples is fragile.
      progress: ``progress(done, samples)`` as samples finish.
      on_start: ``on_start(where, workers)`` once the cluster is ready.

    Raises:
      ScenarioError: bad ``samples``/``seed``/``fragile_below``, a value in
        force outside its sampled range, sampled values that give no valid cost model.
      InfeasibleError: the base scenario has no plan.
      ClusterError: the cluster cannot run the samples (unreachable, no
        workers, another netopt on a worker, lost work).
    """
    t0 = time.perf_counter()
    _check_run(samples, seed, fragile_below)
    unc = uncertainty or load_uncertainty()
    params = params or load_parameters()
    sc = scenario.with_(threads=1)
    check_values_in_force(unc, params.with_overrides(**sc.parameters))
    _check_samples(unc, params, sc, seed, samples)
    network = apply_fa_division(network, sc)
    settings = cluster or ClusterSettings()

    def run(cl) -> tuple:
        from .cluster import check_workers

        workers = check_workers(cl) if client is not None else len(cl.scheduler_info().get("workers", {}))
        where = settings.describe(workers) if client is None else f"the Dask cluster of the given client ({workers} workers)"
        if on_start is not None:
            on_start(where, workers)
        base = solve(network, sc, params=params)
        inputs = SampleInputs(network=network, scenario=sc.with_(fa_division=None), params=params, uncertainty=unc, seed=int(seed),
                              base_modes=tuple(np.asarray(st.modes, np.int8) for st in base.stages), identity=worker_identity())
        results = run_ordered(cl, run_sample, inputs, int(samples), progress=progress, name="netopt-sample")
        return base, tuple(results), where, workers

    if client is not None:
        base, results, where, workers = run(client)
    else:
        with connect(settings) as cl:
            base, results, where, workers = run(cl)
    return Robustness(base=base, samples=results, uncertainty=unc, seed=int(seed), fragile_below=float(fragile_below),
                      where=where, workers=workers, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------- tables


def _decision_names(modes: np.ndarray, existing: np.ndarray) -> list[str]:
    return [DECISION[int(m)] if (e or m > 0) else "not opened" for m, e in zip(modes, existing)]


def office_robustness(result: Robustness) -> pd.DataFrame:
    """``robustness.csv``: one row per office of the register (by office_id).

    Columns: office_id, office_name, municipality, fa_code, fa_name, lat, lon;
    ``base_decision`` (the base plan's last stage: keep, flexible, close, not
    opened); ``samples`` (samples whose optimum exists); ``share_keep``,
    ``share_flexible``, ``share_close`` (shares of those samples whose optimum
    keeps the office, makes it flexible, closes it or leaves a candidate site
    unopened; 4 decimals); ``holds`` (the share that makes the base decision),
    ``holds_low``, ``holds_high`` (its 95 % Wilson interval) and ``fragile``
    (holds < ``fragile_below``).
    """
    base = result.base
    off = base.prepared.network.offices
    existing = base.prepared.instance.existing_mask
    base_modes = np.asarray(base.stages[-1].modes)
    with_plan = [r for r in result.samples if r.has_plan]
    n = len(with_plan)
    counts = np.zeros((len(off), 3), np.int64)
    for r in with_plan:
        counts[np.arange(len(off)), np.asarray(r.modes, np.int64)] += 1
    holds = counts[np.arange(len(off)), base_modes]
    share = counts / n if n else np.full(counts.shape, np.nan)
    intervals = [wilson_interval(int(h), n) for h in holds]
    frame = pd.DataFrame({
        "office_id": off["office_id"].to_numpy(),
        "office_name": off["office_name"].to_numpy(),
        "municipality": off["municipality"].to_numpy(),
        "fa_code": off["fa_code"].to_numpy(),
        "fa_name": off["fa_name"].to_numpy(),
        "lat": off["lat"].to_numpy(),
        "lon": off["lon"].to_numpy(),
        "base_decision": _decision_names(base_modes, existing),
        "samples": n,
        "share_keep": np.round(share[:, KEPT], 4),
        "share_flexible": np.round(share[:, FLEXIBLE], 4),
        "share_close": np.round(share[:, CLOSED], 4),
        "holds": np.round(holds / n, 4) if n else np.nan,
        "holds_low": np.round([lo for lo, _ in intervals], 4),
        "holds_high": np.round([hi for _, hi in intervals], 4),
        "fragile": (holds / n < result.fragile_below) if n else False,
    })
    return frame


def sample_table(result: Robustness) -> pd.DataFrame:
    """``samples.csv``: one row per sample, by sample number.

    Columns: ``sample``; the drawn value of each sampled parameter (by its
    name); the optimum's ``status``, ``gap``, ``objective``, and its last
    stage's ``savings_msek``, ``flexible_allowance_used_msek``,
    ``offices_closed``, ``offices_flexible``, ``mean_distance_km``,
    ``visits_lost`` (prefixed ``optimum_``), ``changes_from_base`` (offices
    whose last-stage decision differs from the base plan's); the base plan
    under the sample: per stage year ``base_savings_msek_YEAR``,
    ``base_allowance_used_msek_YEAR``, ``base_meets_cut_YEAR``,
    ``base_shortfall_msek_YEAR`` (how much the cut is missed by, 0 when met),
    then ``base_meets_cut`` (every stage), ``base_mean_distance_km`` and
    ``base_visits_lost`` (last stage), ``base_breaks`` (every other hard
    constraint it breaks, in words: a flexible office over its capacity, say); ``note`` (why a sample has no optimum). Numbers are
    exact (shortest repr).
    """
    years = result.years
    base_last = np.asarray(result.base.stages[-1].modes)
    rows = []
    for r in result.samples:
        row = {"sample": r.k}
        for d in result.uncertainty.parameters:
            row[d.name] = r.values[d.name]
        opt = r.optimum or {}
        row.update({
            "status": r.status, "gap": r.gap, "objective": r.objective,
            "optimum_savings_msek": opt.get("savings_msek"), "optimum_allowance_used_msek": opt.get("flexible_allowance_used_msek"),
            "optimum_offices_closed": opt.get("offices_closed"), "optimum_offices_flexible": opt.get("offices_flexible"),
            "optimum_mean_distance_km": opt.get("population_mean_distance_km"), "optimum_visits_lost": opt.get("visits_lost"),
            "changes_from_base": int(np.sum(np.asarray(r.modes) != base_last)) if r.has_plan else None,
        })
        for year, b in zip(years, r.base):
            row[f"base_savings_msek_{year}"] = b["savings_msek"]
            row[f"base_allowance_used_msek_{year}"] = b["flexible_allowance_used_msek"]
            row[f"base_meets_cut_{year}"] = bool(b["meets_budget"])
            row[f"base_shortfall_msek_{year}"] = _shortfall(b)
        row["base_meets_cut"] = r.base_meets_cut
        row["base_mean_distance_km"] = r.base[-1]["population_mean_distance_km"]
        row["base_visits_lost"] = r.base[-1]["visits_lost"]
        row["base_breaks"] = "; ".join(r.base_breaks)
        row["note"] = r.note
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in ("optimum_offices_closed", "optimum_offices_flexible", "changes_from_base"):
        frame[col] = frame[col].astype("Int64")
    return frame


def _shortfall(stage: dict) -> float:
    """MSEK by which a stage misses its cut (0 when it meets it)."""
    if stage["meets_budget"]:
        return 0.0
    # figures to the krona: so is their difference (rounded once to six decimals, no binary noise)
    return max(0.0, round(stage["cost_msek"] - stage["flexible_allowance_used_msek"] - stage["budget_msek"], 6))


def visit_factor_table(result: Robustness) -> pd.DataFrame | None:
    """``sample_visits.csv``: per sample (rows), each office's factor on its
    estimated 2024 visits (a column per office_id); None without ``office_visits``."""
    if result.uncertainty.office_visits is None:
        return None
    ids = result.base.prepared.network.offices["office_id"].tolist()
    data = np.vstack([r.visit_factor for r in result.samples]) if result.samples else np.zeros((0, len(ids)))
    frame = pd.DataFrame(data, columns=ids)
    frame.insert(0, "sample", [r.k for r in result.samples])
    return frame


def headline(result: Robustness, offices: pd.DataFrame | None = None) -> dict:
    """``robustness.json``: what the run found, as plain data (no timings)."""
    from . import __version__

    offices = office_robustness(result) if offices is None else offices
    n = result.n
    miss = [r for r in result.samples if not r.base_meets_cut]
    lo, hi = wilson_interval(len(miss), n)
    short = [max(_shortfall(b) for b in r.base) for r in miss]
    statuses: dict = {}
    for r in result.samples:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    other = [r for r in result.samples if r.base_breaks]
    base_summary = result.base.summary()
    return {
        "netopt_version": __version__,
        "scenario": result.base.scenario.name,
        "stage_years": result.years,
        "cuts_msek": [s.cut_msek for s in result.base.scenario.stages],
        "samples": n,
        "seed": result.seed,
        "uncertainty_file": Path(result.uncertainty.source).name,
        "uncertainty_sha256": result.uncertainty.sha256,
        "sampled": list(result.uncertainty.names) + (["office_visits"] if result.uncertainty.office_visits else []),
        "fragile_below": result.fragile_below,
        "base_plan": {"status": base_summary["status"], "gap": base_summary["gap"], "savings_msek": base_summary["savings_msek"],
                      "flexible_allowance_used_msek": base_summary["flexible_allowance_used_msek"],
                      "offices_closed": base_summary["offices_closed"], "offices_flexible": base_summary["offices_flexible"]},
        "base_misses_cut": len(miss),
        "base_misses_cut_share": len(miss) / n if n else None,
        "base_misses_cut_interval_95": [lo, hi] if n else None,
        "base_misses_cut_by_year": {str(y): sum(1 for r in result.samples if not r.base[s]["meets_budget"]) for s, y in enumerate(result.years)},
        "base_shortfall_msek_median": round(float(np.median(short)), 6) if short else None,  # to the krona (a half-krona midpoint to even)
        "base_shortfall_msek_max": float(max(short)) if short else None,
        "base_breaks_other_rules": len(other),
        "base_flexible_over_capacity": capacity_finding(result),
        "samples_without_plan": sum(1 for r in result.samples if not r.has_plan),
        "statuses": dict(sorted(statuses.items())),
        "decisions_fragile": int(offices["fragile"].sum()),
        "changes_fragile": int((offices["fragile"] & offices["base_decision"].isin(["close", "flexible"])).sum()),
        "changes": int(offices["base_decision"].isin(["close", "flexible"]).sum()),
        "fragile_offices": sorted(offices.loc[offices["fragile"], "office_id"].tolist()),
    }


# --------------------------------------------------------------------------- report.md


def capacity_sentence(summary: dict, uncertainty: Uncertainty, tx, *, names: dict) -> str | None:
    """The report's plain sentence on flexible offices over their capacity (None when none is, in any sample):
    in how many samples, which offices and in how many each, why (the plan fills them up to the
    capacity assumed while the samples vary it and the visits), and what would make it hold."""
    f = summary.get("base_flexible_over_capacity")
    if not f or not f["samples"]:
        return None
    from .report import md_escape

    name = lambda oid: md_escape(str(names.get(oid, oid)))  # noqa: E731  (names come from the register)
    offices = _and(tx, [tx("robust.capacity.office", office=name(o), k=str(k)) for o, k in f["offices"].items()])
    fullest = _and(tx, [tx("robust.capacity.fullest_one", office=name(o), visits=tx.num(v, 1)) for o, v in f["fullest"].items()])
    spec = next((d for d in uncertainty.parameters if d.name == "flexible_visits_per_day"), None)
    ov = uncertainty.office_visits
    parts = ([tx("robust.capacity.varies_range", low=tx.num(spec.low, 0), high=tx.num(spec.high, 0))] if spec is not None else []) + \
            ([tx("robust.capacity.varies_visits", low=tx.localize(f"{round(ov.low, 2):g}"), high=tx.localize(f"{round(ov.high, 2):g}"))] if ov is not None else [])
    hold, half = f["visits_per_day_to_hold"], f["visits_per_day_to_hold_half"]
    text = tx("robust.capacity.sentence", k=str(f["samples"]), n=str(summary["samples"]), offices=offices, cap=tx.num(f["visits_per_day_in_force"], 0),
              fullest=fullest, varies=_and(tx, parts) if parts else tx("robust.capacity.varies_other"))
    if hold is not None:
        text += tx("robust.capacity.hold", hold=tx.num(hold, 1), half=tx.num(half, 1))
    return text + "."


def _and(tx, items: list[str]) -> str:
    """``a, b and c`` in the texts' language."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + tx("robust.capacity.and") + items[-1]


def _pct(tx, share, decimals: int = 0) -> str:
    return tx.pct(share, decimals)


def report_markdown(result: Robustness, texts=None, *, offices: pd.DataFrame | None = None, summary: dict | None = None) -> str:
    """``report.md`` of a robustness run: the probability that the base plan
    misses the cut, the fragile decisions, how to read them, and what was sampled.
    Deterministic: the same run gives the same text (no timings, nothing about the cluster)."""
    from . import __version__
    from .i18n import texts as texts_of
    from .report import md_escape

    tx = texts or texts_of("en")
    offices = office_robustness(result) if offices is None else offices
    s = summary or headline(result, offices)
    n = result.n
    sc = result.base.scenario
    years = result.years
    last = years[-1]
    staged = len(years) > 1
    msek = tx("unit.msek")
    lines = [f"# {md_escape(tx('robust.title', scenario=sc.name))}\n"]
    lines.append(tx("robust.lead", n=str(n), seed=str(result.seed), file=md_escape(s["uncertainty_file"]), year=str(last)) + "\n")
    base = s["base_plan"]
    lines.append(tx("robust.base", status=tx(f"status.{base['status']}"), savings=tx.num(base["savings_msek"]), allowance=tx.num(base["flexible_allowance_used_msek"]),
                    cut=tx.localize(f"{sc.stages[-1].cut_msek:g}"), msek=msek, closed=str(base["offices_closed"]), flexible=str(base["offices_flexible"])) + "\n")

    # ---- the cut
    lines.append(f"## {tx('robust.cut.title')}\n")
    lo, hi = s["base_misses_cut_interval_95"]
    key = "robust.cut.staged" if staged else "robust.cut.one"
    lines.append(tx(key, met=str(n - s["base_misses_cut"]), n=str(n), missed=str(s["base_misses_cut"]),
                    p=f"**{_pct(tx, s['base_misses_cut_share'])}**", low=_pct(tx, lo), high=_pct(tx, hi)) + "\n")
    if staged and s["base_misses_cut"]:
        per = ", ".join(tx("robust.cut.year", year=y, k=str(k)) for y, k in s["base_misses_cut_by_year"].items())
        lines.append(tx("robust.cut.by_year", list=per) + "\n")
    if s["base_misses_cut"]:
        lines.append(tx("robust.cut.shortfall", median=tx.num(s["base_shortfall_msek_median"]), max=tx.num(s["base_shortfall_msek_max"]), msek=msek) + "\n")
    if s["base_breaks_other_rules"]:
        lines.append(tx("robust.cut.other", k=str(s["base_breaks_other_rules"]), n=str(n)) + "\n")
    sentence = capacity_sentence(s, result.uncertainty, tx, names=dict(zip(result.base.prepared.network.offices["office_id"], result.base.prepared.network.offices["office_name"])))
    if sentence:
        lines.append(sentence + "\n")
    infeasible = [r.k for r in result.samples if r.status == "INFEASIBLE"]
    stopped = [r.k for r in result.samples if r.status == "NO_PLAN"]
    if infeasible:
        lines.append(tx("robust.cut.infeasible", k=str(len(infeasible)), list=_sample_list(infeasible)) + "\n")
    if stopped:
        lines.append(tx("robust.cut.no_plan", k=str(len(stopped)), list=_sample_list(stopped)) + "\n")
    changes = [int(np.sum(np.asarray(r.modes) != np.asarray(result.base.stages[-1].modes))) for r in result.samples if r.has_plan]
    if changes:
        lines.append(tx("robust.cut.changes", median=tx.num(float(np.median(changes)), 0), low=str(min(changes)), high=str(max(changes)), year=str(last)) + "\n")

    # ---- decisions
    lines.append(f"## {tx('robust.decisions.title')}\n")
    threshold = _pct(tx, result.fragile_below)
    fragile = offices[offices["fragile"]].sort_values(["holds", "office_id"], kind="mergesort")
    changed_ok = offices[~offices["fragile"] & offices["base_decision"].isin(["close", "flexible"])].sort_values(["holds", "office_id"], kind="mergesort")
    if int(offices["samples"].iloc[0]) == 0:
        lines.append(tx("robust.decisions.none_solved") + "\n")
    elif fragile.empty:
        lines.append(tx("robust.decisions.no_fragile", threshold=threshold) + "\n")
    else:
        lines.append(tx("robust.decisions.fragile", k=str(len(fragile)), threshold=threshold, changes=str(s["changes_fragile"]), all=str(s["changes"])) + "\n")
        lines.append(_decision_table(fragile, tx) + "\n")
    if not changed_ok.empty and int(offices["samples"].iloc[0]) > 0:
        lines.append(tx("robust.decisions.hold", k=str(len(changed_ok)), threshold=threshold) + "\n")
        lines.append(_decision_table(changed_ok, tx) + "\n")
    if staged:
        lines.append(tx("robust.decisions.staged", year=str(last)) + "\n")

    # ---- how to read
    lines.append(f"## {tx('robust.read.title')}\n")
    half = 100 * Z95 * math.sqrt(0.25 / n) if n else float("nan")
    for key in ("robust.read.sample", "robust.read.holds", "robust.read.fragile", "robust.read.cut", "robust.read.interval"):
        lines.append(tx(key, threshold=threshold, n=str(n), half=tx.num(half, 0), seed=str(result.seed)) + "\n")

    # ---- what was sampled
    lines.append(f"## {tx('robust.sampled.title')}\n")
    lines.append(tx("robust.sampled.lead", file=md_escape(s["uncertainty_file"]), sha=s["uncertainty_sha256"][:12] or "\u2013") + "\n")
    cols = [tx("robust.sampled.col.name"), tx("robust.sampled.col.in_force"), tx("robust.sampled.col.distribution"), tx("robust.sampled.col.basis"), tx("robust.sampled.col.why")]
    rows = []
    in_force = result.base.prepared.params
    for d in result.uncertainty.parameters:
        v = float(getattr(in_force, d.name))
        rows.append([f"`{d.name}`", f"{v:g}", md_escape(d.describe(v)), tx(f"robust.basis.{d.basis}"), md_escape(d.why)])
    if result.uncertainty.office_visits is not None:
        d = result.uncertainty.office_visits
        rows.append([f"`{d.name}`", "1", md_escape(d.describe(1.0)), tx(f"robust.basis.{d.basis}"), md_escape(d.why)])
    lines.append(_table(cols, rows, [False, True, False, False, False]) + "\n")
    status_text = ", ".join(f"{tx(f'status.{k}') if tx.has(f'status.{k}') else k} {v}" for k, v in s["statuses"].items())
    lines.append(tx("robust.sampled.statuses", list=status_text) + "\n")
    lines.append(f"_{tx('robust.footer', version=__version__, n=str(n), seed=str(result.seed))}_\n")
    return "\n".join(lines)


def _sample_list(ks: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(k) for k in ks[:limit])
    return shown + (", …" if len(ks) > limit else "")


def _table(columns: list[str], rows: list[list[str]], numeric: list[bool]) -> str:
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    return "\n".join([head, sep] + ["| " + " | ".join(r) + " |" for r in rows])


def _decision_table(frame: pd.DataFrame, tx) -> str:
    from .report import md_escape

    cols = [tx("robust.col.office"), tx("robust.col.municipality"), tx("robust.col.base"), tx("robust.col.holds"), tx("robust.col.interval"),
            tx("robust.col.keep"), tx("robust.col.flexible"), tx("robust.col.close")]
    rows = []
    for _, r in frame.iterrows():
        rows.append([md_escape(r["office_name"]), md_escape(r["municipality"]), tx(f"decision.{r['base_decision']}"), _pct(tx, r["holds"]),
                     f"{_pct(tx, r['holds_low'])} \u2013 {_pct(tx, r['holds_high'])}", _pct(tx, r["share_keep"]), _pct(tx, r["share_flexible"]), _pct(tx, r["share_close"])])
    return _table(cols, rows, [False, False, False, True, True, True, True, True])


# --------------------------------------------------------------------------- writing


def write_robustness(result: Robustness, out: str | Path, *, overwrite: bool = False, lang: str | None = None, with_map: bool = True) -> Path:
    """Write a robustness run into ``out`` atomically: robustness.csv,
    samples.csv, sample_visits.csv (with ``office_visits``), robustness.json,
    report.md, map.html (unless ``with_map`` is False) and uncertainty.toml (the file sampled).

    ``lang``: "en" or "sv" for report.md and map.html (default: the
    scenario's ``lang``, else English). Raises
    :class:`~netopt.errors.OutputError` when ``out`` exists (without
    ``overwrite``) or cannot be written; nothing is left half-written.
    """
    from . import io
    from .i18n import LANGUAGES, check_language, texts as texts_of

    lang = check_language(lang or result.base.scenario.lang or LANGUAGES[0], "lang")
    tx = texts_of(lang)
    io.check_output_dir(out, overwrite=overwrite)
    offices = office_robustness(result)
    summary = headline(result, offices)
    samples = sample_table(result)
    factors = visit_factor_table(result)
    report = report_markdown(result, tx, offices=offices, summary=summary)
    page = None
    if with_map:
        from .maps import map_html
        from .maps.robustness import robustness_extension
        from .tables import plan_tables

        tables = plan_tables(result.base)
        page = map_html(tables, tx, extensions=[robustness_extension(tables, offices, summary, tx)])
    copy = result.uncertainty.raw or None  # the file as it was read and sampled
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        io.write_csv(tmp / "robustness.csv", offices)
        io.write_csv(tmp / "samples.csv", samples)
        if factors is not None:
            io.write_csv(tmp / "sample_visits.csv", factors)
        io.write_json(tmp / "robustness.json", summary)
        io.write_text(tmp / "report.md", report)
        if page is not None:
            io.write_text(tmp / "map.html", page)
        if copy is not None:
            io.write_bytes(tmp / "uncertainty.toml", copy)
    return Path(out)
