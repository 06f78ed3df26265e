"""`covet.Settings`: typed settings from environment variables, `.env` files and secrets
directories (pydantic-settings), checked when they are created so that a missing or malformed
variable stops the app at startup with a message naming it, not at the first request that
reads it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsConfigDict", "SettingsError"]


class SettingsError(ValueError):
    """Settings that could not be read: one line per variable, named as it is set."""

    def __init__(self, settings: type[BaseSettings], problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{settings.__name__}: {len(problems)} setting(s) missing or invalid:\n{lines}")


class Settings(BaseSettings):
    """Subclass it with typed fields; each is read from the environment variable of its name
    (case-insensitive, after `env_prefix`), else from `.env`, else from a file of its name in
    `secrets_dir` (Docker and Kubernetes secrets), else its default.

        class AppSettings(Settings):
            model_config = SettingsConfigDict(env_prefix="SHOP_", secrets_dir="/run/secrets")
            database_url: str
            debug: bool = False
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(type(self), _problems(type(self), exc)) from None


def _problems(settings: type[BaseSettings], exc: ValidationError) -> list[str]:
    prefix = str(settings.model_config.get("env_prefix") or "")
    problems = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        info = settings.model_fields.get(field)
        alias = info.validation_alias if info is not None and isinstance(info.validation_alias, str) else None
        variable = (alias or f"{prefix}{field}").upper()
        if error["type"] == "missing":
            problems.append(f"{variable} is not set (field `{field}`)")
        else:
            problems.append(f"{variable}={error.get('input')!r}: {error['msg']} (field `{field}`)")
    return problems
