"""The panel shown in place of the table when nothing could be listed at all.

With no credentials, denied access or an unreachable endpoint, `run` would otherwise sit on
"waiting for the first collection…". The panel says what failed (per region, as the collector
reported it) and how to fix it, while the core keeps trying.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from cmltui.api.backend import BackendContext
from cmltui.tui.safe import shown_lines

MAX_ERRORS = 8

_FIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("no aws credentials", "credentials rejected", "profile not found"),
        "Give cmltui credentials: `--profile NAME` (or AWS_PROFILE), `aws sso login` for an SSO "
        "profile, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment.",
    ),
    (
        ("access denied",),
        "The identity lacks a permission: it needs ec2:DescribeInstances (and, for the rest, "
        "DescribeInstanceStatus, DescribeImages, CreateTags, StopInstances, StartInstances and "
        "cloudwatch:GetMetricData). Or choose another `--profile`.",
    ),
    (
        ("cannot reach endpoint", "timed out"),
        "Check the network, the region name (`--region`), and `[aws] endpoint_url` in the "
        "config if one is set (a proxy or VPC endpoint).",
    ),
    (
        ("region not enabled", "no aws region"),
        "Choose an enabled region with `--region R` (repeatable) or `[aws] regions`.",
    ),
)


def fixes_for(errors: Sequence[str]) -> list[str]:
    """The advice that applies to these errors, each once, in a fixed order."""
    lowered = [error.lower() for error in errors]
    found = [fix for words, fix in _FIXES if any(w in e for w in words for e in lowered)]
    return found or ["Check the profile (`--profile`), the regions (`--region`) and the log."]


def problem_text(errors: Sequence[str], context: BackendContext, retry_note: str) -> Text:
    text = Text()
    text.append("No workers could be listed\n\n", "bold #ff6b6b")
    where = f"profile {context.profile or '(default)'} · regions {', '.join(context.regions)}"
    text.append(shown_lines(where, indent=2) + "\n\n", "dim")
    for error in errors[:MAX_ERRORS]:
        text.append("  × ", "bold #ff6b6b")
        text.append(shown_lines(error, indent=4, limit=500) + "\n")
    if len(errors) > MAX_ERRORS:
        text.append(f"  … and {len(errors) - MAX_ERRORS} more\n", "dim")
    text.append("\nHow to fix it\n", "bold")
    for fix in fixes_for(errors):
        text.append("  • " + fix + "\n")
    text.append("\n" + retry_note, "dim")
    return text
