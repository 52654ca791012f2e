"""chalicelib's modules import each other in one direction only: the import graph, read from the
source with `ast`, has no cycle, and no chalicelib module is imported inside a function or under
TYPE_CHECKING (the way a cycle used to be hidden). Heavy third-party packages may still be
imported where they are used, so a cold start pays for them only on the path that needs them."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[1] / "chalicelib"

# Third-party packages a function may import on first use, and why.
LAZY_THIRD_PARTY = {
    "aws_lambda_powertools": "SSM parameters (chalicelib/secrets.py), read only on stages that keep secrets there",
    "boto3": "a client is built on first use (chalicelib/aws.py); most paths never need one",
    "botocore": "the S3 client's config (chalicelib/aws.py: regional host, SigV4), made with the client on first use",
    "babel": "locale data for dates and durations, needed only when a message is rendered",
    "holidays": "public holiday tables, loaded only for a calendar that names a country",
    "css_inline": "inlining the digest's CSS, once a day",
    "jinja2": "templates (chalicelib/render.py), loaded when a message or page is first rendered: intake never renders",
    "selectolax": "HTML mail to text (chalicelib/channels/email.py), needed only by the inbound email function",
    "requests": "devtools only: reads moto's state on a local desk, never imported in Lambda",
    "filetype": "reading a file's type from its bytes (chalicelib/attachments/files.py), only where a file is kept",
    "moto": "devtools only: the local outbox reads the mail moto sent in the same process, never in Lambda",
    "pydantic": (
        "validating the desk file (chalicelib/config.py: at build, locally, in tests; a package reads the"
        " frozen form) and request bodies (chalicelib/http.py checked): ~60 ms a form webhook never pays"
    ),
    "pydantic_core": "pydantic's own (a validation error's type, under TYPE_CHECKING)",
    # the standard library's, listed for the same reason
    "tomllib": "reading desk.toml (chalicelib/config.py): a package reads the frozen form, never TOML (~1 ms)",
}
# chalicelib modules that bind their features as app.py does (on_first_call.feature at run time, the
# real import under TYPE_CHECKING for mypy), and why. Their TYPE_CHECKING imports still count in
# the import graph above, so no cycle hides there.
FIRST_CALL_TABLES = {
    "chalicelib.jobs": "the outbox worker imports only the handler of the job kind it runs",
}
# Third-party packages imported only under TYPE_CHECKING (never at run time), by name prefix, and why.
TYPE_ONLY_THIRD_PARTY = {
    "mypy_boto3_": "boto3-stubs' client types (chalicelib/aws.py), a dev-only dependency read by mypy",
}
FUNCTION = "function"


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    where: str  # path:line
    deferred: str  # "" at module level, else FUNCTION or "TYPE_CHECKING"


def module_name(path: Path) -> str:
    parts = path.relative_to(CHALICELIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(CHALICELIB.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, source: str, known: dict[str, Path]) -> list[str]:
    """The modules an import statement loads; `from package import name` loads `package.name`
    when that is a module, else `package`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = source if known.get(source, Path()).name == "__init__.py" else source.rpartition(".")[0]
    for _ in range(max(node.level - 1, 0)):
        package = package.rpartition(".")[0]
    base = ".".join(part for part in (package if node.level else "", node.module or "") if part)
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, path: Path, known: dict[str, Path], root: Path = CHALICELIB.parent) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, deferred: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for part in child.body:
                    visit_node(part, deferred or "TYPE_CHECKING")
                for part in child.orelse:
                    visit_node(part, deferred)
                continue
            visit_node(child, deferred)

    def visit_node(node: ast.AST, deferred: str) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            where = f"{path.relative_to(root)}:{node.lineno}"
            found.extend(Import(source, target, where, deferred) for target in _targets(node, source, known))
        in_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        visit(node, deferred or (FUNCTION if in_function else ""))

    visit(ast.parse(path.read_text(), str(path)), "")
    return found


