"""The release check (make release-check): the built wheels work outside the repository, alike.

Given the sdists and wheels in dist/ (make dist), it runs `twine check` on them, makes a fresh
virtualenv in a temporary folder outside the repository, installs the dependencies from
requirements/run.lock (by their hashes) and then the culturebook wheel alone (--no-deps), and,
with the current folder outside the repository and no PYTHONPATH:

- `culturebook new zh --languages zh-Hans` and `culturebook new t --example tencent` (whose
  English text has Chinese too) must be refused in one line naming the CJK package (exit 1,
  nothing made), `culturebook new en` must leave out the Chinese edition and say so, and that
  English project, given Chinese characters in its text, must build nothing (the glyph check's
  error);
- with the culturebook-fonts-cjk wheel installed too, `culturebook new x --example tencent` (and
  `--example blank`, the default), `culturebook build all` and `culturebook verify` must succeed,
  and every PDF must be the same, byte for byte, as that of the same project made and built by
  the culturebook of this repository (the interpreter running this script, its src/ first on the
  path);
- with the culturebook-theme-editorial wheel installed too, `culturebook themes` must list it as a
  package, and the tencent example whose theme `extends: editorial` must build, verify and match
  the repository's build of it byte for byte (a theme found through its entry point).

It prints what it does and how long each step took, and exits 1 at the first difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STARTED = time.monotonic()


def step(what: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {what}", flush=True)


def run(args: list, cwd: Path, env: dict | None = None, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != expect:
        print(f"FAILED (exit {result.returncode}, expected {expect}): {' '.join(map(str, args))}\n"
              f"{result.stdout}{result.stderr}", file=sys.stderr)
        sys.exit(1)
    return result


def clean_env(extra: dict | None = None) -> dict:
    """The environment without what would point at the repository or change output."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "FORCE_COLOR", "COLUMNS", "PYTHONHOME")}
    env["NO_COLOR"] = "1"
    return {**env, **(extra or {})}


def pdfs(build: Path) -> dict[str, bytes]:
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in sorted(build.rglob("*.pdf"))}


def extend(project: Path, theme: str | None) -> None:
    """Make the project's own theme (the one `new` wrote) extend `theme` (made with its 0.1.0)
    instead of the default."""
    if theme is None:
        return
    [own] = (project / "layouts").glob("*/theme.yaml")
    text = own.read_text(encoding="utf-8")
    text = text.replace("extends: default\n", f"extends: {theme}\n", 1)
    text = "\n".join('extends-version: "0.1.0"' if line.startswith("extends-version:") else line
                     for line in text.splitlines())
    own.write_text(text + "\n", encoding="utf-8")


