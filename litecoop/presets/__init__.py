"""Declarative presets, shipped as package data: `search/` (search settings), `models/` (LLM teams), `targets/`
(hardware targets), one TOML file each."""

from __future__ import annotations

import tomllib
from pathlib import Path

from litecoop.errors import UserError

PRESETS_DIR = Path(__file__).resolve().parent


def load_preset(kind: str, name_or_path: str) -> dict:
    """Read a preset by name (`targets/host`) or by a path to a TOML file.

    Raises UserError if the preset does not exist or is not valid TOML.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PRESETS_DIR / kind / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in (PRESETS_DIR / kind).glob("*.toml"))
        raise UserError(f"unknown {kind} preset '{name_or_path}' (known: {', '.join(known)})")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path}: not valid TOML ({err})") from None
