"""The built-in secret-store paths: files that hold credentials by their very name.

A call whose path matches one of these globs is denied unless the policy sets
`secrets.store_paths: allow` (docs/policy.md, "Secrets"). The globs use the path-glob syntax of
`_glob` and ship in the bundle as data, so Rego matches them with the same regular expressions.
They are matched against the lower-cased path: `.ENV` or `Server.PEM` holds a secret as surely as
`.env` or `server.pem` does.

The list is kept precise: each entry names a file whose usual content is a credential. Files that
may hold a secret but usually do not (`.envrc`, `prod.env`, `config.yaml`, `*.crt`) are left to
`paths.deny` and to the gateway's secret scanning of tool output.

Example:
    >>> is_secret_store_path("deploy/.env.production")
    True
    >>> is_secret_store_path(".env.example")
    False
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Final

from policy_compiler._glob import glob_to_regex
from policy_compiler._glob_index import glob_index

__all__ = [
    "SECRET_STORE_GLOBS",
    "SecretStoreGlob",
    "is_secret_store_path",
    "secret_store_data",
    "secret_store_index",
]


@dataclasses.dataclass(frozen=True)
class SecretStoreGlob:
    """A path glob naming secret stores, `unless` one of its exception globs matches the path too."""

    glob: str
    unless: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        """Whether the lower-cased `path` is a secret store by this entry."""
        lowered = path.lower()
        if not _pattern(self.glob).fullmatch(lowered):
            return False
        return not any(_pattern(exception).fullmatch(lowered) for exception in self.unless)


# Templates committed on purpose so that people know which variables to set: they hold no values.
_ENV_TEMPLATES: Final = ("**/.env.example", "**/.env.sample", "**/.env.template", "**/.env.dist")

SECRET_STORE_GLOBS: Final[tuple[SecretStoreGlob, ...]] = (
    # Environment files of dotenv and docker compose.
    SecretStoreGlob("**/.env"),
    SecretStoreGlob("**/.env.*", unless=_ENV_TEMPLATES),
    # Private keys and keystores (PEM, PKCS#12, Java, PuTTY).
    SecretStoreGlob("**/*.pem"),
    SecretStoreGlob("**/*.key"),
    SecretStoreGlob("**/*.p12"),
    SecretStoreGlob("**/*.pfx"),
    SecretStoreGlob("**/*.jks"),
    SecretStoreGlob("**/*.keystore"),
    SecretStoreGlob("**/*.ppk"),
    # SSH private keys by their default names (not the .pub files), and SSH and GnuPG homes.
    SecretStoreGlob("**/id_rsa"),
    SecretStoreGlob("**/id_dsa"),
    SecretStoreGlob("**/id_ecdsa"),
    SecretStoreGlob("**/id_ed25519"),
    SecretStoreGlob("**/id_ecdsa_sk"),
    SecretStoreGlob("**/id_ed25519_sk"),
    SecretStoreGlob("**/.ssh/**"),
    SecretStoreGlob("**/.gnupg/**"),
    # Credential files of clients: netrc, git, htpasswd, PostgreSQL, AWS, Docker, Kubernetes,
    # npm and PyPI.
    SecretStoreGlob("**/.netrc"),
    SecretStoreGlob("**/_netrc"),
    SecretStoreGlob("**/.git-credentials"),
    SecretStoreGlob("**/.htpasswd"),
    SecretStoreGlob("**/.pgpass"),
    SecretStoreGlob("**/.aws/credentials"),
    SecretStoreGlob("**/.docker/config.json"),
    SecretStoreGlob("**/.dockercfg"),
    SecretStoreGlob("**/.kube/config"),
    SecretStoreGlob("**/.npmrc"),
    SecretStoreGlob("**/.pypirc"),
    # Application secret files: Google service credentials, Rails and Helm secrets, Terraform
    # state (which stores every secret of the resources it manages) and KeePass databases.
    SecretStoreGlob("**/credentials.json"),
    SecretStoreGlob("**/secrets.yaml"),
    SecretStoreGlob("**/secrets.yml"),
    SecretStoreGlob("**/*.tfstate"),
    SecretStoreGlob("**/*.tfstate.backup"),
    SecretStoreGlob("**/*.kdbx"),
)


def is_secret_store_path(path: str) -> bool:
    """Whether the normalized repository `path` is a built-in secret store (case-insensitively).

    The gateway can use it to drop secret-store entries from a directory listing, as the decision
    of the listed directory does not cover them.
    """
    return any(entry.matches(path) for entry in SECRET_STORE_GLOBS)


@functools.cache
def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(glob))


def secret_store_index() -> dict[str, object]:
    """The list's glob index (`_glob_index`). The globs are lower case, as the paths they are matched
    with are lowered first, so the index's literal segments are too."""
    return glob_index([entry.glob for entry in SECRET_STORE_GLOBS])


def secret_store_data() -> list[dict[str, object]]:
    """The list as shipped in the bundle: each glob with its regex, and its exceptions alike."""
    return [
        {
            "glob": entry.glob,
            "regex": glob_to_regex(entry.glob),
            "unless": [{"glob": glob, "regex": glob_to_regex(glob)} for glob in entry.unless],
        }
        for entry in SECRET_STORE_GLOBS
    ]
