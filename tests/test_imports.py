"""The package's import graph: one direction of dependency, no cycle, nothing below the apps reaching up.

Every ``import`` of ours counts, at module level or inside a function.
"""
import ast
from pathlib import Path

import exypno

ROOT = Path(exypno.__file__).parent
APPS = ("exypno", "exypno.__main__", "exypno.api", "exypno.cli", "exypno.demo", "exypno.evaluate", "exypno.serve")
# The layers, bottom first: a module imports its own package and the layers below its own, never above.
LAYERS = (
    ("errors",),
    ("registry",),
    ("media",),
    ("nets", "channel", "baselines"),
    ("payload", "steganalysis"),
    ("inference", "train", "datasets"),
    ("pairings",),
    ("api",),
    ("evaluate",),  # the apps, on top of the face
    ("demo", "serve"),
    ("cli",),
    ("__main__",),
)


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


def layer(name: str) -> tuple[str, int]:
    """(top-level part, its layer) of a module of ours; the package itself sits on top, with the apps."""
    top = name.split(".")[1] if "." in name else "__main__"
    return top, next(i for i, names in enumerate(LAYERS) if top in names)


def test_every_module_imports_only_its_own_package_and_the_layers_below():
    upward = []
    for name, deps in graph().items():
        top, rank = layer(name)
        upward += [f"{name} -> {dep}" for dep in deps
                   if dep != "exypno" and layer(dep)[0] != top and layer(dep)[1] >= rank]
    assert not upward, "imports across or up the layers:\n" + "\n".join(sorted(upward))


def test_the_graph_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from .api import load\n    return load\n")
    assert imports_of("exypno.late", module, {"exypno.api", "exypno.late"}) == {"exypno.api"}


def test_the_networks_are_tensors_only():
    """``nets`` decodes no media: pictures and sounds become tensors above it. Model files it writes through
    ``media.files``, the one atomic writer."""
    outside = sorted(f"{name} -> {dep}" for name, deps in graph().items() if name.startswith("exypno.nets")
                     for dep in deps if layer(dep)[0] not in ("nets", "errors") and dep != "exypno.media.files")
    assert not outside, "\n".join(outside)
