"""Writing that respects the file system and other writers (issue 6, item 7).

Read-only files are refused by their permission bits (the tests run as root, who could write them
anyway); symlinks are resolved, and spreadsheet lock files are looked for beside the link and the
real file; two runs on one workbook serialize through alvh's own lock or one refuses; temp files
a killed run left are removed by the next run; long names and names starting with "-" work.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from writer_support import make_workbook, read_sheet, sample_sheet, sample_sheets

from rules_engine.models import SheetCells, WorkbookError
from rules_engine.workbook import filelock
from rules_engine.workbook.filelock import (
    WorkbookBusy,
    create_temp,
    lock_path,
    remove_leftovers,
    side_key,
    workbook_lock,
)
from rules_engine.workbook.writer import file_sha256, write_owned_sheets

#: POSIX file systems only: symlinks, permission bits and flock (Windows has its own lock code).
fcntl = pytest.importorskip("fcntl")
#: What a temp file of a write to "book.xlsx" is called (see filelock.create_temp).
TEMP_OF_BOOK = re.compile(r"\.~alvh-book\.xlsx\.[0-9a-f]{16}\.tmp")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "book.xlsx")


def refused(path: Path, *words: str) -> str:
    """The write raises WorkbookError with these words; the file and its folder are unchanged."""
    real = Path(os.path.realpath(path))
    before = real.read_bytes()
    listing = sorted(os.listdir(real.parent))
    with pytest.raises(WorkbookError) as caught:
        write_owned_sheets(path, sample_sheets())
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), message
    assert real.read_bytes() == before
    assert sorted(os.listdir(real.parent)) == listing
    return message


# --- read-only files -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o555])
def test_a_file_without_write_bits_is_refused_even_for_root(book: Path, mode: int) -> None:
    os.chmod(book, mode)
    refused(book, "read-only", "clear the read-only flag")
    assert os.stat(book).st_mode & 0o777 == mode


def test_a_file_this_user_may_not_write_is_refused(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: False)
    refused(book, "permission")


def test_one_write_bit_is_enough(book: Path) -> None:
    os.chmod(book, 0o464)  # group may write
    write_owned_sheets(book, sample_sheets())
    assert os.stat(book).st_mode & 0o777 == 0o464


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_the_replaced_file_keeps_its_owner_and_group(book: Path) -> None:
    os.chown(book, 4321, 4322)
    write_owned_sheets(book, sample_sheets())
    assert (os.stat(book).st_uid, os.stat(book).st_gid) == (4321, 4322)


# --- symlinks ------------------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """(link, target): `mine.xlsx` in one folder links to `real-name.xlsx` in another."""
    (tmp_path / "store").mkdir()
    (tmp_path / "desk").mkdir()
    target = make_workbook(tmp_path / "store" / "real-name.xlsx")
    link = tmp_path / "desk" / "mine.xlsx"
    link.symlink_to(target)
    return link, target


def test_writing_through_a_symlink_replaces_the_target_and_keeps_the_link(
    linked: tuple[Path, Path],
) -> None:
    link, target = linked
    write_owned_sheets(link, sample_sheets())
    assert link.is_symlink() and link.resolve() == target
    assert read_sheet(target, "Hedge")[2][0] == "VIX 20C"
    assert sorted(os.listdir(link.parent)) == ["mine.xlsx"]
    assert sorted(os.listdir(target.parent)) == ["real-name.xlsx"]


@pytest.mark.parametrize(
    ("beside", "lock", "program"),
    [
        ("target", "~$real-name.xlsx", "Excel"),
        ("target", ".~lock.real-name.xlsx#", "LibreOffice"),
        ("link", "~$mine.xlsx", "Excel"),
        ("link", ".~lock.mine.xlsx#", "LibreOffice"),
    ],
)
def test_lock_files_beside_the_real_file_and_beside_the_link_are_seen(
    linked: tuple[Path, Path], beside: str, lock: str, program: str
) -> None:
    link, target = linked
    folder = target.parent if beside == "target" else link.parent
    (folder / lock).write_bytes(b"\x05alice" if program == "Excel" else b"alice,host,,")
    refused(link, f"open in {program}", lock, "alice")


def test_every_link_of_a_chain_is_checked(linked: tuple[Path, Path]) -> None:
    link, _ = linked
    outer = link.parent.parent / "outer.xlsx"
    outer.symlink_to(link)
    (link.parent / "~$mine.xlsx").write_bytes(b"\x03bob")
    refused(outer, "open in Excel", "~$mine.xlsx", "bob")


def test_a_read_only_target_behind_a_writable_link_is_refused(linked: tuple[Path, Path]) -> None:
    link, target = linked
    os.chmod(target, 0o444)
    refused(link, "read-only")


# --- names ---------------------------------------------------------------------------------


def test_a_name_near_the_length_limit_works(tmp_path: Path) -> None:
    """`~$` + a 254-byte name cannot exist (Path.exists raised ENAMETOOLONG for it)."""
    path = make_workbook(tmp_path / ("b" * 249 + ".xlsx"))
    with workbook_lock(path):
        assert lock_path(path).exists()
        write_owned_sheets(path, sample_sheets())
    assert read_sheet(path, "Run")[2][0] == "VIX 20C"
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_side_files_of_a_long_name_are_hashed_to_a_valid_name() -> None:
    name = "é" * 120 + ".xlsx"  # 245 bytes in UTF-8
    key = side_key(name)
    assert key != name and key == side_key(name) and key != side_key(name[1:])
    assert len(os.fsencode(f".~alvh-{key}.{'0' * 16}.tmp")) <= filelock.NAME_MAX
    assert side_key("book.xlsx") == "book.xlsx"


def test_a_name_starting_with_a_dash_works(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "-book.xlsx")
    with workbook_lock(path):
        write_owned_sheets(path, sample_sheets())
    assert read_sheet(path, "Hedge")[2][0] == "VIX 20C"
    assert sorted(os.listdir(tmp_path)) == ["-book.xlsx"]


# --- alvh's own lock -----------------------------------------------------------------------


def test_a_second_run_waits_then_refuses(book: Path) -> None:
    with workbook_lock(book), pytest.raises(WorkbookBusy) as caught, workbook_lock(book, wait=0.2):
        pass
    message = str(caught.value)
    assert "another alvh run" in message and f"process {os.getpid()}" in message
    assert "try again" in message and str(book) in message


def test_the_lock_is_released_and_its_file_removed(book: Path) -> None:
    with workbook_lock(book):
        assert lock_path(book).exists()
    assert not lock_path(book).exists()
    with workbook_lock(book, wait=0):
        pass


def test_a_link_and_its_target_share_one_lock(linked: tuple[Path, Path]) -> None:
    link, target = linked
    with workbook_lock(link) as real:
        assert real == target
        with pytest.raises(WorkbookError, match="another alvh run"), workbook_lock(target, wait=0):
            pass


def test_a_lock_held_by_another_process_is_respected(book: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path\n"
            "from rules_engine.workbook.filelock import workbook_lock\n"
            "with workbook_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); sys.stdin.readline()\n",
            str(book),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "locked\n"
        with (
            pytest.raises(WorkbookError, match=f"process {holder.pid}"),
            workbook_lock(book, wait=0),
        ):
            pass
        holder.stdin.write("\n")
        holder.stdin.flush()
        with workbook_lock(book, wait=30):  # free as soon as the holder has let go
            pass
    finally:
        holder.kill()
        holder.wait()


def test_two_runs_on_one_workbook_serialize(book: Path) -> None:
    """Each run holds the lock from its read to its replace. The first pauses between the two
    while the second starts: without the lock the second would read the same bytes and then be
    refused as "changed since it was read"; with it, it waits and reads the first one's result."""
    first_has_read, second_is_waiting = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def run(name: str, sheets: list[SheetCells], before_write: threading.Event | None) -> None:
        try:
            if before_write is None:
                second_is_waiting.set()
            with workbook_lock(book, wait=30):
                digest = file_sha256(book)
                if before_write is not None:
                    first_has_read.set()
                    before_write.wait(10)
                write_owned_sheets(book, sheets, expected_sha256=digest)
            outcomes[name] = "written"
        except WorkbookError as exc:
            outcomes[name] = str(exc)

    go = threading.Event()
    first = threading.Thread(target=run, args=("first", sample_sheets(), go))
    first.start()
    assert first_has_read.wait(10)
    second_sheets = [sample_sheet("Hedge"), sample_sheet("Run")]
    second = threading.Thread(target=run, args=("second", second_sheets, None))
    second.start()
    assert second_is_waiting.wait(10)
    second.join(0.3)
    assert second.is_alive()  # waiting for the lock, not reading
    go.set()
    first.join(10)
    second.join(10)
    assert outcomes == {"first": "written", "second": "written"}
    assert read_sheet(book, "Signals")[2][0] == "VIX 20C"  # the first run's sheets are all there


