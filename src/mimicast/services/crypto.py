"""Secrets at rest: Fernet encryption with a key kept outside the database, argon2 password
hashes, and SHA-256 digests for access keys (looked up, never read back)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("mimicast: a password nobody has")


def verify_password_in_constant_work(stored: str | None, password: str) -> bool:
    """`verify_password`, but without a stored hash the same argon2 work is done against a
    dummy one: how long a login takes must not tell whether the address exists."""
    if not stored:
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(stored, password)


def digest(access_key: str) -> str:
    return hashlib.sha256(access_key.encode()).hexdigest()


class Vault:
    """Encrypts and decrypts secrets with the server key; creates the key file on first use."""

    def __init__(self, key_file: str | Path) -> None:
        key = load_or_create_key(Path(key_file))
        self._fernet = Fernet(key)
        # A separate key for MACs (page tokens, upload URLs), derived so the server key is never
        # reused as is.
        self.mac_key = hmac.new(key, b"mimicast page tokens", hashlib.sha256).digest()

    def encrypt(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()


def load_or_create_key(path: Path) -> bytes:
    env_key = os.environ.get("MIMICAST_SECRET_KEY")
    if env_key:
        return env_key.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Created readable by the owner only, atomically, so two workers starting together agree.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
