"""The frontier (issue 14, item 3): several access measures, honest axes, labelled
and linked points, the budget stages, and each cut's plan in its own folder."""

from __future__ import annotations

import pandas as pd
import pytest

import netopt
from netopt.charts import FRONTIER_MEASURES, frontier_figure
from netopt.i18n import texts
from netopt.sweep import cut_folder, frontier_html, sweep

ROWS = [
    # cut, saving, closed, flexible, mean, p90, share within 30 km, visits lost
    (0.0, 0.0, 0, 0, 17.94, 42.8, 0.81, 0.0),
    (50.0, 45.2, 3, 14, 17.98, 42.8, 0.81, 410.0),
    (100.0, 90.1, 9, 14, 18.61, 42.9, 0.809, 3690.0),
    (150.0, 140.3, 16, 14, 19.44, 42.9, 0.808, 16629.0),
]


@pytest.fixture
def frame():
    f = pd.DataFrame(ROWS, columns=["cut_msek", "savings_msek", "offices_closed", "offices_flexible", "population_mean_distance_km",
                                    "population_p90_distance_km", "population_share_within_30km", "visits_lost"])
    f["status"] = "OPTIMAL"
    infeasible = pd.DataFrame([{"cut_msek": 900.0, "status": "INFEASIBLE"}])
    return pd.concat([f, infeasible], ignore_index=True)


def test_cut_folders():
    assert [cut_folder(c) for c in (150, 150.0, 12.5, 0, -10, 0.1 + 0.2)] == ["cut-150", "cut-150", "cut-12.5", "cut-0", "cut--10", "cut-0.3"]
    assert all(netopt.io.OUTPUT_FOLDERS.match(cut_folder(c)) for c in (150, 12.5, 0, -10))


def test_frontier_axes_are_honest_and_points_labelled_and_linked(frame):
    links = [f"{cut_folder(c)}/report.html" for c in frame["cut_msek"]]
    fig = frontier_figure(frame, texts("en"), stages=[(2025, 50.0), (2026, 100.0), (2027, 150.0)], links=links)
    axes = fig.axes
    assert len(axes) == len(FRONTIER_MEASURES) == 4
    assert [ax.get_title(loc="left") for ax in axes] == ["Mean distance to the nearest office (km)", "90th percentile of the distance (km)", "Share of the population within 30 km", "Visits lost per year"]
    for ax in axes:
        assert ax.get_ylim()[0] == 0  # zero-based, not 17.94 … 20.20
        ticks = ax.get_yticks()
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
        (step,) = steps
        assert any(abs(step / 10**k - m) < 1e-9 for k in range(-2, 6) for m in (1, 2, 2.5, 5))  # round steps: 5, 10, 0.25 …
        assert ax.get_ylim()[1] >= max(v for v in ax.collections[0].get_offsets()[:, 1])
        # the budget stages are dashed lines at their cuts, labelled with their years
        assert sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() in ("--", "-.") or line.get_xdata()[0] == line.get_xdata()[1]) == [50.0, 100.0, 150.0]
        assert {t.get_text() for t in ax.texts} >= {"2025", "2026", "2027"}
        # the infeasible cut is not drawn; each point links to its plan
        assert ax.collections[0].get_urls() == ["cut-0/report.html", "cut-50/report.html", "cut-100/report.html", "cut-150/report.html"]
    labels = [t.get_text() for t in axes[0].texts if "/" in t.get_text()]
    assert labels == ["0 / 0", "45 / 3", "90 / 9", "140 / 16"]  # saving MSEK / offices closed


def test_frontier_html_in_english_and_swedish(frame):
    page = frontier_html(frame, "cut-2027: saving against access", stages=[(2027, 150.0)])
    assert page.startswith("<!DOCTYPE html>") and 'href="cut-150/report.html"' in page and 'href="cut-50/map.html"' in page
    assert "Infeasible cuts (no plan keeps every FA-region served): 900 MSEK." in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    sv = frontier_html(frame, "cut-2027: besparing mot tillgänglighet", texts=texts("sv"), stages=[(2027, 150.0)])
    assert '<html lang="sv">' in sv and "Medelavstånd till närmaste kontor (km)" in sv and "Besparingskrav mot 2024 (mnkr per år)" in sv
    assert "140,3" in sv and "Krav som inte går att uppfylla" in sv
    assert frontier_html(frame, "t") == frontier_html(frame, "t")  # deterministic


