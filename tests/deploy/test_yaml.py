"""Every YAML file under deploy/ parses (multi-document files too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.layout import DEPLOY, documents, yaml_files


def test_there_is_yaml_to_check() -> None:
    assert len(yaml_files()) >= 15


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_parses(path: Path) -> None:
    assert documents(path), f"{path} holds no document"