def test_a_lock_file_deleted_after_it_was_opened_is_not_trusted(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that opened the lock file just before its holder deleted it must not count the old
    file as the lock: after locking it checks the name still leads to that file, else retries."""
    real_try = filelock._try_lock
    calls: list[int] = []

    def holder_finishes_first(fd: int) -> bool:
        calls.append(fd)
        if len(calls) == 1:
            os.unlink(lock_path(book))  # the previous holder deletes the file we opened
        return real_try(fd)

    monkeypatch.setattr(filelock, "_try_lock", holder_finishes_first)
    with workbook_lock(book, wait=0):
        assert len(calls) == 2  # the first file was found deleted: locked again, on a new one
        assert lock_path(book).exists()
    assert not lock_path(book).exists()


def test_a_file_system_without_locking_still_allows_the_run(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")  # as on some network mounts

    monkeypatch.setattr(fcntl, "flock", no_locks)
    in_use = book.parent / f".~alvh-{book.name}.{'0' * 16}.tmp"  # another run's, perhaps
    in_use.write_bytes(b"being written")
    with workbook_lock(book):
        write_owned_sheets(book, sample_sheets())
    assert read_sheet(book, "Risk")[2][0] == "VIX 20C"
    assert in_use.exists()  # without the lock, nobody's temp file is touched


def test_a_lock_file_this_user_cannot_write_is_still_locked_read_only(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's killed run left its lock file behind (mode 0644, their own): opening it
    for writing fails, and the lock is taken on a read-only descriptor instead."""
    real_open = os.open
    modes: list[int] = []

    def other_users_file(path: object, flags: int, *args: int) -> int:
        modes.append(flags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR))
        if str(path).endswith(".lock") and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    lock = filelock.lock_path(book)
    lock.write_text("4242\n")
    monkeypatch.setattr(filelock.os, "open", other_users_file)
    with workbook_lock(book, wait=1.0) as real:
        assert real == book.resolve()
    assert os.O_RDONLY in modes


