"""诉求分类 (three-level taxonomy) loader.

The CSV has a header row with the columns ``level1,level2,level3`` (UTF-8, a BOM is fine).
Every row names one path; ``level2``/``level3`` may be empty to create only the upper levels.
Loading is idempotent: categories are matched by ``full_name`` ("一级/二级/三级"), existing ones
are left as they are (an administrator may have renamed their default unit or deactivated them),
only missing ones are created.

The product ships the 15 first-level categories of the 2020 TipDM Cup public data set
(``tongban/hotline/data/taxonomy.csv``, 517 three-level paths).
"""
from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from tongban.cases.models import Category

DEFAULT_TAXONOMY = Path(__file__).resolve().parent / "data" / "taxonomy.csv"
COLUMNS = ("level1", "level2", "level3")
SEPARATOR = "/"


class TaxonomyError(ValueError):
    """The file cannot be loaded. The message is in Chinese and names the problem."""


def read_paths(path: str | Path | None = None) -> list[tuple[str, ...]]:
    """The category paths in the file, in file order, each a tuple of 1–3 names."""
    path = Path(path) if path else DEFAULT_TAXONOMY
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "level1" not in header:
                raise TaxonomyError(f"文件“{path}”缺少表头 level1,level2,level3（第一行应为列名）。")
            reader.fieldnames = header
            paths = []
            for lineno, row in enumerate(reader, start=2):
                names = [(row.get(c) or "").strip() for c in COLUMNS]
                if not any(names):
                    continue
                while names and not names[-1]:
                    names.pop()
                if not all(names):
                    raise TaxonomyError(f"第 {lineno} 行：上级分类为空，但填写了下级分类。")
                for name in names:
                    if SEPARATOR in name:
                        raise TaxonomyError(f"第 {lineno} 行：分类名称“{name}”不能包含“{SEPARATOR}”。")
                    if len(name) > Category._meta.get_field("name").max_length:
                        raise TaxonomyError(f"第 {lineno} 行：分类名称“{name}”过长（最多 64 字）。")
                paths.append(tuple(names))
    except FileNotFoundError:
        raise TaxonomyError(f"找不到分类文件“{path}”。") from None
    except UnicodeDecodeError:
        raise TaxonomyError(f"文件“{path}”不是 UTF-8 编码，请另存为 UTF-8 格式的 CSV。") from None
    except csv.Error as exc:
        raise TaxonomyError(f"文件“{path}”不是有效的 CSV：{exc}") from None
    if not paths:
        raise TaxonomyError(f"文件“{path}”中没有任何分类。")
    return paths


def load_taxonomy(path: str | Path | None = None) -> int:
    """Create the missing categories of the file (default: the shipped taxonomy).

    Returns the number of categories created (0 when everything already exists).
    Raises TaxonomyError (Chinese message) for an unreadable or malformed file; nothing is
    created then.
    """
    paths = read_paths(path)
    created = 0
    with transaction.atomic():
        known = {c.full_name: c for c in Category.objects.all()}
        for names in paths:
            parent = None
            for level, name in enumerate(names, start=1):
                full_name = SEPARATOR.join(names[:level])
                node = known.get(full_name)
                if node is None:
                    node = Category.objects.create(name=name, level=level, parent=parent, full_name=full_name)
                    known[full_name] = node
                    created += 1
                parent = node
    return created