def _allowed_third_party(found: Import) -> bool:
    name = found.target.split(".")[0]
    if found.deferred == FUNCTION:
        return name in LAZY_THIRD_PARTY
    return name in LAZY_THIRD_PARTY or name.startswith(tuple(TYPE_ONLY_THIRD_PARTY))


def all_imports() -> list[Import]:
    known = modules()
    return [found for name, path in known.items() for found in imports_of(name, path, known)]


def knots(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself),
    each sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return components


def cycle_in(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle inside a strongly connected component, for the failure message."""
    members, start = set(component), component[0]
    path, seen = [start], {start}
    while True:
        following = sorted(edges[path[-1]] & members)
        if start in following and len(path) > 1 or following == [start]:
            return [*path, start]
        step = next((target for target in following if target not in seen), None)
        if step is None:  # back into the cycle somewhere other than the start
            target = following[0]
            return [*path[path.index(target) :], target]
        path.append(step)
        seen.add(step)


def test_the_import_graph_of_chalicelib_has_no_cycle():
    edges: dict[str, set[str]] = {}
    for found in all_imports():
        if found.target.startswith("chalicelib") and found.target != found.source:
            edges.setdefault(found.source, set()).add(found.target)
    found = [f"{' → '.join(cycle_in(knot, edges))}  (the knot: {', '.join(knot)})" for knot in knots(edges)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_chalicelib_module_is_imported_inside_a_function_or_under_type_checking():
    deferred = sorted(
        {
            f"{found.where}: {found.target}"
            for found in all_imports()
            if found.deferred
            and (found.target == "chalicelib" or found.target.startswith("chalicelib."))
            and not (found.deferred == "TYPE_CHECKING" and found.source in FIRST_CALL_TABLES)
        }
    )
    assert not deferred, "import these at the top of the module instead:\n" + "\n".join(deferred)


def test_only_the_listed_third_party_packages_are_imported_lazily():
    lazy = sorted(
        {
            f"{found.where}: {found.target}"
            for found in all_imports()
            if found.deferred and not found.target.startswith("chalicelib") and not _allowed_third_party(found)
        }
    )
    assert not lazy, (
        "import at the top, or list the package in LAZY_THIRD_PARTY (or TYPE_ONLY_THIRD_PARTY) with why:\n"
        + ("\n".join(lazy))
    )


def test_the_guard_names_a_cycle_and_a_deferred_import(tmp_path):
    edges = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": {"b"}, "e": {"a"}}
    assert knots(edges) == [["a", "b", "c", "d"]]
    assert cycle_in(["a", "b", "c", "d"], edges) == ["a", "b", "c", "a"]
    assert knots({"a": {"b"}, "b": set()}) == []

    source = tmp_path / "chalicelib" / "late.py"
    source.parent.mkdir()
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import json\n"
        "if TYPE_CHECKING:\n"
        "    from chalicelib import models\n"
        "    import mypy_boto3_sqs\n"
        "def f():\n"
        "    from chalicelib.config import settings\n"
        "    import boto3\n"
        "    import mypy_boto3_s3\n"
    )
    found = [
        (item.target, item.deferred)
        for item in imports_of("chalicelib.late", source, {"chalicelib.models": source}, root=tmp_path)
    ]
    assert found == [
        ("typing", ""),
        ("json", ""),
        ("chalicelib.models", "TYPE_CHECKING"),
        ("mypy_boto3_sqs", "TYPE_CHECKING"),
        ("chalicelib.config", FUNCTION),
        ("boto3", FUNCTION),
        ("mypy_boto3_s3", FUNCTION),
    ]
    allowed = {
        item.target: _allowed_third_party(item)
        for item in imports_of("chalicelib.late", source, {}, root=tmp_path)
        if item.deferred and not item.target.startswith("chalicelib")
    }
    assert allowed == {"mypy_boto3_sqs": True, "boto3": True, "mypy_boto3_s3": False}  # stubs: for mypy only
