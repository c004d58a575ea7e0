"""compare shows each plan exactly as it was made (issue 11, fault 8).

A plan made with --offices (one office removed, one added) was re-measured on
the data given to compare: the removed office showed as "keep", the added one
vanished, and its saving and mean distance changed; an OPTIMAL plan showed as
EVALUATED.
"""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from conftest import run_netopt
from netopt.data import shipped_paths

STYRSO = {"office_id": "styrso", "office_name": "Styrsö servicepunkt", "municipality_code": "1480", "lat": "57.61639", "lon": "11.78556"}


def _summary(folder):
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _table(folder):
    with open(folder / "compare.csv", encoding="utf-8", newline="") as fh:
        return {r["office_id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory, fast_demand, shipped_scenario):
    """A: the shipped register; B: its own register without Kista and with Styrsö."""
    root = tmp_path_factory.mktemp("plans")
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    reg = pd.concat([reg[reg["office_id"] != "stockholm-kista"], pd.DataFrame([STYRSO])]).fillna("")
    offices = root / "my_offices.csv"
    reg.to_csv(offices, index=False)
    a, b = root / "a", root / "b"
    assert run_netopt("solve", shipped_scenario, "--demand", fast_demand, "--out", a, "--no-map").code == 0
    res = run_netopt("solve", shipped_scenario, "--demand", fast_demand, "--offices", offices, "--out", b, "--no-map")
    assert res.code == 0, res.text
    return a, b, offices


def test_each_plan_is_shown_as_it_was_solved(tmp_path, two_plans):
    a, b, _ = two_plans
    out = tmp_path / "cmp"
    res = run_netopt("compare", a, b, "--out", out)  # no --offices: each plan brings its own
    assert res.code == 0, res.text
    t = _table(out)
    assert t["stockholm-kista"]["decision_b"] == "–"  # not in B's register (was shown as "keep")
    assert t["styrso"]["decision_a"] == "–" and t["styrso"]["decision_b"] in ("keep", "flexible", "close")
    md = (out / "compare.md").read_text(encoding="utf-8")
    sa, sb = _summary(a), _summary(b)
    assert f"| Saving (MSEK/yr) | {sa['savings_msek']:.1f} | {sb['savings_msek']:.1f} |" in md
    assert f"| Mean distance (km) | {sa['population_mean_distance_km']:.2f} | {sb['population_mean_distance_km']:.2f} |" in md
    assert "| Status | OPTIMAL | OPTIMAL |" in md and "EVALUATED" not in md
    assert "rest on different data" in md and "my\\_offices.csv" in md
    assert "EVALUATED" not in (out / "map.html").read_text(encoding="utf-8")


def test_the_library_keeps_status_bound_and_figures(two_plans):
    from netopt.compare import load_plan_dir

    _, b, _ = two_plans
    plan = load_plan_dir(b)
    s, saved = plan.summary(), _summary(b)
    assert s["status"] == saved["status"] == "OPTIMAL"
    assert s["best_bound"] == saved["best_bound"] and s["gap"] == saved["gap"]
    assert int(plan.objective) == saved["objective"]
    for key in ("savings_msek", "cost_msek", "population_mean_distance_km", "offices_kept", "offices_closed"):
        assert s[key] == saved[key], key


def test_a_moved_or_changed_input_is_named(tmp_path, two_plans, copy_of):
    a, b, offices = two_plans
    moved = copy_of(b, "b-moved")
    summary = _summary(moved)
    elsewhere = tmp_path / "archive" / "offices-2026.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(offices.read_bytes())
    summary["input_files"]["offices"]["path"] = str(tmp_path / "gone.csv")  # the file moved
    (moved / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    res = run_netopt("compare", a, moved, "--out", tmp_path / "c1")
    assert res.code == 2
    assert "offices file this plan was made with" in res.err and "gone.csv (not found)" in res.err and "--offices" in res.err
    assert not (tmp_path / "c1").exists()
    res = run_netopt("compare", a, moved, "--offices", elsewhere, "--out", tmp_path / "c2")
    assert res.code == 0, res.text
    elsewhere.write_bytes(offices.read_bytes().replace(b"Styrs\xc3\xb6", b"Styrso"))  # changed since
    res = run_netopt("compare", a, moved, "--offices", elsewhere, "--out", tmp_path / "c3")
    assert res.code == 2 and "different content" in res.err


def test_folder_without_input_record_is_refused(tmp_path, two_plans, copy_of):
    a, b, _ = two_plans
    old = copy_of(b, "old")
    summary = _summary(old)
    del summary["input_files"]
    (old / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    res = run_netopt("compare", a, old, "--out", tmp_path / "c")
    assert res.code == 2 and "does not record its input files" in res.err and "Traceback" not in res.err


def test_edited_plan_csv_is_refused(tmp_path, two_plans, copy_of):
    a, b, _ = two_plans
    edited = copy_of(a, "edited")
    text = (edited / "plan.csv").read_text(encoding="utf-8")
    kept = next(line for line in text.splitlines()[1:] if ",keep," in line)
    (edited / "plan.csv").write_text(text.replace(kept, kept.replace(",keep,", ",close,")), encoding="utf-8")
    res = run_netopt("compare", a, edited, "--out", tmp_path / "c")
    assert res.code == 2 and "not the folder's figure" in res.err


def test_compare_says_whether_each_cut_is_met_with_each_plans_status_in_swedish(tmp_path, two_plans):
    """Issue 14, item 4: both plans' own statuses, a "cut met" row, and the map shows both plans at once."""
    a, b, _ = two_plans
    out = tmp_path / "cmp-sv"
    res = run_netopt("compare", a, b, "--out", out, "--lang", "sv")
    assert res.code == 0, res.text
    md = (out / "compare.md").read_text(encoding="utf-8")
    sa, sb = _summary(a), _summary(b)
    met = {True: "ja", False: "**nej**"}
    assert f"| Kravet uppfyllt | {met[sa['meets_budget']]} | {met[sb['meets_budget']]} |" in md
    assert "| Status | BEVISAT OPTIMAL | BEVISAT OPTIMAL |" in md and "Jämförelse:" in md  # the Swedish label, not the code and "mnkr/år" in md
    assert f"| Besparing (mnkr/år) | {sa['savings_msek']:.1f} | {sb['savings_msek']:.1f} |".replace(".", ",") in md
    page = (out / "map.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in page and "Kontor med olika beslut" in page and "Kravet uppfyllt" in page
    assert page.count("netoptAddOffices(") == 1 and "netopt-office-differs" in page


def test_parameters_recorded_under_names_this_netopt_lacks_are_refused_by_name(tmp_path, two_plans, copy_of):
    """A folder whose resolved parameters use a name netopt no longer has (another
    version's vocabulary) is refused naming the key, not re-measured with defaults."""
    a, b, _ = two_plans
    other = copy_of(b, "other-version")
    summary = _summary(other)
    summary["parameters_resolved"]["detour"] = summary["parameters_resolved"].pop("detour_factor")
    (other / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    res = run_netopt("compare", a, other, "--out", tmp_path / "c")
    assert res.code == 2 and "Traceback" not in res.err
    assert "'parameters_resolved.detour': is not a parameter of this netopt" in res.err and "solve or evaluate the plan again" in res.err


def test_a_plan_in_its_scenarios_own_division_is_compared_in_that_division(tmp_path, fast_demand, county_division, shipped_scenario):
    """The scenario's fa_division re-divides the network in the library; the plan records
    that division file (path and SHA-256), so compare measures it in the same division."""
    import netopt
    from netopt.compare import load_plan_dir

    sc = netopt.load_scenario(shipped_scenario).with_(fa_division=str(county_division))
    plan = netopt.solve(netopt.load_network(demand=fast_demand), sc)
    out = netopt.write_outputs(plan, tmp_path / "counties", with_map=False)
    s = _summary(out)
    assert s["fa_regions_total"] == 21 and s["input_files"]["division"]["path"] == str(county_division.resolve())
    again = load_plan_dir(out)
    assert again.prepared.network.division_name == s["fa_division"] and again.summary()["fa_regions_total"] == 21
    assert again.summary()["savings_msek"] == s["savings_msek"] and str(again.status) == s["status"]


def test_compare_shows_what_each_plan_breaks_its_baseline_and_shares_in_percent(tmp_path, two_plans, fast_demand, shipped_scenario):
    """A newcomer's trial: compare.md hid that plan B (a hand plan keeping Kista) breaks the
    growth limit and the cut, gave the share within 30 km as 0.807 and had no baseline
    row; its Swedish version named the differing input file in English."""
    a, b, _ = two_plans
    hand = tmp_path / "hand"
    assert run_netopt("evaluate", shipped_scenario, "--demand", fast_demand, "--out", hand, "--no-map").code == 0  # nothing changed: the cut is not met
    out = tmp_path / "cmp"
    res = run_netopt("compare", a, hand, "--out", out)
    assert res.code == 0, res.text
    md = (out / "compare.md").read_text(encoding="utf-8")
    sa, sh = _summary(a), _summary(hand)
    assert "| What the plan breaks | nothing | **cut not met (2027)** |" in md
    assert f"| Share within 30 km | {100 * sa['population_share_within_30km']:.1f}\u00a0% | {100 * sh['population_share_within_30km']:.1f}\u00a0% |" in md
    assert f"| Cost in 2024, the baseline (MSEK/yr) | {sa['baseline_cost_msek']:.1f} | {sh['baseline_cost_msek']:.1f} |" in md
    assert "Both plans rest on the same input files and parameters." in md
    res = run_netopt("compare", a, b, "--out", tmp_path / "sv", "--lang", "sv")
    md = (tmp_path / "sv" / "compare.md").read_text(encoding="utf-8")
    assert "servicekontor: A offices.csv, B my\\_offices.csv" in md and "offices:" not in md
