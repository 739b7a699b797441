"""The matching rules of the batched ID resolution (pure functions)."""

from __future__ import annotations

from decimal import Decimal

from riff.channels.vintage_and_rare.inventory_csv import InventoryRow
from riff.channels.vintage_and_rare.resolution import MatchCriteria, match_batch


def row(product_id: int, brand: str, model: str, *, price: str = "1000.00", year: str | None = "1965",
        external_id: str | None = None, finish: str | None = None) -> InventoryRow:  # fmt: skip
    return InventoryRow(
        product_id=product_id, brand=brand, model=model, external_id=external_id, price=Decimal(price), sold=False,
        year=year, finish=finish, category=None, image_urls=(), raw={},
    )  # fmt: skip


def criteria(sku: str, brand: str, model: str, *, last: int = 100, price: str = "1000.00",
             year: str | None = "1965", finish: str | None = None) -> MatchCriteria:  # fmt: skip
    return MatchCriteria(brand=brand, model=model, sku=sku, created_at="", last_known_vr_id=last, price=price,
                         year=year, finish=finish)  # fmt: skip


class TestMatchBatch:
    def test_sku_first_when_the_export_keeps_it(self) -> None:
        rows = [row(101, "Fender", "Stratocaster"), row(102, "Fender", "Telecaster", external_id="RIFF-1")]
        assert match_batch([("a", criteria("RIFF-1", "Fender", "Stratocaster"))], rows)["a"].product_id == 102

    def test_brand_exact_model_fuzzy_and_only_newer_rows(self) -> None:
        rows = [
            row(90, "Fender", "Stratocaster"),  # older than the last known id
            row(101, "Gibson", "Stratocaster"),  # another brand
            row(102, "fender ", "Stratocaster '65 reissue"),
        ]
        found = match_batch([("a", criteria("S", "FENDER", "Stratocaster"))], rows)
        assert found["a"].product_id == 102
        assert match_batch([("a", criteria("S", "Fender", "Jazzmaster"))], rows) == {}

    def test_identical_jobs_get_their_own_rows_in_creation_order(self) -> None:
        rows = [row(201, "Fender", "Stratocaster"), row(202, "Fender", "Stratocaster")]
        jobs = [
            ("first", criteria("S1", "Fender", "Stratocaster")),
            ("second", criteria("S2", "Fender", "Stratocaster")),
        ]
        found = match_batch(jobs, rows)
        assert (found["first"].product_id, found["second"].product_id) == (201, 202)

    def test_year_and_price_break_ties(self) -> None:
        rows = [row(301, "Vox", "AC30", year="1964", price="2800.00"), row(302, "Vox", "AC30", year="1966")]
        found = match_batch([("a", criteria("S", "Vox", "AC30", year="1964", price="2800.00"))], rows)
        assert found["a"].product_id == 301

    def test_rows_already_riffs_or_carrying_another_sku_are_skipped(self) -> None:
        rows = [row(401, "Vox", "AC30"), row(402, "Vox", "AC30", external_id="OTHER")]
        assert match_batch([("a", criteria("S", "Vox", "AC30"))], rows, taken={401}) == {}

    def test_without_a_floor_the_price_must_agree(self) -> None:
        rows = [
            row(11, "Fender", "Stratocaster", price="6500.00"),
            row(12, "Fender", "Stratocaster", price="12500.00"),
        ]
        found = match_batch([("a", criteria("S", "Fender", "Stratocaster", last=0, price="12500.00"))], rows)
        assert found["a"].product_id == 12
        assert (
            match_batch([("a", criteria("S", "Fender", "Stratocaster", last=0, price="99.00"))], rows) == {}
        )

    def test_criteria_survive_the_job_payload(self) -> None:
        original = criteria("S", "Fender", "Stratocaster", finish="Sunburst")
        assert MatchCriteria.from_payload(original.to_payload()) == original
        assert MatchCriteria.from_payload({"brand": "", "model": "x"}) is None
