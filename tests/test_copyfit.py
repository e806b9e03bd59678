"""copyfit.py: posters that fit their text, whatever its shape: sizes, lines, series, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, all_text, copy_project, normalise, read_pdf, text_pieces
from culturebook.project.scripts import units
from culturebook.render import copyfit
from culturebook.render.copyfit import Measure, Role, Text, fit, series

settings.register_profile("ci", max_examples=6, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("more", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MM = 72 / 25.4  # pt per mm
A2_LIMITS = {  # the default theme's fit: roles (pt on A2), as documented in docs/layouts.md
    ("en", "word"): (60, 150), ("en", "statement"): (28, 42),
    ("zh-Hans", "word"): (84, 300), ("zh-Hans", "statement"): (30, 44),
}


# --- break units -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Open books, open doors", [("Open", False), ("books,", True), ("open", True), ("doors", True)]),
    ("  Own  ", [("Own", False)]),
    ("让公平贸易。", [("让", False), ("公", False), ("平", False), ("贸", False), ("易。", False)]),
    ("「好」事", [("「好」", False), ("事", False)]),
    ("用 Tech 向善", [("用", False), ("Tech", True), ("向", True), ("善", False)]),
])
def test_units_are_words_and_cjk_characters_with_their_punctuation(text, expected):
    assert units(text) == expected


# --- lines, sizes and series on made-up measurements --------------------------------------------


def text(widths: list[float], width: float, field: str = "f", role: str = "word",
         size: float = 100.0, leading: float = 1.0, framed: bool = True) -> Text:
    """A measured text of units with these widths (px at `size`), one space (10 px) apart."""
    lefts, rights, x = [], [], 0.0
    for w in widths:
        lefts.append(x)
        rights.append(x + w)
        x += w + 10
    return Text(field, role, size, tuple(lefts), tuple(rights), width, leading, 0.0,
                leading * size, framed)


def test_greedy_lines_keep_the_last_two_units_together():
    t = text([100, 100, 100, 100], width=340)
    # greedy would leave the last unit alone: [0-2], [3]; the one before goes down with it
    assert t.lines(100, balance=False) == [(0, 1), (2, 3)]
    assert t.lines(50, balance=False) == [(0, 3)]


def test_a_headline_is_balanced_over_the_fewest_lines():
    t = text([100, 100, 100, 100, 100], width=400)
    assert t.lines(100, balance=False) == [(0, 2), (3, 4)]
    assert t.lines(100, balance=True) == [(0, 1), (2, 4)]  # as even as 3 + 2, the longer below
    t = text([100, 100, 100, 100, 100, 100, 100], width=560)
    assert t.lines(100, balance=False) == [(0, 4), (5, 6)]
    assert t.lines(100, balance=True) == [(0, 2), (3, 6)]  # 3 + 4, not 5 + 2
    t = text([200, 20, 20, 20, 200], width=500)
    lines = t.lines(100, balance=True)
    assert len(lines) == 2
    widths = [t.run(a, b, 100) for a, b in lines]
    assert max(widths) < 300


def test_fit_shrinks_the_role_in_the_way_and_stays_within_its_range():
    roles = {"word": Role("word", 200, 80, 3), "statement": Role("statement", 56, 37)}
    name = text([500, 400], width=1000, field="name", size=200)  # two words: one line at 200
    statement = text([60] * 20, width=1000, field="statement", role="statement", size=56)
    measure = Measure((name, statement), frame=2000, held=name.height + statement.height)
    assert fit(measure, roles) == {"word": 200, "statement": 56}
    wide = text([1400], width=1000, field="name", size=200)  # one word wider than the line
    sizes = fit(Measure((wide, statement), 2000, wide.height + statement.height), roles)
    assert sizes["statement"] == 56
    assert 80 <= sizes["word"] <= 200 * 1000 * copyfit.WIDTH_SAFETY / 1400


def test_a_long_statement_shrinks_the_statement_not_the_name():
    roles = {"word": Role("word", 200, 80, 3), "statement": Role("statement", 56, 37)}
    name = text([300], width=1000, field="name")
    statement = text([60] * 240, width=1000, field="statement", role="statement", size=56)
    held = name.height + statement.height
    sizes = fit(Measure((name, statement), frame=900, held=held), roles)
    assert sizes["word"] == 200
    assert 37 <= sizes["statement"] < 56


def test_beyond_the_smallest_size_is_a_shortfall_with_what_fits():
    roles = {"statement": Role("statement", 56, 37)}
    statement = text([60] * 400, width=1000, field="values[2].statement", role="statement", size=56)
    short = fit(Measure((statement,), frame=700, held=statement.height), roles)
    assert isinstance(short, copyfit.Shortfall)
    assert short.field == "values[2].statement" and short.total == 400
    assert 0 < short.words < 400
    assert re.fullmatch(r"at 28 pt it needs \d+ mm more than the frame's 185 mm", short.reason)


def test_a_headline_over_its_lines_even_at_the_smallest_size():
    roles = {"word": Role("word", 200, 80, 2)}
    name = text([900] * 3, width=1000, field="name")  # three words, each most of a line at 80 px
    short = fit(Measure((name,), frame=5000, held=name.height), roles)
    assert isinstance(short, copyfit.Shortfall)
    assert short.reason == "it takes 3 lines at 60 pt; the theme allows 2"


def test_a_series_takes_each_roles_smallest_size():
    assert series([{"word": 200, "statement": 50}, {"word": 150, "statement": 56}]) == \
        {"word": 150, "statement": 50}


# --- posters of every shape ----------------------------------------------------------------------


def shapes_project(root: Path) -> Path:
    """tests/projects/shapes (names of 3 to 59 characters, statements of 4 to 80 words, a vision
    of 41 words, en and zh-Hans) with the default theme, at `root`."""
    copy_project(root)
    shutil.rmtree(root / "content")
    shutil.copytree(REPO / "tests" / "projects" / "shapes" / "content", root / "content")
    return root


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    """The shapes project with its posters built at A2."""
    from culturebook.build.pipeline import build

    root = shapes_project(tmp_path_factory.mktemp("shapes") / "project")
    build(root, "posters")
    return root


def poster_sizes(pdf: Path) -> tuple[float, float]:
    """(headline size, statement size) in pt: the largest type on the poster, and the type of its
    lowest line above the brand band (38 mm high on A2, scaled with the sheet)."""
    reader = read_pdf(pdf)
    box = reader.pages[0].mediabox
    scale = min(float(box.width) / (420 * MM), float(box.height) / (594 * MM))
    pieces = text_pieces(reader, 0)
    above = [p for p in pieces if p.y > 38 * MM * scale]
    return max(p.size for p in pieces), round(min(above, key=lambda p: p.y).size, 1)


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_every_poster_of_every_shape_shows_every_word_at_one_size_per_series(shapes, lang):
    import yaml

    data = yaml.safe_load((shapes / "content" / f"{lang}.yaml").read_text(encoding="utf-8"))
    posters = shapes / "build" / lang / "posters"
    headlines, statements = set(), set()
    for value in data["values"]:
        pdf = posters / f"{value['id']}.pdf"
        reader = read_pdf(pdf)
        assert len(reader.pages) == 1
        text = normalise(all_text(reader))
        assert normalise(value["name"]) in text, (pdf.name, value["name"])
        assert normalise(value["statement"]) in text, (pdf.name, value["statement"])
        headline, statement = poster_sizes(pdf)
        low, high = A2_LIMITS[(lang, "word")]
        assert low - 0.1 <= headline <= high + 0.1, (pdf.name, headline)
        low, high = A2_LIMITS[(lang, "statement")]
        assert low - 0.1 <= statement <= high + 0.1, (pdf.name, statement)
        headlines.add(round(headline, 1))
        statements.add(statement)
        # the name (and everything above the statement) stays above the statement's first line
        pieces = text_pieces(reader, 0)
        first = max(p.y for p in pieces if round(p.size, 1) == statement)
        name_lowest = min(p.y for p in pieces if round(p.size, 1) == round(headline, 1))
        assert name_lowest > first + statement, pdf.name
    assert len(headlines) == 1 and len(statements) == 1, (headlines, statements)
    mission = normalise(all_text(read_pdf(posters / "mission-vision.pdf")))
    assert normalise(data["mission"]) in mission and normalise(data["vision"]) in mission


def test_a_headline_breaks_into_balanced_lines_without_a_lone_last_word(shapes):
    reader = read_pdf(shapes / "build" / "en" / "posters" / "long-name.pdf")
    pieces = text_pieces(reader, 0)
    top = max(p.size for p in pieces)
    lines: dict[float, str] = {}
    for p in pieces:
        if abs(p.size - top) < 0.1:
            lines[round(p.y)] = (lines.get(round(p.y), "") + p.text).strip()
    words = [len(line.split()) for _, line in sorted(lines.items(), reverse=True)]
    assert len(words) == 3 and min(words) >= 2, lines
    lengths = [len(line) for line in lines.values()]
    assert max(lengths) - min(lengths) <= 12, lines


@pytest.mark.slow
def test_a_theme_can_fit_each_poster_alone(tmp_path):
    """fit: per: poster: a one-word name keeps the largest size while a long one is smaller."""
    from culturebook.build.pipeline import build

    root = shapes_project(tmp_path / "project")
    theme = root / "layouts" / "alone"
    theme.mkdir()
    (theme / "theme.yaml").write_text("name: Alone\nextends: default\nfit:\n  per: poster\n",
                                      encoding="utf-8")
    settings = root / "content" / "publication.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("theme: default", "theme: alone"),
                        encoding="utf-8")
    build(root, "posters", ["en"])
    posters = root / "build" / "en" / "posters"
    own = max(p.size for p in text_pieces(read_pdf(posters / "own.pdf"), 0))
    long = max(p.size for p in text_pieces(read_pdf(posters / "long-name.pdf"), 0))
    assert round(own) == 150 and 60 <= long < 150, (own, long)


@pytest.mark.parametrize(("lang", "mission", "vision"), [
    ("en", " ".join(["Make trade fair for everyone who grows, packs, moves or sells food."] * 4)[:-1],
     " ".join(["A chain where every grower can see what the others earn, and trusts it."] * 3)
     + " Every season."),
    ("zh-Hans", "让每一位种植者、包装工、司机和店主都能看到其他人挣多少。" * 3,
     "一条人人信任价格的供应链，人们愿意在下一季继续与我们合作。" * 3),
])
@pytest.mark.slow
def test_a_mission_and_vision_of_forty_words_each_fit_an_a2_poster(tmp_path, lang, mission, vision):
    """The documented limit of the mission poster: 40 words each (about 80 CJK characters)."""
    from culturebook.build.pipeline import build

    if lang == "en":
        assert len(mission.split()) == 48 and len(vision.split()) == 44
    root = shapes_project(tmp_path / "project")
    content = root / "content" / f"{lang}.yaml"
    text = content.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^mission: .*$", f'mission: "{mission}"', text)
    text = re.sub(r"(?ms)^vision: >-\n(  .*?\n)+", f'vision: "{vision}"\n', text)
    content.write_text(text, encoding="utf-8")
    build(root, "posters", [lang])
    reader = read_pdf(root / "build" / lang / "posters" / "mission-vision.pdf")
    assert len(reader.pages) == 1
    seen = normalise(all_text(reader))
    assert normalise(mission) in seen and normalise(vision) in seen
    sizes = sorted({round(p.size, 1) for p in text_pieces(reader, 0)}, reverse=True)
    smallest = {"en": 48, "zh-Hans": 56}[lang]
    assert sizes[0] >= smallest, sizes  # both statements at one size, never below the minimum


@pytest.mark.slow
def test_check_reports_a_statement_no_size_can_fit(tmp_path):
    """`culturebook check` fits the posters as a build does: beyond the smallest size, the same
    one line at the field, exit status 1, nothing written. (The booklet's values spread loses
    that statement too, and says so: the check reports both.)"""
    from projectkit import run_cli

    root = shapes_project(tmp_path / "project")
    content = root / "content" / "en.yaml"
    text = content.read_text(encoding="utf-8")
    long = " ".join(["Ask the people a decision will touch, and wait for their answer."] * 40)
    text = text.replace('"Ask the people a decision will touch, and wait for their answer."',
                        f'"{long}"')
    content.write_text(text, encoding="utf-8")
    result = run_cli("check", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    line = text[:text.index(long)].count("\n") + 1
    lines = result.stderr.splitlines()
    at = lines.index(
        f"content/en.yaml:{line}:16: values[6].statement does not fit its A2 poster even at the "
        "smallest sizes the theme allows: at 28 pt it needs 155 mm more than the frame's 428 mm")
    assert lines[at + 1] == (
        "    hint: about 328 of its 480 words fit: shorten it, choose a larger sheet (posters: "
        "size: in content/publication.yaml), or lower the theme's fit: roles: statement: min:")
    assert not (root / "build").exists()


# --- property: any content within the documented limits ----------------------------------------

LATIN = ["we", "own", "care", "trust", "listen", "growers", "partners", "together", "responsibility",
         "openness", "a", "to", "of", "everything", "customers", "decisions", "sustainability"]
HAN = list("用户为本科技向善正直进取协作创造公平贸易让每一处地方个人更好种植者优先账目开大门问题倾听再决定")


@st.composite
def value_content(draw, lang: str) -> dict:
    if lang == "en":
        words = draw(st.lists(st.sampled_from(LATIN), min_size=1, max_size=6))
        name = " ".join(words)[:60].strip().capitalize()
        statement = " ".join(draw(st.lists(st.sampled_from(LATIN), min_size=3, max_size=80))) + "."
    else:
        name = "".join(draw(st.lists(st.sampled_from(HAN), min_size=2, max_size=12)))
        statement = "".join(draw(st.lists(st.sampled_from(HAN), min_size=6, max_size=160))) + "。"
    return {"name": name, "statement": statement}


@pytest.fixture(scope="module")
def renderer(shapes):
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer

    checked = check_project(shapes)
    return checked, Renderer(shapes, checked.brand, cache_dir())


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
@pytest.mark.parametrize("size", ["A2", "Letter"])
def test_property_any_values_within_the_limits_fit_whole(renderer, lang, size, tmp_path):
    """Generated values (names of 1-6 words up to 60 characters, or 2-12 CJK characters;
    statements of 3-80 words, or up to 160 CJK characters): every poster of the series shows
    every word, on one page, at one headline and one statement size within the theme's range."""
    checked, render = renderer
    edition = next(e for e in checked.content.editions if e.lang == lang)
    scale = render._sheet(size)["scale"]

    @given(st.lists(value_content(lang), min_size=1, max_size=4))
    def check(values):
        data = {**edition.data, "values": [{**edition.data["values"][0], **v, "id": f"v{i}"}
                                           for i, v in enumerate(values)]}
        generated = dataclasses.replace(edition, data=data)
        headlines, statements = set(), set()
        for i, value in enumerate(values, 1):
            subject = {"kind": "value", "value": {**data["values"][i - 1], "number": f"{i:02d}"},
                       "field": f"values[{i}]"}
            rendered = render.poster(generated, subject, size)
            assert rendered.pages == 1
            pdf = tmp_path / f"property-{hashlib.sha256(rendered.data).hexdigest()}.pdf"
            pdf.write_bytes(rendered.data)
            reader = read_pdf(pdf)
            text = normalise(all_text(reader))
            assert normalise(value["name"]) in text and normalise(value["statement"]) in text
            headline, statement = poster_sizes(pdf)
            for role, got in (("word", headline), ("statement", statement)):
                low, high = A2_LIMITS[(lang, role)]
                assert low * scale - 0.1 <= got <= high * scale + 0.1, (role, got, value)
            headlines.add(round(headline, 1))
            statements.add(statement)
        assert len(headlines) == 1 and len(statements) == 1, (headlines, statements)

    check()


