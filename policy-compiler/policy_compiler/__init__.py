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
from policy_compiler._loader import check, load_policy
from policy_compiler._model import Default, Policy, RepositoryRules, Rule, RuleList

__all__ = [
    "COMPILER_ID",
    "BundleError",
    "BundleInfo",
    "Default",
    "Policy",
    "PolicyCompilerError",
    "PolicyError",
    "PolicyIssue",
    "RepositoryRules",
    "Rule",
    "RuleList",
    "build_bundle",
    "bundle_revision",
    "check",
    "glob_matches",
    "glob_to_regex",
    "load_policy",
]
