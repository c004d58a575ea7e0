"""The texts of the outputs: one file per language, the same keys in each (issue 14)."""

from __future__ import annotations

import pytest

from netopt.errors import ScenarioError
from netopt.i18n import LANGUAGES, check_language, texts


def test_every_language_has_the_same_keys_and_placeholders():
    en = texts("en")
    for lang in LANGUAGES:
        tx = texts(lang)
        assert set(tx.strings) == set(en.strings), (lang, set(tx.strings) ^ set(en.strings))
        for key in en.strings:
            assert tx.placeholders(key) == en.placeholders(key), (lang, key)
            assert tx.strings[key].strip(), (lang, key)


def test_swedish_uses_sscs_terms():
    sv = texts("sv")
    words = " ".join(sv.strings.values())
    for term in ("servicekontor", "flexibelt kontor", "FA-region", "besök", "Besparing", "mnkr"):
        assert term.lower() in words.lower(), term
    assert "MSEK" not in words


@pytest.mark.parametrize("lang, value, decimals, want", [
    ("en", 1003.14, 1, "1\u00a0003.1"), ("sv", 1003.14, 1, "1\u00a0003,1"), ("en", -0.04, 1, "0.0"), ("sv", -0.04, 1, "0,0"),
    ("sv", 2758758, 0, "2\u00a0758\u00a0758"), ("en", float("nan"), 1, "\u2013"), ("en", None, 2, "\u2013"),
])
def test_numbers_in_each_language(lang, value, decimals, want):
    assert texts(lang).num(value, decimals) == want


def test_percent_and_sign():
    assert texts("sv").pct(0.8104) == "81,0\u00a0%"
    assert texts("en").pct(2.5, 0, sign=True) == "+250\u00a0%"
    assert texts("en").num(1.25, 1, sign=True) == "+1.2"


def test_unknown_language_and_key_are_clear_errors():
    with pytest.raises(ScenarioError, match="language 'de' is not available. Fix: use one of en, sv"):
        check_language("de")
    with pytest.raises(KeyError, match="no text 'panel.nothing' in netopt/i18n/en.toml"):
        texts("en")("panel.nothing")
