"""The what-if payload (netopt.whatif): the data map.html recomputes a plan from.

The browser side (the same figures as netopt evaluate, in Chromium) is in
test_whatif_browser.py; here: the encodings decode to the exact values, the
distance the page computes is the optimisation's, and the payload is
deterministic, escaped and refuses networks too large for a page.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re

import numpy as np
import pytest

import netopt
from netopt import geometry, maps, whatif
from netopt.i18n import texts
from netopt.outputs import map_extensions
from netopt.tables import plan_tables

from test_maps import EVIL


def map_html(plan, stage: int = -1, *, lang: str = "en", payload: dict | None = None) -> str:
    """map.html of one stage of ``plan`` with the what-if, as netopt solve writes it
    (``payload``: a what-if payload in place of the plan's own)."""
    tables = plan_tables(plan, stage)
    if payload is not None:
        tables = dataclasses.replace(tables, whatif=payload)
    tx = texts(lang)
    return maps.map_html(tables, tx, extensions=map_extensions(tables, tx))


# --------------------------------------------------------------------------- decoders mirroring the page


def decode_row_deltas(text: str, m: int, n: int) -> np.ndarray:
    """The page's decoder (netopt-whatif.js, rowDeltasOf), step by step."""
    data = base64.b64decode(text)
    out = np.zeros(m * n, np.int64)
    pos = 0
    for k in range(m * n):
        v, shift = 0, 1
        while True:
            b = data[pos]
            pos += 1
            v += (b & 127) * shift
            shift *= 128
            if not b & 128:
                break
        z = v // 2 if v % 2 == 0 else -(v + 1) // 2
        out[k] = (out[k - n] if k >= n else 0) + z
    assert pos == len(data)
    return out.reshape(m, n)


def typed(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype))


@pytest.fixture(scope="module")
def network():
    return netopt.load_network()


@pytest.fixture(scope="module")
def scenario():
    from conftest import SCENARIOS

    return netopt.load_scenario(SCENARIOS / "cut-2027.toml")


@pytest.fixture(scope="module")
def hand_plan(network, scenario):
    return netopt.evaluate(network, {"stockholm-kista": "close", "kiruna": "flexible", "visby": "close"}, scenario)


# --------------------------------------------------------------------------- encodings


def test_row_deltas_round_trip():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 5_000_000, size=(37, 11))
    matrix[5] = 0
    matrix[6] = 4_999_999  # large jumps both ways
    matrix[:, 3] = 2**31 - 1  # the largest whole metre an Int32Array holds
    assert np.array_equal(decode_row_deltas(base64.b64encode(whatif.varint_row_deltas(matrix)).decode(), 37, 11), matrix)
    assert whatif.varint_row_deltas(np.zeros((0, 4), np.int64)) == b""


def test_row_deltas_hand_example():
    # rows [1, 300] and [0, 300]: deltas 1, 300, -1, 0 -> zigzag 2, 600, 1, 0
    # -> varints 02 | d8 04 | 01 | 00
    assert whatif.varint_row_deltas(np.array([[1, 300], [0, 300]])) == bytes([0x02, 0xD8, 0x04, 0x01, 0x00])


def test_page_distance_equals_the_optimisations_except_the_listed_fixes():
    # points on circles of radius k + 0.5 around an office: where hypot and
    # sqrt(a² + b²) round the half differently the page would be 1 m off
    rng = np.random.default_rng(0)
    radius = rng.integers(100, 2_000_000, 20_000) + 0.5
    angle = rng.uniform(0, 2 * np.pi, radius.size)
    px, py = 500_000.0 + radius * np.cos(angle), 6_800_000.0 + radius * np.sin(angle)
    ox, oy = np.array([500_000.0, 612_345.678]), np.array([6_800_000.0, 7_000_001.25])
    truth = geometry.distance_m(px[:, None], py[:, None], ox[None, :], oy[None, :], 1.0)
    page = whatif.page_distance_m(px[:, None], py[:, None], ox[None, :], oy[None, :], 1.0)
    fixes = whatif._fixes(px, py, ox, oy, 1.0)
    assert fixes, "the constructed ties should include pairs where the two roundings differ"
    assert len(fixes) == int((truth != page).sum())
    for j, i, metres in fixes:
        page[j, i] = metres
    assert np.array_equal(page, truth)


