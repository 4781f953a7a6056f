"""Turn boto3/botocore failures into short, one-line messages an operator can act on.

Region listings carry these messages instead of raising; actions and CloudWatch reads raise
`AwsActionError` / `AwsReadError`, which carry the AWS error code for callers that branch on it.
"""

from __future__ import annotations

import logging

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from cmltui.domain.sanitize import error_text

log = logging.getLogger(__name__)

_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "Forbidden",
    }
)
_REJECTED = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)


class AwsError(Exception):
    """An AWS call failed. `code` is the AWS error code, or a local one such as NoCredentials."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class AwsActionError(AwsError):
    """A write (CreateTags, StopInstances, StartInstances) failed."""


class AwsReadError(AwsError):
    """A read outside the region listing (CloudWatch) failed."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, else a stable name for the local failure."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return "NoCredentials"
    if isinstance(exc, ProfileNotFound):
        return "ProfileNotFound"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        return "EndpointUnreachable"
    if isinstance(exc, ReadTimeoutError):
        return "ReadTimeout"
    return type(exc).__name__


def describe_error(exc: BaseException, endpoint_url: str | None = None) -> str:
    """A one-line reason without a traceback: what failed and, where known, the AWS code.

    Capped (about 200 characters) and made visible: an unparseable AWS response can carry its
    whole raw body in the message. The full text goes to the log file.
    """
    full = _describe(exc, endpoint_url)
    shown = error_text(full)
    if shown != full:
        log.info("AWS error in full: %s", full)
    return shown


def _describe(exc: BaseException, endpoint_url: str | None) -> str:
    code = error_code(exc)
    if isinstance(exc, ClientError):
        message = _one_line(str(exc.response.get("Error", {}).get("Message") or ""))
        if code in _DENIED:
            return f"access denied ({code})"
        if code in _REJECTED:
            return f"credentials rejected ({code})"
        if code == "OptInRequired":
            return f"region not enabled for this account ({code})"
        return f"{code}: {message}" if message else code
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return "no AWS credentials found"
    if isinstance(exc, ProfileNotFound):
        return f"AWS profile not found ({_one_line(str(exc))})"
    if isinstance(exc, NoRegionError):
        return "no AWS region configured"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
        where = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint_url or "AWS"
        return f"cannot reach endpoint {where}"
    if isinstance(exc, ReadTimeoutError):
        where = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint_url or "AWS"
        return f"timed out reading from {where}"
    if isinstance(exc, BotoCoreError):
        return _one_line(str(exc))
    if isinstance(exc, ResponseParserError):
        return f"unreadable answer: {_one_line(str(exc))}"
    return f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
