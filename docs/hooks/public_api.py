"""MkDocs hook: every public symbol of tfface has a docstring and a page.

The public API is what each module exports: its `__all__`, or, in a module
without one, every name it defines without a leading underscore. A function
or class without a docstring, or a public method without one (unless it
overrides a documented tfface method or a Keras hook such as `call` or
`on_epoch_end`, whose contract Keras documents), is logged as a warning, so
`mkdocs build --strict` fails. So does an `Args:` entry naming no parameter
of the signature (a stale docstring; tfface groups arguments as
`a, b: ...`, which Griffe's own check would misread), and a subpackage that
no page under docs/api/ renders with `::: tfface.<name>`.

`python docs/hooks/public_api.py` prints the same list and exits 1 on any.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import griffe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keras_docstrings import KerasStyleDocstrings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
API_PAGES = ROOT / "docs" / "api"
#: Entry points documented by the guides, not by an API page.
NOT_API = ("tfface.cli", "tfface.__main__", "tfface.version")
#: Methods Keras calls and documents (Model, Layer, Callback): an override keeps their contract.
KERAS_HOOKS = re.compile(
    r"^(call|build|get_config|from_config|get_build_config|build_from_config|get_compile_config|compile_from_config"
    r"|compute_output_shape|compute_output_spec|train_step|test_step|predict_step|make_train_function"
    r"|make_test_function|make_predict_function|compile|fit|evaluate|summary|metrics|set_model|on_\w+"
    r"|update_step|update_state|result|reset_state)$"
)

log = logging.getLogger("mkdocs.hooks.public_api")


def _target(obj):
    try:
        return obj.final_target if obj.is_alias else obj
    except griffe.AliasResolutionError:
        return None


def _documented_in_a_base(cls, name: str) -> bool:
    try:
        bases = cls.mro()
    except ValueError:
        bases = []
    return any(name in base.members and _target(base.members[name]) is not None
               and _target(base.members[name]).docstring for base in bases)  # fmt: skip


def _public_names(module) -> list[str]:
    if module.exports is not None:
        return [name if isinstance(name, str) else name.name for name in module.exports]
    return [name for name, member in module.members.items() if not name.startswith("_") and not member.is_alias]


def _modules(package):
    yield package
    for module in package.modules.values():
        if not module.is_alias and module.path not in NOT_API:
            yield from _modules(module)


def _load(root: Path):
    return griffe.load("tfface", search_paths=[str(root)], resolve_aliases=True, resolve_external=False,
                       extensions=griffe.load_extensions(KerasStyleDocstrings()))  # fmt: skip


def _signature_names(obj) -> set[str] | None:
    """Names an `Args:` entry of `obj` may use, or None when the constructor
    comes from outside tfface (a Keras or enum base) and cannot be seen."""
    if obj.kind is griffe.Kind.FUNCTION:
        return {p.name for p in obj.parameters}
    try:
        bases = [obj, *obj.mro()]
    except ValueError:
        bases = [obj]
    if "dataclass" not in obj.labels and not any("__init__" in base.members for base in bases):
        return None
    attributes = {n for n, m in obj.all_members.items() if not m.is_alias and m.kind is griffe.Kind.ATTRIBUTE}
    return {p.name for p in obj.parameters} | attributes


def stale_arguments(obj) -> list[str]:
    """`Args:` names of `obj` that are not in its signature (grouped `a, b:` and `a / b:` entries split)."""
    names = _signature_names(obj)
    if not obj.docstring or names is None:
        return []
    sections = obj.docstring.parse("google", warn_unknown_params=False, warn_missing_types=False)
    documented = [p.name for s in sections if s.kind is griffe.DocstringSectionKind.parameters for p in s.value]
    parts = [part.strip() for entry in documented for part in re.split(r"[,/]", entry)]
    return [part for part in parts if part.lstrip("*") not in names]


def undocumented(root: Path = ROOT) -> list[str]:
    """Public symbols without a docstring, as dotted paths (`module.Class.method`),
    and stale `Args:` entries (`path: argument 'name' is not in the signature`)."""
    package = _load(root)
    missing = set()
    for module in _modules(package):
        if not module.docstring:
            missing.add(module.path)
        for name in _public_names(module):
            obj = _target(module.members[name]) if name in module.members else None
            if obj is None or obj.kind not in (griffe.Kind.CLASS, griffe.Kind.FUNCTION):
                continue  # lazily imported names (tfface.VAE) are checked where they are defined
            if not obj.docstring:
                missing.add(obj.path)
            missing.update(f"{obj.path}: argument {name!r} is not in the signature" for name in stale_arguments(obj))
            if obj.kind is griffe.Kind.CLASS:
                for member_name, member in obj.members.items():
                    if member_name.startswith("_") or member.is_alias or member.kind is not griffe.Kind.FUNCTION:
                        continue
                    missing.update(f"{member.path}: argument {name!r} is not in the signature"
                                   for name in stale_arguments(member))  # fmt: skip
                    if not (member.docstring or KERAS_HOOKS.match(member_name) or _documented_in_a_base(obj, member_name)):
                        missing.add(member.path)
    return sorted(missing)


def pageless(root: Path = ROOT) -> list[str]:
    """Subpackages and top-level modules that no page under docs/api/ renders."""
    rendered = set()
    for page in (root / "docs" / "api").glob("*.md"):
        rendered.update(re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M))
    names = {p.stem if p.suffix else p.name for p in (root / "tfface").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("_")}  # fmt: skip
    return sorted(f"tfface.{n}" for n in names if f"tfface.{n}" not in rendered and f"tfface.{n}" not in NOT_API)


def on_pre_build(config, **kwargs) -> None:
    for path in undocumented():
        log.warning("public symbol without a docstring or with a stale one: %s", path)
    for path in pageless():
        log.warning("no page under docs/api/ renders %s (add '::: %s')", path, path)


if __name__ == "__main__":
    problems = [f"docstring: {p}" for p in undocumented()] + [f"no API page: {p}" for p in pageless()]
    print("\n".join(problems) or "every public symbol is documented and rendered")
    sys.exit(1 if problems else 0)
