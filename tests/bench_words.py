"""What the words check costs: `words.lost_words` on the default project's booklets against laying
them out (`Renderer.layout`), in process, median of N runs each.

    PYTHONPATH=src python tests/bench_words.py [--rounds N]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from culturebook.build import cache_dir, check_project
    from culturebook.render import Renderer
    from culturebook.words import lost_words

    checked = check_project(REPO)
    renderer = Renderer(REPO, checked.brand, cache_dir())
    for edition in checked.content.editions:
        html = renderer.booklet_html(edition)
        renderer.layout(html, edition)  # warm: fonts loaded, caches filled
        layout, words = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            document = renderer.layout(html, edition)
            layout.append(time.perf_counter() - start)
            start = time.perf_counter()
            losses = lost_words(document.pages)
            words.append(time.perf_counter() - start)
            assert losses == [], losses
        lay, check = statistics.median(layout), statistics.median(words)
        print(f"{edition.lang:8} {len(document.pages)} pages: layout {lay * 1000:7.1f} ms, "
              f"lost_words {check * 1000:6.1f} ms ({check / lay:.1%})")


if __name__ == "__main__":
    main()
