"""VintageAndRareChannel against the V&R sandbox over loopback HTTP (no database): login, sessions,
Cloudflare, create (HTTP and browser), update, end/relist/delete, the inventory export, maintenance."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from riff.channels.contract import EndReason, ListingSnapshot, RemoteState
from riff.channels.errors import AuthExpired, NotFound, Rejected, Transient
from riff.channels.vintage_and_rare import consts
from riff.channels.vintage_and_rare.adapter import NEXT_FORMS, NextForms, VintageAndRareChannel
from riff.channels.vintage_and_rare.browser import BrowserUnavailable
from riff.channels.vintage_and_rare.forms import HtmlForm
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings
from riff.core.clock import UTC
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

from .conftest import (
    ImageServer,
    add_form_loads,
    creates,
    exports,
    make_channel,
    sandbox_item,
    sandbox_items,
    sandbox_settings,
)
from .factories import snapshot

T = TypeVar("T")


def run(
    sandbox: RunningSandbox,
    scenario: Callable[[VintageAndRareChannel], Awaitable[T]],
    settings: VintageAndRareSettings | None = None,
    **config: Any,
) -> T:
    async def main() -> T:
        async with make_channel(sandbox, settings, **config) as channel:
            return await scenario(channel)

    return asyncio.run(main())


def logins(sandbox: RunningSandbox) -> int:
    return len(sandbox.control.requests(path_prefix="/do_login"))


class TestLogin:
    def test_logs_in_once_and_keeps_the_session(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        async def scenario(channel: VintageAndRareChannel) -> bool:
            await channel.client.account_page()
            await channel.client.account_page()
            return await channel.client.logged_in()

        assert run(sandbox, scenario) is True
        assert logins(sandbox) == 1
        login = sandbox.control.requests(path_prefix="/do_login")[0]
        assert (
            login["body"]
            and "open_where=header" in login["body"]
            and "username=sandbox-dealer" in login["body"]
        )
        stored = json.loads(Path(vr_env.cookie_store_path()).read_text())
        assert {c["name"] for c in stored} == {
            "cf_clearance",
            "PHPSESSID",
        }  # the session survives the process

    def test_wrong_password_is_auth_expired_with_the_sites_message(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        async def scenario(channel: VintageAndRareChannel) -> None:
            channel.client.password = "wrong"
            await channel.client.account_page()

        with pytest.raises(AuthExpired, match="Invalid username or password"):
            run(sandbox, scenario)

    def test_environment_overrides_the_account_secrets(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("VINTAGE_AND_RARE_PASSWORD", "from-the-environment")
        channel = VintageAndRareChannel(
            config={}, secrets={"username": "u", "password": "p"}, base_url=sandbox.base_url,
            settings=VintageAndRareSettings(),
        )  # fmt: skip
        assert (channel.client.username, channel.client.password) == ("u", "from-the-environment")
        asyncio.run(channel.aclose())

    def test_expired_session_logs_in_again(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        async def scenario(channel: VintageAndRareChannel) -> bool:
            await channel.client.account_page()
            sandbox.control._call("POST", "/vintage_and_rare/expire-sessions")  # PHP's session GC
            response = await channel.client.account_page()
            return response.status == 200

        assert run(sandbox, scenario) is True
        assert logins(sandbox) == 2
        statuses = [r["status"] for r in sandbox.control.requests(path_prefix="/account")]
        assert statuses == [200, 302, 200]


class TestCloudflare:
    def test_without_a_clearance_and_no_browser_the_error_says_what_to_do(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        Path(vr_env.cookie_store_path()).write_text("[]")

        async def scenario(channel: VintageAndRareChannel) -> None:
            await channel.client.account_page()

        with pytest.raises(BrowserUnavailable, match="harvest-cookies"):
            run(sandbox, scenario)
        challenge = sandbox.control.requests()[0]
        assert challenge["status"] == 403

    def test_a_clearance_from_the_base64_variable_is_used(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from riff.channels.vintage_and_rare.cookies import CookieJar, parse_cookie_list

        cookies = parse_cookie_list(json.loads(Path(vr_env.cookie_store_path()).read_text()))
        Path(vr_env.cookie_store_path()).unlink()
        monkeypatch.setenv("VR_COOKIES_BASE64", CookieJar(cookies).to_base64())

        async def scenario(channel: VintageAndRareChannel) -> int:
            return (await channel.client.account_page()).status

        assert run(sandbox, scenario, VintageAndRareSettings()) == 200

    @pytest.mark.browser
    def test_headless_chromium_passes_the_challenge_and_the_request_succeeds(
        self, sandbox: RunningSandbox, browser_env: VintageAndRareSettings
    ) -> None:
        Path(browser_env.cookie_store_path()).write_text("[]")  # no pre-harvested cookies at all

        async def scenario(channel: VintageAndRareChannel) -> tuple[int, int]:
            response = await channel.client.account_page()
            return response.status, channel.client.bootstraps

        status, bootstraps = run(sandbox, scenario, browser_env)
        assert (status, bootstraps) == (200, 1)
        verified = sandbox.control.requests(path_prefix="/cdn-cgi/challenge-platform")
        assert [r["status"] for r in verified] == [200]
        stored = {c["name"]: c for c in json.loads(Path(browser_env.cookie_store_path()).read_text())}
        assert stored["cf_clearance"]["expiry"] > dt.datetime.now(UTC).timestamp()

        # The clearance expires: the challenge comes back and the browser passes it again.
        sandbox.control._call("POST", "/vintage_and_rare/expire-clearances")
        status, bootstraps = run(sandbox, scenario, browser_env)
        assert (status, bootstraps) == (200, 1)
        assert len(sandbox.control.requests(path_prefix="/cdn-cgi/challenge-platform")) == 2


class TestCreate:
    def test_http_create_without_an_id_in_the_redirect(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings, images: ImageServer
    ) -> None:
        product = snapshot(image_urls=[images.url("front"), images.url("back"), images.url("head")])
        outcome = run(sandbox, lambda ch: ch.create_listing(product, brand="Fender"))
        assert (outcome.remote_id, outcome.method, outcome.ambiguous) == (None, "http", False)
        [item] = sandbox_items(sandbox, external_id=product.sku)
        assert item["brand"] == "Fender" and item["model"] == "Stratocaster" and item["year"] == "1965"
        assert item["decade"] == "1960s" and item["finish"] == "Sunburst" and item["price"] == "12500.00"
        assert item["description"] == product.description
        assert item["categories"] == ["51", "83"]
        assert item["shipping_fees"] == {
            "UK": "75.00",
            "Europe": "50.00",
            "USA": "100.00",
            "REST OF WORLD": "150.00",
        }
        assert item["processing_time"] == "3" and item["processing_unit"] == "Days"
        assert [m["size"] for m in item["media"]] == [
            len(ImageServer.body(f"/img/{n}.jpg")) for n in ("front", "back", "head")
        ]
        assert exports(sandbox) == 0

    def test_http_create_reads_the_id_from_the_redirect_when_there_is_one(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        sandbox_settings(sandbox, id_in_redirect=True)
        outcome = run(sandbox, lambda ch: ch.create_listing(snapshot(), brand="Fender"))
        assert outcome.remote_id is not None
        assert sandbox_item(sandbox, outcome.remote_id)["external_id"] == "RIFF-20000001"

    def test_contract_publish_finds_the_id_in_the_export_at_once(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        ref = run(sandbox, lambda ch: ch.publish(snapshot(sku="RIFF-P-1", price=Decimal("7777.00"))))
        assert ref.state == RemoteState.LIVE and ref.url == f"{sandbox.base_url}/product/{ref.id}"
        assert sandbox_item(sandbox, ref.id)["external_id"] == "RIFF-P-1"
        # Idempotent: with the SKU kept in the export, a second publish finds the listing instead of creating.
        sandbox_settings(sandbox, export_external_id_share=1.0)
        again = run(sandbox, lambda ch: ch.publish(snapshot(sku="RIFF-P-1", price=Decimal("7777.00"))))
        assert again.id == ref.id and creates(sandbox) == 1

    def test_the_sites_validation_message_comes_back_verbatim(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        with pytest.raises(Rejected) as refused:
            run(sandbox, lambda ch: ch.create_listing(snapshot(brand="Zzyzx"), brand="Zzyzx"))
        assert refused.value.message == (
            'The brand "Zzyzx" is not in our brand list. Please choose a brand from the suggestions.'
        )
        assert refused.value.field == "brand"
        assert creates(sandbox) == 0

    def test_unmapped_category_is_refused_before_any_request(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        with pytest.raises(Rejected, match="category"):
            run(sandbox, lambda ch: ch.create_listing(snapshot(category_slug="theremins"), brand="Fender"))
        with pytest.raises(Rejected, match="not in the V&R category tree"):
            run(
                sandbox,
                lambda ch: ch.create_listing(snapshot(category_remote_ids=["51", "999"]), brand="Fender"),
            )
        assert sandbox.control.requests() == []

    def test_a_timeout_after_submitting_is_ambiguous_not_resubmitted(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        sandbox.control.faults(error_5xx_burst=1, path_prefix="/instruments/add_edit_item", methods=["POST"])
        outcome = run(sandbox, lambda ch: ch.create_listing(snapshot(), brand="Fender"))
        assert outcome.ambiguous is True and outcome.remote_id is None
        assert len(sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="POST")) == 1

    @pytest.mark.browser
    def test_browser_create_fills_the_real_form(
        self, sandbox: RunningSandbox, browser_env: VintageAndRareSettings, images: ImageServer
    ) -> None:
        sandbox_settings(sandbox, id_in_redirect=True)
        product = snapshot(sku="RIFF-B-1", brand="Gibson", model="ES-335TD", year=1964, finish="Cherry",
                           category_slug="guitar-heads", image_urls=[images.url("one"), images.url("two")])  # fmt: skip
        outcome = run(
            sandbox,
            lambda ch: ch.create_listing(product, brand="Gibson"),
            browser_env,
            create_method="browser",
        )
        assert outcome.method == "browser" and outcome.remote_id is not None
        item = sandbox_item(sandbox, outcome.remote_id)
        assert (item["brand"], item["model"], item["year"], item["finish"]) == (
            "Gibson",
            "ES-335TD",
            "1964",
            "Cherry",
        )
        assert item["categories"] == ["53", "96", "150"]  # three levels chosen through the JavaScript selects
        assert item["description"] == product.description and item["external_id"] == "RIFF-B-1"
        assert len(item["media"]) == 2 and item["show_vat"] and not item["local_pickup"]

    @pytest.mark.browser
    def test_http_falls_back_to_the_browser_when_the_form_cannot_be_loaded(
        self, sandbox: RunningSandbox, browser_env: VintageAndRareSettings
    ) -> None:
        sandbox.control.faults(error_5xx_burst=3, path_prefix="/instruments/add_edit_item", methods=["GET"])
        outcome = run(
            sandbox, lambda ch: ch.create_listing(snapshot(sku="RIFF-FB"), brand="Fender"), browser_env
        )
        assert outcome.method == "browser"
        assert len(sandbox_items(sandbox, external_id="RIFF-FB")) == 1


class TestNextForm:
    """Creates in a row: the next create's add form loads while the site processes the current post; each
    create still posts a form loaded for it alone."""

    def test_the_next_form_loads_during_the_post_and_the_next_create_loads_none(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        sandbox_settings(sandbox, create_seconds=0.3)
        # Two jobs, two adapters (as the worker opens one per job); the form waits in the process for the next.
        run(
            sandbox,
            lambda ch: ch.create_listing(snapshot(sku="RIFF-NEXT-1"), brand="Fender", prefetch_next=True),
        )
        assert add_form_loads(sandbox) == 2
        run(sandbox, lambda ch: ch.create_listing(snapshot(sku="RIFF-NEXT-2"), brand="Fender"))
        assert add_form_loads(sandbox) == 2  # the second create loaded no form of its own
        order = [r["method"] for r in sandbox.control.requests(path_prefix="/instruments/add_edit_item")]
        assert order == ["GET", "GET", "POST", "POST"]  # the second form arrived while the first post ran
        assert creates(sandbox) == 2
        assert [len(sandbox_items(sandbox, external_id=s)) for s in ("RIFF-NEXT-1", "RIFF-NEXT-2")] == [1, 1]
        posts = sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="POST")
        tokens = [re.search(r'name="form_token"\r\n\r\n(\w+)', str(p["body"])) for p in posts]
        assert all(tokens) and len({t.group(1) for t in tokens if t}) == 2

    def test_without_a_next_create_no_form_is_loaded_ahead(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        run(sandbox, lambda ch: ch.create_listing(snapshot(), brand="Fender"))
        assert add_form_loads(sandbox) == 1 and creates(sandbox) == 1

    def test_a_form_loaded_ahead_that_the_site_refuses_is_replaced_once(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        async def scenario(channel: VintageAndRareChannel) -> Any:
            await channel.client.login()
            stale = await channel.client.get_add_form()
            stale.set("form_token", "no-longer-valid")  # as if the site had dropped it meanwhile
            NEXT_FORMS.put(channel._form_key(), stale)
            return await channel.create_listing(snapshot(sku="RIFF-STALE"), brand="Fender")

        outcome = run(sandbox, scenario)
        assert (outcome.remote_id, outcome.ambiguous) == (None, False)
        posts = sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="POST")
        assert [p["status"] for p in posts] == [
            200,
            302,
        ]  # refused (the form again, nothing saved), then saved
        assert len(sandbox_items(sandbox, external_id="RIFF-STALE")) == 1

    def test_a_refusal_of_a_fresh_form_is_still_the_sites_verdict(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        with pytest.raises(Rejected):
            run(sandbox, lambda ch: ch.create_listing(snapshot(brand="Zzyzx"), brand="Zzyzx"))
        assert len(sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="POST")) == 1

    def test_a_form_that_cannot_be_loaded_ahead_changes_nothing(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        async def scenario(channel: VintageAndRareChannel) -> Any:
            await channel.client.login()
            NEXT_FORMS.put(channel._form_key(), await channel.client.get_add_form())
            sandbox.control.faults(
                error_5xx_burst=100, path_prefix="/instruments/add_edit_item", methods=["GET"]
            )
            outcome = await channel.create_listing(
                snapshot(sku="RIFF-AHEAD"), brand="Fender", prefetch_next=True
            )
            return outcome, NEXT_FORMS.take(channel._form_key())

        outcome, kept = run(sandbox, scenario)
        assert outcome.remote_id is None and not outcome.ambiguous and kept is None
        assert len(sandbox_items(sandbox, external_id="RIFF-AHEAD")) == 1
        failed = sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="GET")[-1]
        assert failed["status"] >= 500  # tried once, quietly, no retry
        assert len(sandbox.control.requests(path_prefix="/instruments/add_edit_item", method="GET")) == 2

    def test_forms_are_kept_per_session_used_once_and_only_while_fresh(self) -> None:
        kept = NextForms(max_age_seconds=60)
        form = HtmlForm(
            action="/instruments/add_edit_item", method="POST", enctype="multipart/form-data", fields=[]
        )
        kept.put(("https://site", "session-1"), form, now=100.0)
        assert kept.take(("https://site", "session-2"), now=101.0) is None  # another PHP session
        assert kept.take(("https://other", "session-1"), now=101.0) is None  # another site
        assert kept.take(("https://site", "session-1"), now=101.0) is form
        assert kept.take(("https://site", "session-1"), now=102.0) is None  # used once
        kept.put(("https://site", "session-1"), form, now=100.0)
        assert kept.take(("https://site", "session-1"), now=160.5) is None  # too old
        kept.put(None, form, now=100.0)  # no session: nothing kept
        assert kept.take(None, now=100.0) is None


class TestUpdate:
    def _created(self, sandbox: RunningSandbox, **kwargs: Any) -> str:
        sandbox_settings(sandbox, id_in_redirect=True)
        outcome = run(sandbox, lambda ch: ch.create_listing(snapshot(**kwargs), brand="Fender"))
        assert outcome.remote_id
        return outcome.remote_id

    def test_price_update_preserves_every_other_field(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        remote_id = self._created(sandbox)
        sandbox.control.edit_listing(remote_id, finish="Fiesta Red")  # edited on the site: must survive
        before = sandbox_item(sandbox, remote_id)
        changed = snapshot(price=Decimal("11999.00"), finish="Sunburst")
        ref = run(
            sandbox, lambda ch: ch.update(ListingSnapshot(remote_id=remote_id, product=changed), {"price"})
        )
        assert ref.id == remote_id
        after = sandbox_item(sandbox, remote_id)
        differences = {k for k in before if before[k] != after.get(k)} - {"updated_at"}
        assert differences == {"price"} and after["price"] == "11999.00"
        assert after["description"] == before["description"]  # not round-tripped through the textarea
        edit_post = sandbox.control.requests(
            path_prefix=f"/instruments/add_edit_item/{remote_id}", method="POST"
        )[-1]
        assert "item_desc" not in edit_post["body"]

    def test_description_brand_and_images_update(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings, images: ImageServer
    ) -> None:
        remote_id = self._created(sandbox, image_urls=[images.url("old")])
        old_media = sandbox_item(sandbox, remote_id)["media"]
        changed = snapshot(brand="Gibson", description="<h2>New</h2><p>Text</p>",
                           image_urls=[images.url("new-1"), images.url("new-2")])  # fmt: skip
        run(sandbox, lambda ch: ch.update(ListingSnapshot(remote_id=remote_id, product=changed),
                                          {"description", "brand", "images"}))  # fmt: skip
        after = sandbox_item(sandbox, remote_id)
        assert after["brand"] == "Gibson" and after["description"] == "<h2>New</h2><p>Text</p>"
        assert [m["size"] for m in after["media"]] == [
            len(ImageServer.body(f"/img/{n}.jpg")) for n in ("new-1", "new-2")
        ]
        assert not {m["media_id"] for m in old_media} & {m["media_id"] for m in after["media"]}
        assert len(sandbox.control.requests(path_prefix="/ajax/dropzone_upload")) == 2

    def test_unknown_field_is_rejected(self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings) -> None:
        with pytest.raises(Rejected, match="cannot update"):
            run(
                sandbox,
                lambda ch: ch.update(ListingSnapshot(remote_id="1", product=snapshot()), {"colour_of_sky"}),
            )


class TestEndRelistDelete:
    def test_end_relist_delete(self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings) -> None:
        sandbox_settings(sandbox, id_in_redirect=True)

        async def scenario(channel: VintageAndRareChannel) -> list[Any]:
            outcome = await channel.create_listing(snapshot(), brand="Fender")
            assert outcome.remote_id
            listing = ListingSnapshot(remote_id=outcome.remote_id, product=snapshot())
            ended = await channel.end(listing, EndReason.SOLD_ELSEWHERE)
            sold = sandbox_item(sandbox, outcome.remote_id)["sold"]
            again = await channel.end(listing, EndReason.SOLD_ELSEWHERE)  # already sold: still fine
            relisted = await channel.relist(outcome.remote_id)
            restored = sandbox_item(sandbox, outcome.remote_id)["sold"]
            await channel.delete(outcome.remote_id)
            deleted = sandbox_item(sandbox, outcome.remote_id)["deleted"]
            with pytest.raises(NotFound):
                await channel.end(listing, EndReason.NOT_SOLD)
            return [ended.state, sold, again.state, relisted.state, restored, deleted]

        assert run(sandbox, scenario) == [
            RemoteState.SOLD,
            True,
            RemoteState.SOLD,
            RemoteState.LIVE,
            False,
            True,
        ]


class TestInventoryExport:
    def test_downloads_and_parses_1500_rows(self, tmp_path: Path, vr_env: VintageAndRareSettings) -> None:
        from .conftest import clearance_cookie

        with running(
            "vintage_and_rare", tmp_path / "big", maintenance_window_utc=None
        ) as sandbox:  # default seed
            Path(vr_env.cookie_store_path()).write_text(json.dumps([clearance_cookie(sandbox)]))
            sandbox.control.purchase(120_001)  # a buyer bought the first item

            async def scenario(channel: VintageAndRareChannel) -> list[Any]:
                return [listing async for listing in channel.fetch_listings()]

            listings = run(sandbox, scenario)
            assert len(listings) == 1500
            assert exports(sandbox) == 1
            first = next(item for item in listings if item.remote_id == "120001")
            assert first.state == RemoteState.SOLD and first.quantity == 0
            assert first.url == f"{sandbox.base_url}/product/120001"
            assert all(item.sku is None for item in listings)  # the export drops external ids by default
            assert sum(item.state == RemoteState.SOLD for item in listings) > 300
            page, csv = sandbox.control.requests(path_prefix="/instruments/export_inventory")[-2:]
            assert page["path"] == "/instruments/export_inventory"
            assert csv["headers"]["referer"].endswith("/instruments/export_inventory")

    def test_external_ids_when_the_export_keeps_them(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        sandbox_settings(sandbox, export_external_id_share=1.0)
        rows = run(sandbox, lambda ch: ch.inventory_rows())
        assert [row.external_id for row in rows][:2] == ["RIFF-10000001", "RIFF-10000002"]


class TestMaintenance:
    def test_the_maintenance_page_reschedules(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        sandbox_settings(sandbox, maintenance_now=True)
        with pytest.raises(Transient) as waiting:
            run(sandbox, lambda ch: ch.client.account_page())
        assert waiting.value.retry_after == consts.UNPLANNED_MAINTENANCE_RETRY_SECONDS

    def test_the_declared_window_waits_without_a_request(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        now = dt.datetime.now(UTC)
        window = f"{now:%H}:00-{(now + dt.timedelta(hours=1)):%H}:00"
        with pytest.raises(Transient) as waiting:
            run(sandbox, lambda ch: ch.client.account_page(), maintenance_window=window)
        end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        assert waiting.value.retry_after is not None
        assert abs(waiting.value.retry_after - ((end - now).total_seconds() + 60)) < 5
        assert sandbox.control.requests() == []


class TestCookies:
    def test_status_lists_expiry_and_warns_before_cf_clearance_expires(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        from .conftest import clearance_cookie

        Path(vr_env.cookie_store_path()).write_text(
            json.dumps([clearance_cookie(sandbox, ttl_seconds=3 * 86400)])
        )
        channel = make_channel(sandbox, VintageAndRareSettings())
        status = channel.cookies_status()
        asyncio.run(channel.aclose())
        [cookie] = status["cookies"]
        assert cookie["name"] == "cf_clearance" and 2.9 < cookie["days_left"] <= 3.0
        assert len(status["warnings"]) == 1 and "expires in 3.0 days" in status["warnings"][0]
