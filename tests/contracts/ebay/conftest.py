"""Contract tests: eBay's documented examples (data/, copied from shared/reference/api_samples/ebay) sent to the
eBay sandbox over loopback HTTP; answers must have the documented structure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from riff_sandbox.ebay import consts
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

DATA = Path(__file__).parent / "data"
NS = {"e": "urn:ebay:apis:eBLBaseComponents"}
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# SKUs of the seeded demo items are RIFF-10000001.. (one per item): a small seed keeps the documented
# RIFF-10000051/52 free.
SEED_SIZE = 10


def documented(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(content: bytes) -> Any:
    return etree.fromstring(content, parser=etree.XMLParser(remove_blank_text=True, remove_comments=True))


def local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def structure(node: Any, prefix: str = "") -> set[str]:
    """Every element path (``/GetOrdersResponse/OrderArray/Order/OrderID``) and attribute (``...@currencyID``)."""
    path = f"{prefix}/{local(node.tag)}"
    found = {path} | {f"{path}@{name}" for name in node.attrib if not name.startswith("{")}
    for child in node:
        if isinstance(child.tag, str):
            found |= structure(child, path)
    return found


def envelope_order(root: Any) -> list[str]:
    return [local(c.tag) for c in root if local(c.tag) in ("Timestamp", "Ack", "Errors", "Version", "Build")]


def assert_same_structure(
    actual: Any,
    documented_root: Any,
    *,
    may_be_missing: set[str] = frozenset(),
    may_be_extra: set[str] = frozenset(),
) -> None:
    expected, got = structure(documented_root), structure(actual)
    missing = {p for p in expected - got if not any(p.startswith(m) for m in may_be_missing)}
    extra = {p for p in got - expected if not any(p.startswith(m) for m in may_be_extra)}
    assert not missing and not extra, f"missing: {sorted(missing)}\nnot documented: {sorted(extra)}"
    both = set(envelope_order(actual)) & set(envelope_order(documented_root))
    assert [n for n in envelope_order(actual) if n in both] == [
        n for n in envelope_order(documented_root) if n in both
    ]
    assert actual.tag == documented_root.tag  # same element, same namespace


def call(sandbox: RunningSandbox, call_name: str, body: bytes, token: str = consts.DEFAULT_TOKEN) -> Any:
    """POST a Trading call with the documented headers (api_samples GetMyeBaySelling request comment)."""
    headers = {
        "X-EBAY-API-CALL-NAME": call_name,
        "X-EBAY-API-SITEID": "3",
        "X-EBAY-API-COMPATIBILITY-LEVEL": "1415",
        "X-EBAY-API-IAF-TOKEN": token,
        "Content-Type": "text/xml",
    }
    response = httpx.post(
        f"{sandbox.base_url}/ws/api.dll", content=body, headers=headers, timeout=TIMEOUT, trust_env=False
    )
    assert response.status_code == 200  # Trading answers 200 even for Failure
    assert response.headers["content-type"].startswith("text/xml")
    return parse(response.content)


def add_documented_item(
    sandbox: RunningSandbox, sku: str | None = None, *, track_by_sku: bool = False
) -> str:
    """The documented AddFixedPriceItem request (optionally with another SKU); returns the new ItemID."""
    root = parse(documented("trading_AddFixedPriceItem_request.xml"))
    item = root.find("e:Item", NS)
    if sku is not None:
        item.find("e:SKU", NS).text = sku
    if track_by_sku:
        etree.SubElement(item, "{urn:ebay:apis:eBLBaseComponents}InventoryTrackingMethod").text = "SKU"
    answer = call(sandbox, "AddFixedPriceItem", etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    item_id = answer.findtext("e:ItemID", namespaces=NS)
    assert item_id, etree.tostring(answer).decode()
    return str(item_id)


@pytest.fixture(scope="module")
def module_ebay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running("ebay", tmp_path_factory.mktemp("ebay"), seed_size=SEED_SIZE) as sandbox:
        yield sandbox


@pytest.fixture
def ebay(module_ebay: RunningSandbox) -> RunningSandbox:
    module_ebay.control.reset()
    return module_ebay
