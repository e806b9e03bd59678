"""Booklets of any shape within the documented limits (docs/content.md): a property-based test
that generates statements unlike the default one and lays out their booklets.

Each generated booklet must build (every word on its page: the words check; every frame whole),
come to a multiple of four pages, and hold every text page but the last to the theme's fill rule.
`make test` tries a few shapes (profile "ci"); `make properties` tries many ("more")."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturebook.checks.project import check_project
from culturebook.render.engine import Renderer
from culturebook.render.geometry import page_fills
from culturebook.render.paginate import underfilled
from projectkit import make_project

settings.register_profile("ci", max_examples=4, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("more", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

WORDS = ("people trust the price we pay growers on time every season and we publish margins "
         "openly because fair trade should simply be how ordinary trade is done by everyone "
         "cooperative shopkeepers drivers packers listen decide repair teach").split()


def words(low: int, high: int):
    return st.lists(st.sampled_from(WORDS), min_size=low, max_size=high).map(
        lambda ws: " ".join(ws).capitalize() + ".")


def paragraphs(total: int) -> str:
    text = " ".join(WORDS[i % len(WORDS)] for i in range(total))
    chunks = [text.split()[i:i + 90] for i in range(0, total, 90)]
    return "\n\n".join(" ".join(c).capitalize() + "." for c in chunks)


@st.composite
def statements(draw) -> dict:
    """A culture statement within the documented limits."""
    values = draw(st.lists(st.tuples(words(1, 6), words(3, 80)), min_size=1, max_size=16))
    chapters = draw(st.lists(st.integers(20, 3000), min_size=0, max_size=12))
    milestones = draw(st.integers(0, 40))
    highlights = draw(st.lists(words(4, 20), max_size=10))
    data = {
        "title": "A Shape of Its Own", "organisation": "Example Co", "edition": "Version 2",
        "mission": draw(words(3, 40)),
        "values": [{"id": f"v{i}", "name": name.rstrip("."), "statement": statement}
                   for i, (name, statement) in enumerate(values)],
        "chapters": chapters,  # their lengths in words: the text is made in the test (a short
    }                          # repr of a failing example)
    vision = draw(st.none() | words(3, 40))  # the vision is optional
    if vision:
        data["vision"] = vision
    if milestones:
        data["milestones"] = [{"year": str(1990 + i), "text": f"Milestone {i + 1} happened."}
                              for i in range(milestones)]
    if highlights:
        data["highlights"] = [{"text": text} for text in highlights]
    return data


@given(statement=statements())
@pytest.mark.slow
def test_a_booklet_of_any_shape_keeps_every_word_and_fills_its_pages(statement, tmp_path_factory):
    root = tmp_path_factory.mktemp("shape") / "project"
    make_project(root, "minimal")
    chapters = [{"id": f"c{i}", "title": f"Chapter {i + 1}", "body": paragraphs(n)}
                for i, n in enumerate(statement["chapters"])]
    (root / "content" / "en.yaml").write_text(
        yaml.safe_dump({**statement, "chapters": chapters}, allow_unicode=True), encoding="utf-8")
    try:
        checked = check_project(root)
        renderer = Renderer(root, checked.brand, root / ".cache")
        edition = checked.content.editions[0]
        booklet = renderer.booklet_document(edition)  # raises on any word lost, any frame overrun
        assert len(booklet.pages) % 4 == 0
        fills = page_fills(booklet)
        assert underfilled(fills, checked.brand.page_setting("min-fill")) == []
        assert not any(f.blank for f in fills), [f.number for f in fills if f.blank]
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


@pytest.mark.slow
def test_the_shapes_project_builds_in_both_languages(tmp_path: Path):
    """The named project of unusual shapes (names of 3-59 characters, statements of 4-80 words,
    a 41-word vision), in English and Chinese."""
    root = make_project(tmp_path / "project", "shapes")
    checked = check_project(root)
    renderer = Renderer(root, checked.brand, root / ".cache")
    for edition in checked.content.editions:
        booklet = renderer.booklet_document(edition)
        assert len(booklet.pages) % 4 == 0
        assert underfilled(page_fills(booklet), checked.brand.page_setting("min-fill")) == []
