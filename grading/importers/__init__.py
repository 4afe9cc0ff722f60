"""Importing assignments: our pack folders, nbgrader source notebooks and Otter Assign master notebooks.

    load_bundle(fmt, source) -> AssignmentBundle     fmt: pack (a folder) | nbgrader | otter (a notebook)
    load_settings(folder) -> dict                    a pack folder's grading settings, validated
    write_pack(bundle, folder, settings=None)        the pack folder; load_bundle("pack", folder) reads it back equal

Every error is a BundleError (a grading.spec.SpecError) whose message names the file, and the cell
or line where that helps. Importers are pure: they read files and never run the notebook's code.
"""

from __future__ import annotations

from pathlib import Path

from grading.spec import AssignmentBundle

from . import nbgrader, otter, pack
from .common import BundleError

FORMATS = ("pack", "nbgrader", "otter")

__all__ = ["FORMATS", "BundleError", "load_bundle", "load_settings", "write_pack"]


def load_bundle(fmt: str, source: Path) -> AssignmentBundle:
    source = Path(source)
    if fmt == "pack":
        return pack.load(source)
    if fmt not in FORMATS:
        raise BundleError(source, f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    if source.is_dir():
        raise BundleError(source, f"the {fmt} format imports one notebook (.ipynb), not a folder")
    return nbgrader.load(source) if fmt == "nbgrader" else otter.load(source)


def load_settings(folder: Path) -> dict:
    return pack.load_settings(Path(folder))


def write_pack(bundle: AssignmentBundle, folder: Path, *, settings: dict | None = None) -> None:
    pack.write(bundle, Path(folder), settings=settings)
