"""Settings are data: importing them (and setting Django up) writes nothing to disk. The folders of the
embedded default are made where they are used: the Celery broker's when the Celery app is configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # make check skips it; make test runs it

REPO = Path(__file__).resolve().parent.parent
# Whatever this machine exports for real services or other folders must not leak into the check.
UNSET = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "STATIC_ROOT", "MEDIA_ROOT", "SUBMISSIONS_ROOT")


def _run(code: str, *, settings: str, var_dir: Path, cwd: Path, **extra_env) -> str:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(DJANGO_SETTINGS_MODULE=settings, VAR_DIR=str(var_dir), PYTHONPATH=str(REPO), **extra_env)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize(
    ("module", "extra_env"),
    [
        ("config.settings.dev", {}),
        ("config.settings.test", {}),
        ("config.settings.production", {"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "example.org"}),
    ],
    ids=["dev", "test", "production"],
)
def test_importing_the_settings_and_setting_django_up_writes_nothing(tmp_path, module, extra_env):
    folder = tmp_path / "run"  # the working folder, with VAR_DIR inside it
    folder.mkdir()
    code = f"import importlib, django; importlib.import_module({module!r}); django.setup(); print('ok')"
    assert _run(code, settings=module, var_dir=folder / "var", cwd=folder, **extra_env) == "ok\n"
    assert _everything_under(folder) == []  # not even VAR_DIR itself, nor anything in the working folder


def test_the_filesystem_broker_folders_are_made_when_celery_is_configured(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    code = (
        "import pathlib\n"
        "from config.celery import app\n"
        "assert not pathlib.Path('var').exists()  # importing the app reads no configuration yet\n"
        "print(app.conf.broker_url)\n"
    )
    assert _run(code, settings="config.settings.dev", var_dir=folder / "var", cwd=folder) == "filesystem://\n"
    assert _everything_under(folder) == [
        "var",
        "var/celery-broker",
        "var/celery-broker/control",
        "var/celery-broker/out",
        "var/celery-broker/processed",
    ]
