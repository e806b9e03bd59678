"""paginate.py: the values grid, and pagination that follows the content (run-on chapters,
right-hand openings only where a chapter deserves one, frontispieces only with a highlight,
no page left too empty)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import normalise, page_text, read_pdf, text_pieces
from culturebook.build.pipeline import build
from culturebook.render.paginate import GridSpec, PageFill, Plan, choose_grid, refine, row_heights
from projectkit import make_project

ONE_COLUMN = [GridSpec(1, 2, "large"), GridSpec(1, 4, "compact")]


# --- the values grid -----------------------------------------------------------------------------


def heights(large: list[float], compact: list[float] | None = None) -> dict[str, list[float]]:
    return {"1-large": large, "1-compact": compact or [h * 0.7 for h in large]}


def test_four_values_take_a_spread_two_to_a_page_in_equal_rows():
    grid = choose_grid(ONE_COLUMN, heights([50.0] * 4), 8.0, 174.0)
    assert grid.counts == (2, 2) and grid.spec.size == "large"
    assert grid.rows_mm == (83.0, 83.0)


def test_a_row_is_as_tall_as_its_tallest_value_on_any_page():
    """Rows line up across a spread: row 2 of both pages is as tall as the taller value in it."""
    assert row_heights([30, 40, 30, 90], (2, 2), 1) == (30, 90)
    assert row_heights([30, 40, 50, 20, 10], (3, 2), 2) == (40, 50)


def test_values_too_tall_for_the_large_grid_take_the_next_grid_before_more_pages():
    grid = choose_grid(ONE_COLUMN, heights([100.0] * 4, [60.0] * 4), 8.0, 174.0)
    assert grid.counts == (2, 2) and grid.spec.size == "compact"


def test_values_no_grid_holds_on_a_spread_continue_on_the_next_spread():
    grid = choose_grid(ONE_COLUMN, heights([100.0] * 6, [80.0] * 6), 8.0, 174.0)
    assert grid.counts == (2, 2, 1, 1) and len(grid.rows_mm) == 2


def test_no_values_page_is_ever_empty():
    """Three values that need a page each take three pages, not two spreads with one empty."""
    grid = choose_grid(ONE_COLUMN, heights([150.0] * 3, [150.0] * 3), 8.0, 174.0)
    assert grid.counts == (1, 1, 1)
    assert choose_grid(ONE_COLUMN, heights([50.0] * 3), 8.0, 174.0, min_pages=4) is None


def test_a_value_taller_than_a_page_has_no_grid():
    assert choose_grid(ONE_COLUMN, heights([50.0, 300.0], [50.0, 200.0]), 8.0, 174.0) is None


# --- the pagination plan -------------------------------------------------------------------------


def page(number: int, fill: float, *starts: tuple[str, float], kind: str = "chapter",
         blank: bool = False) -> PageFill:
    return PageFill(number, kind, fill, blank, tuple(starts))


def test_only_chapters_a_page_long_or_more_open_on_the_right():
    everything_run_on = [page(8, 1.0, ("chapter-a", 0.1), ("chapter-b", 0.6)),
                         page(9, 1.0), page(10, 0.9, ("chapter-c", 0.3))]
    plan = refine(Plan(), everything_run_on, ["chapter-a", "chapter-b", "chapter-c"], 0, 1.0,
                  0.25, 1)
    assert plan.measured and plan.recto == {"chapter-b"}  # a: half a page; b: 1.7 pages; c: 0.6


def test_a_blank_verso_takes_a_highlight_else_the_chapter_opens_on_the_next_page():
    laid_out = [page(8, 0.8, ("chapter-a", 0.1)), page(9, 0.0, blank=True, kind="blank"),
                page(10, 1.0, ("chapter-b", 0.1)), page(11, 0.6),
                page(12, 0.0, blank=True, kind="blank"), page(13, 1.0, ("chapter-c", 0.1))]
    start = Plan(measured=True, recto=frozenset({"chapter-b", "chapter-c"}))
    plan = refine(start, laid_out, ["chapter-a", "chapter-b", "chapter-c"], 1, 1.0, 0.25, 1)
    assert plan.frontispieces == ("chapter-b",)
    assert plan.recto == {"chapter-b"} and plan.page == {"chapter-c"}


def test_a_frontispiece_a_blank_page_still_comes_before_is_taken_away():
    """The pages before it moved (the values open a page earlier): the frontispiece fell on a
    right-hand page, so the blank is back before the chapter. Without it, the chapter opens on
    the right with nothing blank before it."""
    laid_out = [page(7, 0.9, ("frontispiece", 0.0), kind="tinted"),
                page(8, 0.0, blank=True, kind="blank"), page(9, 1.0, ("chapter-a", 0.1))]
    start = Plan(measured=True, recto=frozenset({"chapter-a"}), frontispieces=("chapter-a",))
    plan = refine(start, laid_out, ["chapter-a"], 1, 1.0, 0.25, 1)
    assert plan.frontispieces == () and plan.recto == {"chapter-a"}


def test_a_section_after_too_empty_a_page_runs_on():
    laid_out = [page(8, 0.9, ("chapter-a", 0.1)), page(9, 0.1),
                page(10, 0.5, ("milestones", 0.1)), page(11, 0.05, ("closing", 0.1))]
    plan = refine(Plan(measured=True), laid_out, ["chapter-a"], 0, 1.0, 0.25, 1)
    assert plan.run_on == {"milestones"}  # the last text page (11) is not held to the rule


def test_the_contents_drops_the_value_names_when_they_take_it_over_a_page():
    plan = refine(Plan(measured=True), [page(8, 1.0, ("chapter-a", 0.1))], ["chapter-a"], 0,
                  1.0, 0.25, 2)
    assert not plan.contents_values


# --- booklets ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_chapters(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("short") / "project", "short-chapters")
    build(root, "booklet")
    return root / "build" / "en" / "booklet.pdf"


def test_short_chapters_run_on_and_the_booklet_follows_the_content(short_chapters):
    """Six values, three chapters of 40-60 words, seven milestones, one highlight: twelve pages,
    the three chapters on two facing pages (not one page each), each title with its first words."""
    reader = read_pdf(short_chapters)
    assert len(reader.pages) == 12
    chapters = {"Why we exist": "We started Northwind", "How we work": "Every season begins",
                "What comes next": "Next year we open"}
    found = {}
    for title, opening in chapters.items():
        titles = [i + 1 for i in range(12) for piece in text_pieces(reader, i)
                  if piece.size > 20 and normalise(piece.text) == normalise(title)]
        openings = [i + 1 for i in range(12) if normalise(opening) in normalise(page_text(reader, i))]
        assert titles == openings, title
        found[title] = titles[0]
    assert found["Why we exist"] == found["How we work"] == 8 and found["What comes next"] in (8, 9)


def test_no_page_carries_a_numeral_alone(short_chapters):
    reader = read_pdf(short_chapters)
    for i in range(len(reader.pages)):
        words = normalise(page_text(reader, i))
        assert not words.isdigit(), f"page {i + 1} shows only {words!r}"


def test_the_highlight_pads_the_booklet_before_any_notes_page(short_chapters):
    reader = read_pdf(short_chapters)
    assert "promiseaboutmoney" in normalise(page_text(reader, 10))  # page 11, before the back cover
    assert not any("Notes" in page_text(reader, i) for i in range(len(reader.pages)))


def test_values_rows_line_up_across_the_spread(short_chapters):
    """Each value's number (01-06) sits at the same height on the left and the right page."""
    reader = read_pdf(short_chapters)
    left, right = 5, 6  # pages 6 and 7
    tops = {}
    for index in (left, right):
        for piece in text_pieces(reader, index):
            if piece.text.strip() in {"01", "02", "03", "04", "05", "06"}:
                tops[piece.text.strip()] = round(piece.y, 1)
    assert len(tops) == 6, tops
    assert (tops["01"], tops["02"], tops["03"]) == (tops["04"], tops["05"], tops["06"])
    assert tops["01"] > tops["02"] > tops["03"]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_value_too_long_for_a_page_is_one_line_at_its_statement(tmp_path: Path):
    from projectkit import assert_refused, edit, run_cli, snapshot, where

    root = make_project(tmp_path / "project", "minimal")
    assert run_cli("build", "booklet", cwd=root).returncode == 0
    before = snapshot(root / "build")
    long = " ".join(["We look after the details and the people behind them."] * 60)
    text = edit(root / "content" / "en.yaml", "We look after the details and the people behind them.", long)
    lines = assert_refused(run_cli("build", "booklet", cwd=root), None)
    place = where(text, "statement: ", 11)
    assert lines[0].startswith(f"content/en.yaml:{place}: values[1].statement is too long for a "
                               "page of the values section: the value takes ")
    assert lines[0].endswith(" mm a page holds")
    assert lines[1] == "    hint: shorten the statement"
    assert snapshot(root / "build") == before


