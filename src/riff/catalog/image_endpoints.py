"""Image API: upload, list, reorder and delete a product's images; the files at ``/media/images/...``.

Every route needs a login or a bearer token like the rest of RIFF (the auth gate); the files are
content-addressed, so they are cached privately for a long time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from riff.auth.deps import CurrentUser, Writer
from riff.catalog import images
from riff.catalog import service as catalog
from riff.catalog.models import ImageHealth, ProductImage
from riff.core.deps import DbSession, ReadSession
from riff.core.errors import ValidationFailed

router = APIRouter(tags=["images"])

MEDIA_CACHE_SECONDS = 30 * 24 * 3600


class ImageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    position: int
    url: str | None = Field(None, description="Where RIFF serves the file (login needed)")
    source_url: str | None
    checksum: str | None
    width: int | None
    height: int | None
    health: ImageHealth
    created_at: dt.datetime


class ImageOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_ids: list[int] = Field(..., min_length=1, max_length=images.MAX_IMAGES_PER_PRODUCT * 4)


def image_out(image: ProductImage) -> ImageOut:
    out = ImageOut.model_validate(image)
    if image.file_path:
        out.url = images.media_url(image.product_id, image.file_path.rsplit("/", 1)[-1])
    return out


def public_base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/api/products/{product_id}/images")
def list_images(product_id: int, session: ReadSession, _user: CurrentUser) -> list[ImageOut]:
    catalog.get_product(session, product_id)
    return [image_out(image) for image in images.list_images(session, product_id)]


@router.post("/api/products/{product_id}/images", status_code=201)
def upload_images(
    request: Request,
    product_id: int,
    session: DbSession,
    user: Writer,
    files: Annotated[list[UploadFile], File(description="One or more JPEG/PNG/WebP/GIF files")],
) -> list[ImageOut]:
    """All or nothing: one bad file means none of this request's files are kept."""
    product = catalog.get_product(session, product_id)
    data_dir = request.app.state.settings.data_dir
    added = []
    for upload in files:
        data = upload.file.read(images.MAX_IMAGE_BYTES + 1)
        try:
            added.append(
                images.add_image(
                    session, product, data, data_dir=data_dir, public_base_url=public_base_url(request)
                )
            )
        except ValidationFailed as exc:
            raise ValidationFailed(f"{upload.filename or 'file'}: {exc.message}", field="files") from None
    images.push_image_change(session, product, actor=user.username)
    return [image_out(image) for image in added]


@router.put("/api/products/{product_id}/images/order")
def reorder_images(product_id: int, order: ImageOrder, session: DbSession, user: Writer) -> list[ImageOut]:
    product = catalog.get_product(session, product_id)
    reordered = images.reorder_images(session, product, order.image_ids)
    images.push_image_change(session, product, actor=user.username)
    return [image_out(image) for image in reordered]


@router.delete("/api/products/{product_id}/images/{image_id}", status_code=204)
def delete_image(request: Request, product_id: int, image_id: int, user: Writer) -> None:
    # The transaction is ours here: the file goes only after the row's removal is committed.
    with request.app.state.database.session() as session:
        product = catalog.get_product(session, product_id)
        files = images.delete_image(session, product, image_id)
        images.push_image_change(session, product, actor=user.username)
    images.remove_files(request.app.state.settings.data_dir, files)


@router.get(images.MEDIA_URL_PREFIX + "/{product_id}/{file_name}", include_in_schema=False)
def media(request: Request, product_id: int, file_name: str, _user: CurrentUser) -> FileResponse:
    path = images.media_file(request.app.state.settings.data_dir, product_id, file_name)
    extension = file_name.rsplit(".", 1)[-1]
    return FileResponse(
        path,
        media_type=images.CONTENT_TYPES[extension],
        headers={"Cache-Control": f"private, max-age={MEDIA_CACHE_SECONDS}, immutable"},
    )
