"""The package's import graph: one direction of dependency, no cycle, nothing below the apps reaching up.

Every ``import`` of ours counts, at module level or inside a function.
"""
import ast
from pathlib import Path

import exypno

ROOT = Path(exypno.__file__).parent
APPS = ("exypno", "exypno.__main__", "exypno.api", "exypno.cli", "exypno.demo", "exypno.evaluate", "exypno.serve")


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ("exypno",) + path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that ``name`` imports (``from pkg import submodule`` counts as the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def is_app(name: str) -> bool:
    return any(name == app or name.startswith(app + ".") for app in APPS if app != "exypno") or name == "exypno"


def test_the_import_graph_has_no_cycle():
    edges, state, cycles = graph(), {}, []

    def visit(node, trail):
        state[node] = "open"
        for dep in sorted(edges[node]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(trail[trail.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, trail + [dep])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_nothing_below_the_apps_imports_the_face_or_the_cli():
    reaching_up = sorted(f"{name} -> {dep}" for name, deps in graph().items() if not is_app(name)
                         for dep in deps if dep in ("exypno", "exypno.api", "exypno.cli"))
    assert not reaching_up, "\n".join(reaching_up)


def test_the_graph_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from .api import load\n    return load\n")
    assert imports_of("exypno.late", module, {"exypno.api", "exypno.late"}) == {"exypno.api"}
