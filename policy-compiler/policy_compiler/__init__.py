"""Aegis policy compiler: YAML policy -> validated model -> reproducible OPA bundle.

Example:
    from pathlib import Path
    from policy_compiler import PolicyError, build_bundle

    try:
        info = build_bundle(Path("policy.yaml"), Path("bundle.tar.gz"))
    except PolicyError as exc:
        print(exc)  # one "file:line:column: message" per issue
    else:
        print(info.revision)
"""

from policy_compiler._bundle import COMPILER_ID, BundleInfo, build_bundle, bundle_revision
from policy_compiler._errors import BundleError, PolicyCompilerError, PolicyError, PolicyIssue
from policy_compiler._glob import glob_matches, glob_to_regex
from policy_compiler._inventory import PolicyNames, glob_samples, policy_names, repository_path_globs
from policy_compiler._loader import SOURCE_NAME, check, load_policy
from policy_compiler._model import (
    Default,
    Limit,
    OutputRule,
    PathRules,
    Policy,
    PrincipalRules,
    RepositoryRules,
    RoleRules,
    Rule,
    RuleList,
    SecretStorePaths,
    TimeBound,
)
from policy_compiler._schema import located_schema_issues
from policy_compiler._secret_stores import SECRET_STORE_GLOBS, SecretStoreGlob, is_secret_store_path
from policy_compiler._signing import SUPPORTED_ALGORITHMS, SigningError, sign_bundle
from policy_compiler._yaml import Document, JsonPath, read_yaml_file

__all__ = [
    "COMPILER_ID",
    "SECRET_STORE_GLOBS",
    "SOURCE_NAME",
    "SUPPORTED_ALGORITHMS",
    "BundleError",
    "BundleInfo",
    "Default",
    "Document",
    "JsonPath",
    "Limit",
    "OutputRule",
    "PathRules",
    "Policy",
    "PolicyCompilerError",
    "PolicyError",
    "PolicyIssue",
    "PolicyNames",
    "PrincipalRules",
    "RepositoryRules",
    "RoleRules",
    "Rule",
    "RuleList",
    "SecretStoreGlob",
    "SecretStorePaths",
    "SigningError",
    "TimeBound",
    "build_bundle",
    "bundle_revision",
    "check",
    "glob_matches",
    "glob_samples",
    "glob_to_regex",
    "is_secret_store_path",
    "load_policy",
    "located_schema_issues",
    "policy_names",
    "read_yaml_file",
    "repository_path_globs",
    "sign_bundle",
]
