"""Declarative presets kept beside the package: `search/`, `models/`, `targets/` (TOML files)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_preset(kind: str, name_or_path: str) -> dict:
    """Read a preset by name (`targets/host`) or by a path to a TOML file.

    Raises UserError if the preset does not exist or is not valid TOML.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PROJECT_ROOT / kind / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (PROJECT_ROOT / kind).glob("*.toml"))
        raise UserError(f"unknown {kind} preset '{name_or_path}' (known: {', '.join(known)})")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path}: not valid TOML ({err})") from None
