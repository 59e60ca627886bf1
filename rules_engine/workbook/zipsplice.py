"""Read a zip's central directory and rebuild the archive by splicing raw byte ranges.

Python's zipfile re-compresses whatever it writes, so untouched parts would come out with different
bytes, timestamps and extra fields. Here every untouched entry's local header, compressed data and
data descriptor are copied verbatim; only replaced and added parts are compressed afresh, and the
central directory is rewritten with the new offsets. Zip-bomb limits are checked from the central
directory before anything is decompressed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from rules_engine.models import WorkbookError

#: Refuse archives with more parts than any real workbook has.
MAX_ENTRIES = 10_000
#: Refuse archives that would expand to more than this in total (bytes).
MAX_TOTAL_UNCOMPRESSED = 1 << 30
#: Refuse big entries that claim a higher compression ratio than real XML reaches.
MAX_RATIO = 200
#: Entries at least this big (uncompressed bytes) are subject to MAX_RATIO.
RATIO_CHECK_FROM = 5 << 20
#: zlib's default compression level (what `splice` uses unless told otherwise).
DEFAULT_LEVEL = 6

_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_EOCD_SIG = b"PK\x05\x06"
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL_SIG = b"PK\x03\x04"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64 = "it is a ZIP64 archive, which alvh does not support"
_SPLIT = "it is a multi-part (split) zip archive, which alvh does not support"
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_STORED, _DEFLATED = 0, 8
#: 1980-01-01 00:00, the zip epoch (what Excel itself stamps on every part).
_DOS_DATE, _DOS_TIME = 0x21, 0


@dataclass(frozen=True)
class ZipEntry:
    """One member as the central directory describes it, plus where its bytes live."""

    name: str
    central: bytes
    local_offset: int
    span_end: int
    data_offset: int
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int


@dataclass(frozen=True)
class ZipArchive:
    """A parsed archive: the raw bytes and its entries in central-directory order."""

    data: bytes
    entries: tuple[ZipEntry, ...]
    comment: bytes

    def find(self, name: str) -> ZipEntry | None:
        """The entry with this part name; OPC part names are case-insensitive."""
        wanted = name.casefold()
        return next((e for e in self.entries if e.name.casefold() == wanted), None)

    def read(self, entry: ZipEntry) -> bytes:
        """Decompress one entry, never producing more than its declared size, and check its CRC."""
        if entry.flags & _ENCRYPTED_FLAG:
            raise WorkbookError(f"part {entry.name} is encrypted")
        raw = self.data[entry.data_offset : entry.data_offset + entry.compressed_size]
        if entry.method == _STORED:
            content = raw
        elif entry.method == _DEFLATED:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                content = inflater.decompress(raw, entry.size + 1)
            except zlib.error as exc:
                raise WorkbookError(f"part {entry.name} is corrupt ({exc})") from exc
            if not inflater.eof:
                raise WorkbookError(f"part {entry.name} is longer than the archive says")
        else:
            raise WorkbookError(
                f"part {entry.name} uses zip compression method {entry.method}, "
                "which alvh does not support"
            )
        if len(content) != entry.size or zlib.crc32(content) != entry.crc:
            raise WorkbookError(f"part {entry.name} is corrupt (size or checksum mismatch)")
        return content


def open_archive(data: bytes) -> ZipArchive:
    """Parse the central directory, refusing layouts and sizes this writer will not handle."""
    eocd_at = _find_eocd(data)
    _sig, disk, cd_disk, disk_entries, total, cd_size, cd_offset, comment_len = _EOCD.unpack_from(
        data, eocd_at
    )
    if eocd_at >= 20 and data[eocd_at - 20 : eocd_at - 16] == _ZIP64_LOCATOR_SIG:
        raise WorkbookError(_ZIP64)
    if 0xFFFF in (disk, cd_disk, disk_entries, total) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise WorkbookError(_ZIP64)
    if disk != 0 or cd_disk != 0 or disk_entries != total:
        raise WorkbookError(_SPLIT)
    if cd_offset + cd_size != eocd_at:
        raise WorkbookError("its zip structure has unexpected extra data; re-save it in Excel")
    if total > MAX_ENTRIES:
        raise WorkbookError(f"it has {total} parts (limit {MAX_ENTRIES}); refusing a zip bomb")
    comment = data[eocd_at + _EOCD.size : eocd_at + _EOCD.size + comment_len]
    records = _central_records(data, cd_offset, cd_offset + cd_size, total)
    _check_bomb(records)
    return ZipArchive(data=data, entries=_locate(data, records, cd_offset), comment=comment)


def _find_eocd(data: bytes) -> int:
    """Offset of the end-of-central-directory record whose comment runs exactly to the end."""
    search_from = max(0, len(data) - _EOCD.size - 0xFFFF)
    at = data.rfind(_EOCD_SIG, search_from)
    while at >= 0:
        if at + _EOCD.size <= len(data):
            comment_len = struct.unpack_from("<H", data, at + 20)[0]
            if at + _EOCD.size + comment_len == len(data):
                return at
        at = data.rfind(_EOCD_SIG, search_from, at)
    raise WorkbookError("it is not a valid zip archive (no central directory)")


@dataclass(frozen=True)
class _Record:
    name: str
    central: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    local_offset: int


def _central_records(data: bytes, start: int, end: int, count: int) -> list[_Record]:
    records: list[_Record] = []
    pos = start
    seen: set[str] = set()
    for _ in range(count):
        if pos + _CENTRAL.size > end or data[pos : pos + 4] != _CENTRAL_SIG:
            raise WorkbookError("its zip central directory is damaged")
        fields = _CENTRAL.unpack_from(data, pos)
        flags, method, crc, csize, usize = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_len, extra_len, comment_len, disk_start, offset = (
            fields[10],
            fields[11],
            fields[12],
            fields[13],
            fields[16],
        )
        if 0xFFFFFFFF in (csize, usize, offset) or disk_start == 0xFFFF:
            raise WorkbookError(_ZIP64)
        if disk_start != 0:
            raise WorkbookError(
                "it is a multi-part (split) zip archive, which alvh does not support"
            )
        record_end = pos + _CENTRAL.size + name_len + extra_len + comment_len
        if record_end > end:
            raise WorkbookError("its zip central directory is damaged")
        raw_name = data[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len]
        name = raw_name.decode("utf-8" if flags & _UTF8_FLAG else "cp437", errors="replace")
        if name.casefold() in seen:
            raise WorkbookError(f"its zip archive lists part {name} twice")
        seen.add(name.casefold())
        records.append(
            _Record(name, data[pos:record_end], flags, method, crc, csize, usize, offset)
        )
        pos = record_end
    if pos != end:
        raise WorkbookError("its zip central directory is damaged")
    return records


def _check_bomb(records: Sequence[_Record]) -> None:
    total = sum(r.size for r in records)
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise WorkbookError(
            f"it would expand to {total / 2**30:.1f} GiB "
            f"(limit {MAX_TOTAL_UNCOMPRESSED / 2**30:.1f} GiB); refusing a possible zip bomb"
        )
    for r in records:
        if r.size >= RATIO_CHECK_FROM and r.size > MAX_RATIO * max(r.compressed_size, 1):
            raise WorkbookError(
                f"part {r.name} claims a compression ratio above {MAX_RATIO}:1; "
                "refusing a possible zip bomb"
            )


def _locate(data: bytes, records: Sequence[_Record], cd_offset: int) -> tuple[ZipEntry, ...]:
    """Check each local header and find the byte range each entry occupies in the file."""
    starts = sorted({r.local_offset for r in records})
    if len(starts) != len(records):
        raise WorkbookError("its zip archive has overlapping parts")
    next_start = dict(zip(starts, [*starts[1:], cd_offset], strict=True))
    entries: list[ZipEntry] = []
    for r in records:
        at = r.local_offset
        if at + _LOCAL.size > cd_offset or data[at : at + 4] != _LOCAL_SIG:
            raise WorkbookError(f"its zip entry for {r.name} is damaged")
        name_len, extra_len = _LOCAL.unpack_from(data, at)[9:11]
        local_name = data[at + _LOCAL.size : at + _LOCAL.size + name_len]
        central_name = r.central[_CENTRAL.size : _CENTRAL.size + len(local_name)]
        if local_name != central_name or len(r.central) < _CENTRAL.size + name_len:
            raise WorkbookError(f"its zip entry for {r.name} is damaged (names differ)")
        data_offset = at + _LOCAL.size + name_len + extra_len
        if data_offset + r.compressed_size > next_start[at]:
            raise WorkbookError(f"its zip entry for {r.name} is damaged (overlapping data)")
        entries.append(
            ZipEntry(
                name=r.name,
                central=r.central,
                local_offset=at,
                span_end=next_start[at],
                data_offset=data_offset,
                method=r.method,
                flags=r.flags,
                crc=r.crc,
                compressed_size=r.compressed_size,
                size=r.size,
            )
        )
    return tuple(entries)


@dataclass(frozen=True)
class _Compressed:
    crc: int
    size: int
    data: bytes


def _deflate(content: bytes, level: int) -> _Compressed:
    packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = packer.compress(content) + packer.flush()
    return _Compressed(zlib.crc32(content), len(content), packed)


def _local_header(name: bytes, flags: int, time: int, date: int, c: _Compressed) -> bytes:
    return (
        _LOCAL.pack(
            _LOCAL_SIG, 20, flags, _DEFLATED, time, date, c.crc, len(c.data), c.size, len(name), 0
        )
        + name
    )


def _central_header(
    name: bytes,
    comment: bytes,
    made_by: int,
    flags: int,
    time: int,
    date: int,
    attrs: tuple[int, int],
    c: _Compressed,
    offset: int,
) -> bytes:
    fixed = _CENTRAL.pack(
        _CENTRAL_SIG,
        made_by,
        20,
        flags,
        _DEFLATED,
        time,
        date,
        c.crc,
        len(c.data),
        c.size,
        len(name),
        0,
        len(comment),
        0,
        attrs[0],
        attrs[1],
        offset,
    )
    return fixed + name + comment


def _with_offset(central: bytes, offset: int) -> bytes:
    return central[:42] + struct.pack("<I", offset) + central[46:]


def splice(
    archive: ZipArchive,
    out: BinaryIO,
    *,
    replace: Mapping[str, bytes],
    add: Sequence[tuple[str, bytes]],
    remove: frozenset[str],
    level: int = DEFAULT_LEVEL,
) -> None:
    """Write the archive to `out`: untouched entries byte for byte, replaced ones in place.

    `replace` and `remove` name existing entries exactly as `ZipEntry.name`; `add` appends new
    parts after the existing ones, in the order given. New and replaced parts are deflated at
    zlib `level`.
    """
    by_offset = sorted(archive.entries, key=lambda e: e.local_offset)
    central: dict[str, bytes] = {}
    written = 0
    if by_offset and by_offset[0].local_offset > 0:
        written += out.write(archive.data[: by_offset[0].local_offset])
    view = memoryview(archive.data)
    for entry in by_offset:
        if entry.name in remove:
            continue
        offset = written
        if entry.name in replace:
            central[entry.name], size = _replaced(entry, replace[entry.name], out, offset, level)
            written += size
        else:
            written += out.write(view[entry.local_offset : entry.span_end])
            central[entry.name] = _with_offset(entry.central, offset)
    new_central: list[bytes] = []
    for name, content in add:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8_FLAG
        packed = _deflate(content, level)
        new_central.append(
            _central_header(encoded, b"", 20, flags, _DOS_TIME, _DOS_DATE, (0, 0), packed, written)
        )
        written += out.write(_local_header(encoded, flags, _DOS_TIME, _DOS_DATE, packed))
        written += out.write(packed.data)
    directory = [central[e.name] for e in archive.entries if e.name not in remove]
    directory += new_central
    cd_offset = written
    cd_size = sum(out.write(record) for record in directory)
    if len(directory) > 0xFFFF or cd_offset + cd_size > 0xFFFFFFFF:
        raise WorkbookError("the result would need ZIP64, which alvh does not write")
    out.write(
        _EOCD.pack(
            _EOCD_SIG,
            0,
            0,
            len(directory),
            len(directory),
            cd_size,
            cd_offset,
            len(archive.comment),
        )
        + archive.comment
    )


def _replaced(
    entry: ZipEntry, content: bytes, out: BinaryIO, offset: int, level: int
) -> tuple[bytes, int]:
    """Write a replacement for `entry` at `offset`; return its central record and bytes written."""
    fields = _CENTRAL.unpack_from(entry.central, 0)
    made_by, time, date = fields[1], fields[5], fields[6]
    name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
    internal_attr, external_attr = fields[14], fields[15]
    name = entry.central[_CENTRAL.size : _CENTRAL.size + name_len]
    comment_at = _CENTRAL.size + name_len + extra_len
    comment = entry.central[comment_at : comment_at + comment_len]
    flags = entry.flags & _UTF8_FLAG
    packed = _deflate(content, level)
    size = out.write(_local_header(name, flags, time, date, packed))
    size += out.write(packed.data)
    record = _central_header(
        name, comment, made_by, flags, time, date, (internal_attr, external_attr), packed, offset
    )
    return record, size
