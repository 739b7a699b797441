"""Pure rules: maintenance windows, conflict winners, fuzzy matching scores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from riff.catalog.models import Product
from riff.sync import matching, windows
from riff.sync.conflicts import Winner, changed_remotely, remote_time, winner
from riff.sync.consts import Owner

from .factories import remote_listing

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class TestWindows:
    def test_inside_outside_and_across_midnight(self) -> None:
        nightly = [windows.parse_window("03:00-05:00")]
        assert windows.window_end(nightly, dt.datetime(2026, 1, 1, 3, 0, tzinfo=UTC)) == dt.datetime(
            2026, 1, 1, 5, 0, tzinfo=UTC
        )
        assert windows.window_end(nightly, dt.datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) is None
        wrap = [windows.parse_window("23:30-00:30")]
        assert windows.window_end(wrap, dt.datetime(2026, 1, 1, 23, 45, tzinfo=UTC)) == dt.datetime(
            2026, 1, 2, 0, 30, tzinfo=UTC
        )
        assert windows.window_end(wrap, dt.datetime(2026, 1, 2, 0, 10, tzinfo=UTC)) == dt.datetime(
            2026, 1, 2, 0, 30, tzinfo=UTC
        )

    def test_back_to_back_windows_are_waited_out_together(self) -> None:
        chained = [windows.parse_window("03:00-04:00"), windows.parse_window("04:00-04:30")]
        assert windows.window_end(chained, dt.datetime(2026, 1, 1, 3, 10, tzinfo=UTC)) == dt.datetime(
            2026, 1, 1, 4, 30, tzinfo=UTC
        )

    def test_bad_text_is_no_window(self) -> None:
        assert windows.parse_window("3am-5am") is None
        assert windows.parse_window("25:00-26:00") is None
        assert windows.parse_window(None) is None


class TestConflicts:
    def test_a_value_changed_on_the_channel(self) -> None:
        assert changed_remotely(Decimal("10"), Decimal("12"))
        assert not changed_remotely(Decimal("12.00"), Decimal("12"))
        assert not changed_remotely("x", None)  # never seen before: a baseline, not a change

    def test_only_a_time_after_riffs_last_push_can_claim_to_be_newer(self) -> None:
        assert remote_time(T0 + dt.timedelta(seconds=1), T0) == T0 + dt.timedelta(seconds=1)
        assert remote_time(T0, T0) is None  # the echo of RIFF's push, or no modification time at all
        assert remote_time(None, T0) is None
        assert remote_time(T0, None) == T0

    def test_owners_and_the_newer_change(self) -> None:
        later = T0 + dt.timedelta(minutes=1)
        assert winner(Owner.RIFF, local_changed_at=T0, remote_updated_at=later) == Winner.LOCAL
        assert winner(Owner.CHANNEL, local_changed_at=later, remote_updated_at=T0) == Winner.REMOTE
        assert winner(Owner.NEWEST, local_changed_at=T0, remote_updated_at=later) == Winner.REMOTE
        assert winner(Owner.NEWEST, local_changed_at=later, remote_updated_at=T0) == Winner.LOCAL
        assert winner(Owner.NEWEST, local_changed_at=T0, remote_updated_at=None) == Winner.LOCAL


def _product(id_: int, **values: object) -> Product:
    defaults: dict[str, object] = {"sku": f"RIFF-{id_}", "title": "Fender Stratocaster 1965 Sunburst", "brand": "Fender",
                                   "model": "Stratocaster", "year": 1965, "base_price": Decimal("12500"), "description": ""}  # fmt: skip
    return Product(id=id_, **{**defaults, **values})


class TestMatching:
    def test_exact_sku_wins_outright(self) -> None:
        product = _product(1, sku="ABC-1")
        matcher = matching.build_matcher([], by_sku={"abc-1": product}, titles=[])
        (best,) = matcher.candidates(matching.details(remote_listing("9", sku="abc-1", title="whatever")))
        assert best.product_id == 1 and best.score == 1.0 and best.reasons == ("same SKU ABC-1",)

    def test_fuzzy_candidates_are_scored_with_reasons(self) -> None:
        strat = _product(1)
        tele = _product(
            2,
            title="Fender Telecaster 1972 Natural",
            model="Telecaster",
            year=1972,
            base_price=Decimal("4000"),
        )
        gibson = _product(
            3, title="Gibson Les Paul Standard 1959", brand="Gibson", model="Les Paul", year=1959
        )
        matcher = matching.build_matcher(
            [strat, tele, gibson], by_sku={}, titles=[(p.id, p.title) for p in (strat, tele, gibson)]
        )
        remote = remote_listing(
            "77", title="1965 Fender Stratocaster - Sunburst", price=Decimal("12900"),
            raw={"make": "Fender", "model": "Stratocaster", "year": "1965"},
        )  # fmt: skip
        found = matcher.candidates(matching.details(remote))
        assert [c.product_id for c in found][:2] == [1, 2]
        best = found[0]
        assert 0.9 <= best.score <= 0.95
        assert any(r.startswith("brand") for r in best.reasons) and any(
            r.startswith("model") for r in best.reasons
        )
        assert any("year 1965" in r for r in best.reasons) and any("within 10%" in r for r in best.reasons)
