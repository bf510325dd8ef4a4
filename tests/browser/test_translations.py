"""Every ground of the rule pack reads in Russian: its summary and its citation are translated."""

import pytest
from django.utils import translation

from muster.rules import engine

pytestmark = pytest.mark.browser


def test_every_ground_summary_and_citation_has_a_russian_translation():
    missing = []
    with translation.override("ru"):
        for g in engine.load("ru").grounds:
            missing += [text for text in (g.summary, g.citation) if translation.gettext(text) == text]
    assert missing == []
