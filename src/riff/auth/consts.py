"""Auth constants, including THE list of routes that need no login.

Every other route needs a session or a bearer token: the auth gate
(``riff.web.middleware.AuthGateMiddleware``) enforces it for the whole app, so a new router is
private unless its path is listed here.
"""

from __future__ import annotations

# Exact paths anyone may call.
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/version",
        "/login",  # the HTML login form (GET) and its POST
        "/api/auth/login",  # the JSON login
    }
)
# Path prefixes anyone may call: static assets; the public storefront feed (/api/data*, the
# search and the stats the shop's own website reads without credentials); and marketplace
# webhooks, which authenticate by the secret token in their path (riff.channels.endpoints).
PUBLIC_PATH_PREFIXES = ("/static/", "/api/data", "/api/search", "/api/stats", "/webhooks/")

# Unsafe requests to these paths need no CSRF token. The JSON login runs before any session
# exists, and FastAPI refuses a JSON body without an ``application/json`` content type, which a
# cross-site page cannot send without a CORS preflight (we never grant one). The HTML login form
# is NOT listed: it carries a token so nobody can log a victim in as someone else.
CSRF_EXEMPT_PATHS = frozenset({"/api/auth/login"})
# Webhooks are server-to-server calls that carry no session; the secret path token is their credential.
CSRF_EXEMPT_PATH_PREFIXES = ("/webhooks/",)

# Routes under this prefix speak JSON: unauthenticated calls get 401, not a redirect to /login.
API_PREFIX = "/api/"

LOGIN_PATH = "/login"

# Session keys (the session is a signed cookie; see riff.app.create_app).
SESSION_USER_KEY = "user_id"
SESSION_AUTH_KEY = "auth"  # fingerprint of the password hash: a password change ends other sessions
SESSION_CSRF_KEY = "csrf"
SESSION_FLASH_KEY = "flashes"

CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"

MIN_PASSWORD_LENGTH = 8
GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters
API_TOKEN_MAX_EXPIRY_DAYS = 3650
# Touch api_tokens.last_used_at at most this often: a busy script should not turn every read into a write.
TOKEN_TOUCH_INTERVAL_SECONDS = 60
# Login attempts are kept this long (or the throttle window, if longer) for the audit trail, then pruned.
LOGIN_ATTEMPT_RETENTION_SECONDS = 24 * 60 * 60
USERNAME_MAX_LENGTH = 120
IP_MAX_LENGTH = 64


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PATH_PREFIXES)


def is_csrf_exempt_path(path: str) -> bool:
    return path in CSRF_EXEMPT_PATHS or path.startswith(CSRF_EXEMPT_PATH_PREFIXES)