def test_sweep_calls_back_with_each_feasible_plan(fast_demand):
    seen = []
    network = netopt.load_network(demand=fast_demand)
    f = sweep(network, netopt.Scenario(name="s").with_(time_limit_s=30), [50.0, 5000.0], on_plan=lambda cut, plan: seen.append((cut, plan.summary()["cut_msek"], plan.scenario.description)))
    assert list(f["status"]) == ["OPTIMAL", "INFEASIBLE"]
    assert seen == [(50.0, 50.0, "")]


def test_overwrite_accepts_a_sweep_folder_and_refuses_foreign_files(tmp_path):
    from netopt.errors import OutputError

    out = tmp_path / "sweep"
    (out / "cut-50").mkdir(parents=True)
    (out / "frontier.csv").write_text("x", encoding="utf-8")
    (out / "cut-50" / "plan.csv").write_text("x", encoding="utf-8")
    netopt.io.check_output_dir(out, overwrite=True)  # netopt's own outputs
    (out / "cut-50" / "thesis.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="cut-50"):
        netopt.io.check_output_dir(out, overwrite=True)
    (out / "cut-50" / "thesis.docx").unlink()
    (out / "notes").mkdir()
    with pytest.raises(OutputError, match="notes"):
        netopt.io.check_output_dir(out, overwrite=True)



def test_a_cut_stopped_without_a_plan_is_not_called_infeasible(frame):
    """A solve stopped by its time limit without a plan proves nothing: the frontier
    says so (and draws no point, links no folder), apart from the infeasible cuts."""
    stopped = pd.concat([frame, pd.DataFrame([{"cut_msek": 160.0, "status": "NO_PLAN", "note": "the solver stopped"}])], ignore_index=True)
    page = frontier_html(stopped, "t", stages=[(2027, 150.0)])
    assert "Infeasible cuts (no plan keeps every FA-region served): 900 MSEK." in page
    assert "Cuts without a plan in the time limit (not proven infeasible; raise time_limit_s): 160 MSEK." in page
    assert 'href="cut-160/' not in page and "NO_PLAN" in page
    fig = frontier_figure(stopped, texts("en"), links=[f"{cut_folder(c)}/report.html" for c in stopped["cut_msek"]])
    assert fig.axes[0].collections[0].get_urls() == ["cut-0/report.html", "cut-50/report.html", "cut-100/report.html", "cut-150/report.html"]
    sv = frontier_html(stopped, "t", texts=texts("sv"))
    assert "Krav utan plan inom tidsgränsen" in sv and "INGEN PLAN" in sv


def test_sweep_keeps_a_cut_stopped_without_a_plan_apart(fast_demand, monkeypatch):
    import netopt.plan
    from netopt.errors import InfeasibleError

    solve_prepared = netopt.plan.solve_prepared

    def stopped_at_100(prep, **kw):
        if prep.scenario.stages[-1].cut_msek == 100.0:
            raise InfeasibleError("the solver stopped after 30.0 s before it found a plan that meets every constraint. Fix: raise solver.time_limit_s", {"status": "NO_PLAN"})
        return solve_prepared(prep, **kw)

    monkeypatch.setattr(netopt.plan, "solve_prepared", stopped_at_100)
    seen = []
    f = sweep(netopt.load_network(demand=fast_demand), netopt.Scenario(name="s"), [50.0, 100.0, 20.0], on_plan=lambda cut, plan: seen.append(cut))
    assert list(f["status"]) == ["OPTIMAL", "NO_PLAN", "OPTIMAL"]
    assert f["note"].iloc[1].startswith("the solver stopped after 30.0 s") and sorted(seen) == [20.0, 50.0]
