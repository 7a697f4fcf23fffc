"""通办 tongban：县市一体的政务服务与 12345 接诉即办平台。"""
from .celery import app as celery_app

__all__ = ["celery_app"]
