"""HTML form handling: read a page's form the way a browser would submit it, change some fields, send it
back. Pure functions over lxml; no I/O.

Two rules of the V&R add/edit form (docs/channels/vintage_and_rare.md, "Update"):
- The form posts every field: one left out is emptied on the site. An edit therefore starts from the edit
  form's current values and changes only what it must.
- The description is never sent back unchanged: the textarea holds TinyMCE's stored entities and a round
  trip corrupts the HTML. ``drop("item_desc")`` unless the description itself changes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

import lxml.html
from lxml.etree import ParserError

CHECKED_DEFAULT = "on"  # what a browser sends for a checked checkbox without a value


@dataclasses.dataclass
class FormField:
    name: str
    value: str
    kind: str  # text | hidden | password | checkbox | radio | select | textarea | file | submit
    checked: bool = False
    options: tuple[str, ...] = ()


@dataclasses.dataclass
class HtmlForm:
    action: str
    method: str
    enctype: str
    fields: list[FormField]

    def values(self) -> list[tuple[str, str]]:
        """What a browser submits: checked boxes only, every other field with its value, no file inputs."""
        out: list[tuple[str, str]] = []
        for field in self.fields:
            if field.kind in ("file", "submit", "button", "reset", "image"):
                continue
            if field.kind in ("checkbox", "radio") and not field.checked:
                continue
            out.append((field.name, field.value))
        return out

    def get(self, name: str) -> str | None:
        for field in self.fields:
            if field.name == name and (field.kind not in ("checkbox", "radio") or field.checked):
                return field.value
        return None

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.values() if k == name]

    def has(self, name: str) -> bool:
        return any(field.name == name for field in self.fields)

    def set(self, name: str, value: str) -> None:
        """Set a text, hidden, textarea or select field (added as hidden if the form has no such field)."""
        for field in self.fields:
            if field.name == name:
                if field.kind in ("checkbox", "radio"):
                    field.checked = bool(value)
                else:
                    field.value = value
                return
        self.fields.append(FormField(name=name, value=value, kind="hidden"))

    def set_checked(self, name: str, checked: bool) -> None:
        for field in self.fields:
            if field.name == name and field.kind == "checkbox":
                field.checked = checked
                return
        if checked:
            self.fields.append(FormField(name=name, value="1", kind="checkbox", checked=True))

    def append(self, name: str, value: str) -> None:
        """Add one more value under ``name`` (repeated ``name[]`` fields keep their order)."""
        self.fields.append(FormField(name=name, value=value, kind="hidden"))

    def drop(self, name: str) -> None:
        self.fields = [field for field in self.fields if field.name != name]

    def file_fields(self) -> list[str]:
        return [field.name for field in self.fields if field.kind == "file"]


class FormNotFound(ValueError):
    pass


def parse_form(
    page: str | bytes, *, form_id: str | None = None, action_contains: str | None = None
) -> HtmlForm:
    """The first form matching ``form_id`` or whose action contains ``action_contains`` (else the first)."""
    try:
        document = lxml.html.fromstring(page)
    except (ParserError, ValueError) as exc:
        raise FormNotFound(f"the page is not HTML: {exc}") from None
    forms = document.forms
    chosen = None
    for form in forms:
        if form_id is not None and form.get("id") == form_id:
            chosen = form
            break
        if action_contains is not None and action_contains in (form.get("action") or ""):
            chosen = form
            break
    if chosen is None:
        if form_id is not None or action_contains is not None:
            raise FormNotFound(f"no form {form_id or action_contains!r} on the page")
        if not forms:
            raise FormNotFound("no form on the page")
        chosen = forms[0]
    fields: list[FormField] = []
    for element in chosen.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None and element.tag != "select":
            continue
        if element.tag == "textarea":
            fields.append(FormField(name=name, value=element.text or "", kind="textarea"))
        elif element.tag == "select":
            options = tuple(o.get("value", o.text_content()) for o in element.iter("option"))
            selected = [
                o.get("value", o.text_content())
                for o in element.iter("option")
                if o.get("selected") is not None
            ]
            # Selects the site fills with JavaScript (the category levels) carry their value in data-selected.
            value = (
                selected[0] if selected else element.get("data-selected") or (options[0] if options else "")
            )
            fields.append(FormField(name=name, value=value, kind="select", options=options))
        else:
            kind = (element.get("type") or "text").lower()
            value = element.get("value")
            if kind in ("checkbox", "radio"):
                fields.append(
                    FormField(
                        name=name,
                        value=value or CHECKED_DEFAULT,
                        kind=kind,
                        checked=element.get("checked") is not None,
                    )
                )
            else:
                fields.append(FormField(name=name, value=value or "", kind=kind))
    return HtmlForm(
        action=chosen.get("action") or "",
        method=(chosen.get("method") or "get").upper(),
        enctype=(chosen.get("enctype") or "application/x-www-form-urlencoded").lower(),
        fields=fields,
    )


def page_errors(page: str | bytes) -> list[str]:
    """The site's error messages (``.alert-danger``), one per list item, text only."""
    try:
        document = lxml.html.fromstring(page)
    except (ParserError, ValueError):
        return []
    messages: list[str] = []
    for alert in document.find_class("alert-danger"):
        items = alert.findall(".//li")
        texts = [i.text_content() for i in items] if items else [alert.text_content()]
        messages.extend(_clean(t) for t in texts if _clean(t))
    return messages


def page_title(page: str | bytes) -> str:
    try:
        document = lxml.html.fromstring(page)
    except (ParserError, ValueError):
        return ""
    title = document.find(".//title")
    return _clean(title.text_content()) if title is not None else ""


def has_text(page: str | bytes, needles: Iterable[str]) -> bool:
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
