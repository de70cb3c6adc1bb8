"""The layers of docs/architecture.md, checked by reading tfface's source
(ast, nothing imported): no import cycle, no import pointing up a layer, no
function-level import outside the allow-list.

`python tests/test_architecture.py` prints the module dependency list.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "tfface"

#: Lowest first; a module may import from its own layer and the ones below.
#: Names are module prefixes (a package and all its modules).
LAYERS: list[tuple[str, ...]] = [
    ("tfface.version", "tfface.io", "tfface.registry", "tfface.config", "tfface.imaging", "tfface.value_range",
     "tfface.onednn", "tfface.replicas"),
    ("tfface.data",),
    ("tfface.layers", "tfface.losses"),
    ("tfface.models", "tfface.presets"),
    ("tfface.run",),
    ("tfface.sampling", "tfface.metrics"),
    ("tfface.callbacks", "tfface.training"),
    ("tfface.export",),
    ("tfface.experiments",),
    ("tfface.explore",),
    ("tfface.cli", "tfface.notebook", "tfface.__main__", "tfface", "tfface.serializable"),
]

#: Imports that skip a layer's rule although the layer order allows them.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "tfface.models": ("tfface.data", "tfface.metrics"),  # models hold weights and steps only
}

#: Function-level imports allowed anywhere: optional or heavy dependencies.
OPTIONAL_DEPENDENCIES = ("torch", "tensorflow_datasets", "tensorflow_hub", "matplotlib", "google.colab", "IPython", "gradio")
#: Modules whose functions may import anything (the CLI keeps `--help` fast;
#: tfface.serializable imports the registering modules once Keras is imported).
DEFERRING_MODULES = ("tfface.cli", "tfface.serializable")


@dataclass
class Module:
    name: str
    is_package: bool
    imports: list[tuple[str, int]] = field(default_factory=list)  # module-level: (target, line)
    deferred: list[tuple[str, int]] = field(default_factory=list)  # inside functions


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def read_modules(root: Path = PACKAGE_ROOT) -> dict[str, Module]:
    """Every module under `root` with the imports it makes, resolved to
    module names (`from pkg import sub` names the submodule `pkg.sub`)."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    known = {name for name, _ in files}
    modules = {}
    for (name, is_package), path in files.items():
        module = Module(name, is_package)
        _collect(ast.parse(path.read_text(encoding="utf-8"), str(path)), module, known, in_function=False)
        modules[name] = module
    return modules


def _collect(node: ast.AST, module: Module, known: set[str], in_function: bool) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _targets(child, module, known):
                (module.deferred if in_function else module.imports).append((target, child.lineno))
        nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        _collect(child, module, known, nested)


