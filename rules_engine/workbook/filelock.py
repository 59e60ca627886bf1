"""alvh's own files beside a workbook: the exclusive lock a run holds from read to replace, and
the temp files a write goes through.

Both are named after the real workbook file (symlinks resolved), so every run on one file finds
the same lock, and a run can recognise the temp files a killed run left beside that file (and
only those). A workbook name too long to extend is replaced by its hash, so the side files always
have a valid name. The lock is `flock` on POSIX and `msvcrt.locking` on Windows: the system drops
it when its holder dies, so a lock can never go stale.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import operator
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rules_engine.models import WorkbookError

#: Every side file starts with this (a dot file, like Excel's and LibreOffice's own lock files).
PREFIX = ".~alvh-"
#: How long a second run waits for the first one by default (seconds).
DEFAULT_WAIT = 30.0
#: The longest file name (in bytes) the common file systems accept.
NAME_MAX = 255
_TOKEN_HEX = 16
#: The longest suffix a side file adds to the key: "." + token + ".tmp" (".lock" is shorter).
_SUFFIX_MAX = 1 + _TOKEN_HEX + len(".tmp")
_POLL = 0.1
#: Not inherited by child processes, never through a symlink, no newline translation (Windows).
_FLAGS: int = functools.reduce(
    operator.or_,
    (getattr(os, flag, 0) for flag in ("O_CLOEXEC", "O_NOINHERIT", "O_NOFOLLOW", "O_BINARY")),
)
#: flock errors that mean "this file system cannot lock", not "someone holds the lock".
_UNSUPPORTED = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS})

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _release(lock: Path, fd: int) -> None:
        """Windows cannot delete an open file: unlock and close first; a waiter may hold it."""
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(lock)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                raise _CannotLock from exc
            raise
        return True

    def _release(lock: Path, fd: int) -> None:
        """Delete the lock file while still holding it, then close: a run that opened the old
        file meanwhile sees that it is gone once it gets the lock, and tries again."""
        try:
            with contextlib.suppress(OSError):
                os.unlink(lock)
        finally:
            os.close(fd)


class WorkbookBusy(WorkbookError):
    """Another alvh run held the workbook's lock for longer than this run would wait."""


class _CannotLock(Exception):
    """The file system beside the workbook does not support locking."""


def real_path(path: Path) -> Path:
    """The file a write must replace: `path` with every symlink resolved (the link stays)."""
    return Path(os.path.realpath(path))


def side_key(name: str) -> str:
    """How the workbook's file name appears in alvh's side files: as is, or hashed when the
    side file's name would pass the file system's limit."""
    encoded = os.fsencode(name)
    if len(PREFIX) + len(encoded) + _SUFFIX_MAX <= NAME_MAX:
        return name
    return "sha256-" + hashlib.sha256(encoded).hexdigest()[:32]


def lock_path(workbook: Path) -> Path:
    """The lock file of the workbook at `workbook` (a real path: see `real_path`)."""
    return workbook.with_name(f"{PREFIX}{side_key(workbook.name)}.lock")


def create_temp(workbook: Path) -> tuple[int, Path]:
    """A new, empty temp file beside `workbook`, open for writing, named so that a later run on
    the same workbook can tell it is a leftover of this one."""
    key = side_key(workbook.name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FLAGS
    while True:
        temp = workbook.with_name(f"{PREFIX}{key}.{secrets.token_hex(_TOKEN_HEX // 2)}.tmp")
        try:
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue


def remove_leftovers(workbook: Path) -> list[Path]:
    """Delete the temp files an interrupted write to `workbook` left behind; returns them.

    Call it only while holding the workbook's lock: then no other run is writing these files.
    Files of other workbooks, and anything but regular files, are never touched.
    """
    token = rf"[0-9a-f]{{{_TOKEN_HEX}}}"
    pattern = re.compile(re.escape(f"{PREFIX}{side_key(workbook.name)}.") + token + r"\.tmp")
    removed: list[Path] = []
    with contextlib.suppress(OSError), os.scandir(workbook.parent) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def workbook_lock(path: Path, *, wait: float = DEFAULT_WAIT) -> Iterator[Path]:
    """Hold alvh's exclusive lock on the workbook at `path`; yields the real file.

    Hold it from before the read until after the replace, so that two runs on one workbook
    never interleave. A second run waits up to `wait` seconds, then raises `WorkbookBusy`.
    Once the lock is held, temp files left by a killed run on this workbook are removed. On a
    file system that cannot lock, the run goes ahead unlocked: the writer's check that the
    file has not changed since it was read still stops a second writer.
    """
    real = real_path(Path(path))
    lock = lock_path(real)
    fd = _acquire(Path(path), lock, wait)
    try:
        if fd is not None:  # without the lock another run's temp file may be in use
            remove_leftovers(real)
        yield real
    finally:
        if fd is not None:
            _release(lock, fd)


def _acquire(path: Path, lock: Path, wait: float) -> int | None:
    """An open descriptor of `lock`, locked, and still the file named `lock` (None: cannot lock)."""
    deadline = time.monotonic() + wait
    while True:
        fd = _open(path, lock)
        try:
            locked = _try_lock(fd)
        except _CannotLock:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            raise WorkbookError(f"{path}: cannot lock {lock.name} ({exc.strerror})") from exc
        if locked and _names(lock, fd):
            _sign(fd)
            return fd
        holder = "" if locked else _holder(fd)
        os.close(fd)
        if locked:
            continue  # the file we locked was deleted by the run that just finished: again
        if time.monotonic() >= deadline:
            raise WorkbookBusy(
                f"{path}: another alvh run{holder} is writing it (lock file {lock.name}); "
                "try again when it has finished"
            )
        time.sleep(max(0.0, min(_POLL, deadline - time.monotonic())))


def _open(path: Path, lock: Path) -> int:
    """The lock file, created if need be. One that another user's killed run left behind (and
    this user may not write) is still lockable read-only: flock needs no write access."""
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | _FLAGS, 0o644)
    except FileNotFoundError:
        raise WorkbookError(f"{path}: its folder does not exist") from None
    except OSError as exc:
        if isinstance(exc, PermissionError):
            with contextlib.suppress(OSError):
                return os.open(lock, os.O_RDONLY | _FLAGS)
        raise WorkbookError(
            f"{path}: cannot create the lock file {lock.name} beside it ({exc.strerror or exc})"
        ) from exc


def _names(lock: Path, fd: int) -> bool:
    """Whether `lock` still names the file open as `fd`."""
    try:
        named = os.stat(lock, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _sign(fd: int) -> None:
    """Leave this process's id in the lock file, so that a waiting run can say who holds it."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())


def _holder(fd: int) -> str:
    """' (process N)' from the lock file, or '' when it cannot be read (it is a courtesy)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""
