"""Names and columns a planner gets slightly wrong are answered with a suggestion:
office IDs by a word of the name, a part of it or a close spelling (--close,
--flexible, locks, plan CSVs), column names and municipality names by close match
(register, candidate sites, demand points, FA division, population, plan CSVs)."""

from __future__ import annotations

import pandas as pd
import pytest

import netopt
from netopt import DataError, load_network
from netopt.data import office_hint, shipped_paths, suggest_office_ids


@pytest.fixture(scope="module")
def offices(shipped_network):
    return shipped_network.offices


@pytest.mark.parametrize("text, expected", [
    ("Stockholm Kista", ["stockholm-kista"]),  # the name written another way
    ("Kista", ["stockholm-kista"]),  # a word of the name
    ("kista", ["stockholm-kista"]),
    ("Odenpl", ["stockholm-odenplan"]),  # a part of a word
    ("Kisat", ["stockholm-kista"]),  # a close spelling of a word
    ("stockholm-kist", ["stockholm-kista"]),  # a close spelling of the ID
    ("Lunagallerian", ["sodertalje-lunagallerian"]),
])
def test_office_suggestions(offices, text, expected):
    assert suggest_office_ids(text, offices) == expected


def test_a_town_with_several_offices_lists_them(offices):
    found = suggest_office_ids("Malmö", offices)
    assert len(found) >= 4 and all(o.startswith("malmo-") for o in found)
    assert office_hint("Malmö", offices).startswith("did you mean 'malmo-")
    assert " or 'malmo-" in office_hint("Malmö", offices)
    assert suggest_office_ids("Zzyzx", offices) == [] and office_hint("Zzyzx", offices) == ""


def test_evaluate_close_by_one_word_suggests_the_id(netopt_cli, shipped_scenario, fast_demand, tmp_path):
    res = netopt_cli("evaluate", shipped_scenario, "--close", "Kista", "--demand", fast_demand, "--out", tmp_path / "o", "--no-map")
    assert res.code != 0
    assert "'Kista' names an office that is not in the register. Fix: did you mean 'stockholm-kista'?" in res.err


def test_locks_and_plan_csvs_suggest_ids(fast_demand, tmp_path):
    from netopt.decisions import read_decisions

    network = load_network(demand=fast_demand)
    with pytest.raises(netopt.ScenarioError, match="did you mean .stockholm-kista."):
        netopt.solve(network, netopt.Scenario(name="x").with_(lock_open=("Kista",)))
    p = tmp_path / "plan.csv"
    p.write_text("office_id,decision\nOdenplan,close\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_decisions(p, network)
    (problem,) = e.value.problems
    assert problem.row == 2 and problem.fix.startswith("did you mean 'stockholm-odenplan'?")


def _shipped(role):
    return pd.read_csv(shipped_paths()[role], dtype=str, keep_default_na=False)


@pytest.mark.parametrize("role, keyword, wrong, right", [
    ("offices", "offices", "municpality_code", "municipality_code"),
    ("offices", "offices", "Office Name", "office_name"),
    ("demand", "demand", "populaton", "population"),
    ("division", "division", "fa_cod", "fa_code"),
    ("population", "population", "populations", "population"),
])
def test_a_misspelt_column_is_named_with_the_right_one(tmp_path, role, keyword, wrong, right):
    frame = _shipped(role).rename(columns={right: wrong})
    p = tmp_path / f"{role}.csv"
    frame.to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        load_network(**{keyword: p})
    (problem,) = e.value.problems
    assert (problem.file, problem.row, problem.column) == (str(p), 1, right)
    assert problem.fix.startswith(f"did you mean '{wrong}'? rename the column '{wrong}' to '{right}'")


def test_a_plan_csv_with_a_misspelt_column(tmp_path, shipped_network):
    from netopt.decisions import read_decisions

    p = tmp_path / "plan.csv"
    p.write_text("office_id,decison\nstockholm-kista,close\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_decisions(p, shipped_network)
    (problem,) = e.value.problems
    assert problem.column == "decision" and "did you mean 'decison'?" in problem.fix


def test_a_misspelt_optional_column_draws_a_warning(tmp_path):
    frame = _shipped("offices")
    frame["vists"] = ""
    p = tmp_path / "offices.csv"
    frame.to_csv(p, index=False)
    (w,) = load_network(p).warnings
    assert (w.row, w.column) == (1, "vists") and "not used" in w.message and w.fix == "did you mean 'visits'? rename the column 'vists' to 'visits'"


def test_municipality_names_get_their_code(tmp_path):
    frame = _shipped("division")
    frame.loc[frame["municipality_code"] == "0180", "municipality_code"] = "Stokholm"
    p = tmp_path / "division.csv"
    frame.to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        load_network(division=p)
    assert any(pr.value == "Stokholm" and pr.fix == "did you mean Stockholm? use its 4-digit code 0180" for pr in e.value.problems)
