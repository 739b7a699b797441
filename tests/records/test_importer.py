"""Record CSV imports (Discogs inventory export, the storefront sync CSV) through the catalog's
per-row-validated importer: row errors with row number, column and reason; dry run; skip invalid."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.catalog.models import Product, ProductStatus
from riff.channels.models import Listing, ListingState
from riff.core.db import Database
from riff.records.models import Record

HEADER = (
    "listing_id,artist,title,label,catno,format,release_id,status,price,listed,comments,media_condition,"
    "sleeve_condition,accept_offer,external_id,weight,format_quantity,location,quantity"
)
GOOD = [
    '150899904,Danger Mouse & Daniele Luppi,Rome,Parlophone,"509990292346, TMR092","LP, Ora + LP, Whi + Album, Ltd",'
    "2992668,For Sale,149.99,2014-07-01 10:20:17,Includes promotional booklet,Near Mint (NM or M-),"
    "Near Mint (NM or M-),Y,,230,auto,Shelf A3,1",
    '155473349,Various,Stones Throw X Serato,Stones Throw,STH 2222,"2x12"", Ltd, Cle",1900152,For Sale,49.99,'
    "2014-07-01 10:20:17,Includes slipmats,Very Good Plus (VG+),VG+,N,SKU-77,460,auto,,1",
    '150899171,Metal Fingers,Special Herbs Vol. 0-9,Nature Sounds,NSD-120,"Box, Comp, Ltd + 10xLP",2791275,Sold,'
    "229.99,2014-07-12 16:23:14,,Mint (M),Mint (M),N,,2300,auto,,1",
]
BAD = [
    # row 5: an unknown grade; row 6: a price that is not a number; row 7: a release id that is not a number
    "150899172,Artist,Title,Label,CAT1,LP,1842118,For Sale,39.99,,,Shiny,VG,N,,230,auto,,1",
    "150899173,Artist,Title,Label,CAT2,LP,1842119,For Sale,cheap,,,Very Good (VG),VG,N,,230,auto,,1",
    "150899174,Artist,Title,Label,CAT3,LP,abc,For Sale,10.00,,,Good (G),VG,N,,230,auto,,1",
]


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def upload(client: TestClient, data: bytes, **params: object) -> object:
    return client.post(
        "/api/records/import", files={"file": ("inventory.csv", data, "text/csv")}, params=params
    )


def test_good_rows_import_with_their_listing_links(owner_client: TestClient, database: Database) -> None:
    response = upload(owner_client, csv(*GOOD), currency="USD")

    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    report = response.json()  # type: ignore[attr-defined]
    assert (report["created"], report["errors"], report["written"]) == (3, [], True)
    with database.read_session() as session:
        products = {p.sku: p for p in session.scalars(sa.select(Product))}
        assert set(products) == {"DISCOGS-150899904", "SKU-77", "DISCOGS-150899171"}
        rome = products["DISCOGS-150899904"]
        record = session.get(Record, rome.id)
        assert record is not None
        assert (rome.title, str(rome.base_price), rome.currency) == (
            "Danger Mouse & Daniele Luppi - Rome",
            "149.99",
            "USD",
        )
        assert (record.release_id, record.catalog_number, record.labels) == (
            2992668,
            "509990292346, TMR092",
            ["Parlophone"],
        )
        assert record.formats[:2] == ["Vinyl", "LP"] and record.listed_at is not None
        assert products["DISCOGS-150899171"].status == ProductStatus.SOLD
        assert products["DISCOGS-150899171"].quantity == 0
        links = {li.remote_id: li.state for li in session.scalars(sa.select(Listing))}
        assert links == {
            "150899904": ListingState.LIVE,
            "155473349": ListingState.LIVE,
            "150899171": ListingState.SOLD,
        }

    again = upload(owner_client, csv(*GOOD), currency="USD").json()  # type: ignore[attr-defined]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_bad_rows_are_reported_and_nothing_is_written(owner_client: TestClient, database: Database) -> None:
    response = upload(owner_client, csv(*GOOD, *BAD))

    assert response.status_code == 422  # type: ignore[attr-defined]
    details = response.json()["error"]["details"]  # type: ignore[attr-defined]
    problems = {(d["row"], d["column"]) for d in details}
    assert problems == {(5, "media_condition"), (6, "price"), (7, "release_id")}
    assert all(d["reason"] for d in details)
    with database.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_dry_run_and_skip_invalid(owner_client: TestClient, database: Database) -> None:
    dry = upload(owner_client, csv(*GOOD, *BAD), dry_run=True).json()  # type: ignore[attr-defined]
    assert (dry["written"], dry["created"], len({e["row"] for e in dry["errors"]})) == (False, 3, 3)
    with database.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0

    skipped = upload(owner_client, csv(*GOOD, *BAD), skip_invalid=True).json()  # type: ignore[attr-defined]
    assert (skipped["written"], skipped["created"], skipped["skipped"]) == (True, 3, 3)
    with database.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Record)) == 3


LEGACY_HEADER = (
    "id,listing_id,status,condition,sleeve_condition,posted,price_value,price_currency,release_id,release_title,"
    "artist_names,primary_artist,genres,styles,image_uri,release_year,label_names,catalog_number,format_names,"
    "community_have,community_want,comments,created_at,updated_at"
)


def test_the_old_storefront_csv(owner_client: TestClient, database: Database) -> None:
    rows = [
        "1,150899904,For Sale,Near Mint (NM or M-),Very Good Plus (VG+),2014-07-01T10:20:17-07:00,149.99,USD,2992668,"
        'Rome,Danger Mouse & Daniele Luppi,Danger Mouse,"Rock, Folk, World, & Country",Art Rock,'
        'https://img.example/rome.jpg,2011,Parlophone,TMR092,"LP, Album",1200,3400,Booklet,2025-01-01,2025-01-02',
        "2,150899905,For Sale,Great,VG,,12.00,USD,1,T,A,A,,,,0,,,,,,,,",
    ]
    response = upload(owner_client, csv(*rows, header=LEGACY_HEADER), skip_invalid=True)

    report = response.json()  # type: ignore[attr-defined]
    assert report["created"] == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "condition")]
    with database.read_session() as session:
        record = session.scalars(sa.select(Record)).one()
        assert record.genres == ["Rock", "Folk, World, & Country"]
        assert (record.have_count, record.want_count, record.year) == (1200, 3400, 2011)
        assert record.cover_image_url == "https://img.example/rome.jpg"


def test_an_unknown_layout_is_refused(owner_client: TestClient) -> None:
    response = upload(owner_client, b"sku,title\nA,B\n")

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["error"]["field"] == "file"  # type: ignore[attr-defined]
