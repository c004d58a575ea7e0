"""The maps in a real (headless, offline) Chromium: markers, polygons, popups, no errors.

Skipped when Playwright or Chromium is missing, except under CI (env CI set),
where that is a failure because CI installs them.  Set NETOPT_SCREENSHOT_DIR
to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from browser import browser_unavailable_reason, check_map_in_browser
from netopt import maps
from test_maps import EVIL, make_plan


@pytest.fixture(scope="module", autouse=True)
def _need_browser():
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(f"browser test skipped: {reason}")


def _keep(screenshot: Path) -> None:
    keep_dir = os.environ.get("NETOPT_SCREENSHOT_DIR")
    if keep_dir:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep_dir) / screenshot.name)


def test_plan_map_in_browser(tmp_path):
    offices, fa, kommun, summary = make_plan()
    page = tmp_path / "plan.html"
    page.write_text(maps.plan_map_html(offices, fa, kommun, summary, title="Test plan"), encoding="utf-8")
    shot = tmp_path / "plan.png"
    result = check_map_in_browser(page, expected_markers=len(offices), expected_polygons=len(fa),
                                  screenshot_path=shot)
    _keep(shot)
    assert result["problems"] == []
    assert result["dialogs"] == []  # the <script> office name did not run
    assert result["blocked_requests"] == []  # nothing tried the network
    assert result["unserved_polygons"] == int((fa["offices_after"] == 0).sum())
    assert result["municipality_paths"] == len(kommun)
    assert result["closure_lines"] == int((offices["decision"] == "close").sum())
    assert result["title"] == "Test plan"
    popup = result["popup_text"]
    for label in ("Decision", "Municipality", "FA-region", "Visits per year", "Annual cost", "Cost per visit"):
        assert label in popup
    # the search box lists names alphabetically: the hostile name comes first,
    # and its popup shows it as plain text
    assert result["search_popup_text"].splitlines()[0] == EVIL
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_comparison_map_in_browser(tmp_path):
    offices, fa, kommun, summary = make_plan()
    offices_b = offices.copy()
    offices_b = offices_b[offices_b["decision"] != "flexible"]  # B has fewer offices
    page = tmp_path / "compare.html"
    page.write_text(
        maps.comparison_map_html(offices, offices_b, fa, fa, kommun, summary, dict(summary, scenario="B"),
                                 label_a="Plan " + EVIL, label_b="Plan B", title="Compare"),
        encoding="utf-8",
    )
    shot = tmp_path / "compare.png"
    # only plan A's layers are on at start
    result = check_map_in_browser(page, expected_markers=len(offices), expected_polygons=len(fa),
                                  screenshot_path=shot)
    _keep(shot)
    assert result["problems"] == []
