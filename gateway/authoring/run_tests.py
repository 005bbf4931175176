"""`aegis policy test POLICY [TESTS...]`: `opa test` over the compiled policy (its data and the core
Rego) and the author's own *_test.rego files."""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from policy_compiler import build_bundle

from gateway.errors import OpaError
from gateway.opa import cannot_run_opa as cannot_run


def run_policy_tests(policy: Path, author_tests: Sequence[Path], *, opa_bin: str, verbose: bool) -> int:
    """Run the tests; return OPA's exit code (0 when every test passed). OPA's report goes to stdout."""
    missing = [str(path) for path in author_tests if not path.exists()]
    if missing:
        raise OpaError(f"no such test file or directory: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="aegis-policy-test-") as tmp:
        bundle = build_bundle(policy, Path(tmp) / "bundle.tar.gz")
        tree = Path(tmp) / "bundle"
        with tarfile.open(bundle.path) as archive:
            archive.extractall(tree, filter="data")
        # Without tests of the author's, the run checks that the compiled policy loads into OPA.
        fail_on_empty = ["--fail-on-empty"] if author_tests else []
        argv = [opa_bin, "test", *fail_on_empty, str(tree), *map(str, author_tests)]
        if verbose:
            argv.append("--verbose")
        try:
            return subprocess.run(argv, check=False, timeout=600).returncode
        except OSError as exc:
            raise cannot_run(opa_bin, exc) from exc
