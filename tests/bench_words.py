"""What the layout checks cost, in process, median of N runs each (rows of `make bench`): the words
check (`words.lost_words`) on each booklet against laying it out (`Renderer.layout`), and poster
copyfitting: one measuring layout per poster, then the arithmetic that fits a series.

    PYTHONPATH=src python tests/bench_words.py [--rounds N] [--project DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import REPO  # noqa: E402


def timed(call, rounds: int) -> tuple[float, object]:
    """The median seconds of `rounds` calls, and the last call's result."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def check_rows(root: Path, rounds: int) -> list[dict]:
    """Per edition: the booklet's layout and words check, and its posters' measuring and fitting."""
    from culturebook.checks.project import check_project
    from culturebook.files import cache_dir
    from culturebook.render import copyfit
    from culturebook.render.engine import Renderer
    from culturebook.render.templates import poster_subjects
    from culturebook.render.words import lost_words

    checked = check_project(root)
    renderer = Renderer(root, checked.brand, cache_dir())
    rows = []
    for edition in checked.content.editions:
        html = renderer.booklet_html(edition)
        renderer.layout(html, edition)  # warm: fonts loaded, caches filled
        layout, document = timed(lambda h=html, e=edition: renderer.layout(h, e), rounds)
        words, losses = timed(lambda d=document: lost_words(d.pages), rounds)

        def paginated(e=edition):
            """The whole booklet as a first build makes it: every pagination pass from a fresh
            plan (none kept in memory or on disk; the values' measure kept), checks included."""
            renderer.kept.pop(("plan", e.lang, False), None)
            renderer._stored_plan(e, False).unlink(missing_ok=True)
            return renderer.booklet_document(e)

        paginate, kept = timed(paginated, rounds)
        size = edition.poster_size
        subjects = [s for _, _, s in poster_subjects(edition, renderer.context(edition)["labels"])]
        roles = renderer.fit_roles(edition, size)
        measuring = [renderer.poster_html(edition, s, size, fit=renderer.measuring(edition, size))
                     for s in subjects]
        measure, measures = timed(lambda e=edition, m=measuring: [
            copyfit.read_measure(renderer.layout(h, e, "poster.html").pages[0]) for h in m], rounds)
        fit, _ = timed(lambda m=measures, r=roles: copyfit.series([copyfit.fit(x, r) for x in m]),
                       rounds)
        final, _ = timed(lambda e=edition, z=size, subjects=subjects: [
            renderer.poster_document(e, s, z) for s in subjects], rounds)
        rows.append({"lang": edition.lang, "pages": len(kept.pages), "layout": layout,
                     "paginated": paginate,
                     "lost": len(losses),
                     "words": words, "posters": len(subjects), "measure": measure, "fit": fit,
                     "final": final})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--project", type=Path, default=REPO)
    args = parser.parse_args()
    for row in check_rows(args.project, args.rounds):
        print(f"{row['lang']:8} booklet {row['pages']} pages: layout {row['layout'] * 1000:7.1f} ms, "
              f"lost_words {row['words'] * 1000:6.1f} ms ({row['words'] / row['layout']:.1%}); "
              f"{row['posters']} posters: measuring {row['measure'] * 1000:6.1f} ms, fitting "
              f"{row['fit'] * 1000:5.1f} ms, laying out fitted and checked {row['final'] * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
