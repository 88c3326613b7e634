"""The apps stack one way: accounts (people, identity, consents to purposes) ← scoring
(data, model, scores, recompute) ← benefits (partners, catalogue, partner API, partner
authorisations). A lower app never imports a higher one, not even inside a function
(migrations aside), and no modules import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RANK = {"accounts": 0, "scoring": 1, "benefits": 2}


def upward_imports() -> set[tuple[str, str]]:
    found = set()
    for app, rank in RANK.items():
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if RANK.get(top, -1) > rank:
                        found.add((path.relative_to(ROOT).as_posix(), name))
    return found


def test_no_lower_app_imports_a_higher_one():
    found = upward_imports()
    assert not found, f"a lower app imports a higher one: {sorted(found)}"


def module_imports() -> dict[str, set[str]]:
    """Each project module (migrations aside) and the project modules it imports, at the
    top or inside a function; `from package import name` counts the name's module too."""
    modules = {}
    for app in (*RANK, "sesame_portal"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for module, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[module] = {name for name in found if name in modules and name != module}
    return graph


def test_no_modules_import_each_other_in_a_circle():
    graph = module_imports()
    circles = []
    for start in graph:
        # Every module reachable from start; a circle if start is among them.
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        if start in seen:
            circles.append(start)
    assert not circles, f"modules in an import circle: {sorted(circles)}"
