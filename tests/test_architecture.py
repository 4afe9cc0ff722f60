"""The app graph of ARCHITECTURE.md, checked by import-linter (`make lint`): layered apps with no circle
between them, each talking to another only through its api.py. A deliberate breach must fail."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_app_is_in_the_contracts():
    """A new app must join the layers and the doors, or it could import anything unseen."""
    config = _config()
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps | {"config"} <= set(config["root_packages"])
    layered = {name.strip() for layer in config["contracts"][0]["layers"] for name in layer.split("|")}
    assert apps <= layered
    assert apps <= set(config["contracts"][1]["apps"])
    assert all((ROOT / app / "api.py").is_file() for app in apps), "every app has an api.py door"


def test_the_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("app", "probe", "contract"),
    [
        ("courses", "from billing import api\n", "Apps are layered"),  # upwards: courses sits below billing
        ("grading", "from courses import models\n", "Apps talk through their doors"),  # behind courses' door
        ("quizzes", "from courses.selectors import catalog\n", "Apps talk through their doors"),
        ("access", "from courseware import api\n", "Apps are layered"),
    ],
)
@pytest.mark.slow
def test_a_deliberate_breach_fails_the_lint(tmp_path, app, probe, contract):
    for name in _config()["root_packages"]:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / app / "_breach.py").write_text(probe)
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    assert f"{app}._breach" in result.stdout
