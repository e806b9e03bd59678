"""The preview's warm renderer: one child process that keeps WeasyPrint imported, its fonts
loaded and the caches of the engine in memory, and builds the screen editions on request.

The preview (`WarmRenderer`, in the server) starts it in a session of its own and talks to it in
JSON lines: a request `{"build": n, "first": "en/posters/care.pdf"}` over its stdin; answers over
its stdout, `{"ready": pid}` once, then per build one `{"made": path, "build": n, "kind": ...,
"edition": ..., "pdf": base64}` for each screen document as soon as it is rendered (the one the
author is looking at first), and `{"done": n, "ok": ..., "problems": [...], ...}` once the build
has been checked, preflighted and published. Each build is `culturebook build bundle` itself
(pipeline.build: check, plan, make, preflight and publish under the build lock, so build/ and its
manifest are what the command would write), run in this process with its documents made here in
the chosen order instead of in forked workers. The booklet's draft starts from the pagination
plan the last build settled on (one layout where a fresh plan takes about three); the build
paginates it afresh, as a command does, and sends its booklet when it differs from the draft. The
fonts and the parsed stylesheets are kept from one build to the next while they stay the same
(render.weasy.kept_font_config, keep_parsed_stylesheets), as in any process. A renderer that
dies or stops answering is the server's to notice and replace: a crash in the engine never takes
the preview down.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue
from typing import TextIO

from culturebook.build.pipeline import build
from culturebook.build.plan import Plan, stamp
from culturebook.build.run import Leaf, make_leaf, project_for
from culturebook.checks.project import Checked
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.files import cache_dir
from culturebook.preview.pages import TARGET, BuildReport
from culturebook.project.brand import load_brand
from culturebook.project.content import load_content
from culturebook.publish import load_manifest
from culturebook.render.engine import Rendered, Renderer
from culturebook.render.weasy import load_weasyprint

HANG_LIMIT = 180.0  # seconds without an answer after which a build is taken to hang
START_LIMIT = 120.0  # seconds a new renderer has to say it is ready
STOP_GRACE = 10.0  # seconds the renderer has to stop after SIGINT before it is killed


class RendererLost(Exception):
    """The renderer died or stopped answering; the message says which, in a few words."""


# --- the child ------------------------------------------------------------------------------------


def problem_data(problem: Problem, root: Path) -> dict:
    """A problem as the renderer sends it: its location shown as the build prints it."""
    location = problem.location
    shown = location.display(root)
    path = shown.rsplit(":", 2)[0] if location.line else shown
    return {"path": path, "line": location.line, "col": location.col or (1 if location.line else 0),
            "message": problem.message, "hint": problem.hint, "warning": problem.warning}


def problem_from(data: dict) -> Problem:
    return Problem(Location(Path(data["path"]), data["line"], data["col"]), data["message"],
                   data["hint"], data["warning"])


def leaf_order(leaves: dict[str, Leaf], first: str | None) -> list[str]:
    """The order the warm renderer makes documents in: the one in view, then the rest of its
    edition, posters (a few hundredths of a second each) before booklets (about a second)."""
    lang = first.partition("/")[0] if first else ""
    return sorted(leaves, key=lambda rel: (rel != first, leaves[rel].lang != lang,
                                           leaves[rel].kind != "poster", rel))


class Draft:
    """A document of the edition in view, made from the files as they are before the build checks
    them (its pixels first, the checks after): what it was made from, and the PDF. A `paginated`
    draft is a booklet laid out from the pagination plan the last build settled on rather than
    from a fresh plan: the build lays it out again from a fresh plan, and shows that booklet in
    its place when they differ."""

    def __init__(self, path: str, inputs: str, rendered: Rendered, paginated: bool = False):
        self.path, self.inputs, self.rendered, self.paginated = path, inputs, rendered, paginated
        self.plan: object = None  # a booklet's, when it was paginated afresh


# The pagination plan (render.paginate.Plan) each edition's screen booklet last settled on in a
# build, from a fresh plan: where the next change's draft of the booklet starts.
SETTLED: dict[str, object] = {}


def make_drafts(root: Path, first: str | None, made: Callable[[Draft], None]) -> None:
    """Lay out the screen documents of the edition in view that the change touched, before the
    build checks the project: the one at `first` (a path under build/), then the edition's
    posters, then its booklet; each is given to `made` as soon as it is laid out. A document
    whose inputs are what the last build made it from is left alone, and nothing is made when the
    content does not load (the build says why)."""
    match = re.fullmatch(r"([^/]+)/(booklet|posters/([^/]+))\.pdf", first or "")
    if match is None:
        return
    lang = match[1]
    problems = Problems()
    try:
        content = load_content(root, problems)
        brand = load_brand(root, content.editions[0].theme, problems)
        if problems.errors or lang not in [e.lang for e in content.editions]:
            return
        renderer = Renderer(root, brand, cache_dir())
        checked = Checked(root, content, brand, [])
        edition = content.edition(lang)
        subjects = {slug: subject for slug, _, subject in renderer.poster_subjects(edition)}
        documents: list[tuple[str, str | None]] = [(f"{lang}/posters/{s}.pdf", s) for s in subjects]
        documents = sorted([*documents, (f"{lang}/booklet.pdf", None)], key=lambda d: d[0] != first)
        last = load_manifest(root / "build")
        for path, slug in documents:
            inputs = inputs_of(checked, renderer, lang, slug)
            if inputs is None or last.get(path, {}).get("inputs") == inputs:
                continue
            start = None
            if slug is None:
                # A booklet whose plan no build has stored starts from the last one settled on:
                # one layout pass where a fresh plan takes three; the build checks it (drafted).
                start = None if renderer.plan_stored(edition) else SETTLED.get(lang)
                rendered = renderer.booklet(edition, start=start)  # type: ignore[arg-type]
            else:
                rendered = renderer.poster(edition, subjects[slug], edition.poster_size)
            draft = Draft(path, inputs, rendered, paginated=start is not None)
            draft.plan = renderer.kept.get(("plan", lang, False))  # a fresh plan's (else None)
            made(draft)
    except Exception:  # noqa: BLE001 - the build finds it again, and reports it where it belongs
        return


def inputs_of(checked: Checked, renderer: Renderer, lang: str, slug: str | None) -> str | None:
    """The digest of what the build makes a screen booklet (`slug` None) or poster from, as the
    build's plan takes it (plan.Plan.digest; build/manifest.json's `inputs`)."""
    edition = checked.content.edition(lang)
    plan = Plan(renderer.root / "build", {}, stamp(checked))
    if slug is None:
        return plan.digest("booklet", renderer.booklet_html(edition))
    subject = next((s for name, _, s in renderer.poster_subjects(edition) if name == slug), None)
    if subject is None:
        return None
    return plan.digest("poster", renderer.poster_inputs(edition, subject, edition.poster_size))


def drafted(draft: Draft | None, root: Path, leaf: Leaf) -> Rendered | None:
    """The draft, when the build's own renderer makes the same document from the same inputs
    (not a booklet paginated from the last plan: the build paginates it afresh)."""
    if draft is None or draft.paginated:
        return None
    checked, renderer = project_for(str(root), leaf.strict)
    inputs = inputs_of(checked, renderer, leaf.lang, leaf.subject if leaf.kind == "poster" else None)
    return draft.rendered if inputs == draft.inputs else None


def build_once(root: Path, editions: list[str] | None, number: int, first: str | None,
               answer: Callable[[dict], None]) -> dict:
    """One build of the screen editions; every screen document is answered as soon as it is made,
    those of the edition in view (`first` first) before the build checks the project."""
    started = time.perf_counter()

    def send(rel: str, kind: str, lang: str, rendered: Rendered) -> None:
        answer({"made": rel, "build": number, "kind": kind, "edition": lang,
                "pdf": base64.b64encode(rendered.data).decode()})

    drafts: dict[str, Draft] = {}

    def drafted_now(draft: Draft) -> None:
        drafts[draft.path] = draft
        lang, _, rest = draft.path.partition("/")
        send(draft.path, "booklet" if rest == "booklet.pdf" else "poster", lang, draft.rendered)

    make_drafts(root, first, drafted_now)

    def render(leaves: dict[str, Leaf]) -> dict:
        ready, problems = {}, []
        for rel in leaf_order(leaves, first):
            leaf = leaves[rel]
            draft = drafts.get(rel)
            try:
                reused = drafted(draft, root, leaf)
                rendered = reused or make_leaf(leaf)
            except ProjectError as exc:  # the others are still made: every problem at once
                problems += exc.problems
                continue
            ready[rel] = rendered
            if leaf.kind == "booklet":  # where the next draft of this booklet starts
                fresh = project_for(str(root), leaf.strict)[1].kept.get(("plan", leaf.lang, False))
                if reused is not None and draft is not None:  # the draft was paginated afresh
                    fresh = draft.plan
                SETTLED[leaf.lang] = fresh or SETTLED.get(leaf.lang)
            if reused is None and (draft is None or draft.rendered.data != rendered.data):
                send(rel, leaf.kind, leaf.lang, rendered)
        if problems:
            raise ProjectError(list(dict.fromkeys(problems)))
        return ready

    try:
        written, warnings = build(root, TARGET, editions, jobs=1, render=render)
        ok, problems, summary = True, warnings, ""
        made = [artifact.path for artifact in written]
    except ProjectError as exc:
        ok, problems, made = False, exc.problems, []
        errors = sum(not p.warning for p in problems)
        files = len({p.location.path for p in problems})
        summary = (f"{errors} problem{'s' * (errors != 1)} in {files} file{'s' * (files != 1)}; "
                   "nothing was written")
    except Exception as exc:  # noqa: BLE001 - an engine bug is shown on the page, not fatal here
        ok, made, summary = False, [], "nothing was written"
        problems = [Problem(Location(Path("build")), f"internal error: {type(exc).__name__}: {exc}")]
    return {"done": number, "ok": ok, "made": made, "summary": summary,
            "seconds": time.perf_counter() - started,
            "problems": [problem_data(p, root) for p in problems]}


def main(argv: list[str]) -> int:
    """The renderer's loop: `python -m culturebook.preview.renderer ROOT [LANG ...]`."""
    root, editions = Path(argv[0]).resolve(), argv[1:] or None
    # Answers go to the real stdout; anything else printing there (a library) goes to stderr.
    answers: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    lock = threading.Lock()

    def answer(data: dict) -> None:
        with lock:
            answers.write(json.dumps(data, ensure_ascii=False) + "\n")

    try:
        load_weasyprint()  # the slow import once, before the first request
        answer({"ready": os.getpid()})
        for line in sys.stdin:
            request = json.loads(line)
            answer(build_once(root, editions, request["build"], request.get("first"), answer))
    except (KeyboardInterrupt, BrokenPipeError):  # the preview stops: the build cleaned up
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # and nothing stops the cleaning at exit
        return 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return 0


