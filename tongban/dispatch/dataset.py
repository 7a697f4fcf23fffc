"""Labelled message files: CSV with columns id,title,detail,category (others are ignored).

UTF-8 with or without BOM, quoted multi-line fields allowed. Every problem is a DatasetError
whose message is Chinese and names the file, so a command can show it as it is.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

REQUIRED_COLUMNS = ("id", "title", "detail", "category")


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class LabelledMessage:
    id: str
    title: str
    detail: str
    category: str


def read_labelled_csv(path: Path | str) -> list[LabelledMessage]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"找不到文件：{path}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [(h or "").strip() for h in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DatasetError(
                    f"{path}：缺少列 {'、'.join(missing)}（需要 {','.join(REQUIRED_COLUMNS)}，第一行应为表头）"
                )
            reader.fieldnames = header
            rows = []
            for row in reader:
                if not any((v or "").strip() for k, v in row.items() if k is not None):
                    continue  # blank line
                category = (row.get("category") or "").strip()
                if not category:
                    raise DatasetError(f"{path}：第 {reader.line_num} 行（id={row.get('id', '')}）没有分类 category")
                rows.append(
                    LabelledMessage(
                        id=(row.get("id") or "").strip(),
                        title=row.get("title") or "",
                        detail=row.get("detail") or "",
                        category=category,
                    )
                )
    except UnicodeDecodeError:
        raise DatasetError(f"{path}：不是 UTF-8 编码的文本（Excel 导出的 GBK 文件请另存为“CSV UTF-8”）") from None
    except csv.Error as e:
        raise DatasetError(f"{path}：CSV 格式错误（{e}）") from None
    return rows
