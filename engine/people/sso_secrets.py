"""Keeping an identity provider's client secret out of the database in plain text.

The secret is encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) under a key derived from
the app's secret key (``EHCFLOW_SECRET_KEY``) with HKDF. A copy of the database alone therefore does not give the
secret away; whoever has both the database and the app's secret key has it, as they have every session anyway.

Changing the app's secret key makes stored secrets unreadable: signing in with the provider then fails with a clear
message, and an administrator enters the client secret again (docs/sso.md).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.errors import EngineError

# Fixed, so that one app secret key gives the same encryption key in every process; distinct from any other use of
# the app's key (a key derived for another purpose would have other salt and info).
_SALT = b"ehcflow identity provider"
_INFO = b"identity_provider.client_secret v1"


class SecretUnreadable(EngineError):
    """The stored client secret cannot be decrypted: the app's secret key has changed since it was saved."""


def _fernet(app_secret_key: str | bytes) -> Fernet:
    material = app_secret_key.encode() if isinstance(app_secret_key, str) else app_secret_key
    if not material:
        raise ValueError("The app's secret key is empty: it cannot protect a client secret")
    key = HKDF(algorithm=SHA256(), length=32, salt=_SALT, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(app_secret_key: str | bytes, plain: str) -> str:
    return _fernet(app_secret_key).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_secret(app_secret_key: str | bytes, stored: str) -> str:
    try:
        return _fernet(app_secret_key).decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("The client secret of this identity provider cannot be read (the service's secret "
                               "key has changed since it was saved). An administrator must enter it again.") from exc
