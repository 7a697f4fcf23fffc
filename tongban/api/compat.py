"""django-ninja ≥ 1.6 wants Status(code, body); older releases (pyproject allows ≥ 1.4) want a tuple."""
try:
    from ninja import Status
except ImportError:  # pragma: no cover - older django-ninja
    def Status(status_code, value):  # noqa: N802
        return status_code, value

__all__ = ["Status"]
