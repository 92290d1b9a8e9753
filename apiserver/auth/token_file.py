"""Static bearer tokens (kube-apiserver --token-auth-file): a CSV file of
token,user,uid,"group1,group2" lines (k8s.io/apiserver/pkg/authentication/token/tokenfile)."""

from __future__ import annotations

import csv
import hmac
from pathlib import Path

from apiserver.auth.user import UserInfo


class TokenFileError(ValueError):
    pass


def load_token_file(path: str | Path) -> dict[str, UserInfo]:
    """token -> user. A malformed line is refused with the file and line named."""
    tokens: dict[str, UserInfo] = {}
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise TokenFileError(f"--token-auth-file: cannot read {path}: {e.strerror}") from None
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < 3:
            raise TokenFileError(
                f"--token-auth-file {path}:{number}: expected "
                f'token,user,uid[,"groups"], got {len(row)} column(s)'
            )
        token, name, uid = row[0].strip(), row[1].strip(), row[2].strip()
        if not token or not name:
            raise TokenFileError(f"--token-auth-file {path}:{number}: empty token or user")
        if token in tokens:
            raise TokenFileError(f"--token-auth-file {path}:{number}: duplicate token")
        groups = (
            frozenset(g.strip() for g in row[3].split(",") if g.strip())
            if len(row) > 3
            else frozenset()
        )
        tokens[token] = UserInfo(name, groups, uid)
    return tokens


class TokenAuthenticator:
    def __init__(self, tokens: dict[str, UserInfo]) -> None:
        self._tokens = tokens

    def authenticate(self, token: str) -> UserInfo | None:
        # Compared in constant time, so a caller cannot guess a token byte by byte.
        for known, user in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        return None
