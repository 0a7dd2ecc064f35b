"""The import layering of docs/architecture.md, checked on the source text (ast, nothing imported).

Every module of the package belongs to one component (a folder, or a few named files of
backend/), and every component to a level.  A module may import
- any module of its own component;
- any module of a component on a lower level.
Everything else fails: an import of a higher level ("upward"), and an import of another
component on the same level ("sideways": those components are peers that neither may build on).
Imports inside functions count too (a lazy import is still a dependency); imports of other
packages (xdsl, torch, ...) are not checked.  A new folder or top-level file fails the test until
it is given a level here and in docs/architecture.md.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the folder that imports as `accllm`
PACKAGE = "accllm"
# Not part of the layering: test code may import anything it tests.
EXCLUDED = ("test/", "rtl_lib/tests/", "build/", "results/", "__pycache__/")


@dataclass(frozen=True)
class Component:
    name: str
    level: int
    paths: tuple[str, ...]  # a folder ("x/"), a file ("x/y.py") or a file-name prefix ("x/y")


# Low to high.  docs/architecture.md explains each level; keep the two in step (a test below
# checks that the document names every path).
COMPONENTS: tuple[Component, ...] = (
    Component("base", 0, ("__init__.py", "cache.py")),
    Component("models", 0, ("models/",)),
    Component("numerics", 1, ("numerics/",)),
    Component("rtl_lib", 2, ("rtl_lib/",)),
    Component("dialects", 3, ("dialects/",)),
    Component("ir", 4, ("ir/",)),
    Component(
        "target",
        4,
        (
            "backend/__init__.py",
            "backend/target_desc.py",
            "backend/targets/",
            "backend/tiling.py",
            "backend/accel_program",
            "backend/fetch_program.py",
            "backend/kernel_host.py",
            "backend/hbm_layout.py",
            "backend/weight_packer.py",
        ),
    ),
    Component("interpreter", 5, ("interpreter/",)),
    Component("perf", 5, ("backend/perf/",)),
    Component("passes", 6, ("passes/",)),
    Component("verilog", 6, ("backend/verilog/",)),
    Component("hls", 6, ("backend/hls/",)),
    Component("sim", 6, ("backend/sim/",)),
    Component("translate_targets", 6, ("backend/translate_targets.py",)),
    Component("compression_report", 6, ("backend/compression_report.py",)),
    Component("vitis", 6, ("backend/vitis/",)),
    Component("frontend", 7, ("frontend/",)),
    Component("runtime", 8, ("runtime/",)),
    Component("tools", 9, ("tools/",)),
    Component("bench", 10, ("bench/",)),
)

# Imports that break the rule on purpose: (importer path, imported module) -> why.  An entry needs
# a reason a reviewer accepts, not "it was easier"; docs/architecture.md lists them too.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("dialects/accel.py", "accllm.backend.tiling"): (
        "accel.linear's verifier sizes weight regions with tiling.linear_stream_layout (RowSplit, "
        "StreamLayout): the stream layout of the engine rewrite, still changing in "
        "backend/tiling.py. When it settles it moves below the dialects like the word "
        "arithmetic did (numerics/words.py), and this entry goes."
    ),
}


def component_of(path: str) -> Component | None:
    """The component whose longest path prefix matches `path` (a '/'-separated relative path)."""
    best: tuple[int, Component] | None = None
    for comp in COMPONENTS:
        for prefix in comp.paths:
            if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), comp)
    return best[1] if best else None


@functools.cache
def module_path(module: str) -> str | None:
    """Relative path of `accllm.a.b` (a.b.py or a/b/__init__.py), None if there is no such file."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__.py"
    base = "/".join(parts)
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def imported_modules(path: str, tree: ast.Module) -> list[tuple[int, str]]:
    """(line, accllm module) for every import of the package in the module at `path`.

    `from accllm.x import y` names module accllm.x.y if y is a submodule, else accllm.x."""
    package = [PACKAGE, *Path(path).parent.parts]  # what a relative import is relative to
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = sub.startswith(PACKAGE + ".") and module_path(sub) is not None
                found.append((node.lineno, sub if is_module else base))
    # One entry per (line, module): `from m import a, b` is one dependency.
    ours = [(line, m) for line, m in found if m == PACKAGE or m.startswith(PACKAGE + ".")]
    return list(dict.fromkeys(ours))


