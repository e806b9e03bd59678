"""The build engine's rows of `make bench` (imported by bench.py): a rebuild with nothing to do, a
rebuild after one poster's text changed, 200 personalised booklets against whole booklets rendered
per recipient in the same pool, the peak memory of whole builds (every process of the build summed)
and the size of what they write.

    python tests/bench_engine.py --whole-booklets ROOT CSV OUT JOBS   (the baseline of row 4)
    python tests/bench_engine.py --per-recipient ROOT CSV            (row 4's bound, as JSON)
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

FIRST = ["Ana", "Bo", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Berg", "Li", "Okafor", "Novak", "Haddad", "Kim", "Rossi", "Sato", "Weber"]
HAN = ["李雷", "韩梅梅", "王小明", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷"]


def people_csv(path: Path, count: int) -> Path:
    """`count` recipients, one in five with a Chinese name, most with every optional column."""
    rows = [["name", "email", "team", "start-date", "manager", "manager-note"]]
    for i in range(count):
        if i % 5 == 4:
            name = HAN[i % 10] + str(i)
        else:
            name = f"{FIRST[i % 10]} {LAST[(i // 10) % 10]} {i}"
        team = "" if i % 7 == 6 else ["Platform", "Games", "Cloud", "微信事业群"][i % 4]
        date = "" if i % 7 == 6 else f"2027-0{1 + i % 9}-{10 + i % 18}"
        note = "" if i % 3 == 2 else "Glad to have you with us. Ask me anything, any time."
        rows.append([name, f"person{i}@example.com", team, date, "Zhang Wei", note])
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


class TreeMemory:
    """Samples the memory of a process and all its descendants (every 20 ms, from /proc) and keeps
    the peak of their sum: a build's workers count, not just its main process. Each process counts
    its proportional set size (PSS): the pages forked workers still share with the build are
    counted once in the sum, not once per process as resident sizes would be."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            total = 0
            for pid in self._tree():
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                    total += int(rollup.split("\nPss:", 1)[1].split()[0]) * 1024
                except (OSError, IndexError, ValueError):
                    pass
            self.peak = max(self.peak, total)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def finish(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak memory (bytes, the whole process tree) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    memory = TreeMemory(process.pid)
    _, errors = process.communicate()
    seconds = time.perf_counter() - started
    peak = memory.finish()
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n{errors.decode()}")
    return seconds, peak


def manifest(root: Path) -> dict[str, str]:
    entries = json.loads((root / "build" / "manifest.json").read_text())["artifacts"]
    return {a["path"]: a["sha256"] for a in entries}


def engine_rows(root: Path, env: dict[str, str], rounds: int, people: int, tmp: Path) -> dict:
    """Measure rows 2-5 on the project at `root` (already built with `build bundle`)."""
    cb = [sys.executable, "-m", "culturebook"]
    project = ["--project", str(root)]
    timed(cb + ["build", "all", "-q"] + project, env)  # everything there, for the no-op rounds
    noop = [timed(cb + ["build", "all", "-q"] + project, env)[0] for _ in range(rounds)]

    en = root / "content" / "en.yaml"
    original = en.read_text(encoding="utf-8")
    anchor = "Surpass ourselves through innovation"
    poster, bundle, remade = [], [], set()
    for i in range(rounds):
        en.write_text(original.replace(anchor, f"{anchor} (round {i})"), encoding="utf-8")
        before = manifest(root)
        poster.append(timed(cb + ["build", "posters", "-q"] + project, env)[0])
        after = manifest(root)
        remade |= {p for p in after if after[p] != before.get(p)}
        bundle.append(timed(cb + ["build", "bundle", "-q"] + project, env)[0])
    en.write_text(original, encoding="utf-8")

    csv = people_csv(tmp / "people.csv", people)
    jobs = str(os.cpu_count() or 1)
    personalised = cb + ["build", "personalised", "--force", "-q", "--edition", "en",
                         "--recipients", str(csv), "-j", jobs] + project
    # The same files as the baseline makes (booklets; and recipients.csv), then with the print file.
    booklets, booklets_peak = timed(personalised + ["--no-print-file"], env)
    ours, ours_peak = timed(personalised, env)
    out = tmp / "whole"
    out.mkdir()
    theirs, theirs_peak = timed([sys.executable, __file__, "--whole-booklets", str(root), str(csv),
                                 str(out), jobs], env)
    folder = root / "build" / "en" / "personalised"
    singles = sorted(folder.glob("*.pdf"))
    combined = root / "build" / "en" / "print" / "personalised.pdf"
    whole = sorted(out.glob("*.pdf"))

    bound = json.loads(subprocess.run([sys.executable, __file__, "--per-recipient", str(root), str(csv)],
                                      env=env, check=True, capture_output=True, text=True).stdout)
    all_seconds, all_peak = timed(cb + ["build", "all", "--force", "-q"] + project, env)
    sizes = {p: (root / "build" / p).stat().st_size for p in manifest(root)
             if "personalised" not in p}  # what build all writes
    return {
        "noop": noop, "poster": poster, "bundle": bundle, "remade": sorted(remade),
        "people": people, "ours": ours, "ours_peak": ours_peak, "theirs": theirs,
        "booklets": booklets, "booklets_peak": booklets_peak,
        "theirs_peak": theirs_peak, "single_bytes": statistics.median(p.stat().st_size for p in singles),
        "singles": len(singles), "combined_bytes": combined.stat().st_size,
        "whole_bytes": statistics.median(p.stat().st_size for p in whole), "whole": len(whole),
        "all_seconds": all_seconds, "all_peak": all_peak, "sizes": sizes, "bound": bound,
    }


def whole_booklets(root: Path, csv: Path, out: Path, jobs: int) -> None:
    """The baseline of row 4: each recipient's whole booklet laid out and written by WeasyPrint,
    in a pool of `jobs` forked workers that each keep one FontConfiguration (culturebook's own
    renderer, so the pages are the same; only the sharing is missing)."""
    import multiprocessing

    from culturebook.build.making import read_people
    from culturebook.build.run import _PROJECTS, letters
    from culturebook.checks.project import check_project
    from culturebook.errors import Problems
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer

    checked = check_project(root)
    renderer = Renderer(root, checked.brand, cache_dir())
    _PROJECTS[(str(renderer.root), False)] = (checked, renderer)
    edition = checked.content.edition("en")
    people = read_people(checked, csv, ["en"], Problems())
    global _WORK
    _WORK = (renderer, edition, letters(renderer, edition, people), people, out)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pool.map(_whole, range(len(people)), chunksize=1)


def per_recipient(root: Path, csv: Path) -> dict[str, float]:
    """Row 4's bound: the CPU seconds, per recipient, of each part of the work that grows with the
    recipients, in one process with everything loaded (medians; the collector off while measured,
    as in the build's workers): a whole booklet (the baseline's work), and a personalised
    booklet's personal pages (laid out, checked and written, by batches as the build makes them)
    and its splice into the shared booklet. Whole / (pages + splice) is what the ratio of row 4
    would be if starting, checking, the shared booklet and writing the files cost nothing."""
    import gc

    from culturebook.build.making import read_people
    from culturebook.build.run import letters, shared_booklet
    from culturebook.checks.project import check_project
    from culturebook.errors import Problems
    from culturebook.files import cache_dir
    from culturebook.render.engine import Renderer
    from culturebook.render.letters import BATCH

    checked = check_project(root)
    renderer = Renderer(root, checked.brand, cache_dir())
    edition = checked.content.edition("en")
    people = read_people(checked, csv, ["en"], Problems())
    splicer = shared_booklet(renderer, edition)
    whole, pages, splice = [], [], []
    gc.disable()
    for start in range(0, min(len(people), 10 * BATCH), BATCH):
        batch = people[start:start + BATCH]
        began = time.process_time()
        personal = renderer.personal_pages(edition, letters(renderer, edition, batch),
                                           [person.cells["name"] for person in batch])
        middle = time.process_time()
        splicer.booklets(personal)
        pages.append((middle - began) / len(batch))
        splice.append((time.process_time() - middle) / len(batch))
        gc.collect()
    for person in people[:5]:
        began = time.process_time()
        renderer.booklet(edition, recipient=letters(renderer, edition, [person])[0])
        whole.append(time.process_time() - began)
        gc.collect()
    return {"whole": statistics.median(whole), "pages": statistics.median(pages),
            "splice": statistics.median(splice)}


_WORK: tuple = ()


def _whole(i: int) -> None:
    renderer, edition, letter_list, people, out = _WORK
    rendered = renderer.booklet(edition, recipient=letter_list[i])
    (out / f"{people[i].slug}.pdf").write_bytes(rendered.data)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--whole-booklets"]:
        whole_booklets(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1:2] == ["--per-recipient"]:
        print(json.dumps(per_recipient(Path(sys.argv[2]), Path(sys.argv[3]))))
