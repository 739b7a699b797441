"""The maintained third-party client (ebaysdk 2.2.0, timotheus/ebaysdk-python) against the eBay sandbox:
proof that the sandbox speaks the Trading API the way other software expects, not only the way RIFF does.

ebaysdk's Trading ``Connection`` takes ``domain``, ``siteid`` and ``iaf_token``, but its constructor forces
``https=True`` (``config.set('https', True, force=True)``), so the ``https=False`` argument is ignored; the
sandbox on loopback speaks plain http, hence the ``config.set(..., force=True)`` after construction.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from riff_sandbox.ebay import consts
from riff_sandbox.testing import running

trading = pytest.importorskip("ebaysdk.trading")


def test_get_my_ebay_selling_through_ebaysdk(tmp_path: Path) -> None:
    with running("ebay", tmp_path, seed_size=12) as sandbox:
        api = trading.Connection(
            domain=f"{sandbox.host}:{sandbox.port}",
            https=False,
            siteid="3",
            compatibility="1415",
            iaf_token=consts.DEFAULT_TOKEN,
            appid=consts.APP_ID,
            devid=consts.DEV_ID,
            certid=consts.CERT_ID,
            config_file=None,
            timeout=10,
        )
        assert api.config.get("https") is True  # what the constructor did with https=False
        api.config.set("https", False, force=True)

        response = api.execute(
            "GetMyeBaySelling",
            {"ActiveList": {"Include": "true", "Pagination": {"EntriesPerPage": 5, "PageNumber": 1}}},
        )

        reply = response.reply
        assert reply.Ack == "Success"
        items = reply.ActiveList.ItemArray.Item
        assert 1 <= len(items) <= 5
        assert all(item.ItemID.isdigit() and item.SKU.startswith("RIFF-") for item in items)
        assert int(reply.ActiveList.PaginationResult.TotalNumberOfEntries) >= len(items)
        logged = sandbox.control.requests(path_prefix="/ws/api.dll")[0]
        assert logged["headers"]["x-ebay-api-call-name"] == "GetMyeBaySelling"
        assert logged["headers"]["x-ebay-api-siteid"] == "3"


def test_ebaysdk_sees_trading_failures(tmp_path: Path) -> None:
    from ebaysdk.exception import ConnectionError as EbayConnectionError

    with running("ebay", tmp_path, seed_size=0) as sandbox:
        api = trading.Connection(
            domain=f"{sandbox.host}:{sandbox.port}",
            siteid="3",
            iaf_token="not-a-token",
            appid=consts.APP_ID,
            devid=consts.DEV_ID,
            certid=consts.CERT_ID,
            config_file=None,
            timeout=10,
        )
        api.config.set("https", False, force=True)
        with pytest.raises(EbayConnectionError) as caught:
            api.execute("GeteBayOfficialTime", {})
        assert "931" in str(caught.value)
