"""`culturebook proof`: the built print editions as soft proof PNGs under build/<lang>/proof/.

Which print files are proofed (the booklet and posters by default; the personalised print file when
asked; never the office sheets), which screen edition each is compared with for the gamut warning,
what the PNGs are called, and writing them all or nothing (publish.publish, under the build lock).
The proofs are not build outputs: build/manifest.json does not list them and `verify` passes over
build/<lang>/proof/ as it does over share/. The drawing and the colour are pdf.proof's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from culturebook.build.documents import edition_documents
from culturebook.build.pipeline import build
from culturebook.checks.project import check_project
from culturebook.errors import Location, Problem, ProjectError
from culturebook.pdf.proof import Press, proof_pages
from culturebook.publish import build_lock, publish

PROOF_DIR = "proof"  # build/<lang>/proof/ (publish.PROOF_DIR)
DOCUMENTS = ("booklet", "posters", "personalised")
DEFAULT_DOCUMENTS = ("booklet", "posters")  # personalised.pdf is every recipient's booklet: asked for


@dataclass(frozen=True)
class Proofed:
    """One print file proofed: the PNGs written for it, one per page, and its gamut warning."""

    lang: str
    source: Path  # the print PDF
    pngs: list[Path]
    size: tuple[int, int]  # the first page's, in pixels
    bytes: int
    warned: int  # pages with colours the press cannot reach (with the gamut warning)
    compared: bool  # whether the gamut warning was drawn (a personalised file has no screen edition)


@dataclass(frozen=True)
class Job:
    """A print file to proof, the screen edition it is compared with, and its PNGs' stem."""

    lang: str
    source: Path
    screen: Path | None
    stem: Path  # build/<lang>/proof/<name>: the PNGs are <stem>-<page>.png


def make_proofs(root: Path, langs: list[str] | None, documents, dpi: int, box: str = "trim",
                gamut: bool = False, progress=lambda *_: None):
    """`culturebook proof`: build the print editions where they are out of date (and, with
    `gamut`, the screen editions they are compared with), then proof the chosen `documents`
    (DOCUMENTS; none: DEFAULT_DOCUMENTS) of the chosen editions. Returns what was proofed and
    the builds' warnings."""
    _, warnings = build(root, "print", langs, progress=progress)
    if gamut:
        warnings += build(root, "bundle", langs, progress=progress)[1]
    checked = check_project(root)
    jobs = proof_jobs(root, checked, langs, tuple(dict.fromkeys(documents)) or DEFAULT_DOCUMENTS)
    return write_proofs(root, checked, jobs, dpi, box, gamut, progress), \
        [w for w in warnings if w.warning]


def proof_jobs(root: Path, checked, langs: list[str] | None, documents: tuple[str, ...]) -> list[Job]:
    """The print files to proof for the chosen editions and documents, in the build's order."""
    out = root / "build"
    jobs = []
    for edition in checked.content.editions:
        if langs is not None and edition.lang not in langs:
            continue
        listed = edition_documents(checked.brand, edition, {"booklet", "posters", "print"})
        screens = {(d.kind, d.slug): out / d.path for d in listed if d.part != "print"}
        folder = out / edition.lang
        for document in listed:
            if document.kind == "print-booklet" and "booklet" in documents:
                screen = screens[("booklet", "")]
            elif document.kind == "print-poster" and "posters" in documents:
                screen = screens[("poster", document.slug)]
            else:
                continue
            source = out / document.path
            jobs.append(Job(edition.lang, source, screen, _stem(folder, source)))
        if "personalised" in documents:
            source = folder / "print" / "personalised.pdf"
            if not source.is_file():
                raise ProjectError([Problem(Location(source), "not built, so there is nothing to "
                                            "proof", "build it first: culturebook build "
                                            "personalised --recipients CSV")])
            jobs.append(Job(edition.lang, source, None, _stem(folder, source)))
    return jobs


def _stem(folder: Path, source: Path) -> Path:
    """build/<lang>/print/posters/x.pdf -> build/<lang>/proof/posters/x."""
    return folder / PROOF_DIR / source.relative_to(folder / "print").with_suffix("")


def write_proofs(root: Path, checked, jobs: list[Job], dpi: int, box: str, gamut: bool,
                 progress=lambda *_: None) -> list[Proofed]:
    """Proof every job's print file at `dpi` (cropped to the trim or bleed `box`; with `gamut`, the
    screen colours the press cannot reach hatched) and write the PNGs: all of them, and the
    earlier proofs of these files that are no more (fewer pages), in one publish."""
    profile = checked.brand.output_profile()
    if profile is None:
        raise ProjectError([Problem(checked.brand.setting_location("print"), "a soft proof needs "
                                    "the press's CMYK output profile, and none is named",
                                    "add the print shop's CMYK profile as print.output-profile "
                                    "in theme.yaml")])
    out, press = root / "build", Press(profile)
    writes: dict[Path, bytes] = {}
    done = []
    for n, job in enumerate(jobs, 1):
        progress(f"proofing {job.source.relative_to(root).as_posix()}", n, len(jobs))
        compared = gamut and job.screen is not None
        sheets = proof_pages(job.source, press, dpi, box, job.screen if compared else None)
        width = len(str(len(sheets)))
        pngs = [job.stem.parent / f"{job.stem.name}-{page:0{width}d}.png"
                for page in range(1, len(sheets) + 1)]
        writes.update(zip(pngs, (sheet.png for sheet in sheets), strict=True))
        done.append(Proofed(job.lang, job.source, pngs, sheets[0].size,
                            sum(len(s.png) for s in sheets), sum(1 for s in sheets if s.marked),
                            compared))
    with build_lock(out):
        changed = {path: data for path, data in writes.items()
                   if not path.is_file() or path.read_bytes() != data}
        gone = [old for job in jobs for old in _earlier(job.stem) if old not in writes]
        if changed or gone:
            publish(out, changed, gone)
    return done


def _earlier(stem: Path) -> list[Path]:
    """The proof PNGs of one print file already there (stem-1.png, stem-01.png, ...)."""
    if not stem.parent.is_dir():
        return []
    page = re.compile(rf"{re.escape(stem.name)}-\d+\.png")
    return [p for p in stem.parent.iterdir() if p.is_file() and page.fullmatch(p.name)]
