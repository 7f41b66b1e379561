"""Rebuild the committed example workbooks: ``python inputs/make_examples.py``.

The rows live in :mod:`model.input.examples` (so that ``ree-plan serve`` has them when installed);
this script writes them into this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from model.input.examples import national_plan, small_example, write_examples  # noqa: E402

__all__ = ["main", "national_plan", "small_example"]


def main(folder: Path = HERE) -> None:
    """Write both examples into ``folder`` (the committed ones: this folder)."""
    write_examples(folder)


if __name__ == "__main__":
    main()
