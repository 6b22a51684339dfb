"""Checking an uploaded model.tar.gz as hostile input, in one streaming pass.

The archive is read once: its compressed bytes are counted and hashed on the way, decompressed in small
blocks and walked member by member; nothing is unpacked or held whole. Refused, each with what to do:
- anything but a gzip-compressed tar;
- absolute paths and `..` components (they would land outside the model folder), links, devices and other
  special members: SageMaker unpacks the archive as it is;
- more than MODEL_ARCHIVE_MAX_MEMBERS members, or more than MODEL_ARCHIVE_MAX_UNPACKED_BYTES unpacked,
  counted from each member's header before its data is decompressed: a gzip bomb stops at the cap;
- tar headers far larger than a member's header needs (a long-name or pax header is read whole by the
  tar reader: the decompressed stream may run only HEADER_ALLOWANCE per member beyond the declared data);
- more than MODEL_PACKAGE_MAX_BYTES compressed;
- an archive without the framework's file at its top level.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from deployments import conf
from deployments.images import ARTIFACT_FILE

CHUNK = 1024 * 1024
# Beyond the members' declared data, the decompressed stream may hold this much per member (its header,
# a pax header for a long name) and this much in all (the end blocks, the reader's read-ahead).
HEADER_ALLOWANCE = 8 * 1024
HEADER_SLACK = 1024 * 1024
NOT_A_TARBALL = "This is not a model.tar.gz: upload a gzip-compressed tar archive."
HEADER_BOMB = (
    "The archive's tar headers are far larger than its files need (a long-name or pax header bomb): "
    "this is not a model archive."
)
PLAIN_FILES = (
    "SageMaker unpacks the archive as it is: pack plain files and folders only, with relative paths "
    "(e.g. `tar -czf model.tar.gz -C model_dir .`)."
)


@dataclass(frozen=True)
class ArchiveFacts:
    """What one pass over a valid archive found."""

    size_bytes: int
    sha256: str
    unpacked_bytes: int
    members: int


class _Refused(Exception):
    """A cap passed in the middle of the stream (not an OSError: the tar and gzip readers let it through)."""


class _Meter:
    """Reads `source` in bounded blocks, counting (and hashing) what passes; refuses past `limit` bytes.

    The limit may be raised as reading goes (the member walk allows each member's declared data).
    """

    def __init__(self, source: Any, limit: int, refusal: str, digest: Any = None) -> None:
        self.source, self.limit, self.refusal, self.digest = source, limit, refusal, digest
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.source.read(size if 0 <= size <= CHUNK else CHUNK)
        self.count += len(data)
        if self.count > self.limit:
            raise _Refused(self.refusal)
        if self.digest is not None:
            self.digest.update(data)
        return data

    def drain(self) -> None:
        """Read what is left (past the tar's end) so that the size and hash cover the whole file."""
        while self.read(CHUNK):
            pass


def size_refusal(size: int, limit: int) -> str:
    return f"The archive is {size:,} bytes; the limit is {limit:,} bytes (MODEL_PACKAGE_MAX_BYTES)."


def _unpacked_refusal(limit: int) -> str:
    return (
        f"The archive unpacks to more than {filesizeformat(limit)} ({limit:,} bytes), the limit "
        "(MODEL_ARCHIVE_MAX_UNPACKED_BYTES): upload a smaller model, or have the limit raised."
    )


def _member_problem(member: tarfile.TarInfo) -> str | None:
    """Why SageMaker must not unpack this member, or None for a plain file or folder."""
    if member.name.startswith("/"):
        return "an absolute path"
    if ".." in PurePosixPath(member.name).parts:
        return "a path that climbs out of the model folder (`..`)"
    if member.issym() or member.islnk():
        return f"a link (to `{member.linkname}`)"
    if member.ischr() or member.isblk() or member.isfifo():
        return "a device or a pipe"
    if member.issparse() or not (member.isfile() or member.isdir()):
        return "neither a plain file nor a folder"
    return None


def _members_walk(archive: tarfile.TarFile, stream: _Meter) -> tuple[int, int, set[str]]:
    """(members, unpacked bytes, the top-level file names); _Refused at the first hostile member or cap.

    Each header is read before its member's data is decompressed: the data is allowed on `stream` only
    once its declared size is known to fit.
    """
    most, unpacked_limit = conf.max_archive_members(), conf.max_unpacked_bytes()
    count, declared, names = 0, 0, set()
    for member in archive:
        count += 1
        if count > most:
            raise _Refused(
                f"The archive holds more than {most:,} files and folders, "
                "the limit (MODEL_ARCHIVE_MAX_MEMBERS)."
            )
        problem = _member_problem(member)
        if problem:
            raise _Refused(f"The archive holds `{member.name}`, {problem}. {PLAIN_FILES}")
        declared += member.size
        if declared > unpacked_limit:
            raise _Refused(_unpacked_refusal(unpacked_limit))
        stream.limit += -(-member.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE + HEADER_ALLOWANCE
        name = member.name
        while name.startswith("./"):
            name = name[2:]
        if member.isfile() and "/" not in name:
            names.add(name)
    return count, declared, names


def _framework_file_check(names: set[str], framework: str) -> None:
    wanted = ARTIFACT_FILE[framework]
    if wanted not in names:
        found = ", ".join(sorted(names)[:5]) or "no files"
        raise ValidationError(
            f"The {framework} container loads `{wanted}` from the archive's top level; "
            f"this archive holds {found}."
        )


def archive_inspect(fileobj: IO[bytes], framework: str) -> ArchiveFacts:
    """Check a model.tar.gz in one pass (see the module's docstring); ValidationError says what is wrong.

    `fileobj` is read from its start and left at its start, for the upload that follows.
    """
    limit = conf.max_upload_bytes()
    size = fileobj.seek(0, 2)
    if size > limit:
        raise ValidationError(size_refusal(size, limit))
    fileobj.seek(0)
    raw = _Meter(
        fileobj, limit, f"The archive is larger than the limit of {limit:,} bytes.", hashlib.sha256()
    )
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:  # type: ignore[call-overload]
            unpacked = _Meter(unzipped, HEADER_SLACK, HEADER_BOMB)
            with tarfile.open(fileobj=unpacked, mode="r|") as archive:  # type: ignore[call-overload]
                members, unpacked_bytes, names = _members_walk(archive, unpacked)
        raw.drain()
    except _Refused as exc:
        raise ValidationError(str(exc)) from None
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise ValidationError(NOT_A_TARBALL) from None
    finally:
        fileobj.seek(0)
    _framework_file_check(names, framework)
    return ArchiveFacts(raw.count, raw.digest.hexdigest(), unpacked_bytes, members)
