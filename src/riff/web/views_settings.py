"""Settings (``/settings``): channel accounts (secrets are write-only: the page only says which are set),
category mappings, users (owners only) and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from riff.auth import service as auth
from riff.auth.deps import CurrentUser, Owner, Writer
from riff.auth.models import Role, User
from riff.channels import service as channels
from riff.channels.registry import CHANNELS, channel_class
from riff.channels.schemas import AccountCreate, AccountUpdate
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError, ValidationFailed
from riff.core.logging import get_logger
from riff.core.security import SecretBox
from riff.web.common import is_owner
from riff.web.repository import UiRepository
from riff.web.templating import flash, forget_sandbox_mode, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

SCALAR_TYPES = ("string", "integer", "number", "boolean")
CONFIG_PREFIX = "config."
SECRET_PREFIX = "secret."
CLEAR_SECRET_PREFIX = "clear_secret."


# ---- channel model schemas -> form fields ----------------------------------------------------------


def _model_fields(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The scalar fields of a channel's config/secrets model, as form field descriptions."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema.get("properties", {}).items():
        types = [p.get("type") for p in prop.get("anyOf", [])] if "anyOf" in prop else [prop.get("type")]
        kind = next((t for t in types if t in SCALAR_TYPES), None)
        if kind is None:
            continue  # lists and objects are kept by RIFF itself (e.g. eBay call usage)
        fields.append(
            {
                "name": name,
                "type": kind,
                "title": prop.get("title") or name.replace("_", " ").capitalize(),
                "description": prop.get("description"),
                "default": prop.get("default"),
                "required": name in required,
                "secret": prop.get("format") == "password" or prop.get("writeOnly", False),
            }
        )
    return fields


def channel_forms() -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {
        slug: {"config": _model_fields(cls.config_model), "secrets": _model_fields(cls.secrets_model)}
        for slug, cls in CHANNELS.items()
    }


def _typed(kind: str, raw: str) -> Any:
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValidationFailed(f"{raw!r} is not a whole number") from None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValidationFailed(f"{raw!r} is not a number") from None
    if kind == "boolean":
        return raw == "true"
    return raw


def _config_from_form(form: Any, fields: list[dict[str, Any]], *, removing: bool) -> dict[str, Any]:
    """Form values -> config; a blank field is left out (create) or removed, i.e. back to its default (edit)."""
    config: dict[str, Any] = {}
    for field in fields:
        raw = str(form.get(CONFIG_PREFIX + field["name"]) or "").strip()
        if raw:
            config[field["name"]] = _typed(field["type"], raw)
        elif removing:
            config[field["name"]] = None
    return config


def _secrets_from_form(form: Any, fields: list[dict[str, Any]]) -> dict[str, str | None]:
    secrets: dict[str, str | None] = {}
    for field in fields:
        raw = str(form.get(SECRET_PREFIX + field["name"]) or "").strip()
        if raw:
            secrets[field["name"]] = raw
        elif form.get(CLEAR_SECRET_PREFIX + field["name"]):
            secrets[field["name"]] = None
    return secrets


# ---- page -----------------------------------------------------------------------------------------------


def _tokens_context(session: Session, user: User) -> dict[str, Any]:
    if user.role == Role.OWNER:
        tokens = [(token, owner) for token, owner in auth.list_all_api_tokens(session)]
    else:
        tokens = [(token, user) for token in auth.list_api_tokens(session, user)]
    return {"tokens": tokens}


def settings_context(request: Request, session: Session, user: User) -> dict[str, Any]:
    box = SecretBox(request.app.state.master_key)
    accounts = [channels.account_read(box, account) for account in channels.list_accounts(session)]
    repository = UiRepository(session)
    return {
        "title": "Settings",
        "accounts": accounts,
        "forms": channel_forms(),
        "channel_slugs": list(CHANNELS),
        "categories": repository.categories(),
        "mappings": repository.category_mappings(),
        "users": auth.list_users(session) if user.role == Role.OWNER else [],
        "roles": [r.value for r in Role],
        "owner": is_owner(user),
        **_tokens_context(session, user),
    }


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: ReadSession, user: CurrentUser) -> HTMLResponse:
    return render(request, "settings/index.html", settings_context(request, session, user))


@router.get("/settings/accounts/fields", response_class=HTMLResponse)
def account_fields(request: Request, _user: Owner, channel: str = "") -> HTMLResponse:
    forms = channel_forms()
    return render(
        request,
        "settings/partials/account_fields.html",
        {
            "fields": forms.get(channel, {"config": [], "secrets": []}),
            "config": {},
            "secret_keys": [],
            "prefix": "new",
        },
    )


@router.post("/settings/accounts")
async def create_account(request: Request, user: Owner) -> Response:
    form = await request.form()
    slug = str(form.get("channel") or "")
    try:
        cls = channel_class(slug)
        forms = {"config": _model_fields(cls.config_model), "secrets": _model_fields(cls.secrets_model)}
        data = AccountCreate(
            channel=slug,
            name=str(form.get("name") or "default").strip() or "default",
            enabled=True,
            is_sandbox=form.get("is_sandbox") == "on",
            base_url=str(form.get("base_url") or "").strip() or None,
            config=_config_from_form(form, forms["config"], removing=False),
            secrets={k: v for k, v in _secrets_from_form(form, forms["secrets"]).items() if v is not None},
        )
        with get_database(request).session() as session:
            account = channels.create_account(session, SecretBox(request.app.state.master_key), data)
            flash(request, f"Added the {slug} account {account.name!r}.", "success")
        log.info("web.settings.account.created", channel=slug, actor=user.username)
    except ValidationError as exc:
        flash(request, f"Account not added: {exc.errors()[0]['msg']}", "error")
    except RiffError as exc:
        flash(request, f"Account not added: {exc.message}", "error")
    forget_sandbox_mode(request)
    return redirect(request, "/settings#accounts")


@router.post("/settings/accounts/{account_id}")
async def update_account(request: Request, account_id: int, user: Owner) -> Response:
    form = await request.form()
    try:
        with get_database(request).session() as session:
            account = channels.get_account(session, account_id)
            cls = channel_class(account.channel)
            data = AccountUpdate(
                name=str(form.get("name") or account.name).strip() or account.name,
                enabled=form.get("enabled") == "on",
                is_sandbox=form.get("is_sandbox") == "on",
                base_url=str(form.get("base_url") or "").strip() or None,
                config=_config_from_form(form, _model_fields(cls.config_model), removing=True),
                secrets=_secrets_from_form(form, _model_fields(cls.secrets_model)) or None,
            )
            channels.update_account(session, SecretBox(request.app.state.master_key), account, data)
        flash(request, f"Saved the {account.channel} account {account.name!r}.", "success")
        log.info("web.settings.account.updated", account_id=account_id, actor=user.username)
    except ValidationError as exc:
        flash(request, f"Not saved: {exc.errors()[0]['msg']}", "error")
    except RiffError as exc:
        flash(request, f"Not saved: {exc.message}", "error")
    forget_sandbox_mode(request)
    return redirect(request, f"/settings#account-{account_id}")


@router.post("/settings/category-mappings")
async def save_category_mappings(request: Request, user: Writer) -> Response:
    form = await request.form()
    saved = 0
    with get_database(request).session() as session:
        repository = UiRepository(session)
        existing = repository.category_mappings()
        for category in repository.categories():
            for slug in CHANNELS:
                key = f"mapping.{category.id}.{slug}"
                if key not in form:
                    continue
                ids = [part.strip() for part in str(form.get(key) or "").split(",") if part.strip()]
                current = existing.get((category.id, slug))
                if ids == list(current.remote_ids if current else []):
                    continue
                names = list(current.remote_names) if current and current.remote_ids == ids else []
                repository.upsert_category_mapping(category.id, slug, ids, names)
                saved += 1
    flash(request, f"Saved {saved} category mapping(s)." if saved else "No mapping changed.", "success")
    log.info("web.settings.mappings.saved", changed=saved, actor=user.username)
    return redirect(request, "/settings#mappings")


# ---- users (owners) --------------------------------------------------------------------------------------


@router.post("/settings/users")
async def create_user(request: Request, user: Owner) -> Response:
    form = await request.form()
    try:
        with get_database(request).session() as session:
            created = auth.create_user(
                session,
                username=str(form.get("username") or ""),
                password=str(form.get("password") or ""),
                role=Role(str(form.get("role") or Role.STAFF.value)),
                email=str(form.get("email") or "").strip() or None,
            )
            flash(request, f"Added user {created.username}.", "success")
        log.info("web.settings.user.created", actor=user.username)
    except (RiffError, ValueError) as exc:
        flash(request, f"User not added: {getattr(exc, 'message', str(exc))}", "error")
    return redirect(request, "/settings#users")


@router.post("/settings/users/{user_id}")
async def update_user(request: Request, user_id: int, user: Owner) -> Response:
    form = await request.form()
    try:
        with get_database(request).session() as session:
            target = auth.get_user(session, user_id)
            auth.update_user(
                session,
                target,
                role=Role(str(form.get("role") or target.role.value)),
                is_active=form.get("is_active") == "on",
                password=str(form.get("password") or "") or None,
            )
            flash(request, f"Saved user {target.username}.", "success")
        log.info("web.settings.user.updated", user_id=user_id, actor=user.username)
    except (RiffError, ValueError) as exc:
        flash(request, f"Not saved: {getattr(exc, 'message', str(exc))}", "error")
    return redirect(request, "/settings#users")


# ---- API tokens ------------------------------------------------------------------------------------------


def _tokens_section(request: Request, user: User, created: str | None = None) -> HTMLResponse:
    with get_database(request).read_session() as session:
        context = {**_tokens_context(session, user), "created_token": created, "owner": is_owner(user)}
        return render(request, "settings/partials/tokens.html", context)


@router.post("/settings/tokens", response_class=HTMLResponse)
async def create_token(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    days_text = str(form.get("expires_in_days") or "").strip()
    plaintext: str | None = None
    try:
        with get_database(request).session() as session:
            owner = auth.get_user(session, user.id)
            expires = auth.token_expiry(int(days_text)) if days_text.isdigit() else None
            _, plaintext = auth.create_api_token(
                session, owner, name=str(form.get("name") or ""), expires_at=expires
            )
        log.info("web.settings.token.created", actor=user.username)
    except RiffError as exc:
        flash(request, f"Token not created: {exc.message}", "error")
    # Shown once, in this response only: never flashed (the session cookie is signed, not encrypted).
    return _tokens_section(request, user, plaintext)


@router.post("/settings/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, token_id: int, user: CurrentUser) -> Response:
    try:
        with get_database(request).session() as session:
            auth.revoke_api_token(session, token_id, actor=user)
        flash(request, "Token revoked.", "success")
    except RiffError as exc:
        flash(request, exc.message, "error")
    return _tokens_section(request, user)
