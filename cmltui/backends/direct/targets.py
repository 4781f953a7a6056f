"""Which URL and credentials to use for each worker's CML API (README, "Security").

Trust boundary: anyone allowed to tag an instance can set `cmltui:cml-url`. Such a URL is used
only when its host is one of the instance's own addresses or DNS names, or matches
`cml.allowed_hosts`; otherwise the worker gets no target password and is not contacted. A
password is never sent over plain http:// unless `cml.allow_http_hosts` names the host. The
rule itself is `cmltui.domain.addresses.url_refusal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cmltui.config import CmlConfig, ConfigError, CredentialOverride
from cmltui.credentials import resolve_password
from cmltui.domain.addresses import URL_TAG_NOT_TRUSTED, UrlTrust, url_refusal
from cmltui.domain.tags import CML_URL_TAG
from cmltui.sources.aws_ec2 import Ec2Instance
from cmltui.sources.cml_client import CMLTarget
from cmltui.stderr import say


@dataclass(frozen=True)
class _Credentials:
    username: str
    password: str


class CMLTargetResolver:
    """Resolves passwords once (env or command), then answers per worker without I/O."""

    def __init__(self, config: CmlConfig, env: Mapping[str, str]) -> None:
        self._config = config
        self._trust = UrlTrust.of(config.allowed_hosts, config.allow_http_hosts)
        timeout = config.password_command_timeout

        def resolve(source: CmlConfig | CredentialOverride) -> str | None:
            return resolve_password(source, env, timeout=timeout, waiting=say)

        self._default = _Credentials(config.username, resolve(config) or "")
        self._overrides: list[tuple[CredentialOverride, _Credentials]] = []
        for override in config.overrides:
            password = resolve(override)
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
            return tagged.strip().rstrip("/")
        address = {
            "public": instance.public_ip,
            "private": instance.private_ip,
            "public_dns": instance.public_dns,
            "private_dns": instance.private_dns,
        }[self._config.address]
        return f"https://{address}" if address else None

    def refusal(self, instance: Ec2Instance, base_url: str) -> str | None:
        """Why this URL must not get the password (None when it may): the one trust rule,
        `cmltui.domain.addresses.url_refusal`, which also decides what `o` may open."""
        own = None
        if instance.tags.get(CML_URL_TAG):
            own = tuple(
                a
                for a in (
                    instance.public_ip,
                    instance.private_ip,
                    instance.public_dns,
                    instance.private_dns,
                )
                if a
            )
        return url_refusal(base_url, own, self._trust, URL_TAG_NOT_TRUSTED)

    def target(
        self, instance: Ec2Instance, base_url: str, worker_id: str | None = None
    ) -> CMLTarget:
        """`worker_id`, the worker's key (default: the instance id), is what the CML client
        keeps the worker's sessions and counts under."""
        worker_id = worker_id or instance.instance_id
        refusal = self.refusal(instance, base_url)
        if refusal is not None:
            # No password at all: the client cannot send what it does not hold.
            return CMLTarget(
                worker_id=worker_id,
                base_url=base_url,
                username="",
                password="",
                refusal=refusal,
            )
        creds = self._default
        for override, override_creds in self._overrides:
            value = instance.tags.get(override.tag)
            if value is not None and (override.value is None or override.value == value):
                creds = override_creds
                break
        return CMLTarget(
            worker_id=worker_id,
            base_url=base_url,
            username=creds.username,
            password=creds.password,
        )
