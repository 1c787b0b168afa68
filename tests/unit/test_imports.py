"""The package's dependencies point one way. Every import in every module of
`ktrdr_dashboards` — at module level, inside functions, under `if TYPE_CHECKING:` — is read
from the source (nothing is imported), and:
- no module imports one that imports it back, directly or around a loop, and no package
  (`validate`, `release`, `build`, …) does so either;
- nothing imports `ktrdr_dashboards.cli` (the command line sits on top; `__main__` runs it);
- nothing outside `ktrdr_dashboards/bench/` imports it but the command table in `cli.py` (the
  bench measures the package from above: what it shares with previews and the doctor lives in
  packages of their own);
- only `ktrdr_dashboards/jsonnet/` touches a Jsonnet binding."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "ktrdr_dashboards"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / PACKAGE
CLI = f"{PACKAGE}.cli"
ENTRY_POINT = f"{PACKAGE}.__main__"
JSONNET_BINDINGS = {"_jsonnet", "_gojsonnet", "rjsonnet"}
ENGINE_SEAM = f"{PACKAGE}.jsonnet"
BENCH = f"{PACKAGE}.bench"


@dataclass(frozen=True)
class Import:
    importer: str  # module that imports
    file: str  # its source, relative to the repository
    line: int
    target: str  # dotted name imported (a module of ours when it resolves to one)

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> source file, packages by their __init__.py."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def own_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is one of our modules (`a.b.func` -> `a.b`)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    file = path.relative_to(path.parents[len(module.split(".")) - (0 if is_package else 1)])
    file = file.as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, file, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import sub` imports the submodule; `from pkg import name` the package
                submodule = f"{source}.{alias.name}"
                yield Import(
                    module, file, node.lineno, submodule if submodule in modules else source
                )
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield Import(module, file, node.lineno, node.args[0].value)


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    found = module_names(PACKAGE_DIR)
    assert CLI in found and f"{ENGINE_SEAM}" in found, f"{PACKAGE_DIR} is not the package"
    return found


@pytest.fixture(scope="module")
def imports(modules) -> list[Import]:
    return [found for name, path in modules.items() for found in imports_of(name, path, modules)]


def graph(imports: list[Import], modules: dict[str, Path], node_of) -> dict[str, dict[str, Import]]:
    """node -> {imported node: the first import that makes the edge}, our modules only."""
    edges: dict[str, dict[str, Import]] = {node_of(name): {} for name in modules}
    for found in imports:
        target = own_module(found.target, modules)
        if target is None:
            continue
        source, imported = node_of(found.importer), node_of(target)
        if source != imported:
            edges[source].setdefault(imported, found)
    return edges


def cycles(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One shortest loop through each group of nodes that reach each other by imports (Tarjan's
    strongly connected components, then a breadth-first search inside each)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)

    loops = []
    for group in groups:
        start = min(group)
        paths = {start: [start]}
        queue = [start]
        loop = None
        while queue and loop is None:
            node = queue.pop(0)
            for nxt in sorted(edges[node]):
                if nxt == start:
                    loop = [*paths[node], start]
                    break
                if nxt in group and nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    queue.append(nxt)
        assert loop is not None
        loops.append(loop)
    return sorted(loops)


def describe(loops: list[list[str]], edges: dict[str, dict[str, Import]]) -> str:
    """Each loop on one line, then every import between the nodes of its group (the imports
    to reverse or remove) with the file and line that makes it."""
    lines = []
    for loop in loops:
        group = set(loop)
        lines.append(" -> ".join(loop))
        for source in sorted(group):
            for target in sorted(set(edges[source]) & group):
                lines.append(f"    {source} -> {target}  ({edges[source][target].where()})")
    return "\n".join(lines)


def package_of(module: str) -> str:
    """`ktrdr_dashboards.validate.checks.query` -> `ktrdr_dashboards.validate`."""
    return ".".join(module.split(".")[:2])


# ---------------------------------------------------------------- the walker itself


def test_the_walker_reads_relative_function_level_and_dynamic_imports(tmp_path: Path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .sub import c\n")
    (package / "sub" / "__init__.py").write_text("from . import c\n")
    (package / "sub" / "c.py").write_text(
        "import importlib\nfrom .. import a\nimportlib.import_module('_jsonnet')\n"
    )
    modules = module_names(package)
    found = [i for name, path in modules.items() for i in imports_of(name, path, modules)]
    assert {(i.importer, i.target) for i in found} == {
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.sub.c"),
        ("pkg.sub", "pkg.sub.c"),
        ("pkg.sub.c", "importlib"),
        ("pkg.sub.c", "pkg.a"),
        ("pkg.sub.c", "_jsonnet"),
    }
    edges = graph(found, modules, lambda name: name)
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
    assert describe(cycles(edges), edges).splitlines() == [
        "pkg.a -> pkg.b -> pkg.sub.c -> pkg.a",
        "    pkg.a -> pkg.b  (pkg/a.py:1)",
        "    pkg.b -> pkg.sub.c  (pkg/b.py:2)",
        "    pkg.sub.c -> pkg.a  (pkg/sub/c.py:2)",
    ]
    assert cycles(graph(found, modules, lambda name: ".".join(name.split(".")[:2]))) == [
        ["pkg.a", "pkg.b", "pkg.sub", "pkg.a"]
    ]


# ---------------------------------------------------------------- the package


def test_no_module_or_package_imports_itself_back(imports, modules):
    module_edges = graph(imports, modules, lambda name: name)
    package_edges = graph(imports, modules, package_of)
    module_loops = cycles(module_edges)
    package_loops = cycles(package_edges)
    report = []
    if module_loops:
        report.append("modules:\n" + describe(module_loops, module_edges))
    if package_loops:
        report.append("packages:\n" + describe(package_loops, package_edges))
    assert not report, "import cycles — make the dependency point one way:\n" + "\n".join(report)


def test_nothing_imports_the_command_line(imports, modules):
    importers = [
        found.where()
        for found in imports
        if own_module(found.target, modules) == CLI and found.importer != ENTRY_POINT
    ]
    assert importers == [], f"{CLI} is the top of the package; imported by: {importers}"


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_only_the_command_table_imports_the_bench(imports, modules):
    importers = [
        f"{found.where()}: {found.target}"
        for found in imports
        if _inside(own_module(found.target, modules) or "", BENCH)
        and not _inside(found.importer, BENCH)
        and found.importer != CLI
    ]
    assert importers == [], (
        f"{BENCH} measures the package from above; move what others need out of it: {importers}"
    )


def test_only_the_engine_seam_touches_a_jsonnet_binding(imports):
    outside = [
        f"{found.where()}: {found.target}"
        for found in imports
        if found.target.split(".")[0] in JSONNET_BINDINGS
        and not (found.importer == ENGINE_SEAM or found.importer.startswith(ENGINE_SEAM + "."))
    ]
    assert outside == [], f"Jsonnet bindings are used through {ENGINE_SEAM} only: {outside}"
