"""Every error code the sidecar can send is in the engine's closed list (src/shared/errors.ts).

The engine reads an unknown code as INTERNAL, so a code missing from the list would lose its
meaning (and its retry policy) on the way to the user: this test names it instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sfa_sidecar"
ERRORS_TS = Path(__file__).resolve().parents[2] / "src" / "shared" / "errors.ts"
CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def engine_codes() -> set[str]:
    text = ERRORS_TS.read_text(encoding="utf-8")
    table = text[text.index("export const ERRORS = {"):text.index("} as const satisfies")]
    return set(re.findall(r"^\s+([A-Z][A-Z0-9_]+): \{ worker: '(?:retry|discard)'", table, re.M))


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def sidecar_codes() -> dict[str, str]:
    """code -> where: class attributes `code = "X"` and codes passed to an *Error(...) call."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in item.targets):
                        if code := _string(item.value):
                            found.setdefault(code, where)
            elif isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if not name.endswith("Error"):
                    continue
                candidates = [kw.value for kw in node.keywords if kw.arg == "code"] + node.args[1:2]
                for value in candidates:
                    if code := _string(value):
                        found.setdefault(code, where)
    return found


def test_the_scan_finds_the_codes_it_should():
    # a guard against a scan that silently finds nothing (and so passes vacuously)
    codes = sidecar_codes()
    assert {"NOT_AUDIO", "DECODE_FAILED", "OUT_OF_MEMORY", "DISK_FULL", "INTERNAL"} <= set(codes)
    assert len(engine_codes()) > 40


def test_every_sidecar_code_is_in_the_engine_list():
    known = engine_codes()
    missing = {code: where for code, where in sidecar_codes().items() if code not in known}
    assert not missing, f"codes raised by the sidecar but missing from src/shared/errors.ts ERRORS: {missing}"
