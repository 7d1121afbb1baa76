"""Reading the environment for the settings: typed values with clear errors, and what the
embedded default keeps in its data folder (the secret key, where `make run` serves)."""

import ipaddress
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def is_ip_port(value: str) -> bool:
    """`IP`, `IPv4:port` or `[IPv6]:port`."""
    host, port = value, "53"
    if value.startswith("["):
        host, _, port = value[1:].partition("]")
        port = port.removeprefix(":") or "53"
    elif value.count(":") == 1:
        host, port = value.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return port.isdigit() and 0 < int(port) < 65536


def secret_key(data_dir: Path) -> str:
    """The SECRET_KEY from the environment, else one generated once and kept in DATA_DIR.

    A self-hosted install must not share a key with every other install, and a
    newcomer must not have to invent one, so the embedded default writes its own.
    """
    if key := env("SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if not path.exists():
        # Written aside and linked into place, so processes starting together
        # all end up with the one key that won.
        draft = path.with_name(f"secret_key.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def served_at(data_dir: Path) -> str:
    """Where `make run` last served this data dir (config/embedded.py writes it)."""
    try:
        return (data_dir / "site_url").read_text().strip()
    except OSError:
        return ""
