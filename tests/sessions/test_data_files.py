"""sessions_app.data_files: paths under DATA_ROOT, built from names or read from a row."""

from __future__ import annotations

import pytest

from sessions_app.data_files import OutsideDataRoot, data_path, log_path, stored_data_path


def test_it_builds_paths_under_data_root(data_root):
    assert data_path("trades", "trades_1.json") == data_root / "trades" / "trades_1.json"
    assert log_path("0b5cbb0e-54d4-4d59-a3c1-7b8e25fbf0a3") == (
        data_root / "logs" / "session_0b5cbb0e-54d4-4d59-a3c1-7b8e25fbf0a3.log"
    )


@pytest.mark.parametrize("name", ["..", ".", "", "a/../../b", "/etc/passwd", "x\x00y", "..\\x"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(name, data_root):
    with pytest.raises(OutsideDataRoot):
        data_path("logs", name)


def test_a_symlink_out_of_data_root_is_refused(data_root, tmp_path):
    data_root.mkdir()
    (data_root / "logs").symlink_to(tmp_path)

    with pytest.raises(OutsideDataRoot, match="outside DATA_ROOT"):
        log_path("0b5cbb0e-54d4-4d59-a3c1-7b8e25fbf0a3")
    assert stored_data_path(str(data_root / "logs" / "session_x.log")) is None


def test_a_stored_path_counts_only_when_it_resolves_under_data_root(data_root, tmp_path):
    inside = data_root / "logs" / "session_x.log"
    assert stored_data_path(str(inside)) == inside
    for stored in (
        None,
        "",
        str(tmp_path / "elsewhere.log"),
        str(data_root / ".." / "elsewhere.log"),
        str(data_root),
        "logs/session_x.log",  # relative: the current directory's, not ours
        "/etc/passwd",
        f"{data_root}/logs/\x00",
    ):
        assert stored_data_path(stored) is None, stored