def _targets(node: ast.Import | ast.ImportFrom, module: Module, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
    return submodules or [base]


def internal_graph(modules: dict[str, Module], package: str = "tfface") -> dict[str, set[str]]:
    """Module → the package modules it imports (module level and deferred)."""
    graph = {}
    for name, module in modules.items():
        targets = {t for t, _ in module.imports + module.deferred if _matches(t, package)}
        graph[name] = {_owner(t, modules) for t in targets} - {name}
    return graph


def _owner(target: str, modules: dict[str, Module]) -> str:
    """The module a dotted import name refers to (`a.b.Class` → `a.b`)."""
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def package_graph(graph: dict[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The same graph between top-level packages (`tfface.data.x` → `tfface.data`)."""
    top = lambda name: ".".join(name.split(".")[:depth])  # noqa: E731
    collapsed: dict[str, set[str]] = {}
    for name, targets in graph.items():
        collapsed.setdefault(top(name), set()).update(top(t) for t in targets if top(t) != top(name))
    return collapsed


def layer_of(name: str, layers=LAYERS) -> int:
    best, found = -1, None
    for number, prefixes in enumerate(layers):
        for prefix in prefixes:
            # the root package's own __init__ is an entry point; its modules are not
            matched = _matches(name, prefix) if "." in prefix else name == prefix
            if matched and len(prefix) > best:
                best, found = len(prefix), number
    if found is None:
        raise AssertionError(f"{name} is in no layer of LAYERS: add it to docs/architecture.md and this test")
    return found


def upward_imports(modules: dict[str, Module], layers=LAYERS, forbidden=FORBIDDEN, package: str = "tfface") -> list[str]:
    problems = []
    for name, module in sorted(modules.items()):
        own = layer_of(name, layers)
        for target, line in module.imports + module.deferred:
            if not _matches(target, package):
                continue
            target = _owner(target, modules)
            if layer_of(target, layers) > own:
                problems.append(f"{name}:{line} imports {target} (layer {layer_of(target, layers)} > {own})")
            for prefix, banned in forbidden.items():
                if _matches(name, prefix) and any(_matches(target, b) for b in banned):
                    problems.append(f"{name}:{line} imports {target} ({prefix} may not import {', '.join(banned)})")
    return problems


def deferred_imports(modules: dict[str, Module], allowed=OPTIONAL_DEPENDENCIES, deferring=DEFERRING_MODULES) -> list[str]:
    problems = []
    for name, module in sorted(modules.items()):
        if any(_matches(name, prefix) for prefix in deferring):
            continue
        for target, line in module.deferred:
            if not any(_matches(target, dependency) for dependency in allowed):
                problems.append(f"{name}:{line} imports {target} inside a function")
    return problems


# ---------------------------------------------------------------- tfface itself


@pytest.fixture(scope="module")
def modules():
    return read_modules()


def test_no_import_cycle_between_modules_or_packages(modules):
    graph = internal_graph(modules)
    assert find_cycles(graph) == []
    assert find_cycles(package_graph(graph)) == []


def test_imports_point_down_the_layers(modules):
    assert upward_imports(modules) == []


def test_no_function_level_import_outside_the_allow_list(modules):
    assert deferred_imports(modules) == []


def test_every_package_is_documented_in_docs_architecture(modules):
    text = (PACKAGE_ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = {".".join(name.split(".")[:2]) for name in modules} - {"tfface"}
    assert [p for p in sorted(packages) if f"`{p.split('.')[1]}" not in text] == []


# ---------------------------------------------------------------- the checks can fail


def _fake_package(tmp_path: Path, files: dict[str, str]) -> dict[str, Module]:
    for relative, text in files.items():
        path = tmp_path / "tfface" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_modules(tmp_path / "tfface")


def test_a_cycle_an_upward_import_and_a_deferred_import_are_found(tmp_path):
    modules = _fake_package(tmp_path, {
        "__init__.py": "",
        "io.py": "",
        "models/__init__.py": "from tfface.models.base import Model\n",
        "models/base.py": "from tfface.metrics import psnr\nclass Model: pass\n",
        "metrics/__init__.py": "from tfface.metrics.image import psnr\n",
        "metrics/image.py": "from tfface.models import base\ndef psnr():\n    import tfface.io\n    import matplotlib\n",
    })  # fmt: skip
    graph = internal_graph(modules)
    assert find_cycles(graph) == [["tfface.metrics", "tfface.metrics.image", "tfface.models.base"]]
    assert find_cycles(package_graph(graph)) == [["tfface.metrics", "tfface.models"]]
    assert upward_imports(modules) == [
        "tfface.models.base:1 imports tfface.metrics (layer 5 > 3)",
        "tfface.models.base:1 imports tfface.metrics (tfface.models may not import tfface.data, tfface.metrics)",
    ]
    assert deferred_imports(modules) == ["tfface.metrics.image:3 imports tfface.io inside a function"]


def test_a_module_outside_every_layer_is_reported(tmp_path):
    modules = _fake_package(tmp_path, {"__init__.py": "", "utils.py": "import tfface.io\n", "io.py": ""})
    with pytest.raises(AssertionError, match="tfface.utils is in no layer"):
        upward_imports(modules)


def dependency_list(root: Path = PACKAGE_ROOT) -> str:
    """One line per module: the package modules it imports, by layer."""
    modules = read_modules(root)
    graph = internal_graph(modules)
    lines = []
    for name in sorted(graph, key=lambda n: (layer_of(n), n)):
        targets = ", ".join(sorted(t.removeprefix("tfface.") for t in graph[name]))
        deferred = [f"{t}@{line}" for t, line in modules[name].deferred]
        lines.append(f"[{layer_of(name)}] {name}: {targets}" + (f"   (in functions: {', '.join(deferred)})" if deferred else ""))
    lines.append(f"function-level imports: {sum(len(m.deferred) for m in modules.values())}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(dependency_list(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE_ROOT))
