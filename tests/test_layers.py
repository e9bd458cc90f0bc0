"""corn's modules import in one direction: no cycle, and nothing of the control plane from the data plane.

Each module says its plane in its docstring (`Plane: control.`, `Plane: data ...`, `Plane:
shared ...`; a declarations-only .pxd in its opening comment), and docs/architecture.md lists
the same; a module of a package the page lists whole (`corn.workers.*`) may leave it to the page.
Every import counts, also one inside a function, except those a package's own `__init__` makes
lazily for its facade (`corn.run`): a submodule always imports its package first.
"""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "corn"
PLANE = re.compile(r"^#?\s*Plane: (control|data|shared)\b", re.M)
CIMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+c?import[ \t]+(\([^)]*\)|[^\n#]*)|c?import[ \t]+([^\n#]*))", re.M
)


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def listed():
    """Module name, or `package.*`, -> plane, from the table of docs/architecture.md."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    return dict(re.findall(r"^\| `([\w.*]+)` \| (control|data|shared) \|", page, re.M))


def listed_plane(table, name):
    return table.get(name) or table.get(name + ".*") or table.get(name.rpartition(".")[0] + ".*")


def modules():
    """Module name -> (path of its source, its plane)."""
    table = listed()
    found = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".pyx", ".pxd") or "__pycache__" in path.parts:
            continue
        name = module_name(path)
        if path.suffix == ".pxd" and path.with_suffix(".pyx").exists():
            continue
        match = PLANE.search(path.read_text())
        plane = match.group(1) if match else listed_plane(table, name)
        assert plane, f"{path.relative_to(ROOT)} does not say its plane"
        found[name] = (path, plane)
    return found


def resolve(name, known):
    """The corn module an import of `name` loads, or None for any other package."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imported(path, known):
    """The corn modules a file imports (a .pxd's cimports count for its .pyx)."""
    names = set()
    sources = [path] + ([path.with_suffix(".pxd")] if path.suffix == ".pyx" else [])
    for source in sources:
        if not source.exists():
            continue
        text = source.read_text()
        if source.suffix == ".py":
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.update(f"{node.module}.{alias.name}" for alias in node.names)
        else:
            for match in CIMPORT.finditer(text):
                if match.group(1):
                    items = match.group(2).replace("(", " ").replace(")", " ").split(",")
                    names.update(f"{match.group(1)}.{item.split()[0]}" for item in items if item.split())
                else:
                    names.update(item.split()[0] for item in match.group(3).split(",") if item.split())
    return {target for target in (resolve(n, known) for n in names) if target}


def graph():
    known = modules()
    edges = {}
    for name, (path, _) in known.items():
        targets = imported(path, known) - {name}
        if path.name == "__init__.py":
            targets = {t for t in targets if not t.startswith(name + ".")}
        edges[name] = targets
    return known, edges


def test_every_module_says_its_plane_as_the_architecture_page_does():
    table = listed()
    planes = {name: plane for name, (_, plane) in modules().items()}
    assert {name: listed_plane(table, name) for name in planes} == planes
    assert not [name for name in table if not name.endswith(".*") and name not in planes]


def test_no_import_cycle():
    _, edges = graph()
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for target in sorted(edges[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)


def test_the_data_plane_imports_no_control_plane_module():
    known, edges = graph()
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in edges.items()
        for target in targets
        if known[name][1] != "control" and known[target][1] == "control"
    )
    assert not wrong
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in edges.items()
        for target in targets
        if known[name][1] == "shared" and known[target][1] != "shared"
    )
    assert not wrong