def main(dist: Path) -> None:
    wheels = {name: next(dist.glob(f"{name}-*.whl"), None)
              for name in ("culturebook", "culturebook_fonts_cjk", "culturebook_theme_editorial")}
    if None in wheels.values() or not list(dist.glob("*.tar.gz")):
        sys.exit(f"{dist}: no sdists and wheels; run make dist first")
    step(f"twine check {dist}/*")
    run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.glob("*"))], REPO)
    with tempfile.TemporaryDirectory(prefix="culturebook-release-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        step(f"a fresh virtualenv in {venv}")
        run([sys.executable, "-m", "venv", venv], work)
        pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "--require-hashes", "--no-deps", "-r", REPO / "requirements" / "run.lock"], work)
        run([*pip, "--no-deps", wheels["culturebook"]], work)
        tool = venv / "bin" / "culturebook"
        # Each side its own cache (culturebook keeps layout plans, cmaps, parsed stylesheets there),
        # so the repository's build owes nothing to the installed one's.
        env = clean_env({"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                         "XDG_CACHE_HOME": str(work / "cache-installed")})

        step("without the CJK fonts: new --languages zh-Hans is refused by name")
        refused = run([tool, "new", "zh", "--languages", "zh-Hans"], work, env, expect=1)
        expected = ("zh: the zh-Hans edition needs Noto Sans CJK SC, from the culturebook-fonts-cjk "
                    "package, which is not installed; nothing was made")
        if refused.stderr.splitlines()[0] != expected or (work / "zh").exists():
            sys.exit(f"unexpected answer: {refused.stderr}")
        refused = run([tool, "new", "t", "--example", "tencent"], work, env, expect=1)
        expected = ("t: the en edition has Han characters, which Noto Sans CJK SC sets, from the "
                    "culturebook-fonts-cjk package, which is not installed; nothing was made")
        if refused.stderr.splitlines()[0] != expected or (work / "t").exists():
            sys.exit(f"unexpected answer: {refused.stderr}")
        step("without the CJK fonts: an English project with a Chinese word stops at the glyph check")
        made = run([tool, "new", "en"], work, env)  # every language it can build: English
        if not made.stdout.startswith("left out zh-Hans: it needs Noto Sans CJK SC, from the "
                                      "culturebook-fonts-cjk package"):
            sys.exit(f"unexpected answer: {made.stdout}")
        text = (work / "en" / "content" / "en.yaml").read_text(encoding="utf-8")
        (work / "en" / "content" / "en.yaml").write_text(
            text.replace("organisation: ", "organisation: 腾讯 ", 1), encoding="utf-8")
        stopped = run([tool, "build", "booklet"], work / "en", env, expect=1)
        if "Noto" not in stopped.stderr and "font" not in stopped.stderr:
            sys.exit(f"unexpected answer: {stopped.stderr}")
        print("    " + stopped.stderr.splitlines()[0])
        if (work / "en" / "build" / "en" / "booklet.pdf").exists():
            sys.exit("a booklet was written with characters no font has")

        run([*pip, "--no-deps", wheels["culturebook_fonts_cjk"]], work)
        here = clean_env({"PYTHONPATH": str(REPO / "src"), "XDG_CACHE_HOME": str(work / "cache-repository")})
        total = 0
        for example, theme in (("tencent", None), ("blank", None), ("tencent", "editorial")):
            if theme:
                step(f"the {theme} theme's wheel installed: culturebook themes lists it")
                run([*pip, "--no-deps", wheels["culturebook_theme_editorial"]], work)
                listed = run([tool, "themes"], work, env).stdout.splitlines()
                if not any(line.split()[:2] == [theme, "0.1.0"] and "package culturebook-theme-" in line
                           for line in listed):
                    sys.exit(f"culturebook themes does not list {theme}: {listed}")
            case = f"{example}-{theme}" if theme else example
            installed, repo_made = work / "installed" / case, work / "repository" / case
            for where in (installed, repo_made):
                where.mkdir(parents=True)
            step(f"installed: culturebook new x --example {example}"
                 + (f", its theme extending {theme}" if theme else "")
                 + " && culturebook build all && verify")
            run([tool, "new", "x", "--example", example], installed, env)
            extend(installed / "x", theme)
            run([tool, "build", "all"], installed / "x", env)
            run([tool, "verify"], installed / "x", env)
            step("repository: the same project, made and built by this repository's culturebook")
            new = [sys.executable, "-m", "culturebook", "new", "x", "--example", example]
            run(new, repo_made, here)
            extend(repo_made / "x", theme)
            run([sys.executable, "-m", "culturebook", "build", "all"], repo_made / "x", here)
            ours, theirs = pdfs(installed / "x" / "build"), pdfs(repo_made / "x" / "build")
            step(f"comparing {len(ours)} PDFs byte for byte")
            if not ours or sorted(ours) != sorted(theirs):
                sys.exit(f"different PDFs: installed {sorted(ours)}, repository {sorted(theirs)}")
            differ = [name for name in ours if ours[name] != theirs[name]]
            if differ:
                sys.exit(f"{len(differ)} of {len(ours)} PDFs differ: {', '.join(differ)}")
            total += len(ours)
        sizes = {p.name: p.stat().st_size for p in wheels.values()}
        step(f"ok: {total} PDFs identical; wheels: "
             + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO / "dist")
