"""Importing the grid from a file uploaded through the API (上传网格文件).

An upload is untrusted until checked, so before GDAL sees it: only head office and the administrator may send
one; its extension must be a format we import and its first bytes must be that format (GDAL recognises formats
by content, and a file dressed up as GeoJSON must not make it open some other one); it may be no larger than
PALMCREDIT_MAX_UPLOAD_MB, nor a zip unpack to more than UNZIPPED_PER_UPLOADED times that. It is saved under its
own name (so the report names it as the user knows it) in a fresh temporary folder, imported by
grid_import.import_grid, and the folder is deleted whatever happens.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from domain.access import Actor
from domain.errors import DomainError, ErrorCode
from domain.sizes import size_text
from models import Job
from resolvers.grid.imports import GridImportLevel, ImportFields, authorize, import_grid
from settings import SETTINGS

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage", ".zip": "Shapefile (zip)"}
UNZIPPED_PER_UPLOADED = 20
_BLOCK = 1024 * 1024
_GEOPACKAGE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"
_NAME_MAX = 100


async def import_upload(
    actor: Actor,
    file_name: str,
    content: BinaryIO | None,
    level: GridImportLevel = GridImportLevel.VILLAGE,
    fields: ImportFields = ImportFields(),
) -> Job:
    """Check an uploaded file and import it (see the module docstring); returns the recorded job.

    `content` is None when the request carried no file. Every refusal is a DomainError on the field "file",
    raised before anything is written.
    """
    authorize(actor)
    if content is None:
        raise _invalid("没有收到文件：请以 multipart 表单上传", "no file was received: send it as a multipart upload")
    name = _safe_name(file_name)
    limit = SETTINGS.max_upload_bytes
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="palmcredit-grid-"))
    try:
        path = folder / name
        if await asyncio.to_thread(_save, content, path, limit) > limit:
            raise _invalid(
                f"文件超过 {size_text(limit)} 的上限", f"the file is larger than the {size_text(limit)} limit"
            )
        await asyncio.to_thread(_check_content, path, limit)
        return await import_grid(actor, path, level, fields)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


def _invalid(message_zh: str, message_en: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_VALUE, message_zh, message_en, "file")


def _safe_name(file_name: str) -> str:
    """The file's own name, without any folder or control character, in a format we import."""
    base = "".join(ch for ch in file_name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    suffix = PurePosixPath(base).suffix.lower()
    if suffix not in FORMATS:
        raise _invalid(
            f"不支持的文件类型（{suffix or '无扩展名'}）：请上传 GeoJSON（.geojson、.json）、GeoPackage（.gpkg）"
            "或压缩的 Shapefile（.zip）",
            f"files of this type ({suffix or 'no extension'}) cannot be imported: upload GeoJSON (.geojson, "
            ".json), GeoPackage (.gpkg) or a zipped Shapefile (.zip)",
        )
    stem = PurePosixPath(base).stem[:_NAME_MAX].strip(". ") or "upload"
    return f"{stem}{suffix}"


def _save(content: BinaryIO, path: Path, limit: int) -> int:
    """Copy the upload to path; stops as soon as it is past `limit` bytes. Returns the bytes read."""
    if content.seekable():
        content.seek(0)
    size = 0
    with path.open("wb") as target:
        while block := content.read(_BLOCK):
            size += len(block)
            if size > limit:
                break
            target.write(block)
    return size


def _check_content(path: Path, limit: int) -> None:
    """Refuse a file whose first bytes are not the format its extension names, or a zip that unpacks too big."""
    with path.open("rb") as file:
        head = file.read(4096)
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        matches = head.startswith(_GEOPACKAGE_MAGIC)
    elif suffix == ".zip":
        matches = head.startswith(_ZIP_MAGIC)
    else:
        matches = head.removeprefix(_UTF8_BOM).lstrip().startswith(b"{")
    if not matches:
        raise _invalid(
            f"文件内容不是 {FORMATS[suffix]}，与扩展名 {suffix} 不符",
            f"the file's content is not {FORMATS[suffix]}, as its extension {suffix} says",
        )
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                unzipped = sum(item.file_size for item in archive.infolist())
        except zipfile.BadZipFile:
            raise _invalid("压缩包已损坏，无法读取", "the zip is damaged and cannot be read") from None
        if unzipped > limit * UNZIPPED_PER_UPLOADED:
            most = size_text(limit * UNZIPPED_PER_UPLOADED)
            raise _invalid(f"压缩包解压后超过 {most}", f"the zip unpacks to more than {most}")
