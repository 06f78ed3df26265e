"""covet.Settings (typed, from the environment, .env and secrets directories, with an error
naming each missing or malformed variable) and Flask's `app.config`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from covet import Covet, Settings
from covet.config import Config
from covet.settings import SettingsConfigDict, SettingsError
from covet.testclient import TestClient
from tests.conftest import ROOT


class ShopSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=None)

    database_url: str
    port: int = 8000
    debug: bool = False


def test_reads_typed_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://db/shop")
    monkeypatch.setenv("SHOP_PORT", "9000")
    monkeypatch.setenv("SHOP_DEBUG", "true")
    settings = ShopSettings()
    assert (settings.database_url, settings.port, settings.debug) == ("postgresql://db/shop", 9000, True)


def test_error_names_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOP_PORT", "eighty")
    with pytest.raises(SettingsError) as caught:
        ShopSettings()
    message = str(caught.value)
    assert "SHOP_DATABASE_URL is not set (field `database_url`)" in message
    assert "SHOP_PORT='eighty'" in message and "valid integer" in message
    assert len(caught.value.problems) == 2


def test_env_file_and_secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHOP_DATABASE_URL", "SHOP_PORT", "SHOP_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("SHOP_PORT=7000\n")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "shop_database_url").write_text("postgresql://secret/shop")

    class FromFiles(ShopSettings):
        model_config = SettingsConfigDict(env_prefix="SHOP_", env_file=tmp_path / ".env", secrets_dir=secrets)

    settings = FromFiles()
    assert (settings.database_url, settings.port) == ("postgresql://secret/shop", 7000)


def test_covet_run_stops_with_the_settings_error(tmp_path: Path) -> None:
    (tmp_path / "needs_settings.py").write_text(
        "from covet import Covet, Settings\n\n"
        "class AppSettings(Settings):\n    secret_key: str\n\n"
        "app = Covet(settings=AppSettings())\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "python")}
    out = subprocess.run(
        [sys.executable, "-m", "covet", "run", "needs_settings:app", "--app-dir", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("Error: AppSettings: 1 setting(s) missing or invalid:")
    assert "SECRET_KEY is not set (field `secret_key`)" in out.stderr
    assert "Traceback" not in out.stderr


def test_app_config_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "sqlite://")
    app = Covet(settings=ShopSettings())
    assert app.config["DATABASE_URL"] == "sqlite://" and app.config["PORT"] == 8000
    assert app.settings.port == 8000

    @app.get("/port")
    async def port() -> dict[str, int]:
        return {"port": app.config["PORT"]}

    with TestClient(app) as client:
        assert client.get("/port").json() == {"port": 8000}


def test_config_the_flask_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config()

    class Defaults:
        SECRET_KEY = "dev"
        helper = "ignored: not uppercase"

    config.from_object(Defaults)
    config.from_mapping({"MAIL_SERVER": "smtp.local", "lower": 1}, MAIL_PORT=25)
    pyfile = tmp_path / "prod.cfg"
    pyfile.write_text("SECRET_KEY = 'prod'\nDEBUG = False\n")
    monkeypatch.setenv("SHOP_CONFIG", str(pyfile))
    assert config.from_envvar("SHOP_CONFIG")
    assert not config.from_pyfile(tmp_path / "missing.cfg", silent=True)
    monkeypatch.setenv("COVET_DEBUG", "true")
    monkeypatch.setenv("COVET_DB__POOL", "5")
    monkeypatch.setenv("COVET_NAME", "plain text")
    config.from_prefixed_env()
    assert config["SECRET_KEY"] == "prod" and config["DEBUG"] is True
    assert config["DB"] == {"POOL": 5} and config["NAME"] == "plain text"
    assert "helper" not in config and "lower" not in config
    assert config.get_namespace("MAIL_") == {"server": "smtp.local", "port": 25}
