"""Uploads: accept only what the content says it is (magic bytes, not the client's claim),
within a size limit; store under a random name with a fixed extension; never execute or inline it."""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from tongban.core import clock

from .models import Attachment, Case

# content type -> (extension, leading bytes that identify it)
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "image/jpeg": ("jpg", (b"\xff\xd8\xff",)),
    "image/png": ("png", (b"\x89PNG\r\n\x1a\n",)),
    "image/gif": ("gif", (b"GIF87a", b"GIF89a")),
    "image/webp": ("webp", (b"RIFF",)),  # plus "WEBP" at offset 8, checked below
    "application/pdf": ("pdf", (b"%PDF-",)),
}
LABEL = "JPG、PNG、GIF、WEBP 图片或 PDF 文件"


def max_bytes() -> int:
    return getattr(settings, "TONGBAN_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)


def sniff(head: bytes) -> str | None:
    """The content type the bytes themselves declare, or None."""
    for kind, (_, magics) in KINDS.items():
        if any(head.startswith(m) for m in magics):
            if kind == "image/webp" and head[8:12] != b"WEBP":
                continue
            return kind
    return None


def check(upload) -> tuple[str, bytes]:
    """Validate an uploaded file; returns (content type, bytes) or raises ValidationError in Chinese."""
    name = getattr(upload, "name", "") or "附件"
    size = getattr(upload, "size", None)
    limit = max_bytes()
    if size is not None and size > limit:
        raise ValidationError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB 的大小限制。")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB 的大小限制。")
    if not data:
        raise ValidationError(f"文件“{name}”是空文件。")
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationError(f"文件“{name}”的格式不受支持：只接受 {LABEL}。")
    return kind, data


def attach(case: Case, upload, *, by=None) -> Attachment:
    """Check `upload` and store it as an attachment of `case`."""
    kind, data = check(upload)
    ext = KINDS[kind][0]
    original = (getattr(upload, "name", "") or f"附件.{ext}").replace("/", "_").replace("\\", "_")[-200:]
    att = Attachment(case=case, name=original, content_type=kind, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), uploaded_by=by, created_at=clock.now())
    att.file.save(f"{secrets.token_hex(16)}.{ext}", ContentFile(data), save=False)
    att.save()
    return att
