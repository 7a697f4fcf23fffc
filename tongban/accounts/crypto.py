"""Encryption of stored second-factor secrets with a key derived from SECRET_KEY (or TONGBAN_TOTP_KEY)."""
import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    material = getattr(settings, "TONGBAN_TOTP_KEY", "") or settings.SECRET_KEY
    key = hashlib.sha256(b"tongban-totp-secret:" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
