"""Addresses as people outside the office reach them (SMS, QR codes, door plates, receipts)."""
from django.conf import settings


def public_url(path: str = "") -> str:
    """TONGBAN_PUBLIC_URL + path, e.g. public_url("/p/track/") → https://12345.example.gov.cn/p/track/."""
    return settings.TONGBAN_PUBLIC_URL.rstrip("/") + path
