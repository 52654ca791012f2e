"""The AWS calls chalicelib's source can make, read from the code (no need to run it).

The recorded calls (test_infra_permissions.py) are exact but only cover the flows the test
drives; this scan covers every line of every chalicelib module app.py imports (directly or
not), less precisely:
- `aws.client("<service>").<method>(…)` (directly or through a variable) → service:Operation;
- PynamoDB class calls with a known model: `Ticket.get` → GetItem, `.query` → Query (on the
  index for `Ticket.by_queue.query`), `.scan`, `.batch_get`, `.batch_write`, `.count`, `.exists`;
- instance calls whose model is known from an annotation, `Model(...)` or `Model.get(...)`:
  `.save` → PutItem, `.update` → UpdateItem, `.delete` → DeleteItem, `.refresh` → GetItem,
  also inside a transaction (`with writes.transaction() as transaction:`, or a TransactWrite):
  `transaction.save(x)`, `.update(x, …)`, `.delete(x)`, `.condition_check(Model, …)`;
- conditional writes through chalicelib/writes.py: `writes.put_if(x, …)` → PutItem,
  `writes.update_if(x, …)` → UpdateItem, `writes.delete_if(x, …)` → DeleteItem.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"

CLASS_CALLS = {
    "get": "GetItem",
    "query": "Query",
    "scan": "Scan",
    "batch_get": "BatchGetItem",
    "batch_write": "BatchWriteItem",
    "count": "Query",
    "exists": "DescribeTable",
}
INSTANCE_CALLS = {"save": "PutItem", "update": "UpdateItem", "delete": "DeleteItem", "refresh": "GetItem"}
CONDITIONAL_CALLS = {"put_if": "PutItem", "update_if": "UpdateItem", "delete_if": "DeleteItem"}
TRANSACTION_CALLS = {
    "save": "PutItem",
    "update": "UpdateItem",
    "delete": "DeleteItem",
    "condition_check": "ConditionCheckItem",
}


@dataclass(frozen=True)
class StaticCall:
    where: str  # path:line
    service: str
    action: str  # "dynamodb:GetItem", or a boto3 method name for other services until resolved
    model: str = ""  # PynamoDB model class name
    index: str = ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: Path, models: set[str], skip: set[str]) -> None:
        self.path, self.models, self.skip = path, models, skip
        self.calls: list[StaticCall] = []
        self.types: list[dict[str, str]] = [{}]  # per function scope: variable → model or "client:<svc>"

    def _where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(CHALICELIB.parent)}:{getattr(node, 'lineno', 0)}"

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in self.skip:
            return
        scope: dict[str, str] = {}
        for argument in node.args.args + node.args.kwonlyargs:
            annotation = argument.annotation
            if isinstance(annotation, ast.Name) and annotation.id in self.models:
                scope[argument.arg] = annotation.id
            elif isinstance(annotation, ast.Constant) and annotation.value in self.models:
                scope[argument.arg] = str(annotation.value)
        self.types.append(scope)
        self.generic_visit(node)
        self.types.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _type_of(self, node: ast.AST) -> str:
        """The model class (or "client:<service>") an expression evaluates to, if visible."""
        if isinstance(node, ast.Name):
            for scope in reversed(self.types):
                if node.id in scope:
                    return scope[node.id]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.models:
                return func.id  # Model(...)
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in self.models
                and func.attr == "get"
            ):
                return func.value.id  # Model.get(...)
            if _client_service(node):
                return f"client:{_client_service(node)}"
        return ""

    def visit_Assign(self, node: ast.Assign) -> None:
        kind = self._type_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and kind:
                self.types[-1][target.id] = kind
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if (
            isinstance(node.target, ast.Name)
            and isinstance(node.annotation, ast.Name)
            and node.annotation.id in self.models
        ):
            self.types[-1][node.target.id] = node.annotation.id
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and (_is_name(call.func, "TransactWrite") or _is_module_call(call.func, "writes", "transaction"))
                and isinstance(item.optional_vars, ast.Name)
            ):
                self.types[-1][item.optional_vars.id] = "transaction"
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = func.value
            kind = self._type_of(receiver)
            if _is_name(receiver, "writes") and func.attr in CONDITIONAL_CALLS and node.args:
                model = self._type_of(node.args[0])
                if model in self.models:
                    self.calls.append(
                        StaticCall(self._where(node), "dynamodb", f"dynamodb:{CONDITIONAL_CALLS[func.attr]}", model)
                    )
            elif kind.startswith("client:"):
                self.calls.append(StaticCall(self._where(node), kind.split(":", 1)[1], func.attr))
            elif isinstance(receiver, ast.Name) and receiver.id in self.models and func.attr in CLASS_CALLS:
                self.calls.append(
                    StaticCall(self._where(node), "dynamodb", f"dynamodb:{CLASS_CALLS[func.attr]}", receiver.id)
                )
            elif (
                isinstance(receiver, ast.Attribute)
                and isinstance(receiver.value, ast.Name)
                and receiver.value.id in self.models
                and func.attr in ("query", "scan", "count")
            ):
                operation = "Scan" if func.attr == "scan" else "Query"  # Model.<index>.query(...)
                self.calls.append(
                    StaticCall(self._where(node), "dynamodb", f"dynamodb:{operation}", receiver.value.id, receiver.attr)
                )
            elif kind == "transaction" and func.attr in TRANSACTION_CALLS and node.args:
                target = node.args[0]
                model = (
                    target.id if isinstance(target, ast.Name) and target.id in self.models else self._type_of(target)
                )
                if model in self.models:
                    self.calls.append(
                        StaticCall(self._where(node), "dynamodb", f"dynamodb:{TRANSACTION_CALLS[func.attr]}", model)
                    )
            elif kind in self.models and func.attr in INSTANCE_CALLS:
                self.calls.append(
                    StaticCall(self._where(node), "dynamodb", f"dynamodb:{INSTANCE_CALLS[func.attr]}", kind)
                )
        self.generic_visit(node)


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_module_call(func: ast.AST, module: str, name: str) -> bool:
    """`module.name` (the callee of `module.name(…)`)."""
    return isinstance(func, ast.Attribute) and func.attr == name and _is_name(func.value, module)


def _client_service(node: ast.Call) -> str:
    """`aws.client("sqs")` → "sqs"."""
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "client"
        and isinstance(func.value, ast.Name)
        and func.value.id == "aws"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return str(node.args[0].value)
    return ""


def _module_path(dotted: str) -> Path | None:
    base = CHALICELIB.parent.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def deployed_modules(entry: Path = CHALICELIB.parent / "app.py") -> list[Path]:
    """chalicelib modules app.py imports, directly or through others (lazy imports inside
    functions included): code nothing imports is not deployed behaviour yet."""
    seen: set[Path] = set()
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: from the importing module's package
                    # a module's package and a package's __init__ are both the folder it sits in
                    package = path.relative_to(CHALICELIB.parent).with_suffix("").parts[:-1]
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, module] if module else base)
                names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
                and node.args
                and isinstance(node.args[0], ast.JoinedStr)
                and node.args[0].values
                and isinstance(node.args[0].values[0], ast.Constant)
            ):
                prefix = str(node.args[0].values[0].value)  # import_module(f"chalicelib.channels.{x}")
                folder = CHALICELIB.parent.joinpath(*prefix.rstrip(".").split("."))
                pending += [module for module in folder.glob("*.py") if module not in seen]
            for name in names:
                if not name.startswith("chalicelib"):
                    continue
                parts = name.split(".")
                for end in range(1, len(parts) + 1):  # packages on the way are imported too
                    found = _module_path(".".join(parts[:end]))
                    if found and found not in seen:
                        pending.append(found)
    return sorted(p for p in seen if CHALICELIB in p.parents)


def scan(models: set[str], skip: dict[str, set[str]]) -> list[StaticCall]:
    """Every call found in the deployed chalicelib modules; `skip` maps a file (relative to
    chalicelib) to the functions not run by Lambda (operator tools), whose calls use the
    admin's credentials."""
    calls: list[StaticCall] = []
    for path in deployed_modules():
        if "compiled_templates" in path.parts:
            continue
        scanner = _Scanner(path, models, skip.get(path.relative_to(CHALICELIB).as_posix(), set()))
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        calls += scanner.calls
    return calls
