"""Several AWS accounts as one fleet: one `AwsSource` (credentials, clients, call counts,
errors) per account, listed in parallel; each worker is acted on through its own account."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

from cmltui.sources.aws import AwsSource, RegionListing


class AwsAccounts:
    """The fleet's sources, by account name (None for the one default account)."""

    def __init__(self, sources: Sequence[AwsSource]) -> None:
        if not sources:
            raise ValueError("at least one AWS source")
        self._sources = {source.account: source for source in sources}

    @classmethod
    def of(cls, aws: AwsSource | AwsAccounts) -> AwsAccounts:
        return aws if isinstance(aws, AwsAccounts) else cls([aws])

    def __iter__(self) -> Iterator[AwsSource]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    @property
    def primary(self) -> AwsSource:
        """The first account: the one prices are read through (they are the same for all)."""
        return next(iter(self._sources.values()))

    @property
    def names(self) -> tuple[str, ...]:
        """The named accounts, in the config's order."""
        return tuple(name for name in self._sources if name is not None)

    def source(self, account: str | None) -> AwsSource:
        return self._sources[account]

    def scopes(self) -> int:
        """How many (account, region) listings a cycle makes."""
        return sum(len(source.regions) for source in self) or 1

    async def list_fleet(self, *, status_checks: bool = True) -> list[RegionListing]:
        """Every account's regions in parallel; one failing account never hides the others."""
        per_account = await asyncio.gather(
            *(source.list_fleet(status_checks=status_checks) for source in self)
        )
        return [listing for listings in per_account for listing in listings]
