"""Listing images: downloaded to temporary files (V&R takes uploads, not URLs), at most 20, removed after.

Images are sent as the source serves them; V&R wants JPEG or PNG, so a WebP source (Reverb's CDN serves
WebP to browsers that ask for it) is requested with an ``Accept`` header that prefers JPEG.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mimetypes
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from riff.channels.errors import Rejected, Transient
from riff.channels.vintage_and_rare import consts
from riff.core.logging import get_logger

log = get_logger(__name__)

IMAGE_ACCEPT = "image/jpeg,image/png;q=0.9,image/*;q=0.5"
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


@dataclasses.dataclass(frozen=True)
class LocalImage:
    path: Path
    filename: str
    content_type: str
    size: int


@contextlib.asynccontextmanager
async def downloaded(
    urls: Sequence[str], *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[list[LocalImage]]:
    """The first ``MAX_IMAGES`` images as temporary files, deleted when the block ends."""
    if not urls:
        yield []
        return
    directory = Path(tempfile.mkdtemp(prefix="riff-vr-images-"))
    try:
        images: list[LocalImage] = []
        async with httpx.AsyncClient(
            timeout=consts.IMAGE_DOWNLOAD_TIMEOUT, follow_redirects=True, transport=transport
        ) as client:
            for position, url in enumerate(urls[: consts.MAX_IMAGES], start=1):
                images.append(await _download(client, url, directory, position))
        yield images
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _download(client: httpx.AsyncClient, url: str, directory: Path, position: int) -> LocalImage:
    if urlsplit(url).scheme not in ("http", "https"):
        raise Rejected(
            f"image {position} is not an http(s) URL: {url[:200]}", channel=consts.SLUG, field="images"
        )
    try:
        async with client.stream("GET", url, headers={"Accept": IMAGE_ACCEPT}) as response:
            if response.status_code >= 500:
                raise Transient(
                    f"image {position} answered {response.status_code}: {url[:200]}", channel=consts.SLUG
                )
            if response.status_code >= 400:
                raise Rejected(
                    f"image {position} cannot be downloaded (HTTP {response.status_code}): {url[:200]}",
                    channel=consts.SLUG,
                    field="images",
                )
            content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if not content_type.startswith("image/"):
                content_type = mimetypes.guess_type(urlsplit(url).path)[0] or "image/jpeg"
            path = directory / f"image_{position}{EXTENSIONS.get(content_type, '.jpg')}"
            size = 0
            with path.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > consts.MAX_IMAGE_BYTES:
                        raise Rejected(
                            f"image {position} is larger than {consts.MAX_IMAGE_BYTES // (1024 * 1024)} MB",
                            channel=consts.SLUG,
                            field="images",
                        )
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise Transient(
            f"image {position} download failed: {type(exc).__name__}", channel=consts.SLUG
        ) from exc
    name = Path(urlsplit(url).path).name or path.name
    if "." not in name:
        name += path.suffix
    log.info("vintage_and_rare.image.downloaded", position=position, size=size, content_type=content_type)
    return LocalImage(path=path, filename=name[-100:], content_type=content_type, size=size)