def test_shipped_network_needs_no_fix(hand_plan):
    p = whatif.whatif_payload(hand_plan)
    assert p["distances"]["source"] == "straight_line"
    assert p["distances"]["fix"] == []


def office_distances(plan) -> np.ndarray:
    from netopt.metrics import office_distance_m

    inst = plan.prepared.instance
    return np.stack([office_distance_m(inst, i, np.arange(inst.n)) for i in range(inst.n)])


def test_office_distances_are_the_evaluators(hand_plan):
    p = whatif.whatif_payload(hand_plan)
    od = decode_row_deltas(p["distances"]["offices"], p["n"], p["n"])
    assert np.array_equal(od, office_distances(hand_plan))
    inst = hand_plan.prepared.instance
    assert od[3, 7] == geometry.distance_m(inst.ox[3], inst.oy[3], inst.ox[7], inst.oy[7], inst.detour)


def test_payload_holds_the_instance_exactly(hand_plan):
    inst = hand_plan.prepared.instance
    p = whatif.whatif_payload(hand_plan)
    assert (p["m"], p["n"]) == (inst.m, inst.n) == (len(hand_plan.prepared.network.demand), len(hand_plan.prepared.network.offices))
    assert np.array_equal(typed(p["points"]["x"], "<f8"), inst.dx)
    assert np.array_equal(typed(p["points"]["propensity"], "<f8"), inst.propensity)
    assert np.array_equal(typed(p["points"]["population"], "<i4"), inst.population)
    assert np.array_equal(typed(p["offices"]["fixed_full"], "<f8"), inst.fixed_full_sek)
    assert np.array_equal(typed(p["offices"]["baseline_visits"], "<f8"), inst.baseline_visits)
    assert p["offices"]["plan_mode"] == hand_plan.final.modes.tolist()
    assert p["offices"]["id"] == list(inst.office_ids)
    # JSON numbers read back to the same doubles
    back = json.loads(maps.layers.js(p))
    assert back["staff_per_visit_sek"] == inst.staff_per_visit_sek and back["stage"]["budget_sek"] == inst.budgets_sek[-1]
    fa_of_point = typed(p["points"]["fa"], "<i2")
    codes = p["fa_regions"]["code"]
    assert [codes[k] for k in fa_of_point[:5]] == hand_plan.prepared.network.demand["fa_code"].head().tolist()
    assert p["check"]["objective"] == hand_plan.final.objective


def planner_matrix_network(network, folder, *, step_km: float = 0.001, offices=None, division=None):
    """One demand point per municipality and a planner's own distance matrix
    (seeded random travel distances, nothing like straight lines, rounded to
    ``step_km``: a coarse step makes many offices equally far, ties), for the
    offices of ``network``; ``offices`` and ``division`` are passed to load_network."""
    import pandas as pd

    dem = network.demand.sort_values("point_id").drop_duplicates("municipality_code")
    demand = folder / "demand.csv"
    dem[["point_id", "municipality_code", "lat", "lon", "population"]].to_csv(demand, index=False)
    off = network.offices
    rng = np.random.default_rng(1)
    km = np.maximum(np.round(rng.uniform(0.5, 900.0, (len(dem), len(off))) / step_km) * step_km, 0.0).round(3)
    pd.DataFrame({
        "point_id": np.repeat(dem["point_id"].to_numpy(), len(off)),
        "office_id": np.tile(off["office_id"].to_numpy(), len(dem)),
        "distance_km": km.ravel(),
    }).to_csv(folder / "distances.csv", index=False)
    return netopt.load_network(offices, demand=demand, distances=folder / "distances.csv", division=division)


def test_planner_matrix_is_embedded_exactly(network, scenario, tmp_path):
    plan = netopt.evaluate(planner_matrix_network(network, tmp_path), {}, scenario)
    p = whatif.whatif_payload(plan)
    assert p["distances"]["source"] == "matrix" and "x" not in p["points"]
    assert np.array_equal(decode_row_deltas(p["distances"]["rows"], p["m"], p["n"]), plan.prepared.instance.dist_matrix_m)
    # office to office: the matrix row of the demand point nearest the office
    assert np.array_equal(decode_row_deltas(p["distances"]["offices"], p["n"], p["n"]), office_distances(plan))