def test_a_grid_of_four_columns_is_refused_at_its_line_in_the_theme(tmp_path: Path):
    from projectkit import assert_refused, edit, run_cli, where

    root = make_project(tmp_path / "project", "minimal")
    theme = root / "layouts" / "default" / "theme.yaml"
    text = edit(theme, "- {columns: 3, rows: 4, size: small}", "- {columns: 4, rows: 4, size: small}")
    assert_refused(run_cli("build", "booklet", cwd=root),
                   f"layouts/default/theme.yaml:{where(text, '4, rows: 4')}: pages.values[6].columns "
                   "is 4; it must be between 1 and 3")
    assert not (root / "build").exists()


@pytest.mark.slow
def test_french_prose_is_hyphenated_by_its_own_patterns(tmp_path: Path):
    """Hyphenation follows the text's language, not English only: a French chapter of long words
    breaks some of them at the line's end, where French allows."""
    from projectkit import edit

    root = make_project(tmp_path / "project", "languages")
    edit(root / "content" / "publication.yaml", "languages: [en, fr, ja]", "languages: [en, fr]")
    words = ("La responsabilité environnementale, l'internationalisation des échanges et "
             "l'approvisionnement transparent demandent une reconnaissance particulièrement "
             "attentive de nos interlocuteurs extraordinairement nombreux. ") * 6
    edit(root / "content" / "fr.yaml", "Nous avons fondé Example Co pour faire de *petites* choses "
         "qui marchent.", words)
    build(root, "booklet", ["fr"])
    reader = read_pdf(root / "build" / "fr" / "booklet.pdf")
    text = "\n".join(page_text(reader, i) for i in range(len(reader.pages)))
    broken = [line for line in text.splitlines() if line.endswith(("\u2010", "-"))]
    assert broken, "no French word was hyphenated"


