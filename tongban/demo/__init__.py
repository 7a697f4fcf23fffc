"""`tongban demo`: 虚构示范数据 — the fictional county 示范市青溪县 with its 12345 hotline.

A plain package (not a Django app): ``build.build()`` creates the organisation, an account for
every role (shared password ``content.PASSWORD``), the taxonomy with default units, and N
requests that are driven through the real hotline services on a replayed clock.
"""
from .content import FICTION_NOTE, PASSWORD

__all__ = ["FICTION_NOTE", "PASSWORD"]
