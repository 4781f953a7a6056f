"""AWS answers that are broken or hostile become short, visible, one-line errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.stub import Stubber

from cmltui.sources.aws import AwsSource
from tests.sources.moto_env import isolate_aws_env

GARBAGE = "<html>\x1b]0;pwned\x07\x1b[2J" + "raw body " * 2500 + "</html>"


class _Garbage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = GARBAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    isolate_aws_env(monkeypatch, tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def source(endpoint: str) -> AwsSource:
    return AwsSource(
        regions=["us-east-1", "eu-west-1"],
        endpoint_url=endpoint,
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        max_attempts=1,
    )


async def test_unparseable_aws_response_is_a_short_visible_error(garbage_endpoint):
    listings = await source(garbage_endpoint).list_fleet()
    for listing in listings:
        assert listing.error is not None
        assert listing.error.startswith(f"{listing.region}: ")
        assert len(listing.error) <= 220, len(listing.error)
        assert "\x1b" not in listing.error and "\n" not in listing.error


async def test_long_aws_error_message_is_capped(moto_url):
    aws = source(moto_url)
    ec2 = aws.client("ec2", "us-east-1")
    with Stubber(ec2) as stub:
        stub.add_client_error(
            "describe_instances", "InternalError", "\u202e" + "detail " * 3000, 500
        )
        listing = await aws.list_region("us-east-1")
    assert listing.error is not None and len(listing.error) <= 220
    assert listing.error.startswith("us-east-1: InternalError: ")
    assert "\u202e" not in listing.error