def test_too_large_a_network_is_refused_with_a_reason(hand_plan, monkeypatch):
    monkeypatch.setattr(whatif, "MAX_PAIRS", 1000)
    p = whatif.whatif_payload(hand_plan)
    m, n = hand_plan.prepared.instance.m, hand_plan.prepared.instance.n
    assert p == {"available": False, "reason": p["reason"], "demand_points": m, "offices": n, "distances": m * n + n * n, "limit": 1000}
    pairs, points = f"{m * n + n * n:,}".replace(",", " "), f"{m:,}".replace(",", " ")
    assert f"{points} demand points and {n} offices: {pairs} distances, more than the 1 000 a page can hold" in p["reason"]
    page = map_html(hand_plan)
    assert "netoptWhatifInit" in page and f"{pairs} distances" in page
    # the note is in the page's language
    sv = map_html(hand_plan, lang="sv")
    assert f"Tänk om finns inte för den här kartan: nätverket har {points} efterfrågepunkter och {n} kontor: {pairs} avstånd" in sv


def test_stage_is_the_one_asked_for(network):
    from conftest import SCENARIOS

    staged = netopt.load_scenario(SCENARIOS / "stages-2025-2027.toml")
    plan = netopt.evaluate(network, {"visby": "flexible"}, staged)
    first, last = whatif.whatif_payload(plan, 0), whatif.whatif_payload(plan, -1)
    assert first["stage"]["index"] == 0 and last["stage"]["index"] == len(plan.stages) - 1
    assert first["stage"]["year"] == staged.stages[0].year and last["stage"]["year"] == staged.stages[-1].year
    assert first["stage"]["budget_sek"] == plan.prepared.instance.budgets_sek[0]
    assert first["stage"]["allowance_sek"] == plan.prepared.instance.allowances_sek[0]
    assert first["check"]["savings_msek"] == plan.stages[0].metrics["savings_msek"]


# --------------------------------------------------------------------------- in the map


def test_map_embeds_the_whatif_escaped_offline_and_deterministic(network, scenario, tmp_path, shipped_offices):
    from conftest import write_csv_rows

    header, rows = shipped_offices
    rows = [list(r) for r in rows]
    rows[0][header.index("office_name")] = EVIL
    evil_id = rows[0][header.index("office_id")]
    net = netopt.load_network(write_csv_rows(tmp_path / "offices.csv", header, rows))
    plan = netopt.evaluate(net, {evil_id: "close"}, scenario)
    a, b = map_html(plan), map_html(plan)
    assert a == b
    assert EVIL not in a
    # the what-if's script joins netopt's own (a PageExtension): 4 scripts, as on every map
    assert a.count("<script") == a.count("</script>") == 4
    assert not re.search(r"<script[^>]*\bsrc\s*=", a, re.I) and not re.search(r"<link\b", a, re.I)
    assert "netoptWhatifInit(map_" in a
    # the name travels as JSON with < and > escaped, and the page escapes it again as HTML
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in a
    # the what-if starts after the layers it changes, the layer control and the page's panels are built
    assert a.rindex("netoptAddOffices(") < a.rindex("L.control.layers(") < a.rindex("netoptInitPage(") < a.index("netoptWhatifInit(map_")
    # its panel section comes from an escaped template in the page's language
    assert 'id="netopt-whatif"' in a and "What if? Change decisions on the map" in a
    assert "Tänk om? Ändra beslut på kartan" in map_html(plan, lang="sv")


def test_maps_without_the_extension_are_unchanged(hand_plan):
    plain = maps.map_html(plan_tables(hand_plan))
    assert "netoptWhatifInit" not in plain and 'id="netopt-whatif"' not in plain and ".netopt-whatif" not in plain
    assert plain.count("<script") == 4


