"""The secrets the code reads, found in the code: every `secrets.get("<name>")` in chalicelib/
(a string literal, or a module-level string constant passed by name).

Deployed stages read them from SSM Parameter Store as `/promptly/<stage>/<name>` (SecureString);
the deploy prints one `aws ssm put-parameter` line for each, and no secret is ever in the
template or the repository.
"""

from __future__ import annotations

import ast
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parent.parent / "chalicelib"


def _module_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def secret_names(root: Path = CHALICELIB) -> list[str]:
    found: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "secrets"
                and node.args
            ):
                continue
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.add(argument.value)
            elif isinstance(argument, ast.Name) and argument.id in constants:
                found.add(constants[argument.id])
            else:
                raise ValueError(
                    f"{path}:{node.lineno}: secrets.get() with a name the build cannot read; "
                    "pass a string literal or a module-level constant"
                )
    return sorted(found)
