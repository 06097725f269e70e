"""The house's walls, checked: which folder may import what, and no cycles.

docs/architecture.md draws the layout; these tests keep the code to it, so a
shortcut through a wall fails here instead of surfacing months later as a
tangle nobody can move.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Import name prefix of each source folder (pyproject.toml's package-dir).
FOLDERS = {"services": "hotline", "shared": "hotline.shared"}

#: The processes each run one of these; none imports another.
SERVICES = ("hotline.intake", "hotline.router", "hotline.notifier")

#: Frameworks and drivers the domain core must never import.
INFRASTRUCTURE = ("kombu", "faust", "mode", "aiokafka", "sqlalchemy", "fastapi", "starlette")

#: What code outside the ledger may take from SQLAlchemy: types that pass a session or an
#: error through.
SQLALCHEMY_ALLOWED = {
    "sqlalchemy": {"Engine"},
    "sqlalchemy.orm": {"Session", "sessionmaker"},
    "sqlalchemy.exc": None,  # every exception class
}


@dataclass(frozen=True)
class Import:
    """One imported name, where it was imported, and whether at module level."""

    importer: str
    module: str
    names: tuple[str, ...]
    line: int
    top_level: bool


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    prefix = FOLDERS[relative.parts[0]]
    parts = list(relative.with_suffix("").parts[1:])
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([prefix, *parts])


def _sources() -> Iterator[tuple[str, Path]]:
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield _module_name(path), path


MODULES = dict(_sources())


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[importer].name == "__init__.py"
    base = importer.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _imports() -> list[Import]:
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Import(name, alias.name, (), node.lineno, id(node) in top))
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(name, node)
                names = tuple(alias.name for alias in node.names)
                found.append(Import(name, module, names, node.lineno, id(node) in top))
    return found


IMPORTS = _imports()


def _targets(imp: Import) -> Iterator[str]:
    """The project modules an import loads: ``from a import b`` loads ``a.b`` if it is one."""
    submodules = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in MODULES]
    if submodules:
        yield from submodules
    elif imp.module in MODULES:
        yield imp.module


def _where(imp: Import) -> str:
    return f"{MODULES[imp.importer].relative_to(ROOT)}:{imp.line}"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _crossings(package: str, forbidden: Callable[[str], bool]) -> list[str]:
    """Where a module of ``package`` imports a module that ``forbidden`` names."""
    return [
        f"{_where(imp)} imports {imp.module}"
        for imp in IMPORTS
        if _within(imp.importer, package) and forbidden(imp.module)
    ]


def _project_outside(*allowed: str) -> Callable[[str], bool]:
    """Any project module but those in the ``allowed`` packages."""
    return lambda m: _within(m, "hotline") and not any(_within(m, a) for a in allowed)


def test_no_module_imports_itself_back_through_others() -> None:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for imp in IMPORTS:
        graph[imp.importer].update(t for t in _targets(imp) if t != imp.importer)
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_domain_core_imports_no_framework_or_driver() -> None:
    bad = _crossings(
        "hotline.shared.domain", lambda m: any(_within(m, lib) for lib in INFRASTRUCTURE)
    )
    assert not bad, "\n".join(bad)


def test_the_domain_core_imports_nothing_of_the_project_outside_it() -> None:
    bad = _crossings("hotline.shared.domain", _project_outside("hotline.shared.domain"))
    assert not bad, "\n".join(bad)


def test_nothing_outside_the_ledger_builds_sql() -> None:
    """The ledger is the boundary: services call its functions, which a test can fake."""
    bad = []
    for imp in IMPORTS:
        if _within(imp.importer, "hotline.shared.ledger") or not _within(imp.module, "sqlalchemy"):
            continue
        allowed = SQLALCHEMY_ALLOWED.get(imp.module, set())
        if not imp.names:
            bad.append(f"{_where(imp)} imports {imp.module} whole")
        elif allowed is not None:
            bad += [
                f"{_where(imp)} imports {n} from {imp.module}"
                for n in imp.names
                if n not in allowed
            ]
    assert not bad, "SQL belongs in shared/ledger:\n" + "\n".join(bad)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    bad = _crossings(service, _project_outside("hotline.shared", service))
    assert not bad, "\n".join(bad)


def test_shared_imports_no_service_or_command() -> None:
    bad = _crossings("hotline.shared", _project_outside("hotline.shared"))
    assert not bad, "\n".join(bad)


def test_services_folder_holds_only_services_and_the_ways_to_run_them() -> None:
    loose = sorted(
        p.name
        for p in (ROOT / "services").glob("*.py")
        if p.name not in {"__init__.py", "__main__.py"}
    )
    assert not loose, f"modules loose in services/: {loose}"
    folders = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
    assert folders == ["cli", "intake", "notifier", "processes", "router"]


def test_shared_folder_groups_modules_by_role() -> None:
    loose = sorted(p.name for p in (ROOT / "shared").glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules loose in shared/: {loose}"


def test_the_checks_see_the_code() -> None:
    """Guard against a walk that finds nothing and so passes everything."""
    assert "hotline.intake.main" in MODULES
    assert "hotline.shared.ledger.tickets" in MODULES
    assert any(_within(imp.module, "sqlalchemy") for imp in IMPORTS)
    assert any(_within(imp.importer, "hotline.shared.domain") for imp in IMPORTS)