def test_a_symlink_planted_as_the_lock_file_is_refused(book: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    lock_path(book).symlink_to(victim)
    with pytest.raises(WorkbookError, match="cannot create the lock file"), workbook_lock(book):
        pass
    assert victim.read_text() == "keep me"


# --- temp files ----------------------------------------------------------------------------


def test_a_killed_run_s_temp_files_are_removed_by_the_next_run(book: Path) -> None:
    fd, leftover = create_temp(book)  # what a run killed mid-write leaves behind
    os.write(fd, b"PK\x03\x04 half a workbook")
    os.close(fd)
    assert TEMP_OF_BOOK.fullmatch(leftover.name)
    others = [
        book.with_name(".~alvh-other.xlsx.0123456789abcdef.tmp"),  # another workbook's
        book.with_name(".~alvh-book.xlsx.not-a-token.tmp"),
        book.with_name("book.xlsx.0123456789abcdef.tmp"),
    ]
    for other in others:
        other.write_bytes(b"not ours")
    linked = book.with_name(".~alvh-book.xlsx.fedcba9876543210.tmp")
    linked.symlink_to(others[0])
    with workbook_lock(book):
        assert not leftover.exists()
    assert all(other.read_bytes() == b"not ours" for other in others)
    assert linked.is_symlink()


def test_the_writer_names_its_temp_file_so_the_next_run_finds_it(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rules_engine.workbook import writer

    made: list[Path] = []

    def recording(workbook: Path) -> tuple[int, Path]:
        fd, temp = create_temp(workbook)
        made.append(temp)
        return fd, temp

    monkeypatch.setattr(writer, "create_temp", recording)
    write_owned_sheets(book, sample_sheets())
    assert len(made) == 1 and made[0].parent == book.parent
    assert TEMP_OF_BOOK.fullmatch(made[0].name)
    made[0].write_bytes(b"as if the run had been killed before the rename")
    assert remove_leftovers(book) == [made[0]]


def test_create_temp_never_reuses_an_existing_name(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = iter(["00" * 8, "00" * 8, "11" * 8])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(tokens))
    fd, first = create_temp(book)
    os.close(fd)
    fd, second = create_temp(book)
    os.close(fd)
    assert first.name.endswith("0000000000000000.tmp")
    assert second.name.endswith("1111111111111111.tmp")


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(WorkbookError, match="folder does not exist"),
        workbook_lock(tmp_path / "nowhere" / "book.xlsx"),
    ):
        pass
