"""Password hashing, API token generation and encryption of secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pwdlib import PasswordHash

from riff.core.settings import Settings

_password_hash = PasswordHash.recommended()  # argon2id with the library's current parameters

API_TOKEN_PREFIX = "riff_"
KEY_FILE_NAME = "secret.key"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _password_hash.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    # Tokens are high-entropy random strings, so a fast hash is enough (and lets us index it);
    # argon2 is for low-entropy human passwords.
    return hashlib.sha256(token.encode()).hexdigest()


def load_secret_key(settings: Settings) -> bytes:
    """The master key: RIFF_SECRET_KEY if set, else a key file created in the data dir on first run."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_bytes().strip()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _derive(master: bytes, purpose: str) -> bytes:
    return hashlib.sha256(purpose.encode() + b"\x00" + master).digest()


class SecretBox:
    """Fernet (AES-128-CBC + HMAC) keyed from the master key, for channel credentials at rest."""

    def __init__(self, master_key: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(master_key, "riff.secrets")))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the current RIFF_SECRET_KEY") from exc


def session_signing_key(master_key: bytes) -> str:
    return base64.urlsafe_b64encode(_derive(master_key, "riff.sessions")).decode()
