"""The Trading API's XML: building requests, reading responses, and classifying ``Errors`` by a table.

Every Trading response is ``<{Call}Response xmlns="urn:ebay:apis:eBLBaseComponents">`` with ``Timestamp``,
``Ack`` (Success, Warning, Failure, PartialFailure), ``Errors`` (ShortMessage, LongMessage, ErrorCode,
SeverityCode, ErrorParameters, ErrorClassification), ``Version`` and ``Build``. Failures arrive as HTTP 200,
so the HTTP layer asks :func:`response_check` whether a 200 is really a success.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import httpx
from lxml import etree

from riff.channels.ebay import consts
from riff.channels.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient
from riff.core.clock import utcnow

NS = consts.NAMESPACE
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)

Element: TypeAlias = Any  # lxml ships no type information: an lxml.etree._Element


# --- building ---------------------------------------------------------------------------------------


def request_root(call_name: str) -> Element:
    return etree.Element(f"{{{NS}}}{call_name}Request", nsmap={None: NS})


def sub(parent: Element, tag: str, text: Any = None, **attributes: str) -> Element:
    """A child element in eBay's namespace; ``text`` None leaves it empty (a container)."""
    child = etree.SubElement(parent, f"{{{NS}}}{tag}", attrib=attributes or None)
    if text is not None:
        child.text = text if isinstance(text, etree.CDATA) else str(text)
    return child


def cdata(value: str) -> etree.CDATA:
    # CDATA cannot contain its own terminator; split it the standard way.
    return etree.CDATA(value.replace("]]>", "]]]]><![CDATA[>"))


def serialize(root: Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def iso(moment: dt.datetime) -> str:
    """eBay's dateTime: UTC with milliseconds and ``Z`` (``2025-11-01T00:00:00.000Z``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- reading ----------------------------------------------------------------------------------------


def parse(content: bytes | str) -> Element:
    """Parse XML without resolving entities or touching the network. Raises ``ValueError``."""
    raw = content.encode() if isinstance(content, str) else content
    try:
        return etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc}") from None


def local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _path(path: str) -> str:
    return "/".join(part if part in (".", "..") else f"{{{NS}}}{part}" for part in path.split("/"))


def find(node: Element | None, path: str) -> Element | None:
    return None if node is None else node.find(_path(path))


def findall(node: Element | None, path: str) -> list[Element]:
    return [] if node is None else list(node.findall(_path(path)))


def text(node: Element | None, path: str) -> str | None:
    found = find(node, path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def attribute(node: Element | None, path: str, name: str) -> str | None:
    found = find(node, path)
    return None if found is None else found.get(name)


def to_dict(node: Element) -> Any:
    """A JSON-able picture of an element (xmltodict-like): repeated children become lists, attributes
    ``@name``, the text of an element with attributes ``#text``. Stored as ``raw`` on normalized objects."""
    children = [child for child in node if isinstance(child.tag, str)]
    attributes = {f"@{local(k)}": v for k, v in node.attrib.items()}
    if not children:
        value = (node.text or "").strip()
        if attributes:
            return {**attributes, "#text": value} if value else attributes
        return value
    out: dict[str, Any] = dict(attributes)
    for child in children:
        key = local(child.tag)
        value = to_dict(child)
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    return out


def parse_timestamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- the response envelope --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Issue:
    """One ``Errors`` entry: an error or a warning."""

    code: str
    severity: str
    short_message: str
    long_message: str
    classification: str | None = None
    parameters: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return self.long_message or self.short_message or f"eBay error {self.code}"

    @property
    def is_error(self) -> bool:
        return self.severity != "Warning"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "short_message": self.short_message,
            "long_message": self.long_message,
            "classification": self.classification,
            "parameters": list(self.parameters),
        }


@dataclasses.dataclass(frozen=True)
class Response:
    root: Element
    call_name: str
    ack: str
    issues: tuple[Issue, ...]
    timestamp: dt.datetime | None

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if not issue.is_error]

    def text(self, path: str) -> str | None:
        return text(self.root, path)

    def find(self, path: str) -> Element | None:
        return find(self.root, path)

    def findall(self, path: str) -> list[Element]:
        return findall(self.root, path)


def issues_of(node: Element) -> tuple[Issue, ...]:
    found = []
    for error in findall(node, "Errors"):
        parameters = sorted(findall(error, "ErrorParameters"), key=lambda p: int(p.get("ParamID") or 0))
        found.append(
            Issue(
                code=text(error, "ErrorCode") or "",
                severity=text(error, "SeverityCode") or "Error",
                short_message=text(error, "ShortMessage") or "",
                # Verbatim: the user sees eBay's own words (only the outer whitespace is trimmed).
                long_message=text(error, "LongMessage") or "",
                classification=text(error, "ErrorClassification"),
                parameters=tuple(text(p, "Value") or "" for p in parameters),
            )
        )
    return tuple(found)


def read_response(content: bytes | str) -> Response:
    root = parse(content)
    name = local(root.tag)
    return Response(
        root=root,
        call_name=name.removesuffix("Response"),
        ack=text(root, "Ack") or "",
        issues=issues_of(root),
        timestamp=parse_timestamp(text(root, "Timestamp")),
    )


# --- errors -----------------------------------------------------------------------------------------


class CallLimitReached(RateLimited):
    """Error 518: the application's daily quota for this call is used up. Retrying within seconds is
    pointless, and another call may still have quota, so the shared limiter is not penalized."""

    penalizes_channel = False


