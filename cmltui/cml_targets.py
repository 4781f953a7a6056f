"""Which URL and credentials to use for each worker's CML API (SPEC §3.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cmltui.config import CmlConfig, ConfigError, CredentialOverride, resolve_password
from cmltui.domain.tags import CML_URL_TAG
from cmltui.sources.aws_ec2 import Ec2Instance
from cmltui.sources.cml_client import CMLTarget


@dataclass(frozen=True)
class _Credentials:
    username: str
    password: str


class CMLTargetResolver:
    """Resolves passwords once (env or command), then answers per worker without I/O."""

    def __init__(self, config: CmlConfig, env: Mapping[str, str]) -> None:
        self._config = config
        self._default = _Credentials(config.username, resolve_password(config, env) or "")
        self._overrides: list[tuple[CredentialOverride, _Credentials]] = []
        for override in config.overrides:
            password = resolve_password(override, env)
            if password is None and not (override.password_env or override.password_command):
                password = self._default.password
            if password is None:
                raise ConfigError(
                    f"cml.overrides: password variable {override.password_env} is not set"
                )
            username = override.username or config.username
            self._overrides.append((override, _Credentials(username, password)))

    def base_url(self, instance: Ec2Instance) -> str | None:
        """The `cmltui:cml-url` tag, else https:// plus the configured address."""
        tagged = instance.tags.get(CML_URL_TAG)
        if tagged:
            return tagged.rstrip("/")
        address = {
            "public": instance.public_ip,
            "private": instance.private_ip,
            "public_dns": instance.public_dns,
            "private_dns": instance.private_dns,
        }[self._config.address]
        return f"https://{address}" if address else None

    def target(self, instance: Ec2Instance, base_url: str) -> CMLTarget:
        creds = self._default
        for override, override_creds in self._overrides:
            value = instance.tags.get(override.tag)
            if value is not None and (override.value is None or override.value == value):
                creds = override_creds
                break
        return CMLTarget(
            worker_id=instance.instance_id,
            base_url=base_url,
            username=creds.username,
            password=creds.password,
        )
