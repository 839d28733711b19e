"""core.extensions: the one cross-app seam (docs/EXTENSIONS.md), its behaviour and its catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.db import transaction

from core import extensions
from core.extensions import KEYED, SINGLE, Event, ExtensionPoint

ROOT = Path(__file__).resolve().parents[2]
APPS = [p.parent.name for p in ROOT.glob("*/apps.py")]


@pytest.fixture
def scratch():
    """Points made by a test are taken out of the catalogue again."""
    before = set(extensions._catalogue)
    yield
    for name in set(extensions._catalogue) - before:
        del extensions._catalogue[name]


def test_single_many_keyed(scratch) -> None:
    one: ExtensionPoint[str] = ExtensionPoint("t.one", "x", kind=SINGLE)
    assert one.one() is None
    one.register("a")
    one.register("b")
    assert one.one() == "b"  # a single point holds the last registration

    many: ExtensionPoint[str] = ExtensionPoint("t.many", "x")
    many.register("a")
    many.register("a")
    many.register("b")
    assert many.all() == ["a", "b"]
    with many.registered("c"):
        assert many.all() == ["a", "b", "c"]
    assert many.all() == ["a", "b"]

    keyed: ExtensionPoint[str] = ExtensionPoint("t.keyed", "x", kind=KEYED, unique_keys=True)
    keyed.register("A", key="a")
    keyed.register("A", key="a")  # the same again: a no-op
    with pytest.raises(ValueError, match="already registered"):
        keyed.register("other", key="a")
    with pytest.raises(TypeError):
        keyed.register("B")
    assert keyed.get("a") == "A" and keyed.get("z") is None
    with pytest.raises(TypeError):
        many.get("a")
    with pytest.raises(ValueError, match="declared twice"):
        ExtensionPoint("t.many", "again")


@pytest.mark.django_db(transaction=True)
def test_an_event_runs_after_commit_never_after_rollback_and_a_failing_handler_stays_contained(scratch, caplog) -> None:
    event = Event("t.event", "x")
    seen: list[int] = []

    def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    event.register(broken)
    event.register(lambda *, n: seen.append(n))
    with transaction.atomic():
        event.on_commit(n=1)
        assert seen == []  # not before the commit
    assert seen == [1]  # the broken handler before it did not stop it
    assert "handler" in caplog.text and "t.event" in caplog.text

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        event.on_commit(n=2)
        1 / 0  # the transaction rolls back
    assert seen == [1]


def test_send_runs_inside_and_raises_to_the_caller(scratch) -> None:
    event = Event("t.send", "x")
    event.register(lambda *, n: 1 // n)
    event.send(n=1)
    with pytest.raises(ZeroDivisionError):
        event.send(n=0)


def test_every_real_point_is_registered_as_documented() -> None:
    """After django.setup() every app's ready() has run: the catalogue is the real one."""
    cat = extensions.catalogue()
    real = {name: p for name, p in cat.items() if not name.startswith("t.")}
    assert all(p.all() for p in real.values()), [n for n, p in real.items() if not p.all()]
    # Each point is declared in its app's extensions.py, named <app>.<point>.
    for name, point in real.items():
        app = name.split(".", 1)[0]
        assert type(point).__module__ == "core.extensions"
        assert (ROOT / app / "extensions.py").read_text(encoding="utf-8").count(f'"{name}"') == 1, name


def test_the_catalogue_page_lists_exactly_the_declared_points() -> None:
    page = (ROOT / "docs" / "EXTENSIONS.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", page, flags=re.M))
    declared = {name for name in extensions.catalogue() if not name.startswith("t.")}
    assert listed == declared


def _app_sources() -> list[Path]:
    return [
        p
        for app in APPS
        for p in (ROOT / app).rglob("*.py")
        if "migrations" not in p.parts and not (app == "core" and p.name == "extensions.py")
    ]


def _module_registries(tree: ast.Module) -> set[str]:
    """Module-level names bound to an empty list, dict or set literal."""
    names: set[str] = set()
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        empty = isinstance(value, ast.List | ast.Dict | ast.Set) and not getattr(
            value, "elts", getattr(value, "keys", [1])
        )
        if isinstance(target, ast.Name) and empty:
            names.add(target.id)
    return names


def test_no_other_kind_of_cross_app_seam() -> None:
    """No custom Signal, no django-fsm post_transition receiver, no function that fills a
    module-level list or dict of implementations (a registry of its own) outside core.extensions."""
    found: list[str] = []
    for path in _app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        registries = _module_registries(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Signal":
                found.append(f"{where}:{node.lineno} Signal()")
            if isinstance(node, ast.Attribute) and node.attr in {"post_transition", "pre_transition"}:
                found.append(f"{where}:{node.lineno} django-fsm {node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "django_fsm.signals":
                found.append(f"{where}:{node.lineno} django_fsm.signals")
            if isinstance(node, ast.FunctionDef) and node.name.startswith("register"):
                for n in ast.walk(node):
                    mutated = None
                    if (
                        isinstance(n, ast.Call)
                        and isinstance(n.func, ast.Attribute)
                        and n.func.attr in {"append", "add"}
                    ):
                        mutated = n.func.value
                    elif isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Subscript):
                        mutated = n.targets[0].value
                    if isinstance(mutated, ast.Name) and mutated.id in registries:
                        found.append(f"{where}:{node.lineno} {node.name}() fills {mutated.id}")
    assert found == []