class DuplicateListing(Rejected):
    """eBay already has this item: a reused UUID (488) or the duplicate listing policy (21919067).
    ``item_id`` names the existing listing when eBay says which it is."""

    item_id: str | None = None


class AlreadyEnded(Rejected):
    """Error 1047, "The auction has already been closed": ending an ended listing."""


# ErrorCode -> the class RIFF raises. Unlisted codes: SystemError -> Transient, anything else -> Rejected.
# Sources per code: docs/channels/ebay.md ("What RIFF does on each error").
ERROR_CODES: Mapping[str, type[ChannelError]] = {
    "518": CallLimitReached,  # Call usage limit has been reached.
    "930": AuthExpired,  # token required / problem processing the token (3p)
    "931": AuthExpired,  # Auth token is invalid.
    "932": AuthExpired,  # Auth token is hard expired.
    "21916984": AuthExpired,  # Invalid IAF token (3p)
    "21917053": AuthExpired,  # Expired IAF token. "IAF token supplied is expired."
    "21917055": AuthExpired,  # IAF token error (3p)
    "17": NotFound,  # the item cannot be accessed (deleted, or not yours)
    "1047": AlreadyEnded,  # The auction has already been closed.
    "488": DuplicateListing,  # Duplicate UUID used.
    "21919067": DuplicateListing,  # Listing violates the Duplicate Listing policy.
    "10007": Transient,  # Internal error to the application.
}
DUPLICATE_ITEM_PARAMETER = {"488": 1, "21919067": 1}  # which ErrorParameters holds the existing ItemID

# eBay's ErrorParameters name the offending input as ``Item.<Field>``; RIFF's field names for the UI.
FIELD_NAMES = {
    "Item.Title": "title",
    "Item.Description": "description",
    "Item.StartPrice": "price",
    "Item.Quantity": "quantity",
    "Item.SKU": "sku",
    "Item.ConditionID": "condition",
    "Item.PrimaryCategory.CategoryID": "category",
    "Item.PrimaryCategory": "category",
    "Item.PictureDetails.PictureURL": "images",
    "Item.PictureDetails": "images",
    "Item.ItemSpecifics": "item_specifics",
    "Item.ShippingDetails": "shipping_profile_id",
    "Item.SellerProfiles": "shipping_profile_id",
}
_ITEM_ID_IN_TEXT = re.compile(r"item ID=(\d{6,})|\((\d{9,})\)")


def field_of(issue: Issue) -> str | None:
    for value in issue.parameters:
        if value.startswith("Item."):
            return FIELD_NAMES.get(value, value)
    return None


def duplicate_item_id(issue: Issue) -> str | None:
    position = DUPLICATE_ITEM_PARAMETER.get(issue.code)
    if position is not None and len(issue.parameters) > position and issue.parameters[position].isdigit():
        return issue.parameters[position]
    match = _ITEM_ID_IN_TEXT.search(issue.message)
    return next((g for g in match.groups() if g), None) if match else None


def seconds_until_quota_retry(now: dt.datetime | None = None) -> float:
    now = now or utcnow()
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return min((midnight - now).total_seconds(), consts.CALL_LIMIT_RETRY_MAX_SECONDS)


def error_for(
    errors: Iterable[Issue], *, call_name: str, status_code: int | None = None, endpoint: str | None = None
) -> ChannelError:
    """The one exception for a failed call, chosen by the first listed code (else by classification)."""
    errors = list(errors)
    chosen: type[ChannelError] | None = None
    deciding: Issue | None = None
    for issue in errors:
        if issue.code in ERROR_CODES:
            chosen, deciding = ERROR_CODES[issue.code], issue
            break
    if chosen is None:
        system = any(issue.classification == "SystemError" for issue in errors)
        chosen = Transient if system else Rejected
        deciding = errors[0] if errors else None
    messages = [issue.message for issue in errors] or [f"eBay {call_name} failed"]
    message = " ".join(dict.fromkeys(messages))  # eBay repeats itself sometimes; keep each text once
    error = chosen(
        message,
        channel=consts.SLUG,
        status_code=status_code,
        field=next((f for f in (field_of(i) for i in errors) if f), None),
        body={"errors": [issue.as_dict() for issue in errors]},
        endpoint=endpoint,
        retry_after=seconds_until_quota_retry() if chosen is CallLimitReached else None,
    )
    error.issues = tuple(errors)  # type: ignore[attr-defined]
    if isinstance(error, DuplicateListing) and deciding is not None:
        error.item_id = duplicate_item_id(deciding)
    return error


def issues_of_error(error: ChannelError) -> tuple[Issue, ...]:
    return tuple(getattr(error, "issues", ()) or ())


def response_check(response: httpx.Response) -> ChannelError | None:
    """For the HTTP layer: a 200 whose ``Ack`` is Failure becomes the classified error. Warning and
    PartialFailure are answers (the caller keeps the warnings or looks at each item)."""
    call_name = response.request.headers.get("X-EBAY-API-CALL-NAME", "") if response.request else ""
    endpoint = f"POST {consts.TRADING_PATH} {call_name}".rstrip()
    try:
        parsed = read_response(response.content)
    except ValueError:
        # A cut-off or HTML body (a proxy's error page): nothing was confirmed, try again.
        return Transient(
            f"eBay answered {call_name or 'a call'} with a body that is not XML",
            channel=consts.SLUG,
            status_code=response.status_code,
            endpoint=endpoint,
        )
    if parsed.ack != "Failure":
        return None
    return error_for(parsed.errors, call_name=call_name, status_code=response.status_code, endpoint=endpoint)
