"""HTML pages of the sandbox site: plain server-rendered pages, with JavaScript where the real site needs it
(the category selects of the add/edit form, the cookie banner, the submit link)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from riff_sandbox.vintage_and_rare.consts import (
    DEFAULT_SHIPPING_FEES,
    MAX_IMAGES,
    SELLER_USER_ID,
    SHIPPING_REGIONS,
    SITE_NAME,
)
from riff_sandbox.vintage_and_rare.site import Record, category_path_names, category_tree

CONSENT_COOKIE = "cookieconsent_status"
DECADES = tuple(f"{decade}s" for decade in range(1900, 2030, 10))
Values = dict[str, Any]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def layout(title: str, body: str, *, logged_in: bool = False, username: str | None = None) -> str:
    if logged_in:
        account = (
            f'<span class="welcome">Hello, {_e(username)}</span> '
            '<a href="/account">My account</a> <a href="/account/items">My items</a> '
            '<a href="/instruments/add_edit_item">Add item</a> '
            '<a href="/instruments/export_inventory">Export inventory</a> '
            '<a href="/logout" class="logout">Sign out</a>'
        )
    else:
        account = (
            '<form class="header-login" method="post" action="/do_login">'
            '<input type="text" name="username" placeholder="Username">'
            '<input type="password" name="pass" placeholder="Password">'
            '<input type="hidden" name="open_where" value="header">'
            '<button type="submit">Log in</button></form>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} | {SITE_NAME}</title></head><body>"
        f'<header><a href="/" class="logo">{SITE_NAME}</a> <nav>{account}</nav></header>'
        f'<p class="sandbox-note"><em>{SITE_NAME} sandbox: a local stand-in, not vintageandrare.com.</em></p>'
        f"<main>{body}</main></body></html>"
    )


def home_page(logged_in: bool, username: str | None) -> str:
    return layout(
        "Vintage guitars, amps and more",
        "<h1>The home of vintage instruments</h1><p>Guitars, basses, amps and effects from dealers worldwide.</p>",
        logged_in=logged_in,
        username=username,
    )


def login_page(error: str | None = None) -> str:
    message = f'<div class="alert alert-danger">{_e(error)}</div>' if error else ""
    body = (
        f"<h1>Log in</h1>{message}"
        '<form id="login_form" method="post" action="/do_login">'
        '<label>Username <input type="text" name="username" id="username"></label>'
        '<label>Password <input type="password" name="pass" id="pass"></label>'
        '<input type="hidden" name="open_where" value="header">'
        '<button type="submit" id="login_submit">Log in</button></form>'
    )
    return layout("Log in", body)


def account_page(username: str, items_count: int) -> str:
    body = (
        f"<h1>My account</h1><p>Welcome back, {_e(username)}. You have {items_count} items listed.</p>"
        '<p><a href="/logout">Sign out</a></p>'
    )
    return layout("My account", body, logged_in=True, username=username)


def items_page(username: str, added: bool) -> str:
    note = (
        '<div class="alert alert-success">Thank you, your item has been saved. It will appear in your '
        "inventory shortly.</div>"
        if added
        else ""
    )
    body = f'<h1>My items</h1>{note}<p>Use <a href="/instruments/export_inventory">Export inventory</a> for a full list.</p>'
    return layout("My items", body, logged_in=True, username=username)


def export_page(username: str) -> str:
    body = (
        "<h1>Export inventory</h1><p>Download all your items in the bulk-upload format.</p>"
        '<a id="export_link" href="/instruments/export_inventory/export_inventory">Export to CSV</a>'
    )
    return layout("Export inventory", body, logged_in=True, username=username)


def maintenance_page() -> str:
    return (
        "<!DOCTYPE html><html><head><title>Maintenance | Vintage &amp; Rare</title></head><body>"
        '<div class="maintenance"><h1>We are down for maintenance</h1>'
        "<p>Vintage &amp; Rare is currently undergoing scheduled maintenance. Please check back shortly.</p>"
        "</div></body></html>"
    )


def error_page(status: int, message: str) -> str:
    return layout(f"Error {status}", f'<h1>Error {status}</h1><p class="error-message">{_e(message)}</p>')


def not_found_page() -> str:
    return layout("Page not found", "<h1>Page not found</h1><p>This item is no longer available.</p>")


def product_page(record: Record, base_url: str) -> str:
    names = category_path_names(record.get("categories") or []) or []
    title = " ".join(p for p in (record.get("brand"), record.get("model"), record.get("year")) if p)
    status = (
        '<span class="sold-badge">SOLD</span>'
        if record.get("sold")
        else '<span class="available">Available</span>'
    )
    images = "".join(
        f'<img src="{_e(base_url + m["path"])}" width="160" alt="">' for m in record.get("media") or []
    )
    body = (
        f'<article class="product" data-product-id="{record["id"]}"><h1>{_e(title)}</h1>'
        f'<p class="category">{_e(" > ".join(names))}</p>'
        f'<p class="price">&pound;{_e(record.get("price"))}</p><p class="status">{status}</p>'
        f'<p class="finish">{_e(record.get("finish"))}</p><div class="images">{images}</div>'
        f'<div class="description">{record.get("description") or ""}</div></article>'
    )
    return layout(title or "Item", body)


# The add/edit form -----------------------------------------------------------------------------------


def _text(name: str, label: str, value: Any, **attrs: str) -> str:
    extra = "".join(f' {k}="{_e(v)}"' for k, v in attrs.items())
    return (
        f'<div class="form-group"><label for="{name}">{_e(label)}</label>'
        f'<input type="text" name="{name}" id="{name}" value="{_e(value)}"{extra}></div>'
    )


def _checkbox(name: str, label: str, checked: bool) -> str:
    mark = " checked" if checked else ""
    return f'<label class="checkbox"><input type="checkbox" name="{name}" id="{name}" value="1"{mark}> {_e(label)}</label>'


def _select(name: str, options: Sequence[str], selected: str | None) -> str:
    rendered = "".join(
        f'<option value="{_e(o)}"{" selected" if o == selected else ""}>{_e(o)}</option>' for o in options
    )
    return f'<select name="{name}" id="{name}">{rendered}</select>'


def _shipping_rows(fees: dict[str, str]) -> str:
    rows = []
    for region in SHIPPING_REGIONS:
        if region not in fees:
            continue
        rows.append(
            '<div class="ships_to">'
            + _select("shipping_fees_region[]", SHIPPING_REGIONS, region).replace(
                ' id="shipping_fees_region[]"', ""
            )
            + f'<input type="text" name="shipping_fees_fee[]" value="{_e(fees[region])}">'
            + '<a href="#" class="remove_ships_to">Remove</a></div>'
        )
    return "".join(rows)


def _media_rows(media: list[Record], base_url: str) -> str:
    rows = []
    for item in media:
        rows.append(
            f'<div class="dz-preview dz-complete" data-media-id="{item["media_id"]}">'
            f'<img src="{_e(base_url + item["path"])}" width="80" alt="">'
            f'<input type="hidden" name="thumb_name[]" value="{_e(item["file_name"])}">'
            '<input type="hidden" name="file_unique_id[]" value="">'
            f'<input type="hidden" name="product_media_id[]" value="{item["media_id"]}">'
            f'<input type="hidden" name="original_name[]" value="{_e(item["file_name"])}">'
            '<input type="hidden" name="media_type[]" value="photo">'
            f'<input type="hidden" name="size[]" value="{item["size"]}">'
            '<input type="hidden" name="new_upload[]" value="0">'
            '<input type="hidden" name="video_file_name[]" value="">'
            '<input type="hidden" name="description_name[]" value="">'
            '<a href="#" class="dz-remove">Remove file</a></div>'
        )
    return "".join(rows)


_FORM_SCRIPT = """
(function () {
  var tree = window.VR_CATEGORIES;
  function childrenOf(path) {
    var nodes = tree;
    for (var i = 0; i < path.length; i++) {
      var found = null;
      for (var j = 0; j < nodes.length; j++) { if (nodes[j].id === path[i]) { found = nodes[j]; } }
      if (!found) { return []; }
      nodes = found.children || [];
    }
    return nodes;
  }
  function fill(level) {
    var path = [];
    for (var i = 0; i < level; i++) {
      var value = document.getElementById("categ_level_" + i).value;
      if (!value) { break; }
      path.push(value);
    }
    for (var k = level; k < 4; k++) {
      var select = document.getElementById("categ_level_" + k);
      select.innerHTML = "";
      var options = (k === path.length) ? childrenOf(path) : [];
      select.disabled = options.length === 0;
      var blank = document.createElement("option");
      blank.value = ""; blank.textContent = options.length ? "Please select" : "";
      select.appendChild(blank);
      options.forEach(function (node) {
        var option = document.createElement("option");
        option.value = node.id; option.textContent = node.name;
        select.appendChild(option);
      });
      var wanted = select.getAttribute("data-selected");
      if (wanted && options.some(function (n) { return n.id === wanted; })) {
        select.value = wanted;
        select.removeAttribute("data-selected");
        path.push(wanted);
      }
    }
  }
  for (var level = 0; level < 4; level++) {
    (function (l) {
      document.getElementById("categ_level_" + l).addEventListener("change", function () { fill(l + 1); });
    })(level);
  }
  fill(0);
  var banner = document.getElementById("cookie-banner");
  if (banner) {
    banner.querySelector(".cc-nb-okagree").addEventListener("click", function () {
      document.cookie = "cookieconsent_status=allow; path=/";
      banner.parentNode.removeChild(banner);
    });
  }
  document.getElementById("submit_step_1").addEventListener("click", function (event) {
    event.preventDefault();
    document.getElementById("add_edit_item_form").submit();
  });
})();
"""


def item_form_page(
    *,
    username: str,
    form_token: str,
    values: Values,
    item: Record | None,
    errors: Sequence[str] = (),
    base_url: str,
    show_cookie_banner: bool,
) -> str:
    """The add form (``item`` None) or the edit form prefilled with ``values``.

    The edit form's description textarea holds the stored HTML escaped twice (TinyMCE's stored entities):
    what a browser or parser reads back is escaped HTML, so posting it again corrupts the description.
    """
    action = "/instruments/add_edit_item" + (f"/{item['id']}" if item else "")
    alert = (
        '<div class="alert alert-danger"><ul>' + "".join(f"<li>{_e(m)}</li>" for m in errors) + "</ul></div>"
        if errors
        else ""
    )
    categories = list(values.get("categories") or [])
    category_selects = "".join(
        f'<select name="categ_level_{level}" id="categ_level_{level}" class="categ_select"'
        + (f' data-selected="{_e(categories[level])}"' if level < len(categories) else "")
        + "></select>"
        for level in range(4)
    )
    description = values.get("description") or ""
    textarea = _e(_e(description)) if item is not None else _e(description)
    fees = values.get("shipping_fees")
    shipping = _shipping_rows(DEFAULT_SHIPPING_FEES if fees is None else fees)
    if item is None:
        images = "".join(
            f'<input type="file" name="image_{n}" id="upload_file_box_{n}" accept="image/*">'
            for n in range(1, MAX_IMAGES + 1)
        )
    else:
        images = (
            f'<div id="item_dropzone" class="dropzone" data-upload-url="/ajax/dropzone_upload/{SELLER_USER_ID}">'
            f"{_media_rows(list(values.get('media') or []), base_url)}</div>"
        )
    banner = (
        '<div id="cookie-banner" class="cc-nb-main-container" style="position:fixed;top:0;left:0;right:0;'
        'bottom:0;background:rgba(0,0,0,0.6);z-index:10000"><div class="cc-nb-text" style="background:#fff;'
        'padding:2em;margin:20% auto;width:50%">We use cookies to improve your experience. '
        '<button type="button" class="cc-nb-okagree">I agree</button></div></div>'
        if show_cookie_banner
        else ""
    )
    checkbox = {name: bool(values.get(name)) for name in (
        "call_price", "available_for_shipment", "local_pickup", "show_vat", "in_collective", "in_inventory",
        "in_reseller", "buy_now", "free_shipping",
    )}  # fmt: skip
    body = (
        f"{banner}<h1>{'Edit item' if item else 'Add a new item'}</h1>{alert}"
        f'<form id="add_edit_item_form" method="post" action="{action}" enctype="multipart/form-data">'
        f'<input type="hidden" name="form_token" value="{_e(form_token)}">'
        f'<input type="hidden" name="user_id" value="{SELLER_USER_ID}">'
        f'<input type="hidden" name="item_id" value="{_e(item["id"] if item else "")}">'
        '<input type="hidden" name="step" value="1">'
        + _text(
            "recipient_name",
            "Brand",
            values.get("brand"),
            autocomplete="off",
            **{"data-suggest-url": "/ajax/get_suggested_brands_name"},
        )
        + _text("model_name", "Model", values.get("model"))
        + _text("year", "Year", values.get("year"))
        + '<div class="form-group"><label for="decade">Decade</label>'
        + _select("decade", ("", *DECADES), values.get("decade") or "")
        + "</div>"
        + _text("finish_color", "Finish / colour", values.get("finish"))
        + f'<div class="form-group categories"><label>Category</label>{category_selects}</div>'
        + f'<div class="form-group"><label for="item_desc">Description</label>'
        f'<textarea name="item_desc" id="item_desc" class="tinymce" rows="12">{textarea}</textarea></div>'
        + _text("price", "Price (GBP)", values.get("price"))
        + _text("discounted_price", "Discounted price", values.get("discounted_price"))
        + _checkbox("call_price", "Call for price", checkbox["call_price"])
        + _text("external_id", "Your reference (SKU)", values.get("external_id"))
        + _text("processing_time", "Processing time", values.get("processing_time"))
        + _select("hours_days_sel", ("Days", "Weeks"), values.get("processing_unit") or "Days")
        + _checkbox("available_for_shipment", "Available for shipment", checkbox["available_for_shipment"])
        + _checkbox("local_pickup", "Local pickup", checkbox["local_pickup"])
        + _checkbox("show_vat", "Show VAT", checkbox["show_vat"])
        + _checkbox("free_shipping", "Free shipping", checkbox["free_shipping"])
        + _checkbox("in_collective", "List in the V&R Collective", checkbox["in_collective"])
        + _checkbox("in_inventory", "Show in inventory", checkbox["in_inventory"])
        + _checkbox("in_reseller", "Reseller network", checkbox["in_reseller"])
        + _checkbox("buy_now", "Buy now", checkbox["buy_now"])
        + _text("collective_discount", "Collective discount (%)", values.get("collective_discount"))
        + _text("offer_discount", "Offer discount (%)", values.get("offer_discount"))
        + _text("youtube_upload", "YouTube link", values.get("video_url"))
        + _text("external_url", "External link", values.get("external_url"))
        + f'<div class="form-group shipping"><label>Shipping fees</label>{shipping}</div>'
        + f'<div class="form-group images"><label>Images (up to {MAX_IMAGES})</label>{images}</div>'
        + '<a href="#" id="submit_step_1" class="btn btn-primary save_changes">Save and continue</a>'
        + "</form>"
        + f"<script>window.VR_CATEGORIES = {json.dumps(category_tree())};</script>"
        + f"<script>{_FORM_SCRIPT}</script>"
    )
    return layout("Edit item" if item else "Add item", body, logged_in=True, username=username)


def form_values(record: Record) -> Values:
    """An item as the edit form shows it."""
    return dict(record)


def submitted_values(values: list[tuple[str, str]]) -> Values:
    """What the user typed, to show the form again after an error (descriptions stay as typed)."""
    first: dict[str, str] = {}
    for key, value in values:
        first.setdefault(key, value)
    categories = [first.get(f"categ_level_{level}", "") for level in range(4)]
    while categories and not categories[-1]:
        categories.pop()
    regions = [v for k, v in values if k == "shipping_fees_region[]"]
    fees = [v for k, v in values if k == "shipping_fees_fee[]"]
    return {
        "brand": first.get("recipient_name"),
        "model": first.get("model_name"),
        "year": first.get("year"),
        "decade": first.get("decade"),
        "finish": first.get("finish_color"),
        "description": first.get("item_desc"),
        "price": first.get("price"),
        "discounted_price": first.get("discounted_price"),
        "external_id": first.get("external_id"),
        "processing_time": first.get("processing_time"),
        "processing_unit": first.get("hours_days_sel"),
        "collective_discount": first.get("collective_discount"),
        "offer_discount": first.get("offer_discount"),
        "video_url": first.get("youtube_upload"),
        "external_url": first.get("external_url"),
        "categories": categories,
        "shipping_fees": dict(zip(regions, fees, strict=False)),
        **{
            name: first.get(name) == "1"
            for name in (
                "call_price",
                "available_for_shipment",
                "local_pickup",
                "show_vat",
                "in_collective",
                "in_inventory",
                "in_reseller",
                "buy_now",
                "free_shipping",
            )
        },  # fmt: skip
    }
