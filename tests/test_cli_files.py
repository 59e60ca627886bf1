"""`alvh recompute` and the file system, end to end: two runs at once, read-only files, a lock
file beside a symlink's target, and the leftovers of a killed run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import ALVH, EXAMPLE, cells, run_alvh


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(EXAMPLE, path)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_recomputes_of_one_workbook_serialize_and_both_succeed(book: Path) -> None:
    env = {**os.environ, "ALVH_NO_ENTRY_POINTS": "1"}
    runs = [
        subprocess.Popen(
            [str(ALVH), "recompute", "--quiet", str(book)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=120), run.communicate()[1]) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert cells(book, "Hedge")[4][1] == "ACTIVE"
    assert not [p for p in book.parent.iterdir() if p.name.startswith(".~alvh-")]


def test_a_read_only_workbook_is_refused_with_exit_2_and_left_alone(book: Path) -> None:
    book.chmod(0o444)
    before = sha(book)
    result = run_alvh("recompute", str(book))
    assert result.returncode == 2
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
    assert sha(book) == before


def test_excel_s_lock_beside_a_symlink_s_target_is_seen(tmp_path: Path, book: Path) -> None:
    link_folder = tmp_path / "links"
    link_folder.mkdir()
    link = link_folder / "mine.xlsx"
    link.symlink_to(book)
    (book.parent / f"~${book.name}").write_bytes(b"\x05alice" + b"\0" * 50)
    before = sha(book)
    result = run_alvh("recompute", str(link))
    assert result.returncode == 2
    assert "open in Excel by alice" in result.stderr
    assert sha(book) == before and link.is_symlink()


def test_the_next_run_removes_a_killed_run_s_temp_file(book: Path) -> None:
    leftover = book.parent / f".~alvh-{book.name}.0123456789abcdef.tmp"
    leftover.write_bytes(b"half a workbook")
    someone_else = book.parent / ".~alvh-other.xlsx.0123456789abcdef.tmp"
    someone_else.write_bytes(b"not ours")
    result = run_alvh("recompute", "--quiet", str(book))
    assert result.returncode == 0, result.stderr
    assert not leftover.exists() and someone_else.exists()


def test_json_through_the_installed_command_is_one_whole_document(book: Path) -> None:
    """The console command ends with os._exit: the document must be flushed whole first."""
    result = run_alvh("recompute", "--json", str(book))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "ok" and doc["changed"] is True and doc["layers"]
    assert doc["layers"][0]["Status"] == "ACTIVE"


def test_json_of_a_workbook_open_in_excel_is_a_file_error(book: Path) -> None:
    (book.parent / f"~${book.name}").write_bytes(b"\x05alice" + b"\0" * 50)
    before = sha(book)
    result = run_alvh("recompute", "--json", str(book))
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["status"] == "file error" and doc["changed"] is False
    assert "open in Excel by alice" in doc["messages"][-1]["message"]
    assert "open in Excel by alice" in result.stderr and sha(book) == before
