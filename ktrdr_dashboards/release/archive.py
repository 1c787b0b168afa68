"""Reading a release tarball without trusting it. Three passes over the compressed bytes, each
with memory bounded by the limits below whatever the archive claims:

1. the headers alone: member types (regular files and folders only), names, sizes, count and
   total size against hard limits, stopping at the first header over a limit before any of its
   content is decompressed;
2. MANIFEST.json, read with a size cap;
3. every listed member, streamed and refused as soon as it outgrows the size the manifest
   gives it.

Nothing is extracted to disk. The limits are far above a real release (75 KB, 22 members)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.release import package

MIB = 1024 * 1024
# The compressed tarball as downloaded.
MAX_TARBALL_BYTES = 32 * MIB
# Per member (what its header says), all members together, and how many there are.
MAX_MEMBER_BYTES = 8 * MIB
MAX_TOTAL_BYTES = 64 * MIB
MAX_MEMBERS = 1000
MAX_MANIFEST_BYTES = 1 * MIB
# The decompressed tar stream: members plus their headers (at most a few KB each) and padding.
MAX_STREAM_BYTES = MAX_TOTAL_BYTES + MAX_MEMBERS * 16 * 1024 + MIB
_CHUNK = 64 * 1024
_REFUSE = "do not install this tarball (a real release is far smaller)"
_UNSAFE = "do not extract this tarball"


class _OverLimit(Exception):
    """The decompressed stream grew past MAX_STREAM_BYTES, or one read asked for more than a
    member may hold (tar extension headers are read whole)."""


class _BoundedStream(io.RawIOBase):
    """The gzip-decompressed tar stream, forward only, refusing to decompress past the limits.
    tarfile reads extension headers (long names, pax records) whole, so one oversized read is
    refused before it is attempted."""

    def __init__(self, data: bytes):
        super().__init__()
        self._gzip = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > MAX_MEMBER_BYTES:
            raise _OverLimit(
                f"an archive header of {size:,} bytes, over the {MAX_MEMBER_BYTES:,}-byte limit"
            )
        if self._position + size > MAX_STREAM_BYTES:
            raise _OverLimit(f"decompresses to more than {MAX_STREAM_BYTES:,} bytes")
        data = self._gzip.read(size)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._position + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._position:
            raise OSError("a release tarball is read forward only")
        while self._position < target:
            if not self.read(min(_CHUNK, target - self._position)):
                break
        return self._position

    def drain(self) -> None:
        """Read to the end, so the gzip trailer (CRC and length) is checked too."""
        while self.read(_CHUNK):
            pass


@dataclass
class TarballContents:
    top: str | None  # the one top folder, when there is one
    files: dict[str, bytes]  # regular files read, relative to the top folder
    problems: list[DashboardError]
    manifest: dict | None = None  # MANIFEST.json, when it was read and has a file list
    sizes: dict[str, int] = field(default_factory=dict)  # every regular member's header size


def _member_problem(member: tarfile.TarInfo) -> str | None:
    """Why a member must not be extracted, if it must not."""
    path = PurePosixPath(member.name)
    if member.name.startswith("/") or path.is_absolute():
        return "absolute path"
    if ".." in path.parts:
        return "path contains `..`"
    if member.issym() or member.islnk():
        return f"is a link (to {member.linkname!r})"
    if member.ischr() or member.isblk() or member.isfifo():
        return "is a device or fifo"
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE):
        return "is not a regular file or folder"
    return None


def _relative(name: str) -> str:
    parts = PurePosixPath(name).parts
    return PurePosixPath(*parts[1:]).as_posix() if len(parts) > 1 else ""


def _walk(
    data: bytes, visit: Callable[[tarfile.TarInfo, _BoundedStream], bool], drain: bool = False
) -> None:
    """Call `visit(member, stream)` for each header in order, with the stream positioned at the
    member's content; stop when it returns False. Archive errors propagate."""
    stream = _BoundedStream(data)
    with tarfile.open(fileobj=stream, mode="r:") as tar:
        while (member := tar.next()) is not None:
            if not visit(member, stream):
                return
            # tarfile keeps every header it has seen; this walk needs none of them.
            tar.members.clear()
    if drain:
        stream.drain()


def _read_exactly(stream: _BoundedStream, size: int, allowed: int) -> bytes | None:
    """`size` bytes of member content, or None once more than `allowed` would be read."""
    out = bytearray()
    while len(out) < size:
        chunk = stream.read(min(_CHUNK, size - len(out)))
        if not chunk:
            raise EOFError("archive ends inside a member")
        out += chunk
        if len(out) > allowed:
            return None
    return bytes(out)