# --- the server's side ----------------------------------------------------------------------------


class WarmRenderer:
    """The server's handle on the renderer: starts it, sends it builds, reads its answers, and
    replaces it when it dies or hangs. One build at a time (the preview's build loop)."""

    def __init__(self, root: Path, editions: list[str], lost: Callable[[str], None] = lambda _: None):
        self.root, self.editions, self.lost = root, editions, lost
        self.lock = threading.RLock()
        self.busy = False  # a build is waiting for its answers: its loss is the build's to report
        self.hang_limit = HANG_LIMIT
        self.ready: set[int] = set()  # the renderers (by pid) that said they are ready
        self.process: subprocess.Popen | None = None
        self.answers: Queue = Queue()
        self.number = 0
        self.stopped = False

    @property
    def pid(self) -> int | None:
        process = self.process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """A new renderer (the old one, if any, stopped first); it gets ready in the background."""
        with self.lock:
            if self.stopped:
                return
            self._stop_process()
            env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
            env["NO_COLOR"] = "1"
            self.answers = Queue()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "culturebook.preview.renderer", str(self.root),
                 *self.editions], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                text=True, encoding="utf-8", start_new_session=True)
            threading.Thread(target=self._read_answers, args=(self.process, self.answers),
                             name="renderer answers", daemon=True).start()

    def _read_answers(self, process: subprocess.Popen, answers: Queue) -> None:
        """Put each answer of `process` in `answers`, then {"exit": status} when it ends; a
        renderer that ends between builds is replaced at once, and `lost` told why."""
        assert process.stdout is not None
        with contextlib.suppress(ValueError, OSError), process.stdout:
            for line in process.stdout:
                with contextlib.suppress(ValueError):
                    answer = json.loads(line)
                    if "ready" in answer:
                        self.ready.add(process.pid)
                    answers.put(answer)
        code = process.wait()
        answers.put({"exit": code})
        with self.lock:
            if process is not self.process or self.stopped or self.busy:
                return
            self.start()
        self.lost(f"the renderer stopped ({_how(code)}); it was started again")

    def build(self, first: str | None, made: Callable[[dict], None]) -> BuildReport:
        """Build, telling `made` of each document as it is rendered; RendererLost when the
        renderer dies or does not answer within `hang_limit` seconds (it is then replaced)."""
        with self.lock:
            if self.pid is None:
                self.start()
            process, answers, self.busy = self.process, self.answers, True
        try:
            return self._build(process, answers, first, made)
        finally:
            self.busy = False

    def _build(self, process, answers: Queue, first: str | None, made: Callable[[dict], None],
               ) -> BuildReport:
        assert process is not None and process.stdin is not None
        self.number += 1
        try:
            process.stdin.write(json.dumps({"build": self.number, "first": first}) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.start()
            raise RendererLost("the renderer had stopped; it was started again") from None
        limit = time.monotonic() + self.hang_limit + (0 if process.pid in self.ready else START_LIMIT)
        while True:
            try:
                answer = answers.get(timeout=max(0.0, limit - time.monotonic()))
            except Empty:
                self.start()
                raise RendererLost(f"the renderer did not answer in {self.hang_limit:.0f} s; it was "
                                   "stopped and started again") from None
            if "exit" in answer:
                code = answer["exit"]
                if self.stopped:
                    raise RendererLost("the preview is stopping")
                self.start()
                raise RendererLost(f"the renderer stopped ({_how(code)}); it was started again")
            if "ready" in answer:
                limit = time.monotonic() + self.hang_limit
            elif answer.get("made") and answer.get("build") == self.number:
                limit = time.monotonic() + self.hang_limit
                made(answer)
            elif answer.get("done") == self.number:
                return BuildReport(answer["ok"], tuple(map(problem_from, answer["problems"])),
                                   answer["summary"], answer["seconds"], time.time(),
                                   tuple(answer["made"]))

    def stop(self) -> None:
        """Stop the renderer for good: an idle one ends when its stdin closes; one that is building
        gets SIGINT to its session (like Ctrl-C: the build removes its temporary files); SIGKILL
        after STOP_GRACE seconds."""
        with self.lock:
            self.stopped = True
            self._stop_process()

    def _stop_process(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]  # an idle renderer ends at this
        try:
            process.wait(0 if self.busy else STOP_GRACE)
        except subprocess.TimeoutExpired:
            signal_group(process.pid, signal.SIGINT)  # a build: it stops and cleans up
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                signal_group(process.pid, signal.SIGKILL)
                process.wait()
        signal_group(process.pid, signal.SIGKILL)  # anything it started


def _how(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"status {code}"


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