def check_module(path: str, tree: ast.Module) -> list[str]:
    """One message per import of the module at `path` that the rules forbid (file:line first)."""
    importer = component_of(path)
    assert importer is not None, path
    bad = []
    for line, module in imported_modules(path, tree):
        target_path = module_path(module)
        if target_path is None:
            bad.append(f"{path}:{line}: {module} is not a module of the package")
            continue
        imported = component_of(target_path)
        if imported is None or imported.name == importer.name:
            continue  # an unplaced target is reported as unplaced; own component is free
        if imported.level < importer.level or (path, module) in EXCEPTIONS:
            continue
        if imported.level > importer.level:
            rule = f"upward: level {importer.level} imports level {imported.level}"
        else:
            rule = (
                f"sideways: {importer.name} and {imported.name} are peers on level {imported.level}"
            )
        bad.append(f"{path}:{line}: {importer.name} -> {imported.name} ({module}); {rule}")
    return bad


def source_files() -> list[str]:
    """Relative paths of the package's modules; excluded and hidden folders are not entered
    (`make setup` puts .venv/, tens of thousands of files, in the repository root)."""
    files = []
    for folder, dirs, names in os.walk(ROOT):
        rel_folder = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and not (prefix + d + "/").startswith(EXCLUDED)
        ]
        files += [prefix + n for n in names if n.endswith(".py")]
    return sorted(files)


@functools.cache  # three tests read every module; parse each once
def parse(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)


def violations() -> tuple[list[str], list[str]]:
    """(messages of imports against the rules, files that belong to no component)."""
    bad: list[str] = []
    unplaced: list[str] = []
    for path in source_files():
        if component_of(path) is None:
            unplaced.append(path)
        else:
            bad += check_module(path, parse(path))
    return bad, unplaced


def test_every_import_points_down():
    bad, _ = violations()
    assert not bad, "imports against docs/architecture.md:\n" + "\n".join(bad)


def test_every_source_file_has_a_level():
    _, unplaced = violations()
    assert not unplaced, "files in no component of test_layering.COMPONENTS:\n" + "\n".join(
        unplaced
    )


def test_exceptions_are_still_needed():
    # An exception whose import is gone would silently allow it again later.
    present = set()
    for path in source_files():
        present |= {(path, m) for _, m in imported_modules(path, parse(path))}
    assert set(EXCEPTIONS) <= present, sorted(set(EXCEPTIONS) - present)


def test_architecture_document_names_every_component_path():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [p for c in COMPONENTS for p in c.paths if p.rstrip("/") not in doc]
    assert not missing, f"docs/architecture.md does not mention {missing}"


# --- the checker itself: each rule fails where it should -------------------------------------


@pytest.mark.parametrize(
    "path, source, expected",
    [
        ("dialects/x.py", "from accllm.backend import tiling\n", ["1: dialects -> target"]),
        (
            "dialects/x.py",
            "def f():\n    import accllm.passes.registry\n",
            ["2: dialects -> passes"],
        ),
        ("backend/verilog/x.py", "from accllm.passes import registry\n", ["1: verilog -> passes"]),
        ("passes/x.py", "from ..backend.verilog import emit\n", ["1: passes -> verilog"]),
        ("passes/x.py", "from accllm.backend import tiling\nfrom . import registry\n", []),
        ("frontend/x.py", "from accllm.tools import errors\n", ["1: frontend -> tools"]),
        ("interpreter/x.py", "from accllm.backend.perf import cost\n", ["1: interpreter -> perf"]),
        ("tools/x.py", "from accllm.frontend.import_model import import_model\n", []),
    ],
)
def test_checker_flags_upward_and_sideways_imports(path, source, expected):
    # Hypothetical modules at real places: what they import is looked up in the real tree.
    got = [m.split(" (")[0].removeprefix(path + ":") for m in check_module(path, ast.parse(source))]
    assert got == expected


def test_checker_names_the_rule():
    (msg,) = check_module("passes/x.py", ast.parse("\nfrom accllm.backend.sim import hbm\n"))
    assert msg == (
        "passes/x.py:2: passes -> sim (accllm.backend.sim.hbm); "
        "sideways: passes and sim are peers on level 6"
    )
