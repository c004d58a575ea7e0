"""The per-plan tables every output is written from, computed once.

:func:`plan_tables` reads a solved or evaluated :class:`~netopt.plan.Plan`
and returns a frozen :class:`PlanTables`: the summary and a bundle of
DataFrames (offices, FA-regions, SSC regions, urban and rural FA-regions,
closures with what they save, areas with high social exclusion, receiving
offices, municipalities) plus what the figures rest on. Every writer
(``plan.csv``, ``summary.json``, ``report.md``, ``report.html``, ``map.html``,
``plan.xlsx``, ``plan.gpkg``) formats these tables and computes nothing of its
own, so every number a meeting sees comes from the same data and distances as
the optimisation.

This is the only module that reads a plan's internals (``plan.prepared``,
``plan.stages``, ``plan.summary()``, ``plan.office_table()``), itself or
through :func:`netopt.whatif.whatif_payload` (the arrays with which map.html
recomputes the plan); a writer that needs a figure not here gets a column
added here.

Units: distances km, money MSEK per year, visits per year, populations in
inhabitants. Figures are exact (no rounding) except where the office table
rounds them once (visits to 0.1, costs to 0.0001 MSEK, distances to 0.1 km).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .areas import NEARBY_KM
from .metrics import msek, ratio, tenths
from .plan import Plan
from .whatif import whatif_payload

__all__ = [
    "PlanTables",
    "uncertain_locations",
    "UNCERTAIN_CONFIDENCE",
    "plan_tables",
    "URBAN_RURAL_LABELS",
    "RECEIVING_GROWTH_FLAG",
    "NEARBY_KM",
    "changes_text",
]

URBAN_RURAL_LABELS = {"1": "metropolitan", "2": "dense", "3": "rural"}
#: A receiving office whose visits grow by more than this share is flagged
#: when the scenario sets no limit (``max_growth``); with a limit, growth above
#: the limit is flagged.
RECEIVING_GROWTH_FLAG = 0.5

#: Columns of ``plan.csv`` (one row per office), in order.
PLAN_CSV_COLUMNS = (
    "office_id", "office_name", "municipality_code", "municipality", "fa_code", "fa_name", "ssc_region", "lat", "lon",
    "decision", "changed_in", "changes", "locked", "board_decision",
    "visits_before", "visits_after", "cost_msek_before", "cost_msek_after", "cost_per_visit_sek",
    "receiver_id", "receiver_name", "receiver_distance_km", "visits_estimated", "cost_estimated", "location_uncertain",
)

#: Register confidences under which an office's location or name is not to be relied on.
UNCERTAIN_CONFIDENCE = ("low", "conflicting")


def uncertain_locations(offices: pd.DataFrame) -> dict[str, str]:
    """Offices whose location or name the register marks as uncertain: office_id → why (text).

    An office counts when its ``confidence`` is ``low`` or ``conflicting``, or
    its ``coord_source`` says the coordinates were offset (a placeholder that
    only keeps two offices of one town apart, e.g. "offset 500 m east"). The
    text is the register's own: "confidence low: " and its ``note`` (or, with
    no note, its ``coord_source``). Registers without these columns give {}.
    Distances from or to such an office rest on its placement, not on a
    confirmed address.
    """
    if "confidence" not in offices.columns and "coord_source" not in offices.columns:
        return {}
    out = {}
    for r in offices.itertuples(index=False):
        conf = str(getattr(r, "confidence", "") or "").strip()
        conf = "" if conf == "nan" else conf
        source = str(getattr(r, "coord_source", "") or "").strip()
        source = "" if source == "nan" else source
        note = str(getattr(r, "note", "") or "").strip()
        note = "" if note == "nan" else note
        offset = "offset" in source.lower()
        if conf in UNCERTAIN_CONFIDENCE or offset:
            why = note or (f"coordinates: {source}" if source else "")
            if offset and note and source:
                why = f"{note} (coordinates: {source})"
            out[str(r.office_id)] = f"confidence {conf or 'not given'}" + (f": {why}" if why else "")
    return out

@dataclass(frozen=True, eq=False)
class PlanTables:
    """Everything the outputs of one plan stage show, computed once.

    Attributes:
      stage: index of the plan stage the tables describe (-1: the last).
      year: that stage's year.
      staged: True when the plan has more than one stage.
      summary: the stage's summary (``Plan.summary``: cost, saving, allowance,
        offices kept/flexible/closed, distances before/after, status,
        objective, bound, gap ...) plus ``scenario`` (its name).
      stages: one row per stage with the same fields.
      offices: one row per office (``Plan.office_table`` plus
        ``public_figure_conflict``, ``changed_in`` (year of the first change in
        a staged plan, else the stage year; ``None`` when unchanged),
        ``history`` (``{year: decision}`` per stage), ``receiving_growth``
        (share, open offices that receive visitors of a closed office, else
        NaN) and ``receiving_flag`` (bool)).
      offices_by_stage: the office table of every stage, by year.
      fa_regions: per FA-region: ``fa_code, fa_name, urban_rural, population,
        offices_before, offices_after, mean_distance_km_before,
        mean_distance_km_after, coverage`` (``"served"``, ``"lost"``: had an
        office and has none after the plan, ``"never"``: had none before).
      ssc_regions: per SSC region: offices, visits and cost before/after.
      urban_rural: per urban-rural class of FA-region: FA-regions,
        population, offices and mean distance before/after.
      closures: offices closed or turned flexible with ``saving_msek``,
        ``population_served_before``, ``extra_distance_km`` and where their
        visitors go.
      receiving: open offices that receive visitors of closed offices:
        ``office_id, office_name, municipality, visits_before, visits_after,
        growth`` (share), ``visits_received`` (from closed offices),
        ``from_offices`` ("; "-separated names of the closed offices),
        ``flag`` (growth above the limit, or above
        :data:`RECEIVING_GROWTH_FLAG` without one).
      municipalities: per municipality with inhabitants or an office:
        ``municipality_code, municipality, fa_code, fa_name, population,
        offices_before, offices_after, mean_distance_km_before,
        mean_distance_km_after, board_decision`` (True when the plan leaves a
        municipality that had an office: SSC's board decides that).
      areas: areas with high social exclusion (:func:`netopt.areas.areas_table`)
        with ``lat, lon`` of each area's centroid.
      areas_summary: :func:`netopt.areas.areas_summary` of ``areas``.
      areas_source: ``None`` for the shipped Police list, else the planner's.
      basis: what the figures rest on: ``register`` (counts of documented,
        inferred and uncertain offices, or None), ``reference_offices``,
        ``calibration`` (:func:`netopt.calibration.calibration_basis`),
        ``public_figure_marks`` (office_id → text, as in plan.csv),
        ``public_figure_conflicts`` (the public figures those marks rest on,
        :func:`netopt.calibration.public_figure_checks` rows),
        ``public_figure_caveats`` (checks rows of figures the estimate meets
        only on the network of the figure's year, offices having opened near
        the office since), ``flexible`` (what a
        flexible office keeps), ``estimated_visits``, ``estimated_costs``,
        ``offices_total``.
      context: the scenario, solver and inputs: ``scenario_name``,
        ``description`` (and ``description_sv``), ``objective``, ``coverage_km``, ``distance_measure``,
        ``receiver_distance_meaning``, ``distance_source`` (``"matrix"`` or
        ``"straight line × detour factor"``), ``inputs`` (role → path) and
        ``json`` (the whole of ``summary.json``).
      places: named places for a map's base layer (:func:`netopt.data.place_names`).
      fa_geometry: FA-region polygons (GeoDataFrame, EPSG:4326, ``fa_code, geometry``).
      municipality_geometry: municipality polygons (GeoDataFrame, EPSG:4326).
      distances_km: population-weighted distances of the demand points,
        ``population, before_km, after_km`` (for distance distributions).
      whatif: what ``map.html`` needs to recompute this stage for other
        decisions (:func:`netopt.whatif.whatif_payload`: JSON-ready, or
        ``{"available": False, ...}`` for a network too large for a page).
      locks: the planner's locks: ``office_id, office_name, municipality, lock``
        (``"open"``/``"closed"``), ``decision`` (in this stage).
      breaks: every hard constraint the plan breaks (:func:`netopt.consult.plan_breaks`,
        as dicts ``kind, year, text, items``); empty for an optimised plan.
      lock_price, keep_costs, alternatives: the consultation's results when
        computed (:mod:`netopt.consult`: :class:`~netopt.consult.LockPrice`,
        :class:`~netopt.consult.KeepCosts`, :class:`~netopt.consult.Alternatives`), else None.
      alternative: for a plan that is an alternative (``netopt solve
        --alternatives``), ``{"rank", "note"}``; else None.
      unnamed: for a hand-written plan that names only some offices
        (``netopt evaluate --plan``/``--close``), ``{"named", "offices",
        "candidates", "kept", "not_opened"}``: how many offices it names, of
        how many (candidate sites included, ``candidates`` of them), and how
        many of the others are kept as today and how many candidate sites stay
        unopened; else None.
    """

    stage: int
    year: int
    staged: bool
    summary: dict
    stages: pd.DataFrame
    offices: pd.DataFrame
    offices_by_stage: dict
    fa_regions: pd.DataFrame
    ssc_regions: pd.DataFrame
    urban_rural: pd.DataFrame
    closures: pd.DataFrame
    receiving: pd.DataFrame
    municipalities: pd.DataFrame
    areas: pd.DataFrame
    areas_summary: dict
    areas_source: str | None
    basis: dict
    context: dict
    places: pd.DataFrame
    fa_geometry: object
    municipality_geometry: object
    distances_km: pd.DataFrame
    whatif: dict
    locks: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    breaks: tuple = ()
    lock_price: object = None
    keep_costs: object = None
    alternatives: object = None
    alternative: dict | None = None
    unnamed: dict | None = None


def plan_tables(plan: Plan, stage: int = -1, *, areas: pd.DataFrame | None = None, fa_geometry=None, consultation=None) -> PlanTables:
    """All tables of one stage of ``plan`` (default the last).

    ``areas``: areas with high social exclusion (:func:`netopt.areas.load_areas`;
    default: the shipped Police list). ``fa_geometry``: the FA-region polygons
    of another plan on the same network (``PlanTables.fa_geometry``), to share
    rather than dissolve them again. ``consultation``: the plan's
    :class:`netopt.consult.Consultation` (price of the locks, keep costs,
    alternatives), when computed. Raises nothing on a valid plan.
    """
    from .consult import plan_breaks

    from .areas import areas_summary, areas_table, load_areas, relate_areas
    from .calibration import calibration_basis, contradicted, met_only_then, public_figure_checks, public_figure_marks
    from .data import fa_polygons, municipality_polygons, place_names

    prep = plan.prepared
    n_stages = len(plan.stages)
    k = stage % n_stages
    years = [s.year for s in plan.scenario.stages]
    summary = plan.summary(k)
    summary["scenario"] = plan.scenario.name

    checks = public_figure_checks(prep.network, prep.visits)
    marks = public_figure_marks(checks)
    conflicts, caveats = contradicted(checks), met_only_then(checks)
    c = plan.scenario.constraints
    locked = {**{o: "open" for o in c.lock_open}, **{o: "closed" for o in c.lock_closed}}
    uncertain = uncertain_locations(prep.network.offices)
    raw = [plan.office_table(s) for s in range(n_stages)]
    by_stage = {}
    for s in range(n_stages):
        t = raw[s]
        t["history"] = [{years[q]: raw[q].at[i, "decision"] for q in range(s + 1)} for i in range(len(t))]
        t["changed_in"] = pd.array([_first_change(h, e) for h, e in zip(t["history"], t["existing"])], dtype="Int64")
        t["changes"] = [changes_text(h, e) for h, e in zip(t["history"], t["existing"])]
        t["locked"] = [locked.get(o, "") for o in t["office_id"]]
        t["board_decision"] = _leaves_municipality(t)
        t["public_figure_conflict"] = [marks.get(o, "") for o in t["office_id"]]
        t["location_uncertain"] = [uncertain.get(o, "") for o in t["office_id"]]
        by_stage[years[s]] = t
    offices = by_stage[years[k]].copy()

    rel = None if areas is None else relate_areas(areas, prep.network.demand)
    if rel is None:
        rel = relate_areas(load_areas(municipalities=prep.network.municipalities), prep.network.demand)
    at = areas_table(plan, k, rel)
    at["lat"] = rel.areas["lat"].to_numpy(float) if len(at) else []
    at["lon"] = rel.areas["lon"].to_numpy(float) if len(at) else []

    receiving = _receiving(plan, k, offices)
    growth = dict(zip(receiving["office_id"], receiving["growth"]))
    flagged = set(receiving.loc[receiving["flag"].astype(bool), "office_id"])
    offices["receiving_growth"] = [growth.get(o, math.nan) for o in offices["office_id"]]
    offices["receiving_flag"] = offices["office_id"].isin(flagged)

    fa = _fa_table(plan, k)
    polys = fa_polygons(prep.network) if fa_geometry is None else fa_geometry
    st = plan.stages[k]
    return PlanTables(
        stage=k,
        year=years[k],
        staged=n_stages > 1,
        summary=summary,
        stages=pd.DataFrame([plan.summary(s) for s in range(n_stages)]),
        offices=offices,
        offices_by_stage=by_stage,
        fa_regions=fa,
        ssc_regions=_ssc_table(offices),
        urban_rural=_urban_rural_table(fa),
        closures=_closure_reasons(plan, k, offices),
        receiving=receiving,
        municipalities=_municipality_table(plan, k, offices),
        areas=at,
        areas_summary=areas_summary(at),
        areas_source=None if areas is None else "planner",
        basis=_basis(plan, marks, conflicts, caveats, calibration_basis(prep.network, prep.visits, prep.costs, prep.params)),
        context=_context(plan, by_stage[years[-1]]),
        places=place_names(),
        fa_geometry=polys[["fa_code", "geometry"]],
        municipality_geometry=municipality_polygons(),
        distances_km=pd.DataFrame(
            {
                "population": prep.network.demand["population"].to_numpy(np.int64),
                "before_km": prep.visits.baseline_dist_m / 1000.0,
                "after_km": st.dist_m / 1000.0,
            }
        ),
        whatif=whatif_payload(plan, k),
        locks=_locks(offices, locked),
        breaks=tuple(b.as_dict() for b in plan_breaks(plan)),
        lock_price=None if consultation is None else consultation.lock_price,
        keep_costs=None if consultation is None else consultation.keep_costs,
        alternatives=None if consultation is None else consultation.alternatives,
        alternative={"rank": int(plan.phase.split()[-1]), "note": plan.notes[0]} if plan.phase.startswith("alternative ") else None,
        unnamed=unnamed_offices(plan),
    )


def unnamed_offices(plan: Plan) -> dict | None:
    """For a hand-written plan that leaves offices out: ``{"named", "offices", "kept",
    "not_opened"}`` (counts: offices and candidate sites it names, of all; the
    others, kept as today or, for candidate sites, not opened); None when it
    names every office or the plan is optimised."""
    named = getattr(plan, "named", None)
    if named is None:
        return None
    off = plan.prepared.network.offices
    rest = off[~off["office_id"].isin(set(named))]
    if rest.empty:
        return None
    existing = rest["existing"].astype(bool)
    return {"named": len(named), "offices": int(len(off)), "candidates": int((~off["existing"].astype(bool)).sum()),
            "kept": int(existing.sum()), "not_opened": int((~existing).sum())}


def _locks(offices: pd.DataFrame, locked: dict) -> pd.DataFrame:
    """The locked offices (in the order of the office table) with their lock and decision."""
    t = offices[offices["office_id"].isin(list(locked))]
    return pd.DataFrame({"office_id": t["office_id"], "office_name": t["office_name"], "municipality": t["municipality"],
                         "lock": [locked[o] for o in t["office_id"]], "decision": t["decision"]}).reset_index(drop=True)


def _first_change(history: dict, existing: bool) -> int | None:
    """Year of the first stage whose decision differs from today's (kept, or not opened)."""
    today = "keep" if existing else "not opened"
    for year, decision in history.items():
        if decision != today:
            return int(year)
    return None


def changes_text(history: dict, existing: bool, words: dict | None = None) -> str:
    """Every change of an office, year by year: ``"2025 flexible; 2027 close"``
    (each stage whose decision differs from the one before, today's first;
    ``words`` maps a decision to the word shown, default the decision itself)."""
    words = words or {}
    before = "keep" if existing else "not opened"
    out = []
    for year, decision in history.items():
        if decision != before:
            out.append(f"{year} {words.get(decision, decision)}")
            before = decision
    return "; ".join(out)


def _leaves_municipality(t: pd.DataFrame) -> np.ndarray:
    """Per office: it closes and its municipality keeps no office (kept or flexible) in
    this stage, so SSC leaves the municipality: a board decision (SSC's rule: the
    director-general may close an office only where SSC stays in the municipality)."""
    open_ = t["decision"].isin(["keep", "flexible"])
    stays = set(t.loc[open_, "municipality_code"])
    return (t["existing"].astype(bool) & (t["decision"] == "close") & ~t["municipality_code"].isin(stays)).to_numpy()


# --------------------------------------------------------------------------- tables


def _before_after_by(plan: Plan, stage: int, key: str, index: pd.Index) -> dict:
    """Per group of ``key`` (a column of the demand points and of the offices:
    ``fa_code``, ``municipality_code``), in the order of ``index``: offices open
    before and after the plan's ``stage``, and the population-weighted mean
    distance (km) to the nearest open office before and after (NaN where no one lives)."""
    prep = plan.prepared
    st = plan.stages[stage]
    dem = prep.network.demand
    w = dem["population"].to_numpy(np.int64)
    # inhabitant-metres, exact integers; each mean is one division of them (metrics.ratio)
    d = pd.DataFrame({key: dem[key].to_numpy(), "w": w, "before": w * prep.visits.baseline_dist_m.astype(np.int64), "after": w * st.dist_m.astype(np.int64)})
    g = d.groupby(key).sum()
    off = prep.network.offices
    before = off[prep.instance.existing_mask].groupby(key).size()
    after = off[st.modes > 0].groupby(key).size()
    return {
        "offices_before": before.reindex(index).fillna(0).astype(int),
        "offices_after": after.reindex(index).fillna(0).astype(int),
        "mean_distance_km_before": (g["before"] / (g["w"] * 1000)).reindex(index),
        "mean_distance_km_after": (g["after"] / (g["w"] * 1000)).reindex(index),
    }


def _fa_table(plan: Plan, stage: int) -> pd.DataFrame:
    """Per FA-region: population, offices before/after, mean distance (km) before/after."""
    fa = plan.prepared.network.fa_regions.set_index("fa_code")
    t = pd.DataFrame(
        {
            "fa_name": fa["fa_name"],
            "urban_rural": fa["urban_rural"].map(lambda v: URBAN_RURAL_LABELS.get(str(v), str(v))),
            "population": fa["population"].astype(int),
            **_before_after_by(plan, stage, "fa_code", fa.index),
        }
    )
    t.index.name = "fa_code"
    t = t.reset_index()
    t["coverage"] = np.where(t["offices_after"] > 0, "served", np.where(t["offices_before"] > 0, "lost", "never"))
    return t


def _ssc_table(offices: pd.DataFrame) -> pd.DataFrame:
    """Per SSC region: offices, visits (per year) and cost (MSEK) before and after."""
    g = offices.groupby("ssc_region").agg(
        offices_before=("existing", "sum"),
        offices_after=("decision", lambda s: int(s.isin(["keep", "flexible"]).sum())),
        visits_before=("visits_before", "sum"),
        visits_after=("visits_after", "sum"),
        cost_msek_before=("cost_msek_before", "sum"),
        cost_msek_after=("cost_msek_after", "sum"),
    )
    # sums of figures to a tenth of a visit and to 100 SEK are exact at that precision: written so
    g[["visits_before", "visits_after"]] = g[["visits_before", "visits_after"]].round(1)
    g[["cost_msek_before", "cost_msek_after"]] = g[["cost_msek_before", "cost_msek_after"]].round(4)
    return g.reset_index()


def _urban_rural_table(fa: pd.DataFrame) -> pd.DataFrame:
    """Population-weighted mean distance (km) by urban-rural class of FA-region."""
    t = fa.copy()
    # back to the exact inhabitant-metres behind each FA-region's mean (a correctly rounded
    # ratio, so rounding mean × inhabitants × 1000 recovers its integer), summed, divided once
    t["wb"] = np.rint(t["population"] * t["mean_distance_km_before"].fillna(0.0) * 1000)
    t["wa"] = np.rint(t["population"] * t["mean_distance_km_after"].fillna(0.0) * 1000)
    g = t.groupby("urban_rural").agg(fa_regions=("fa_code", "count"), population=("population", "sum"), wb=("wb", "sum"), wa=("wa", "sum"), offices_before=("offices_before", "sum"), offices_after=("offices_after", "sum"))
    g["mean_distance_km_before"] = g["wb"] / (g["population"] * 1000)
    g["mean_distance_km_after"] = g["wa"] / (g["population"] * 1000)
    return g.drop(columns=["wb", "wa"]).reset_index()


def _closure_reasons(plan: Plan, stage: int, t: pd.DataFrame) -> pd.DataFrame:
    """Closed or converted offices with what the change saves and what it costs in access."""
    prep = plan.prepared
    inst = prep.instance
    st = plan.stages[stage]
    base_near = prep.visits.baseline_office
    w = inst.population.astype(float)
    rows = []
    for i in np.flatnonzero((st.modes < 2) & inst.existing_mask):
        js = base_near == i
        pop = float(w[js].sum())
        wi = inst.population[js].astype(np.int64)
        extra = ratio(np.sum(wi * (st.dist_m[js].astype(np.int64) - prep.visits.baseline_dist_m[js].astype(np.int64))), max(int(wi.sum()), 1) * 1000)
        saving = msek(1e6 * (t.at[i, "cost_msek_before"] - t.at[i, "cost_msek_after"]) - prep.costs.staff_per_visit_sek * float((inst.propensity[js] * (inst.g(st.equivalent_dist_m[js]))).sum() - (st.visits_after[i] if st.modes[i] == 1 else 0.0)))
        rows.append(
            {
                "office_id": t.at[i, "office_id"],
                "office_name": t.at[i, "office_name"],
                "decision": t.at[i, "decision"],
                "changed_in": t.at[i, "changed_in"],
                "changes": t.at[i, "changes"],
                "history": t.at[i, "history"],
                "existing": True,
                "board_decision": bool(t.at[i, "board_decision"]),
                "municipality": t.at[i, "municipality"],
                "visits_before": t.at[i, "visits_before"],
                "saving_msek": saving,
                "population_served_before": int(pop),
                "extra_distance_km": extra,
                "receiver_name": t.at[i, "receiver_name"],
                "receiver_distance_km": t.at[i, "receiver_distance_km"],
            }
        )
    cols = ["office_id", "office_name", "decision", "changed_in", "changes", "history", "existing", "board_decision", "municipality", "visits_before", "saving_msek", "population_served_before", "extra_distance_km", "receiver_name", "receiver_distance_km"]
    return pd.DataFrame(rows, columns=cols)


def _receiving(plan: Plan, stage: int, offices: pd.DataFrame) -> pd.DataFrame:
    """Open offices that receive visitors of closed offices: growth and where they come from.

    A closed office's visitors are its baseline catchment (the demand points
    for which it was the nearest office); their visits after the plan go to
    the office each point now uses.
    """
    prep = plan.prepared
    inst = prep.instance
    st = plan.stages[stage]
    base_near = prep.visits.baseline_office
    visits_j = inst.propensity * inst.g(st.equivalent_dist_m)  # a flexible office counts δ farther
    closed = set(np.flatnonzero((st.modes == 0) & inst.existing_mask).tolist())
    moved = np.array([b in closed for b in base_near.tolist()], dtype=bool) & (st.nearest != base_near)
    limit = prep.scenario.constraints.max_growth
    threshold = RECEIVING_GROWTH_FLAG if limit is None else limit
    names = offices["office_name"].to_numpy()
    rows = []
    for r in sorted(set(st.nearest[moved].tolist())):
        js = moved & (st.nearest == r)
        by_source = pd.Series(visits_j[js]).groupby(base_near[js]).sum().sort_values(ascending=False, kind="mergesort")
        before, after = float(prep.visits.baseline_visits[r]), float(st.visits_after[r])  # unrounded
        growth = (after - before) / before if before > 0 else math.inf
        rows.append(
            {
                "office_id": offices.at[r, "office_id"],
                "office_name": names[r],
                "municipality": offices.at[r, "municipality"],
                "decision": offices.at[r, "decision"],
                "visits_before": offices.at[r, "visits_before"],
                "visits_after": offices.at[r, "visits_after"],
                "growth": growth,
                "visits_received": tenths(visits_j[js].sum()) / 10,  # to a tenth, as every visit figure
                "from_offices": "; ".join(str(names[i]) for i in by_source.index),
                "flag": bool(growth > threshold + 1e-9),
            }
        )
    cols = ["office_id", "office_name", "municipality", "decision", "visits_before", "visits_after", "growth", "visits_received", "from_offices", "flag"]
    t = pd.DataFrame(rows, columns=cols)
    return t.sort_values(["growth", "office_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def _municipality_table(plan: Plan, stage: int, offices: pd.DataFrame) -> pd.DataFrame:
    """Per municipality: offices before/after, mean distance before/after (km), the
    offices changed (``changes``: "Name close; Name flexible") and ``board_decision``."""
    m = plan.prepared.network.municipalities.set_index("municipality_code")
    t = pd.DataFrame(
        {
            "municipality": m["municipality"],
            "fa_code": m["fa_code"],
            "fa_name": m["fa_name"],
            "population": m["population"].astype(np.int64),
            **_before_after_by(plan, stage, "municipality_code", m.index),
        }
    )
    t.index.name = "municipality_code"
    t = t.reset_index().sort_values("municipality_code", kind="mergesort").reset_index(drop=True)
    changed = offices[offices["existing"].astype(bool) & (offices["decision"] != "keep")]
    text = changed.groupby("municipality_code")["office_name"].apply(list)
    dec = changed.groupby("municipality_code")["decision"].apply(list)
    t["changes"] = ["; ".join(f"{n} {d}" for n, d in zip(text[c], dec[c])) if c in text.index else "" for c in t["municipality_code"]]
    t["board_decision"] = (t["offices_before"] > 0) & (t["offices_after"] == 0)
    return t


# --------------------------------------------------------------------------- basis and context


def _basis(plan: Plan, marks: dict, conflicts: pd.DataFrame, caveats: pd.DataFrame, calibration: dict) -> dict:
    """What the figures rest on: the register, the calibration, public figures, flexible offices."""
    prep = plan.prepared
    p = prep.params
    off = prep.network.offices[prep.instance.existing_mask]
    register = None
    if "basis" in off.columns:
        conf = off["confidence"] if "confidence" in off.columns else pd.Series("", index=off.index)
        register = {
            "offices": int(len(off)),
            "documented": int((off["basis"] == "documented").sum()),
            "inferred": int(off["basis"].str.startswith("inferred").sum()),
            "uncertain": off.loc[conf == "conflicting", "office_name"].tolist(),
        }
    return {
        "register": register,
        "offices_in_register": int(len(off)),
        "reference_offices": int(p.reference_offices_total),
        "missing_offices": max(int(p.reference_offices_total) - int(len(off)), 0),
        "calibration": calibration,
        "public_figure_marks": dict(sorted(marks.items())),
        "public_figure_conflicts": conflicts.sort_values("office_id", kind="mergesort").to_dict("records"),
        "public_figure_caveats": caveats.sort_values("office_id", kind="mergesort").to_dict("records"),
        "estimated_visits": int(prep.visits.visits_estimated.sum()),
        "estimated_costs": int(prep.costs.cost_estimated.sum()),
        "offices_total": int(len(prep.network.offices)),
        "flexible": {
            "days_per_week": p.flexible_days_per_week,
            "weeks_per_year": p.flexible_weeks_per_year,
            "open_days": p.flexible_days_per_week * p.flexible_weeks_per_year,
            "capacity_visits": p.flexible_capacity_visits,
            "visits_per_day": p.flexible_visits_per_day,
            "site_share": p.flexible_site_share,
            "travel_msek": p.flexible_travel_sek / 1e6,
            # only when valued below a staffed office, so that with 0 the basis is as before
            **({"extra_distance_km": p.flexible_extra_distance_km} if prep.instance.flexible_extra_m > 0 else {}),
        },
    }


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _distance_measure(plan: Plan) -> str:
    net = plan.prepared.network
    if net.distance_matrix_m is not None:
        return f"travel distances from the planner's matrix ({_relative(net.sources['distances'])})"
    return f"straight line × detour factor {plan.prepared.params.detour_factor:g}"


def _receiver_distance_meaning(plan: Plan) -> str:
    if plan.prepared.network.distance_matrix_m is not None:
        return "km from the closed office to the office that receives its visitors: the planner's matrix distance from the demand point nearest the closed office (the matrix has no office-to-office distances)"
    return f"km from the closed office to the office that receives its visitors: straight line × detour factor {plan.prepared.params.detour_factor:g}, as in the optimisation"


def _context(plan: Plan, final_offices: pd.DataFrame) -> dict:
    prep = plan.prepared
    sc = prep.scenario
    matrix = prep.network.distance_matrix_m is not None
    return {
        "scenario_name": sc.name,
        "description": sc.description,
        "description_sv": sc.description_sv,
        "objective": sc.objective,
        "coverage_km": sc.coverage_km,
        "max_growth": sc.constraints.max_growth,
        "relative_gap": sc.solver.relative_gap,
        "detour_factor": prep.params.detour_factor,
        "distance_source": "matrix" if matrix else "straight line × detour factor",
        "distance_matrix": _relative(prep.network.sources["distances"]) if matrix else None,
        "distance_measure": _distance_measure(plan),
        "receiver_distance_meaning": _receiver_distance_meaning(plan),
        "inputs": {k: _relative(v) for k, v in sorted(prep.network.sources.items())},
        "json": _summary_json(plan, final_offices),
    }


#: The solver behind each backend, as summary.json names it ("none" for a plan written by hand).
SOLVER_NAMES = {"highspy": "HiGHS (highspy)", "ortools-highs": "HiGHS via OR-Tools", "cp-sat": "OR-Tools CP-SAT"}

#: Summary fields that hold the objective or its bound: whole numbers for the
#: integer objectives (inhabitant-metres, inhabitants), written as JSON integers.
_OBJECTIVE_KEYS = ("objective", "solver_objective", "best_bound")


def _exact_objective(summary: dict) -> dict:
    """An integer objective as an integer (197358299519, not 1.973582995e+11)."""
    if summary.get("objective_name") in ("distance", "coverage"):
        for key in _OBJECTIVE_KEYS:
            v = summary.get(key)
            if isinstance(v, float) and math.isfinite(v) and v == int(v):
                summary[key] = int(v)
    return summary


def _clean(obj):
    """JSON-safe: numpy scalars → Python, NaN/inf → None. Numbers stay exact
    (a float as its shortest exact repr): summary.json is read by programs."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        return x
    return obj


def _summary_json(plan: Plan, t: pd.DataFrame) -> dict:
    """The content of ``summary.json``: the final stage's summary, every stage, inputs and parameters."""
    prep = plan.prepared
    out = _exact_objective(plan.summary(-1))
    out["stages"] = [_exact_objective(plan.summary(s)) for s in range(len(plan.stages))]
    for st in out["stages"]:
        st.pop("model_size", None)
    out["phase"] = plan.phase
    out["notes"] = list(plan.notes)
    from .consult import plan_breaks

    out["breaks"] = [b.as_dict() for b in plan_breaks(plan)]
    sc = prep.scenario
    out["solver"] = {
        "name": SOLVER_NAMES.get(plan.backend, plan.backend or "none"),
        "backend": sc.solver.backend,
        "time_limit_s": sc.solver.time_limit_s,
        "threads": sc.solver.threads,
        "seed": sc.solver.seed,
        "relative_gap": sc.solver.relative_gap,
    }
    c = sc.constraints
    out["scenario_settings"] = {
        "source": sc.source,
        "description": sc.description,
        "description_sv": sc.description_sv,
        "objective": sc.objective,
        "coverage_km": sc.coverage_km,
        "flexible": sc.modes.flexible,
        "lock_open": list(c.lock_open),
        "lock_closed": list(c.lock_closed),
        "max_growth": c.max_growth,
        "max_distance_km": c.max_distance_km,
        "keep_municipalities": c.keep_municipalities,
        "max_closures": c.max_closures,
        "access_floor_km": c.access_floor_km,
        "access_floor_share": c.access_floor_share,
        "access_floor_scope": c.access_floor_scope,
        "parameters": dict(sc.parameters),
        "lang": sc.lang,
    }
    p = prep.params
    out["model_parameters"] = {
        "detour_factor": p.detour_factor,
        "decay_km": p.decay_km,
        "floor": p.floor,
        "staff_per_visit_sek": p.staff_per_visit_sek,
        "site_per_visit_sek": p.site_per_visit_sek,
        "fixed_cost_scale": prep.costs.fixed_scale,
        "flexible_capacity_visits": p.flexible_capacity_visits,
        "rho_by_region": prep.visits.rho_by_region,
    }
    out["estimates"] = {
        "offices_with_estimated_visits": int(prep.visits.visits_estimated.sum()),
        "offices_with_estimated_cost": int(prep.costs.cost_estimated.sum()),
    }
    out["inputs"] = {k: _relative(v) for k, v in sorted(prep.network.sources.items())}
    # what `netopt compare` needs to show this plan exactly as it was made
    out["input_files"] = {
        k: {"path": str(Path(v).resolve()), "sha256": prep.network.checksums.get(k)} for k, v in sorted(prep.network.sources.items())
    }
    out["parameters_resolved"] = dataclasses.asdict(prep.params)
    matrix = prep.network.distance_matrix_m is not None
    out["distances"] = {
        "source": "matrix" if matrix else "straight line × detour factor",
        "matrix": _relative(prep.network.sources["distances"]) if matrix else None,
        "detour_factor": None if matrix else p.detour_factor,
        "unit": "km (whole metres inside netopt)",
        "receiver_distance_km": _receiver_distance_meaning(plan),
    }
    out["offices"] = [
        {
            "office_id": r.office_id,
            "decision": r.decision,
            "visits_before": r.visits_before,
            "visits_after": r.visits_after,
            "receiver_id": r.receiver_id or None,
            "receiver_distance_km": r.receiver_distance_km,
        }
        for r in t.itertuples()
    ]
    return _clean(out)
