"""The layout holds: the README's map names every module; no test module imports another (imports
inside functions count too): what several modules share is in tests/helpers.py, or in
tests/conftest.py when every module has it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def imported_test_modules(path: Path) -> list[tuple[int, str]]:
    """The test modules (tests/test_*.py) the module at `path` imports, each with the line of its import:
    `import tests.test_x`, `from tests.test_x import y`, `from tests import test_x` (or the same relative)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            package = "tests" if node.level else ""  # a relative import here is from the tests package
            base = ".".join(part for part in (package, node.module or "") if part)
            modules = [f"{base}.{alias.name}" for alias in node.names] if base == "tests" else [base]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if len(parts) > 1 and parts[0] == "tests" and parts[1].startswith("test_"):
                found.append((node.lineno, parts[1]))
    return sorted(set(found))


def test_no_test_module_imports_another() -> None:
    modules = sorted(TESTS.glob("test_*.py"))
    assert len(modules) > 40  # the folder was found
    wrong = [
        f"tests/{path.name}, line {line}: imports {module}"
        for path in modules
        for line, module in imported_test_modules(path)
    ]
    assert not wrong, "test modules import other test modules (share through tests/helpers.py):\n" + "\n".join(wrong)


def test_the_readmes_map_names_every_module_and_only_those() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    listed = [line.split()[0] for line in section.splitlines() if line.startswith("ivr/")]
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ivr").rglob("*.py"))
    assert len(listed) == len(set(listed)), "listed twice: " + ", ".join(m for m in set(listed) if listed.count(m) > 1)
    assert sorted(listed) == modules, (
        f"in the README, not in ivr/: {sorted(set(listed) - set(modules))}; "
        f"in ivr/, not in the README: {sorted(set(modules) - set(listed))}"
    )
