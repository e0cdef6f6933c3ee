"""Generate the Python, typing stubs and gRPC code for every .proto under protos/csd.

`python protos/generate.py` rewrites the generated files in place; `--check` generates into a
temporary tree and fails when the committed files differ, so CI catches stale code.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def _plugin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{name} not found next to {sys.executable}; install the test extras")
    return str(path)


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csd").rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out}",
        f"--mypy_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def _generated(tree: Path) -> set[Path]:
    return {
        p.relative_to(tree)
        for p in (tree / "csd").rglob("*")
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    }


def check() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        expected, committed = _generated(fresh), _generated(ROOT)
        stale = sorted(
            str(p)
            for p in expected | committed
            if p not in expected
            or p not in committed
            or not filecmp.cmp(fresh / p, ROOT / p, shallow=False)
        )
    if stale:
        print("generated protobuf code is stale; run `make protos` and commit:", *stale, sep="\n  ")
        return 1
    print(f"generated protobuf code is current ({len(expected)} files)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed code is stale")
    if parser.parse_args().check:
        return check()
    for path in _generated(ROOT):
        (ROOT / path).unlink()
    generate(ROOT)
    print(f"generated {len(_generated(ROOT))} files under {ROOT / 'csd'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
