"""A planner's own travel-distance matrix replaces straight line × detour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netopt import DataError, Scenario, evaluate, load_network, solve
from netopt.geometry import distance_m


@pytest.fixture(scope="module")
def coarse(tmp_path_factory):
    """One demand point per municipality (fast) and its straight-line × 1.3 matrix."""
    base = load_network()
    d = base.demand.sort_values("population", ascending=False).drop_duplicates("municipality_code")
    d = d.sort_values("point_id")
    folder = tmp_path_factory.mktemp("matrix")
    demand = folder / "demand.csv"
    d[["point_id", "municipality_code", "lat", "lon", "population"]].to_csv(demand, index=False)
    off = base.offices
    km = distance_m(d["x_m"].to_numpy()[:, None], d["y_m"].to_numpy()[:, None], off["x_m"].to_numpy()[None, :], off["y_m"].to_numpy()[None, :], 1.3) / 1000.0
    long = pd.DataFrame({
        "point_id": np.repeat(d["point_id"].to_numpy(), len(off)),
        "office_id": np.tile(off["office_id"].to_numpy(), len(d)),
        "distance_km": km.ravel(),
    })
    matrix = folder / "distances.csv"
    long.to_csv(matrix, index=False, float_format="%.3f")
    return demand, matrix, long


def test_a_matrix_equal_to_the_default_gives_the_same_plan(coarse):
    demand, matrix, _ = coarse
    sc = Scenario(name="t").with_(tie_break=False)
    a = solve(load_network(demand=demand), sc)
    b = solve(load_network(demand=demand, distances=matrix), sc)
    assert b.status == "OPTIMAL" and b.objective == b.solver_objective
    assert a.objective == b.objective
    assert a.summary()["population_mean_distance_km"] == pytest.approx(b.summary()["population_mean_distance_km"])


def test_longer_travel_to_one_office_moves_its_visitors(coarse, tmp_path):
    demand, _, long = coarse
    slow = long.copy()
    slow.loc[slow.office_id == "visby", "distance_km"] += 500.0  # the ferry
    p = tmp_path / "slow.csv"
    slow.to_csv(p, index=False)
    net = load_network(demand=demand, distances=p)
    plan = evaluate(net, {}, Scenario(name="t"))
    t = plan.office_table().set_index("office_id")
    base = evaluate(load_network(demand=demand), {}, Scenario(name="t")).office_table().set_index("office_id")
    # calibrated totals stay; Gotland's visitors now reach Visby 500 km "farther"
    assert plan.summary()["visits_before"] == pytest.approx(2_758_758, rel=1e-6)
    assert t.loc["visby", "visits_before"] < 0.5 * base.loc["visby", "visits_before"]
    assert plan.summary()["population_mean_distance_km_before"] > evaluate(load_network(demand=demand), {}, Scenario(name="t")).summary()["population_mean_distance_km_before"]


def test_incomplete_or_bad_matrix_is_rejected(coarse, tmp_path):
    demand, _, long = coarse
    p = tmp_path / "bad.csv"
    long.iloc[1:].to_csv(p, index=False)
    with pytest.raises(DataError, match="pairs are missing"):
        load_network(demand=demand, distances=p)
    bad = long.head(50).copy()
    bad.loc[0, "office_id"] = "nowhere"
    bad.loc[1, "distance_km"] = -3
    bad.to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        load_network(demand=demand, distances=p)
    text = str(e.value)
    assert "unknown office" in text and "from 0 to 5000 km" in text and "line 2" in text and "line 3" in text


def test_kept_straight_line_distances_give_the_chunked_evaluator_s_nearest_offices(monkeypatch):
    """An instance without a matrix keeps its demand × office distances once computed
    (Instance.distances_m): nearest offices and distances, ties to the lower office
    index, equal to the chunked brute force of geometry.nearest_open; a larger
    instance keeps none; a pickled instance leaves them behind."""
    import pickle

    from netopt import instance as instance_module
    from netopt.geometry import nearest_open

    from test_model import make_instance

    rng = np.random.default_rng(7)
    for trial in range(20):
        n, m = int(rng.integers(1, 12)), int(rng.integers(1, 60))
        # coarse coordinates: many equal distances, so ties must go the same way
        inst = make_instance(rng.integers(0, 5, n) * 700.0, rng.integers(0, 5, n) * 700.0, rng.integers(0, 5, m) * 700.0,
                             rng.integers(0, 5, m) * 700.0, np.ones(m)).with_(detour_factor=float(rng.choice([1.0, 1.3])))
        assert inst.distances_m is not None and inst.distances_m.shape == (m, n)
        for _ in range(5):
            is_open = rng.random(n) < 0.6
            if not is_open.any():
                continue
            want = nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, is_open, inst.detour_factor, chunk=7)
            got = inst.nearest_open(is_open)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            modes = np.where(is_open, rng.integers(1, 3, n), 0)
            assert all(np.array_equal(a, b) for a, b in zip(inst.nearest_by_modes(modes), want))
    assert "distances_m" in inst.__dict__
    assert "distances_m" not in pickle.loads(pickle.dumps(inst)).__dict__
    monkeypatch.setattr(instance_module, "DISTANCE_CACHE_ENTRIES", inst.m * inst.n - 1)
    big = inst.with_()
    assert big.distances_m is None
    is_open = np.ones(inst.n, bool)
    assert np.array_equal(big.nearest_open(is_open)[1], nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, is_open, inst.detour_factor)[1])
