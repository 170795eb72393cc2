"""Where the helper's one secret lives: the OS keyring, or (opted into) a file in the state dir.

The secret is a 32-byte key; every token the helper issues is an HMAC under it, so rotating the key
(``juzheng pair --revoke``) invalidates every token at once and nothing else has to be stored.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Literal, Protocol

from ..instance import write_private_file

log = logging.getLogger(__name__)

SERVICE = "juzheng"
KEY_NAME = "token-key"
FILE_NAME = "secret.key"
SecretBackend = Literal["keyring", "file"]

NO_KEYRING_MESSAGE = """\
未找到可用的系统钥匙串，无法安全保存配对密钥，助手不会启动。
解决办法：
  • Windows：使用“凭据管理器”（系统自带，正常登录的用户即可用）；
  • macOS：使用“钥匙串访问”（系统自带）；
  • Linux：安装并解锁 Secret Service，例如 `sudo apt install gnome-keyring`，在图形会话中登录后再运行；
    无图形界面时可用 `mkdir -p ~/.local/share/keyrings && dbus-run-session -- sh -c 'echo -n 密码 | gnome-keyring-daemon --unlock --components=secrets; juzheng serve'`。
如果确实无法使用钥匙串，可以加 --insecure-file-secret，把密钥保存在状态目录的 secret.key 文件中
（风险：能读取该文件的程序或备份都能冒充已配对的扩展）。
详细原因：{reason}"""


class SecretUnavailable(Exception):
    """No usable place to keep the secret; the message says how to fix it (zh-CN)."""


class SecretStore(Protocol):
    backend: SecretBackend

    def load_or_create(self) -> bytes: ...

    def rotate(self) -> bytes: ...


def _new_key() -> bytes:
    return secrets.token_bytes(32)


class KeyringSecretStore:
    """The key in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service)."""

    backend: SecretBackend = "keyring"

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def _keyring(self):
        import keyring
        from keyring.backends import fail

        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken backend configuration raises various errors at import
            raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason=exc)) from exc
        if isinstance(backend, fail.Keyring) or type(backend).__module__.startswith("keyrings.alt"):
            # keyrings.alt stores base64 in a plain file: no better than the opt-in file, and silent.
            raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason=f"钥匙串后端不可用：{backend!r}"))
        return keyring

    def load_or_create(self) -> bytes:
        keyring = self._keyring()
        try:
            stored = keyring.get_password(self.service, KEY_NAME)
            if stored:
                return bytes.fromhex(stored)
            key = _new_key()
            keyring.set_password(self.service, KEY_NAME, key.hex())
            # Read back: a keyring that accepts writes but loses them would break every token later.
            if keyring.get_password(self.service, KEY_NAME) != key.hex():
                raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason="写入钥匙串后无法读回"))
            return key
        except SecretUnavailable:
            raise
        except ValueError as exc:
            raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason=f"钥匙串中的密钥已损坏：{exc}")) from exc
        except Exception as exc:  # keyring.errors.* and D-Bus errors (locked, prompt dismissed)
            raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason=f"{type(exc).__name__}: {exc}")) from exc

    def rotate(self) -> bytes:
        keyring = self._keyring()
        key = _new_key()
        try:
            keyring.set_password(self.service, KEY_NAME, key.hex())
        except Exception as exc:
            raise SecretUnavailable(NO_KEYRING_MESSAGE.format(reason=f"{type(exc).__name__}: {exc}")) from exc
        return key


class FileSecretStore:
    """Opt-in fallback (``--insecure-file-secret``): the key in ``<state>/secret.key``, user-only."""

    backend: SecretBackend = "file"

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / FILE_NAME

    def load_or_create(self) -> bytes:
        try:
            text = self.path.read_text(encoding="ascii").strip()
            if text:
                return bytes.fromhex(text)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise SecretUnavailable(f"无法读取密钥文件 {self.path}：{exc}。删除该文件后重新配对即可。") from exc
        return self.rotate()

    def rotate(self) -> bytes:
        key = _new_key()
        write_private_file(self.path, key.hex())
        return key


def secret_store(backend: SecretBackend, state_dir: Path) -> SecretStore:
    return FileSecretStore(state_dir) if backend == "file" else KeyringSecretStore(os.environ.get("JUZHENG_KEYRING_SERVICE", SERVICE))
