"""No workspace-owned table is queried outside its domain's repository (an AST scan of src).

A model is workspace-owned when it has a required ``workspace_id`` column. A query of it is a call of
``select``/``update``/``delete`` naming the model (or one of its columns), or ``session.get``
with it. Those belong in ``<domain>/repository.py``, built on ``kit.repository``'s scoped base
statement, so no query can forget its workspace. Modules written before the base existed are
counted per domain in ``ALLOWED``: the count may only go down (move queries into the
repository, then lower the number here; the engineers splitting those files do the same).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "safar"
QUERY_CALLS = {"select", "update", "delete"}

#: Direct queries of workspace-owned models outside repositories, per domain, today.
ALLOWED: dict[str, int] = {
    # service.py's reads keyed by global ids (traits, consent, groups and members of identity
    # ids, merges of a profile id) and search.py's trait match. They wait for room: the
    # repository is at the file cap, and a ``repository/`` package needs this scan to accept
    # it. Keyed reads keep leaving out the workspace (SQLite would pick its index and scan).
    "identity": 9,
    # The metric query objects of metrics.py (NPS/CSAT/CES and the response rate): one
    # definition per metric shared by API, CLI and dashboard, each scoped by ``_where``, whose
    # first condition is the workspace.
    "surveys": 3,
}


def owned_models() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("models.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(s, ast.AnnAssign)
                and isinstance(s.target, ast.Name)
                and s.target.id == "workspace_id"
                # ``Mapped[str | None]`` (a web session's current workspace) is not ownership.
                and "None" not in ast.unparse(s.annotation)
                for s in node.body
            ):
                names.add(node.name)
    return names


def _named(node: ast.AST, models: set[str]) -> set[str]:
    """The owned models an argument names: ``Model`` or ``Model.column``."""
    if isinstance(node, ast.Name) and node.id in models:
        return {node.id}
    if isinstance(node, ast.Attribute):
        return _named(node.value, models)
    return set()


def queries(tree: ast.AST, models: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        args: list[ast.expr] = []
        if name in QUERY_CALLS:
            args = list(node.args)
        elif isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            args = node.args[:1]  # session.get(Model, id)
        named: set[str] = set()
        for arg in args:
            named |= _named(arg, models)
        found += [(node.lineno, m) for m in sorted(named)]
    return found


def scan() -> dict[str, list[str]]:
    models = owned_models()
    out: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.name in ("repository.py", "models.py") or "migrations" in rel.parts:
            continue
        hits = queries(ast.parse(path.read_text(encoding="utf-8")), models)
        domain = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        out.setdefault(domain, []).extend(f"{rel}:{line} {m}" for line, m in hits)
    return out


def test_the_scan_sees_workspace_owned_models() -> None:
    models = owned_models()
    assert {"ApiKey", "Identity", "Survey", "Trigger", "ScheduledJob"} <= models
    assert "Workspace" not in models  # the tenant itself


def test_the_scan_finds_a_direct_query() -> None:
    tree = ast.parse(
        "def f(s):\n"
        "    s.get(Trigger, 'x')\n"
        "    select(Trigger.id).where(Trigger.active)\n"
        "    delete(ApiKey)\n"
        "    select(Other)\n"
    )
    assert sorted(queries(tree, {"Trigger", "ApiKey"})) == [
        (2, "Trigger"),
        (3, "Trigger"),
        (4, "ApiKey"),
    ]


def test_no_new_query_of_a_workspace_owned_model_outside_a_repository() -> None:
    found = scan()
    over = {domain: hits for domain, hits in found.items() if len(hits) > ALLOWED.get(domain, 0)}
    assert not over, (
        "query these through the domain's repository (kit.repository.WorkspaceRepository):\n"
        + "\n".join(
            f"{d} ({len(h)} > {ALLOWED.get(d, 0)}): " + ", ".join(h) for d, h in over.items()
        )
    )