def read_tarball(data: bytes, label: str) -> TarballContents:
    """Read a release tarball from its compressed bytes. Every problem is one DashboardError
    naming `label` (the tarball) and the member; a limit or format problem ends the reading."""
    contents = TarballContents(top=None, files={}, problems=[])

    def problem(message: str, member: str | None = None, fix: str | None = None) -> None:
        where = f"{label}: {member}" if member else label
        contents.problems.append(DashboardError(message, location=Location(file=where), fix=fix))

    def guarded(step: Callable[[], bool]) -> bool:
        try:
            return step()
        except _OverLimit as error:
            problem(f"refused: {error}", fix=_REFUSE)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            problem(f"not a complete gzip file ({error})", fix="download or rebuild the tarball")
        except (tarfile.TarError, OSError) as error:
            problem(f"not a complete tar archive ({error})", fix="download or rebuild the tarball")
        return False

    if not guarded(lambda: _scan_headers(data, contents, problem)):
        return contents
    if not guarded(lambda: _read_manifest(data, contents, problem)):
        return contents
    guarded(lambda: _read_members(data, contents, problem))
    return contents


def _scan_headers(data: bytes, contents: TarballContents, problem: Callable) -> bool:
    """Pass 1: headers only. False when reading must stop (a limit or the layout is wrong)."""
    tops: set[str] = set()
    count = total = 0
    over: list[str] = []

    def visit(member: tarfile.TarInfo, _stream: _BoundedStream) -> bool:
        nonlocal count, total
        count += 1
        if count > MAX_MEMBERS:
            over.append(f"refused: more than {MAX_MEMBERS:,} members")
            return False
        if member.size > MAX_MEMBER_BYTES:
            problem(
                f"refused: member is {member.size:,} bytes, over the {MAX_MEMBER_BYTES:,}-byte "
                "limit for one file",
                member.name,
                _REFUSE,
            )
            over.append("")
            return False
        total += member.size
        if total > MAX_TOTAL_BYTES:
            over.append(f"refused: members add up to more than {MAX_TOTAL_BYTES:,} bytes")
            return False
        unsafe = _member_problem(member)
        if unsafe:
            problem(f"unsafe member: {unsafe}", member.name, _UNSAFE)
            return True
        tops.add(PurePosixPath(member.name).parts[0])
        if member.isfile():
            relative = _relative(member.name)
            if relative in contents.sizes:
                problem("member appears twice", member.name, _UNSAFE)
            elif relative == "":
                problem("a file sits where the top folder should be", member.name)
            else:
                contents.sizes[relative] = member.size
        return True

    _walk(data, visit, drain=True)
    for message in over:
        if message:
            problem(message, fix=_REFUSE)
    if over:
        return False
    if len(tops) != 1:
        problem(f"expected one top folder, found {len(tops)}: {', '.join(sorted(tops))}")
        return False
    contents.top = tops.pop()
    return True


def _manifest_files(manifest: object) -> dict[str, int]:
    """path -> size of a manifest's `files`; ValueError when it does not have that shape."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValueError("no `files` list")
    listed: dict[str, int] = {}
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not isinstance(size, int) or size < 0:
            raise ValueError(f"file entry {str(entry)[:80]!r} needs a path and a size")
        listed[path] = size
    return listed


def _read_manifest(data: bytes, contents: TarballContents, problem: Callable) -> bool:
    """Pass 2: MANIFEST.json, at most MAX_MANIFEST_BYTES."""
    name = package.MANIFEST_NAME
    size = contents.sizes.get(name)
    if size is None:
        problem("missing", name)
        return False
    if size > MAX_MANIFEST_BYTES:
        problem(f"refused: {size:,} bytes, over the {MAX_MANIFEST_BYTES:,}-byte limit", name)
        return False
    wanted = f"{contents.top}/{name}"
    found: list[bytes] = []

    def visit(member: tarfile.TarInfo, stream: _BoundedStream) -> bool:
        if member.name != wanted or not member.isfile():
            return True
        found.append(_read_exactly(stream, member.size, MAX_MANIFEST_BYTES) or b"")
        return False

    _walk(data, visit)
    try:
        manifest = json.loads(found[0])
        _manifest_files(manifest)
    except (ValueError, IndexError) as error:
        problem(f"not a valid manifest ({error})", name)
        return False
    contents.manifest = manifest
    contents.files[name] = found[0]
    return True


def _read_members(data: bytes, contents: TarballContents, problem: Callable) -> bool:
    """Pass 3: every member the manifest lists, never more bytes than it says."""
    listed = _manifest_files(contents.manifest)
    prefix = f"{contents.top}/"

    def visit(member: tarfile.TarInfo, stream: _BoundedStream) -> bool:
        relative = member.name.removeprefix(prefix)
        if (
            not member.isfile()
            or _member_problem(member)
            or relative in contents.files
            or not member.name.startswith(prefix)
        ):
            return True
        if relative not in listed:
            problem("not listed in MANIFEST.json", relative)
            return True
        if member.size != listed[relative]:
            problem(
                f"size {member.size} does not match MANIFEST.json ({listed[relative]})", relative
            )
            return True
        content = _read_exactly(stream, member.size, listed[relative])
        if content is None:
            problem(f"refused: larger than MANIFEST.json says ({listed[relative]})", relative)
            return False
        contents.files[relative] = content
        return True

    _walk(data, visit)
    for path in sorted(set(listed) - set(contents.sizes)):
        problem("listed in MANIFEST.json but missing", path)
    return True
