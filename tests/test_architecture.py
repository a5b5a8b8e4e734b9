"""The package's dependency rules (docs/ARCHITECTURE.md), checked on the source with ``ast``.

Every import counts, also the ones inside functions: a function-level import hides a cycle
from the interpreter but not from a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "botrygt_eval"

#: Stages that real data flows through; none of them may import the simulator.
STAGES = (
    "io",
    "instrument",
    "sampling",
    "survey",
    "panel",
    "did",
    "activities",
    "kpi",
    "media",
    "monitoring",
    "learning_review",
    "plots",
    "reports",
    "privacy",
    "reference",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The botrygt_eval modules a file imports (``from a import b`` counts b if it is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("botrygt_eval")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("botrygt_eval"):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def stage(module: str) -> str:
    """``botrygt_eval.did.twfe`` -> ``did``; the package itself -> ``""``."""
    return (module.split(".") + [""])[1]


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(p) if m in files and m != name} for name, p in files.items()}


def test_the_stages_never_import_the_simulator():
    offenders = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph().items()
        if stage(mod) in STAGES
        for dep in deps
        if dep.startswith("botrygt_eval.simulate")
    )
    assert offenders == []


def test_only_the_report_layer_and_the_cli_import_the_reports():
    offenders = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph().items()
        if stage(mod) not in ("reports", "cli", "demo")
        for dep in deps
        if dep.startswith("botrygt_eval.reports.render")
    )
    assert offenders == []


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative enough here)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return out


def without_packages(g: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's ``__init__``: re-exports are not a design dependency."""
    packages = {m for m in g if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    return {m: {d for d in deps if d not in packages} for m, deps in g.items()}


def test_there_are_no_import_cycles_between_modules():
    assert cycles(without_packages(graph())) == []


def test_the_cycle_finder_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", ["sampling", "panel", "kpi", "reports", "survey"])
def test_stage_folders_are_packages(name):
    assert (PACKAGE / name / "__init__.py").exists()
    assert not (PACKAGE / f"{name}.py").exists()


#: Optional heavy dependencies a module may defer to the function that needs them.
HEAVY = {"matplotlib", "papermill", "nbformat", "nbconvert", "jupyter_client", "pyreadstat",
         "pyproj", "numba", "statsmodels", "linearmodels", "httpx", "IPython"}  # fmt: skip


def top_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def heavy_modules() -> set[str]:
    """Package modules that load an optional heavy dependency when imported (transitively)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    deps = {m: top_level_imports(p) for m, p in files.items()}
    heavy = {m for m, d in deps.items() if any(x.split(".")[0] in HEAVY for x in d)}
    while True:
        more = {m for m, d in deps.items() if m not in heavy and d & heavy}
        if not more:
            return heavy
        heavy |= more


def test_function_level_imports_are_only_for_heavy_dependencies():
    """Outside the CLI (whose commands import their stack lazily so that --help is fast), a
    function imports a package module only when that module loads matplotlib, papermill
    or another optional heavy dependency; everything else is imported at the top."""
    heavy = heavy_modules()
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if module_name(path).startswith("botrygt_eval.cli"):
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "botrygt_eval"
                ):
                    targets = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
                    if not targets & heavy:
                        offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} "
                                         f"{node.module}")  # fmt: skip
    assert offenders == []
