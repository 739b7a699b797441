"""XML helpers for the eBay sandbox: eBay's namespace, the response envelope, errors, request reading.

Responses look like api_samples/ebay/*.xml: ``<{Call}Response xmlns="urn:ebay:apis:eBLBaseComponents">`` with
Timestamp, Ack, Errors, Version and Build first, then the call's own fields. HTTP status is 200 even for
``Ack=Failure``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from lxml import etree
from starlette.responses import Response

from riff_sandbox.ebay.consts import BUILDS, NAMESPACE, VERSION

Element: TypeAlias = Any  # lxml ships no type information: an lxml.etree._Element

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
XML_MEDIA_TYPE = "text/xml"


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- building ---------------------------------------------------------------------------------------


def el(tag: str, text: Any = None, **attributes: str) -> Element:
    node = etree.Element(f"{{{NAMESPACE}}}{tag}", attrib=attributes or None, nsmap={None: NAMESPACE})
    if text is not None:
        node.text = str(text)
    return node


def sub(parent: Element, tag: str, text: Any = None, **attributes: str) -> Element:
    node = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrib=attributes or None)
    if text is not None:
        node.text = text if isinstance(text, etree.CDATA) else str(text)
    return node


def money(parent: Element, tag: str, amount: str, currency: str) -> Element:
    return sub(parent, tag, amount, currencyID=currency)


@dataclasses.dataclass(frozen=True)
class Issue:
    code: str
    short_message: str
    long_message: str
    parameters: tuple[str, ...] = ()
    severity: str = "Error"
    classification: str = "RequestError"


class EbayApiError(Exception):
    """A call that fails with ``Ack=Failure`` (HTTP 200)."""

    def __init__(self, *issues: Issue) -> None:
        super().__init__("; ".join(issue.long_message for issue in issues))
        self.issues = issues


def _add_issue(root: Element, issue: Issue) -> None:
    errors = sub(root, "Errors")
    sub(errors, "ShortMessage", issue.short_message)
    sub(errors, "LongMessage", issue.long_message)
    sub(errors, "ErrorCode", issue.code)
    sub(errors, "SeverityCode", issue.severity)
    for position, value in enumerate(issue.parameters):
        parameter = sub(errors, "ErrorParameters", ParamID=str(position))
        sub(parameter, "Value", value)
    sub(errors, "ErrorClassification", issue.classification)


def envelope(
    call_name: str,
    now: datetime,
    *,
    ack: str = "Success",
    issues: Sequence[Issue] = (),
    body: Iterable[Element] = (),
    build: str = "other",
    extra_head: Iterable[Element] = (),
) -> Element:
    root = el(f"{call_name}Response")
    sub(root, "Timestamp", iso(now))
    sub(root, "Ack", ack)
    for issue in issues:
        _add_issue(root, issue)
    for node in extra_head:
        root.append(node)
    sub(root, "Version", VERSION)
    sub(root, "Build", BUILDS.get(build, BUILDS["other"]))
    for node in body:
        root.append(node)
    return root


def to_bytes(root: Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def xml_response(root: Element) -> Response:
    return Response(to_bytes(root), media_type=XML_MEDIA_TYPE)


def failure(call_name: str, now: datetime, issues: Sequence[Issue]) -> Response:
    return xml_response(envelope(call_name, now, ack="Failure", issues=issues))


# --- reading requests -------------------------------------------------------------------------------


def parse(content: bytes) -> Element:
    """Raises ``ValueError`` on malformed XML."""
    try:
        return etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(str(exc)) from None


def local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _path(path: str) -> str:
    return "/".join(f"{{{NAMESPACE}}}{part}" for part in path.split("/"))


def find(node: Element | None, path: str) -> Element | None:
    if node is None:
        return None
    found = node.find(_path(path))
    if found is None:  # requests without the namespace are accepted too (eBay is lenient)
        found = node.find(path)
    return found


def findall(node: Element | None, path: str) -> list[Element]:
    if node is None:
        return []
    return list(node.findall(_path(path))) or list(node.findall(path))


def text(node: Element | None, path: str) -> str | None:
    found = find(node, path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def raw_text(node: Element | None, path: str) -> str | None:
    """Text without stripping (descriptions keep their whitespace)."""
    found = find(node, path)
    return None if found is None else (found.text or "")
