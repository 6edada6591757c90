import base64

import pytest

from services.orders.domain.signatures import sign_hmac_sha256_base64, verify_hmac_sha256_base64

BODY = '{"id":7340000000000001001,"name":"#1001","note":"Giao giờ hành chính"}'.encode()


def test_signature_matches_an_independently_computed_reference() -> None:
    # Reference from: printf '{"id":1}' | openssl dgst -sha256 -hmac hush -binary | base64
    assert sign_hmac_sha256_base64(b'{"id":1}', "hush") == (
        "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="
    )


def test_signature_made_with_the_secret_verifies() -> None:
    header = sign_hmac_sha256_base64(BODY, "current-secret")
    assert verify_hmac_sha256_base64(BODY, header, ["current-secret"]) is True


def test_signature_made_with_another_secret_is_rejected() -> None:
    forged = sign_hmac_sha256_base64(BODY, "attacker-secret")
    assert verify_hmac_sha256_base64(BODY, forged, ["current-secret"]) is False


def test_signature_of_a_tampered_body_is_rejected() -> None:
    header = sign_hmac_sha256_base64(BODY, "current-secret")
    tampered = BODY.replace(b"1001", b"1002")
    assert verify_hmac_sha256_base64(tampered, header, ["current-secret"]) is False


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature_header_is_rejected(header: str | None) -> None:
    assert verify_hmac_sha256_base64(BODY, header, ["current-secret"]) is False


@pytest.mark.parametrize(
    "header",
    [
        "not base64 at all!",
        "abc",  # bad padding
        "====",
        "chữ ký",  # non-ASCII
        base64.b64encode(b"too short").decode(),  # valid base64, wrong digest length
    ],
)
def test_garbled_signature_header_is_rejected_without_raising(header: str) -> None:
    assert verify_hmac_sha256_base64(BODY, header, ["current-secret"]) is False


def test_either_secret_verifies_during_a_rotation() -> None:
    old = sign_hmac_sha256_base64(BODY, "old-secret")
    new = sign_hmac_sha256_base64(BODY, "new-secret")
    secrets = ["old-secret", "new-secret"]
    assert verify_hmac_sha256_base64(BODY, old, secrets) is True
    assert verify_hmac_sha256_base64(BODY, new, secrets) is True


def test_no_configured_secret_verifies_nothing() -> None:
    header = sign_hmac_sha256_base64(BODY, "current-secret")
    assert verify_hmac_sha256_base64(BODY, header, []) is False


def test_empty_secret_is_never_accepted_as_a_key() -> None:
    header = sign_hmac_sha256_base64(BODY, "")
    assert verify_hmac_sha256_base64(BODY, header, [""]) is False


def test_header_with_surrounding_whitespace_still_verifies() -> None:
    header = sign_hmac_sha256_base64(BODY, "current-secret")
    assert verify_hmac_sha256_base64(BODY, f" {header}\n", ["current-secret"]) is True


def test_a_single_string_instead_of_a_list_of_secrets_fails_fast() -> None:
    with pytest.raises(TypeError):
        verify_hmac_sha256_base64(BODY, "x", "current-secret")