def test_extension_data_carries_the_maps_style_and_the_plans_marks(network, scenario, shipped_solution):
    """The what-if redraws with the rules netopt.maps.style draws with, and knows
    which offices the plan rings (receiving) and dashes (contradicted estimate)."""
    from netopt.decisions import read_decisions

    # the 2027 plan, measured without the shipped max_growth: under the limit no office is
    # ringed, so the 50 % threshold of a scenario without one shows the rings
    plan = netopt.evaluate(network, read_decisions(shipped_solution / "plan.csv", network), scenario.with_(max_growth=None))
    tables = plan_tables(plan)
    ext = maps.whatif_extension(tables, texts("en"))
    page = ext.data["page"]
    assert ext.name == "whatif" and ext.init == "netoptWhatifInit"
    assert {k: v for k, v in page["style"].items() if k != "max_visits"} == maps.style.page_style()
    assert page["style"]["max_visits"] == maps.layers.max_visits(maps.map_inputs(tables)[0])
    assert page["plan_receiving_flags"] == sorted(tables.offices.loc[tables.offices["receiving_flag"], "office_id"])
    assert page["plan_receiving_flags"], "the 2027 plan rings receiving offices"
    assert page["growth_threshold"] == 0.5
    marks = tables.basis["public_figure_marks"]
    assert page["conflicts"] == sorted(o for o in marks if o in set(tables.offices["office_id"]))
    assert page["texts"]["whatif.row.cut"] == "Cut asked" and page["texts"]["format.decimal_mark"] == "."
    sv = maps.whatif_extension(tables, texts("sv")).data["page"]["texts"]
    assert sv["whatif.row.cut"] == "Besparingskrav" and sv["format.decimal_mark"] == ","
    # the data of the plan are the payload's, unchanged
    assert {k: v for k, v in ext.data.items() if k != "page"} == tables.whatif


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs Node.js to run the page's engine outside a browser")
@pytest.mark.parametrize("scope, share", [("national", 0.809), ("fa_region", 0.2)])
def test_the_page_engine_judges_the_access_floor_as_python_does(tmp_path, scope, share):
    """The page's engine under Node.js: every group's share bit for bit, and whether the floor
    holds, as metrics.access_shares and floor_met (a flexible office δ farther)."""
    import json
    import subprocess
    from importlib import resources

    from netopt.metrics import CLOSED, FLEXIBLE, KEPT, access_shares, evaluate_stage, floor_met
    from conftest import SCENARIOS
    from test_flexible_access import _NODE_EVALUATE

    network = netopt.load_network()
    base = netopt.load_scenario(SCENARIOS / "cut-2027.toml")
    scenario = dataclasses.replace(base, constraints=dataclasses.replace(base.constraints, access_floor_km=30.0, access_floor_share=share, access_floor_scope=scope))
    params = netopt.load_parameters().with_overrides(flexible_extra_distance_km=6.0)
    plan = netopt.evaluate(network, {"stockholm-kista": "flexible", "kiruna": "flexible", "visby": "close"}, scenario, params=params)
    inst = plan.prepared.instance
    payload = whatif.whatif_payload(plan)
    assert payload["access_floor"] == {"m": 30000, "share": share, "scope": scope}
    rng = np.random.default_rng(11)
    modes = [plan.stages[-1].modes, np.where(inst.existing_mask, KEPT, CLOSED)]  # the plan, and today's network (meets the floor)
    for k in range(12):
        m = np.where(inst.existing_mask, KEPT, CLOSED)
        m[rng.choice(inst.n, 20, replace=False)] = FLEXIBLE
        m[rng.choice(inst.n, 5 + 3 * k, replace=False)] = CLOSED
        modes.append(m)
    (tmp_path / "in.json").write_text(json.dumps({"payload": payload, "modes": [[int(v) for v in m] for m in modes]}))
    script = tmp_path / "run.js"
    script.write_text(_NODE_EVALUATE.replace("return {metrics: r.metrics,", "return {shares: r.floor.shares.map(x => isNaN(x) ? null : x), metrics: r.metrics,"))
    engine = resources.files("netopt") / "static" / "netopt-whatif.js"
    out = json.loads(subprocess.run(["node", str(script), str(engine), str(tmp_path / "in.json")], check=True, capture_output=True, text=True).stdout)
    verdicts = set()
    for m, got in zip(modes, out):
        r = evaluate_stage(inst, m, len(inst.budgets_sek) - 1)
        shares = access_shares(inst, r.equivalent_dist_m)
        assert got["shares"] == [None if np.isnan(x) else float(x) for x in shares]
        for key in ("access_floor_met", "access_floor_share_achieved", "access_floor_share_before", "access_floor_groups_below"):
            assert got["metrics"][key] == r.metrics[key], key
        assert got["metrics"]["access_floor_groups_below"] == int((~floor_met(inst, shares)).sum())
        verdicts.add(r.metrics["access_floor_met"])
    assert verdicts == {True, False}  # both verdicts among the sets
