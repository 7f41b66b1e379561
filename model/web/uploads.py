"""A workbook sent to the server: read within its size limits, kept only in the server's own
folder, and refused (413, 415) before anything reads a sheet of it."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

MB = 1024 * 1024
CHUNK = 256 * 1024
# Parts of a form other than the workbook (command, options): small.
FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
# What an honest client may send beyond the workbook itself (multipart framing, fields).
FRAMING = 256 * 1024
# Read and dropped after a refusal, so that a client still sending reads its 413 rather
# than a reset connection; beyond this the connection is closed.
DRAIN_LIMIT = 64 * MB
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, or an .xlsx saved with a password


@dataclass(frozen=True)
class Limits:
    sent: int  # bytes as sent
    unpacked: int  # bytes the workbook's parts declare once inflated


class Refused(Exception):
    """An upload the server will not read: the HTTP status and what to tell the planner."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _TooLarge(Exception):
    pass


def safe_name(name: str | None) -> str:
    """The file name to keep a workbook under: its last path part (never ``..``, a folder or
    an absolute path), plain characters, ``.xlsx``."""
    last = PurePosixPath((name or "").replace("\\", "/")).name
    stem = re.sub(r"[^\w .()-]", "_", Path(last).stem, flags=re.ASCII).strip(" ._")[:80]
    return f"{stem or 'workbook'}.xlsx"


def _counting(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]], limit: int
) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    seen = 0

    async def wrapped() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return wrapped


async def _drain(request: Request) -> None:
    drained = 0
    try:
        while drained < DRAIN_LIMIT:
            message = await request.receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return
    except Exception:  # the client went away: nothing to answer
        return


async def small_form(request: Request, limit: int = FIELD_BYTES) -> dict[str, str]:
    """A form of a few short fields (sign-in, a run's options, compare): its fields, or
    :class:`Refused` (413) for a body over ``limit`` bytes, read no further than that."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "The form is larger than this server takes.")
    counted = Request(request.scope, _counting(request.receive, limit))
    try:
        form = await counted.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=limit)
    except _TooLarge:
        raise Refused(413, "The form is larger than this server takes.") from None
    except Exception as exc:  # starlette's own refusal of a malformed form
        raise Refused(400, f"The form could not be read: {exc}") from None
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


async def read_form(
    request: Request, folder: Path, limits: Limits, file_field: str | None = "workbook"
) -> tuple[dict[str, str], Path | None, str]:
    """The form's fields, the workbook saved in ``folder`` (or None when the form has none)
    and the name it was sent under. Raises :class:`Refused` for a body over the limit (413),
    a form that is not multipart or urlencoded (400), a file that is not a workbook (415)."""
    too_large = Refused(
        413,
        f"The upload is larger than this server takes ({limits.sent // MB} MB as sent); "
        "send a smaller workbook, or start the server with a larger --max-upload-mb.",
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.sent + FRAMING:
        await _drain(request)
        raise too_large
    counted = Request(request.scope, _counting(request.receive, limits.sent + FRAMING))
    try:
        form = await counted.form(
            max_files=1 if file_field else 0, max_fields=MAX_FIELDS, max_part_size=FIELD_BYTES
        )
    except _TooLarge:
        await _drain(request)
        raise too_large from None
    except Exception as exc:  # starlette's own refusal of a malformed or oversized form
        raise Refused(400, f"The form could not be read: {exc}") from None
    fields: dict[str, str] = {}
    upload: UploadFile | None = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = value
        elif key == file_field and upload is None:
            upload = value
    if upload is None:
        await form.close()
        return fields, None, ""
    sent_as = upload.filename or "workbook.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(sent_as)
    try:
        written = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                written += len(chunk)
                if written > limits.sent:
                    raise too_large
                out.write(chunk)
    finally:
        await form.close()
    inspect_workbook(path, limits, sent_as)
    return fields, path, sent_as


def inspect_workbook(path: Path, limits: Limits, sent_as: str) -> None:
    """Refuse what is not an .xlsx workbook (415) or inflates beyond ``limits.unpacked``
    (413), reading only the zip's directory: no sheet is inflated here."""
    shown = PurePosixPath(sent_as.replace("\\", "/")).name or "the file"
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(OLE_MAGIC):
        raise Refused(
            415,
            f"{shown} is an old-style .xls file or a workbook saved with a password: open it"
            " in Excel and save it as an Excel Workbook (.xlsx) without a password.",
        )
    not_workbook = Refused(
        415, f"{shown} is not an Excel workbook (.xlsx): save it from Excel as .xlsx."
    )
    if not head.startswith(ZIP_MAGIC):
        raise not_workbook
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_workbook from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise not_workbook
    # zipfile never inflates a part beyond the size its directory declares (it stops
    # there), so the declared sizes bound what reading the workbook can inflate.
    unpacked = sum(i.file_size for i in infos)
    if unpacked > limits.unpacked:
        raise Refused(
            413,
            f"{shown} unpacks to {unpacked / MB:,.0f} MB, more than this server reads "
            f"({limits.unpacked // MB} MB): remove unused sheets or rows, or start the server"
            " with a larger --max-unpacked-mb.",
        )