@pytest.mark.slow
def test_a_role_the_theme_gives_no_range_is_one_line_at_the_theme(tmp_path):
    """A poster layout that fits a text as a role fit: roles: does not have: one line at the theme,
    exit 1, nothing written."""
    from projectkit import run_cli

    root = shapes_project(tmp_path / "project")
    poster = root / "layouts" / "default" / "poster.html"
    poster.write_text(poster.read_text(encoding="utf-8").replace('data-fit="statement"',
                                                                 'data-fit="banner"'), encoding="utf-8")
    result = run_cli("build", "posters", "--edition", "en", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("rendering ")]
    assert lines[:2] == [
        "layouts/default/theme.yaml: poster.html fits a text as 'banner', which fit: roles: does not "
        "give a size range",
        "    hint: add e.g. banner: {max: 42pt, min: 28pt} under fit: roles:"]
    assert list((root / "build").rglob("*.pdf")) == []


def test_a_size_range_without_a_unit_is_one_line_at_its_place(tmp_path):
    from projectkit import run_cli, where

    root = shapes_project(tmp_path / "project")
    theme = root / "layouts" / "default" / "theme.yaml"
    text = theme.read_text(encoding="utf-8").replace("statement: {max: 42pt, min: 28pt}",
                                                     "statement: {max: 42, min: 28pt}")
    theme.write_text(text, encoding="utf-8")
    result = run_cli("build", "posters", cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines()[:2] == [
        f"layouts/default/theme.yaml:{where(text, '42, min')}: fit.roles.statement.max: '42' is not "
        "a valid length",
        "    hint: write lengths with a unit, e.g. 14mm or 9.5pt"]
