from __future__ import annotations

import pytest

from worker.signing import SignatureError, sign, verify

pytestmark = pytest.mark.unit


def test_sign_then_verify_roundtrip() -> None:
    header = sign("s3cret", b'{"a":1}', timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    verify("s3cret", b'{"a":1}', header, now=1_700_000_010)


@pytest.mark.parametrize(
    ("secret", "body", "header", "message"),
    [
        ("s3cret", b"{}", None, "missing X-RoleCall-Signature header"),
        (
            "s3cret",
            b"{}",
            "garbage",
            "malformed X-RoleCall-Signature header (expected t=<unix time>,v1=<hex>)",
        ),
        (
            "s3cret",
            b'{"a":2}',
            sign("s3cret", b'{"a":1}', 1_700_000_000),
            "signature does not match the body",
        ),
        ("other", b'{"a":1}', sign("s3cret", b'{"a":1}', 1_700_000_000), "signature does not match the body"),
        (
            "s3cret",
            b'{"a":1}',
            sign("s3cret", b'{"a":1}', 1_699_999_000),
            "signature timestamp is 1000 s away",
        ),
    ],
)
def test_verify_rejects(secret: str, body: bytes, header: str | None, message: str) -> None:
    with pytest.raises(SignatureError) as excinfo:
        verify(secret, body, header, now=1_700_000_000)
    assert str(excinfo.value).startswith(message)
