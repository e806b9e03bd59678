"""The shape of the code: packages in layers, imports one way, no cycles, imports at the top.

Read from the source with `ast` (every import, also those inside functions), so a change that
breaks the layering fails here, in `make test` and `make lint`, whichever path a run takes.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# Each package or base module and its layer: a module may import from its own package and from
# lower layers only; packages of the same layer are independent of each other.
LAYERS = {
    "culturebook.__main__": 9,
    "culturebook.cli": 8,
    "culturebook.share": 7, "culturebook.preview": 7,
    "culturebook.build": 6,
    "culturebook.checks": 5, "culturebook.preflight": 5,
    "culturebook.render": 4,
    "culturebook.pdf": 3,
    "culturebook.project": 2,
    "culturebook.publish": 1.5,
    "culturebook.files": 1, "culturebook.faults": 1,
    "culturebook.errors": 0.5,
    "culturebook": 0,  # __version__ and ENGINES
}

# The libraries imported inside the functions that use them, and why.
HEAVY = {
    "weasyprint": "0.57 s to import: only when a document is laid out or a stylesheet parsed anew",
    "pypdf": "0.13 s to import: only when a PDF is read or written, never by a build with "
             "nothing to do",
    "pydyf": "WeasyPrint's PDF writer: only with WeasyPrint",
    "PIL": "only when an image changed since it was last checked, or a PDF is drawn",
    "fontTools": "only when a font changed since its cmap was cached",
    "pypdfium2": "only where a page is drawn (preflight's bleed check, the preview)",
    "dask": "optional (--cluster): installed only where a cluster is used",
    "distributed": "optional (--cluster): installed only where a cluster is used",
    "watchfiles": "only while the preview runs",
}

# Entry modules that load a stage only when it is asked for, and why.
LAZY_ENTRIES = {
    "culturebook.cli.main": "each command loads its own stage: `culturebook --help` or a build "
                            "with nothing to do starts in about 0.08 s, not 0.33 s",
    "culturebook.build.pipeline": "a build with nothing to do answers from file times before "
                                  "it loads the stages (make bench, row 2)",
    "culturebook.cli.output": "rich loads when something is first printed: a command that prints "
                              "nothing (-q, nothing to do) starts without it",
    "culturebook.cli.sharing": "the share command loads the build, the checks and the mail stages "
                               "when it runs: main.py imports it to register it",
    "culturebook.cli.doctor": "ctypes and importlib.metadata load when doctor runs: every other "
                              "command starts without them (main.py imports doctor to register it)",
}

LONG = 550  # a module longer than this says in its docstring why it is one module ("Size: ...")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a culturebook module, or a library's top-level name)
    names: tuple[str, ...]
    line: int
    in_function: bool


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "culturebook").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
              for n in ast.walk(f)}
    typing_only = {id(n) for i in ast.walk(tree)
                   if isinstance(i, ast.If) and "TYPE_CHECKING" in ast.unparse(i.test)
                   for n in ast.walk(i)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, (), node.lineno, id(node) in nested) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: a relative import"
            names = tuple(a.name for a in node.names)
            if node.module.split(".")[0] != "culturebook":
                found.append(Import(module, node.module, names, node.lineno, id(node) in nested))
                continue
            targets = {f"{node.module}.{n}" if f"{node.module}.{n}" in MODULES else node.module
                       for n in names}
            found += [Import(module, t, names, node.lineno, id(node) in nested) for t in targets]
    return found


IMPORTS = [i for m, p in MODULES.items() for i in imports_of(m, p)]


def layer_of(module: str) -> str:
    return max((name for name in LAYERS if module == name or module.startswith(name + ".")),
               key=len)


def where(i: Import) -> str:
    return f"{MODULES[i.module].relative_to(SRC.parent)}:{i.line}"


def test_every_module_has_a_layer_and_every_package_says_what_goes_in_and_out():
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py" and m != "culturebook"}
    assert packages == {m for m in LAYERS if m in packages}, "a package without a layer"
    for package in packages:
        doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))) or ""
        assert "In:" in doc and "Out:" in doc, f"{package}: its docstring says what goes in and out"


def test_imports_go_down_the_layers_only():
    upward = []
    for i in IMPORTS:
        if not i.target.startswith("culturebook") or i.target not in MODULES:
            continue
        mine, theirs = layer_of(i.module), layer_of(i.target)
        if mine == theirs:
            continue
        if LAYERS[theirs] >= LAYERS[mine]:
            upward.append(f"{where(i)}: {mine} imports {i.target} "
                          f"({'same layer' if LAYERS[theirs] == LAYERS[mine] else 'upward'})")
    assert upward == []


def cycles() -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan's algorithm)."""
    graph = {m: set() for m in MODULES}
    for i in IMPORTS:
        if i.target in MODULES and i.target != i.module:
            graph[i.module].add(i.target)
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_module_imports_itself_back_through_others():
    assert cycles() == []


def test_private_names_stay_in_their_package():
    crossing = [f"{where(i)}: {n} from {i.target}" for i in IMPORTS
                if i.target.startswith("culturebook.") for n in i.names
                if n.startswith("_") and not n.startswith("__")
                and layer_of(i.module) != layer_of(i.target)]
    assert crossing == []


def heavy_modules() -> set[str]:
    """Our modules that load a HEAVY library when they are imported (directly or through another)."""
    top = {m: {i.target for i in IMPORTS if i.module == m and not i.in_function} for m in MODULES}
    heavy: set[str] = set()
    grew = True
    while grew:
        grew = False
        for module, targets in top.items():
            if module not in heavy and any(t.split(".")[0] in HEAVY or t in heavy for t in targets):
                heavy.add(module)
                grew = True
    return heavy


def test_imports_inside_functions_are_only_of_heavy_libraries_or_by_entry_modules():
    heavy = heavy_modules()
    hoist = [f"{where(i)}: {i.target}" for i in IMPORTS
             if i.in_function and i.module not in LAZY_ENTRIES
             and i.target.split(".")[0] not in HEAVY and i.target not in heavy]
    assert hoist == [], "import these at the top of the module"


@pytest.mark.parametrize("entry", sorted(LAZY_ENTRIES))
def test_an_entry_module_loads_no_stage_when_imported(entry):
    """What LAZY_ENTRIES promises: importing the entry loads neither WeasyPrint, nor pypdf, nor
    the renderer (a fresh interpreter, so that nothing imported by other tests counts)."""
    import subprocess

    code = (f"import sys; import {entry}; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('weasyprint', 'pypdf', 'jinja2') or m.startswith('culturebook.render'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={"PYTHONPATH": str(SRC)}).stdout.split()
    assert loaded == []


def test_a_long_module_says_why_in_its_docstring():
    unexplained = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) <= LONG:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not re.search(r"^Size: ", doc, re.MULTILINE):
            unexplained.append(f"{module} ({len(text.splitlines())} lines)")
    assert unexplained == [], "split these, or say in their docstring why not (Size: ...)"
