"""Pairing the extension with the helper: the secret in the OS keyring, codes, tokens, tickets."""

from .auth import Auth, IssuedCode, PairingError, PairRateLimited, PairRefused, PairUnknown, mint_token
from .secret_store import (
    FileSecretStore,
    KeyringSecretStore,
    SecretBackend,
    SecretStore,
    SecretUnavailable,
    secret_store,
)

__all__ = [
    "Auth",
    "FileSecretStore",
    "IssuedCode",
    "KeyringSecretStore",
    "PairRateLimited",
    "PairRefused",
    "PairUnknown",
    "PairingError",
    "SecretBackend",
    "SecretStore",
    "SecretUnavailable",
    "mint_token",
    "secret_store",
]
