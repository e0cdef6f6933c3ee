"""A certificate file that is empty or half written is a clear settings error, never a crash:
gRPC's core aborts the whole process (SIGABRT, "Check failed: cert_chain != nullptr") when it is
handed an empty certificate chain, and a part or `csd status` may read the files while `csd dev`
is still writing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.dev_pki import DevPki, ensure_dev_pki
from services.runtime.tls import ADMIN, STAFF, TlsSettingsError, open_channel


def test_an_empty_certificate_is_refused_by_name(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path)
    files = pki.files(ADMIN)
    files.cert.write_bytes(b"")
    with pytest.raises(TlsSettingsError, match=rf"certificate {files.cert} holds no PEM block"):
        open_channel("127.0.0.1:1", to=STAFF, tls=files)
    assert pki.ready(ADMIN) is None


def test_a_missing_key_is_refused_by_name(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path)
    files = pki.files(ADMIN)
    files.key.unlink()
    with pytest.raises(TlsSettingsError, match=rf"private key {files.key} cannot be read"):
        files.read()


def test_the_files_are_ready_once_all_three_are_written(tmp_path: Path) -> None:
    pki = DevPki(tmp_path / "tls")
    assert pki.ready(ADMIN) is None  # no CA yet
    ensure_dev_pki(tmp_path)
    assert pki.ready(ADMIN) == pki.files(ADMIN)
    # Written beside and renamed into place: nothing half written is left behind.
    assert not list((tmp_path / "tls").glob(".*.partial"))