@pytest.mark.slow
def test_forty_milestones_continue_across_pages_and_a_chapter_keeps_its_image(tmp_path: Path):
    """The longest timeline the content reference allows runs on over pages in order, every
    year with its line; a photograph in a short chapter stays with its chapter."""
    from PIL import Image

    from projectkit import edit

    root = make_project(tmp_path / "project", "short-chapters")
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    start = text.index("milestones:")
    end = text.index("highlights:")
    forty = "".join(f'  - {{year: "{1980 + i}", text: "Milestone number {i + 1} of forty."}}\n'
                    for i in range(40))
    en.write_text(text[:start] + "milestones:\n" + forty + "\n" + text[end:], encoding="utf-8")
    (root / "content" / "images").mkdir()
    Image.new("RGB", (1200, 800), "#8899aa").save(root / "content" / "images" / "yard.jpg")
    last = ("      we keep our word; when we are wrong we say so first, in writing, to the people "
            "it touched.\n")
    edit(en, last, last + "\n      ![The packing yard](images/yard.jpg)\n")
    build(root, "booklet")
    reader = read_pdf(root / "build" / "en" / "booklet.pdf")
    assert len(reader.pages) % 4 == 0
    texts = [normalise(page_text(reader, i)) for i in range(len(reader.pages))]
    where = [next(i for i, t in enumerate(texts) if normalise(f"Milestone number {n + 1} of forty")
                  in t) for n in range(40)]
    assert where == sorted(where) and where[-1] > where[0]  # in order, over more than one page
    chapter = next(i for i, t in enumerate(texts) if "everyseasonbegins" in t)
    # Pages share one resource dictionary: a page draws the image where its content says Do.
    drawn = [i for i, page in enumerate(reader.pages)
             if any(f"/{image.name.rsplit('.', 1)[0]} Do".encode() in page.get_contents().get_data()
                    for image in page.images)]
    assert drawn in ([chapter], [chapter + 1])
