"""The sandbox image: its tag (a hash of the recipe) and building it when missing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from .session import InfrastructureError, docker_from_env

REPOSITORY = "mooc-sandbox"
DEFAULT_RECIPE_DIR = Path(__file__).resolve().parents[2] / "platform" / "sandbox"


def _recipe_files(recipe_dir: Path) -> list[str]:
    names = []
    for root, dirs, files in os.walk(recipe_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith((".pyc", "~")) or (name.startswith(".") and name.endswith(".swp")):
                continue
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                continue
            names.append("./" + path.relative_to(recipe_dir).as_posix())
    return sorted(names, key=lambda n: n.encode())


def recipe_hash(recipe_dir: str | os.PathLike = DEFAULT_RECIPE_DIR) -> str:
    """sha256 over every recipe file; matches build-image.sh (sha256sum lines, sorted by path)."""
    recipe_dir = Path(recipe_dir)
    lines = []
    for name in _recipe_files(recipe_dir):
        digest = hashlib.sha256((recipe_dir / name).read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def image_tag(recipe_dir: str | os.PathLike = DEFAULT_RECIPE_DIR) -> str:
    """``mooc-sandbox:<first 12 hex of the recipe hash>``."""
    return f"{REPOSITORY}:{recipe_hash(recipe_dir)[:12]}"


def ensure_image(
    recipe_dir: str | os.PathLike = DEFAULT_RECIPE_DIR,
    force: bool = False,
    *,
    docker_client=None,
    timeout_s: float = 1800.0,
) -> str:
    """Return the image tag, building the image first if the engine does not have it.

    Building runs platform/sandbox/build-image.sh (root, Debian mirror, a few minutes).
    Raises InfrastructureError when the engine is unreachable or the build fails.
    """
    import docker

    recipe_dir = Path(recipe_dir)
    tag = image_tag(recipe_dir)
    client = docker_client or docker_from_env()
    if not force:
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.DockerException as exc:
            raise InfrastructureError(f"Docker engine unreachable: {exc}") from exc
    cmd = ["bash", str(recipe_dir / "build-image.sh")] + (["--force"] if force else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise InfrastructureError(f"sandbox image build timed out after {timeout_s:.0f}s") from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise InfrastructureError(f"sandbox image build failed ({proc.returncode}): {proc.stderr[-3000:]}")
    if lines[-1] != tag:
        raise InfrastructureError(f"build produced {lines[-1]}, expected {tag} (recipe changed meanwhile?)")
    return tag
