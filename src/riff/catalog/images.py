"""Product images uploaded to RIFF: stored under ``<data_dir>/images/<product_id>/``, served at ``/media/``.

A file is named after its SHA-256 (``<first 32 hex>.<ext>``), so the same picture uploaded twice to a
product is refused and a URL never changes meaning. Pillow reads the format and the pixel size; anything
Pillow cannot identify as JPEG, PNG, WebP or GIF is refused before a byte is written.

``source_url`` of an uploaded image is RIFF's own absolute ``/media/`` URL: that is what the channel
snapshots hand to marketplaces (they need a public http(s) URL). Outside the sandboxes that URL must be
reachable by the marketplace (a reverse proxy serving ``<data_dir>/images``), see docs/ui.md.

Services never commit; file writes happen before the row is flushed, file deletes are returned to the
caller to run after its commit (``remove_files``), so a rolled-back delete never loses a picture.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from riff.catalog.models import ImageHealth, Product, ProductImage
from riff.core.clock import utcnow
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.core.logging import get_logger

log = get_logger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGES_PER_PRODUCT = 24  # eBay's limit, the lowest of the channels that take many
MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs well before Pillow's own warning
IMAGES_DIR_NAME = "images"
MEDIA_URL_PREFIX = "/media/images"
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
FILE_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$")
# Product fields the listing update jobs understand; image changes are pushed as "images".
IMAGES_FIELD = "images"


def images_root(data_dir: Path) -> Path:
    return Path(data_dir) / IMAGES_DIR_NAME


def media_url(product_id: int, file_name: str) -> str:
    return f"{MEDIA_URL_PREFIX}/{product_id}/{file_name}"


def media_file(data_dir: Path, product_id: int, file_name: str) -> Path:
    """The file behind ``/media/images/<product_id>/<file_name>``; NotFound for any other name (no
    traversal: the name must look like one we wrote)."""
    if not FILE_NAME.match(file_name):
        raise NotFound("no such image")
    path = images_root(data_dir) / str(int(product_id)) / file_name
    if not path.is_file():
        raise NotFound("no such image")
    return path


def _identify(data: bytes) -> tuple[str, int, int]:
    """(extension, width, height), or ValidationFailed for anything that is not a picture we take."""
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB", field="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationFailed(f"the image is too large ({width}×{height} pixels)", field="file")
            image.verify()  # reads the whole file: truncated or corrupt data fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed(
            "not an image RIFF can read (use JPEG, PNG, WebP or GIF)", field="file"
        ) from None
    extension = FORMAT_EXTENSIONS.get(image_format)
    if extension is None:
        raise ValidationFailed(
            f"{image_format or 'this'} images are not accepted (use JPEG, PNG, WebP or GIF)", field="file"
        )
    return extension, width, height


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def list_images(session: Session, product_id: int) -> Sequence[ProductImage]:
    statement = (
        sa.select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return session.execute(statement).scalars().all()


def add_image(
    session: Session,
    product: Product,
    data: bytes,
    *,
    data_dir: Path,
    public_base_url: str | None,
) -> ProductImage:
    """Validate and store one uploaded picture as the product's last image."""
    extension, width, height = _identify(data)
    current = list_images(session, product.id)
    if len(current) >= MAX_IMAGES_PER_PRODUCT:
        raise ValidationFailed(f"a product has at most {MAX_IMAGES_PER_PRODUCT} images", field="file")
    checksum = hashlib.sha256(data).hexdigest()
    if any(image.checksum == checksum for image in current):
        raise Conflict("this picture is already on the product", field="file", code="duplicate_image")
    file_name = f"{checksum[:32]}.{extension}"
    _write_atomically(images_root(data_dir) / str(product.id) / file_name, data)
    url = media_url(product.id, file_name)
    image = ProductImage(
        product_id=product.id,
        position=max((i.position for i in current), default=-1) + 1,
        source_url=f"{public_base_url.rstrip('/')}{url}" if public_base_url else None,
        file_path=f"{IMAGES_DIR_NAME}/{product.id}/{file_name}",
        checksum=checksum,
        width=width,
        height=height,
        health=ImageHealth.OK,
        checked_at=utcnow(),
    )
    session.add(image)
    session.flush()
    log.info(
        "catalog.image.add.success", product_id=product.id, image_id=image.id, width=width, height=height
    )
    return image


def _renumber(images: Iterable[ProductImage]) -> None:
    for position, image in enumerate(images):
        if image.position != position:
            image.position = position


def reorder_images(session: Session, product: Product, image_ids: Sequence[int]) -> Sequence[ProductImage]:
    """Put the product's images in exactly this order (every image id once)."""
    current = {image.id: image for image in list_images(session, product.id)}
    if sorted(image_ids) != sorted(current) or len(set(image_ids)) != len(image_ids):
        raise ValidationFailed(
            "send every image id of the product exactly once, in the new order", field="image_ids"
        )
    _renumber(current[image_id] for image_id in image_ids)
    session.flush()
    return list_images(session, product.id)


def move_image(session: Session, product: Product, image_id: int, offset: int) -> Sequence[ProductImage]:
    """Move one image ``offset`` places (-1 = towards the front); clamps at either end."""
    images = list(list_images(session, product.id))
    index = next((i for i, image in enumerate(images) if image.id == image_id), None)
    if index is None:
        raise NotFound(f"product {product.id} has no image {image_id}")
    target = max(0, min(len(images) - 1, index + offset))
    images.insert(target, images.pop(index))
    _renumber(images)
    session.flush()
    return images


def delete_image(session: Session, product: Product, image_id: int) -> list[str]:
    """Remove the row; returns the files to delete once the caller has committed (``remove_files``)."""
    image = session.get(ProductImage, image_id)
    if image is None or image.product_id != product.id:
        raise NotFound(f"product {product.id} has no image {image_id}")
    files = [image.file_path] if image.file_path else []
    session.delete(image)
    session.flush()
    _renumber(list_images(session, product.id))
    session.flush()
    log.info("catalog.image.delete.success", product_id=product.id, image_id=image_id)
    return files


def remove_files(data_dir: Path, relative_paths: Iterable[str]) -> None:
    root = images_root(data_dir).resolve()
    for relative in relative_paths:
        path = (Path(data_dir) / relative).resolve()
        if root in path.parents:  # never outside the images directory, whatever the row said
            path.unlink(missing_ok=True)


def push_image_change(session: Session, product: Product, *, actor: str) -> None:
    """Hand a change of the pictures (added, removed, reordered) to the sync engine, like any product
    change: in this transaction, one coalesced ``<channel>.update`` per live listing."""
    from riff.sync import push  # late: riff.sync builds on the catalog

    push.product_changed(session, product, [IMAGES_FIELD], actor=actor)
