"""docs/rules.md stays true: one row per rule of REGULATIONS.md, and every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES_DOC = ROOT / "docs" / "rules.md"
REGULATIONS = ROOT.parent / "shared" / "REGULATIONS.md"
ROW = re.compile(r"^\| (?P<rule>[A-Z]{1,4}-\d+) \| (?P<enforced>.+?) \| (?P<tests>.+?) \|$")


def rows() -> dict[str, tuple[str, str]]:
    found = {}
    for line in RULES_DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["rule"] not in found, f"{match['rule']} has two rows"
            found[match["rule"]] = (match["enforced"], match["tests"])
    return found


def test_every_rule_of_the_regulation_has_a_row() -> None:
    if not REGULATIONS.exists():
        pytest.skip(f"{REGULATIONS} is not beside this checkout")
    text = REGULATIONS.read_text(encoding="utf-8")
    ids = set(re.findall(r"^- ([A-Z]{1,4}-\d+)", text, flags=re.MULTILINE))
    assert ids, "no rule ids found in REGULATIONS.md"
    assert set(rows()) == ids


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_named_test_exists() -> None:
    missing = []
    for rule, (_, tests) in rows().items():
        if tests.strip() == "—":
            continue
        for node_id in (t.strip() for t in tests.split(",")):
            file, _, name = node_id.partition("::")
            path = ROOT / file
            if not path.exists() or name not in _test_names(path):
                missing.append(f"{rule}: {node_id}")
    assert not missing, "docs/rules.md names tests that do not exist:\n" + "\n".join(missing)
