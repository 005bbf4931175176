"""The supply-chain gate (deploy/supply_chain.py): the allowlist's rules (expiry, malformed entries,
matching), pip-audit's JSON and its fallback to PyPI's project JSON, the SBOM readers, and gitleaks on a
repository of its own with a planted fake secret: the gate fails, passes once allowlisted, and fails again
when the entry has expired. gitleaks comes from scripts/setup-deploy; without it the last test skips, or
fails under AEGIS_REQUIRE_ALL=1."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.processes import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy" / "supply_chain.py"
TODAY = dt.date(2026, 6, 1)
FINGERPRINT = "0123456789abcdef0123456789abcdef01234567:tests/fake.py:generic-api-key:3"
REASON = "a made-up value that the sanitizer's tests need"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("supply_chain", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["supply_chain"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


sc = load()


def entry(**fields: Any) -> str:
    """One [[allow]] table; a field given as None is left out."""
    base: dict[str, Any] = {
        "tool": "gitleaks",
        "id": FINGERPRINT,
        "path": "tests/fake.py",
        "reason": REASON,
        "expires": "2026-12-31",
    }
    base.update(fields)
    lines = ["[[allow]]"]
    for key, value in base.items():
        if value is None:
            continue
        lines.append(
            f"{key} = {value if key == 'expires' and not isinstance(value, str) else json.dumps(value)}"
        )
    return "\n".join(lines) + "\n"


def problems_of(text: str, today: dt.date = TODAY) -> list[str]:
    return [problem.why for problem in sc.load_allowlist(text, today)[1]]


# --- The allowlist ------------------------------------------------------------------------------------------


def test_a_complete_entry_is_usable() -> None:
    entries, problems = sc.load_allowlist(entry(), TODAY)
    assert problems == []
    (usable,) = entries
    assert (usable.tool, usable.id, usable.subject) == ("gitleaks", FINGERPRINT, "tests/fake.py")
    assert (usable.reason, usable.expires) == (REASON, dt.date(2026, 12, 31))


def test_an_empty_allowlist_is_fine() -> None:
    assert sc.load_allowlist("# nothing allowed\n", TODAY) == ([], [])


def test_both_date_forms_are_accepted() -> None:
    for expires in ("2026-12-31", dt.date(2026, 12, 31)):
        entries, problems = sc.load_allowlist(entry(expires=expires), TODAY)
        assert problems == [] and entries[0].expires == dt.date(2026, 12, 31)


def test_an_entry_expiring_today_still_allows() -> None:
    entries, problems = sc.load_allowlist(entry(expires="2026-06-01"), TODAY)
    assert problems == [] and len(entries) == 1


def test_an_expired_entry_is_a_problem_and_allows_nothing() -> None:
    entries, problems = sc.load_allowlist(entry(expires="2026-05-31"), TODAY)
    assert entries == []
    assert [p.why for p in problems] == [
        "expired on 2026-05-31: renew it with a new reason, or fix the finding"
    ]


def test_an_expiry_more_than_a_year_ahead_is_refused() -> None:
    assert problems_of(entry(expires="2027-06-03")) == ["expires 2027-06-03, more than 366 days ahead"]
    assert problems_of(entry(expires="2027-06-02")) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": None}, "`reason` must say why"),
        ({"reason": "fake"}, "`reason` must say why"),
        ({"reason": 42}, "`reason` must say why"),
        ({"expires": None}, "`expires` must be a date"),
        ({"expires": "31.12.2026"}, "`expires` must be a date"),
        ({"expires": "2026-02-30"}, "`expires` must be a date"),
        ({"expires": "2026-12-31T00:00:00"}, "`expires` must be a date"),
        ({"tool": "trivy"}, "`tool` must be one of"),
        ({"tool": None}, "`tool` must be one of"),
        ({"id": ""}, "`id` must be a non-empty string"),
        ({"id": " padded "}, "`id` must be a non-empty string"),
        ({"id": "generic-api-key"}, "a gitleaks `id` is a finding's fingerprint"),
        ({"path": None}, "`path` must be the file"),
        ({"path": "tests/other.py"}, "is not the file its fingerprint names"),
        ({"package": "requests"}, "names a `path`, not a `package`"),
        ({"owner": "me"}, "unknown keys ['owner']"),
        ({"tool": "pip-audit", "id": "GHSA-xxxx", "path": None}, "`package` must be a package name"),
        ({"tool": "pip-audit", "id": "GHSA-xxxx", "package": "bad name!"}, "`package` must be"),
        ({"tool": "pip-audit", "id": "GHSA-xxxx", "package": "redis"}, "names a `package`, not a `path`"),
    ],
)
def test_a_malformed_entry_is_a_problem(fields: dict[str, Any], message: str) -> None:
    entries, problems = sc.load_allowlist(entry(**fields), TODAY)
    assert entries == []
    assert any(message in problem.why for problem in problems), problems


def test_a_malformed_file_is_a_problem() -> None:
    assert problems_of("[[allow]\n")[0].startswith("is not valid TOML")
    assert problems_of("allow = 3\n") == ["`allow` must be an array of tables ([[allow]])"]
    assert problems_of("[ignore]\nall = true\n") == ["has unknown top-level keys ['ignore']"]


def test_a_duplicate_entry_is_a_problem() -> None:
    entries, problems = sc.load_allowlist(entry() + entry(reason=REASON + ", again"), TODAY)
    assert len(entries) == 1 and [p.why for p in problems] == ["duplicates an earlier entry"]


# --- Matching and the verdict -------------------------------------------------------------------------------


def vuln(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "tool": "pip-audit",
        "id": "PYSEC-2099-1",
        "subject": "pyjwt",
        "where": "PyJWT==2.15.1 (image lock)",
        "aliases": ("GHSA-aaaa-bbbb-cccc", "CVE-2099-1"),
    }
    base.update(fields)
    return sc.Finding(**base)


def allow_package(package: str, ident: str, expires: str = "2026-12-31") -> str:
    return entry(tool="pip-audit", id=ident, package=package, path=None, expires=expires)


@pytest.mark.parametrize("ident", ["PYSEC-2099-1", "GHSA-aaaa-bbbb-cccc", "CVE-2099-1"])
@pytest.mark.parametrize("package", ["PyJWT", "pyjwt", "PyJwt"])
def test_a_vulnerability_is_allowed_by_its_id_or_an_alias_and_the_package_name_as_pypi_compares_it(
    ident: str, package: str
) -> None:
    entries, problems = sc.load_allowlist(allow_package(package, ident), TODAY)
    report = sc.judge([vuln()], entries, problems)
    assert [line.status for line in report.lines] == ["allowed"]
    assert report.failed == 0
    assert REASON in report.lines[0].why and "2026-12-31" in report.lines[0].why


def test_names_normalise_like_pypi() -> None:
    assert sc.canonical("jsonschema_specifications") == sc.canonical("JsonSchema.Specifications")


@pytest.mark.parametrize(
    "allowlist",
    [
        allow_package("requests", "PYSEC-2099-1"),  # another package
        allow_package("pyjwt", "PYSEC-2099-2"),  # another vulnerability
        entry(),  # another tool
    ],
)
def test_an_entry_for_something_else_does_not_allow_it(allowlist: str) -> None:
    entries, problems = sc.load_allowlist(allowlist, TODAY)
    report = sc.judge([vuln()], entries, problems)
    assert report.failed == 1
    fail = next(line for line in report.lines if line.status == "FAIL")
    assert (fail.source, fail.id, fail.why) == ("pip-audit", "PYSEC-2099-1", "not allowlisted")
    assert [line.status for line in report.lines if line.source == "allowlist"] == ["note"]  # unused entry


def test_an_expired_entry_fails_and_its_finding_fails_too() -> None:
    entries, problems = sc.load_allowlist(allow_package("pyjwt", "CVE-2099-1", expires="2026-05-01"), TODAY)
    report = sc.judge([vuln()], entries, problems)
    assert sorted((line.status, line.source) for line in report.lines) == [
        ("FAIL", "allowlist"),
        ("FAIL", "pip-audit"),
    ]


def test_an_expired_entry_fails_even_with_nothing_left_to_match() -> None:
    entries, problems = sc.load_allowlist(allow_package("pyjwt", "CVE-2099-1", expires="2026-05-01"), TODAY)
    assert sc.judge([], entries, problems).failed == 1


def test_a_note_never_fails() -> None:
    report = sc.judge([vuln(id="unaudited", aliases=(), fatal=False)], [], [])
    assert [line.status for line in report.lines] == ["note"] and report.failed == 0
    assert report.summary() == "supply-chain gate passed: 0 failing, 0 allowlisted, 1 notes"


# --- pip-audit's JSON and the PyPI fallback -----------------------------------------------------------------


LOCK = sc.AuditTarget("image lock", (("PyJWT", "2.15.1"), ("redis", "7.4.1")), strict=True)


def pypi(version: str, vulns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"info": {"version": version}, "vulnerabilities": vulns}


def test_pip_audit_vulnerabilities_become_findings() -> None:
    audit = {
        "dependencies": [
            {
                "name": "pyjwt",
                "version": "2.15.1",
                "vulns": [
                    {
                        "id": "PYSEC-2099-1",
                        "fix_versions": ["2.15.2"],
                        "aliases": ["CVE-2099-1"],
                        "description": "x",
                    }
                ],
            },
            {"name": "redis", "version": "7.4.1", "vulns": []},
        ]
    }
    (finding,) = sc.audit_findings(LOCK, audit, fetch=lambda url: pytest.fail(f"no look-up expected: {url}"))
    assert (finding.id, finding.subject, finding.aliases) == ("PYSEC-2099-1", "pyjwt", ("CVE-2099-1",))
    assert finding.where == "pyjwt==2.15.1 (image lock)" and "fixed in 2.15.2" in finding.detail


def skipped(name: str) -> dict[str, str]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name}"}


def test_a_skipped_package_at_the_newest_release_is_audited_from_the_project_json() -> None:
    listed = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "aliases": ["CVE-2099-2"],
        "fixed_in": [],
        "summary": "bad",
        "withdrawn": None,
    }
    withdrawn = {"id": "GHSA-dddd", "aliases": [], "fixed_in": [], "withdrawn": "2026-01-01T00:00:00Z"}
    answers = {
        "https://pypi.org/pypi/pyjwt/json": pypi("2.15.1", [listed, withdrawn]),
        "https://pypi.org/pypi/redis/json": pypi("7.4.1", []),
    }
    audit = {"dependencies": [skipped("pyjwt"), skipped("redis")]}
    (finding,) = sc.audit_findings(LOCK, audit, fetch=answers.__getitem__)
    assert (finding.id, finding.aliases, finding.fatal) == ("GHSA-aaaa-bbbb-cccc", ("CVE-2099-2",), True)


@pytest.mark.parametrize(("strict", "fatal"), [(True, True), (False, False)])
def test_a_skipped_package_below_the_newest_release_is_unaudited(strict: bool, fatal: bool) -> None:
    target = sc.AuditTarget("t", (("redis", "7.4.1"),), strict=strict)
    (finding,) = sc.audit_findings(
        target, {"dependencies": [skipped("redis")]}, fetch=lambda url: pypi("8.1.0", [])
    )
    assert (finding.id, finding.subject, finding.fatal) == ("unaudited", "redis", fatal)
    assert "newest release only (8.1.0)" in finding.detail


def test_a_failed_look_up_leaves_the_package_unaudited() -> None:
    def fail(url: str) -> Any:
        raise OSError("no route to host")

    redis = sc.AuditTarget("image lock", (("redis", "7.4.1"),), strict=True)
    (finding,) = sc.audit_findings(redis, {"dependencies": [skipped("redis")]}, fetch=fail)
    assert finding.id == "unaudited" and "no route to host" in finding.detail
    missing = sc.audit_findings(LOCK, {"dependencies": []}, fetch=fail)  # pip-audit said nothing at all
    assert sorted(f.subject for f in missing) == ["pyjwt", "redis"]


def test_an_unaudited_package_can_be_allowlisted() -> None:
    (finding,) = sc.audit_findings(
        LOCK,
        {"dependencies": [skipped("redis"), {"name": "PyJWT", "vulns": []}]},
        lambda u: pypi("8.1.0", []),
    )
    entries, problems = sc.load_allowlist(allow_package("redis", "unaudited"), TODAY)
    assert sc.judge([finding], entries, problems).failed == 0


def test_pins_are_read_from_a_lock_or_a_freeze() -> None:
    text = "# comment\nPyJWT==2.15.1\nredis == 7.4.1  # why\n-e git+https://example.invalid/x\nflat\n"
    assert sc.read_pins(text) == [("PyJWT", "2.15.1"), ("redis", "7.4.1")]
    digest = "--hash=sha256:" + "a" * 64
    hashed = f"idna==3.20 {digest}\nh11==0.16.0 {digest} {digest}\n"
    assert sc.read_pins(hashed) == [("idna", "3.20"), ("h11", "0.16.0")]


def test_every_pin_of_the_image_lock_carries_the_hash_of_its_wheel() -> None:
    """The image installs nothing the lock does not name by hash (pip's hash-checking mode)."""
    lock = sc.ROOT / "deploy" / "image" / "requirements.lock"
    lines = [line for line in lock.read_text().splitlines() if line and not line.startswith("#")]
    assert lines and len(sc.read_pins(lock.read_text())) == len(lines)
    unhashed = [line for line in lines if not re.search(r" --hash=sha256:[0-9a-f]{64}$", line)]
    assert unhashed == []


# --- The SBOM readers ---------------------------------------------------------------------------------------


GO_VERSION_M = """\
/mnt/root/usr/local/bin/opa: go1.26.8
\tpath\tgithub.com/open-policy-agent/opa
\tmod\tgithub.com/open-policy-agent/opa\tv1.22.2\th1:abc=
\tdep\tgithub.com/agnivade/levenshtein\tv1.2.1\th1:def=
\tdep\texample.com/old\tv0.1.0
\t=>\texample.com/new\tv0.2.0\th1:ghi=
\tbuild\tCGO_ENABLED=0
"""


def test_go_binaries_are_read_from_go_version_m() -> None:
    found = {(c.name, c.version, c.path) for c in sc.parse_go_version_m(GO_VERSION_M, "/mnt/root")}
    assert found == {
        ("stdlib", "1.26.8", "/usr/local/bin/opa"),
        ("github.com/open-policy-agent/opa", "v1.22.2", "/usr/local/bin/opa"),
        ("github.com/agnivade/levenshtein", "v1.2.1", "/usr/local/bin/opa"),
        ("example.com/new", "v0.2.0", "/usr/local/bin/opa"),
    }


def fake_rootfs(root: Path, *, dpkg: bool) -> None:
    site = root / "opt/aegis/lib/python3.11/site-packages"
    (site / "PyJWT-2.15.1.dist-info").mkdir(parents=True)
    (site / "PyJWT-2.15.1.dist-info/METADATA").write_text(
        "Metadata-Version: 2.4\nName: PyJWT\nVersion: 2.15.1\nLicense-Expression: MIT\n\nbody: x\n"
    )
    debian = root / "usr/lib/python3/dist-packages/six-1.16.0.dist-info"
    debian.mkdir(parents=True)
    (debian / "METADATA").write_text("Name: six\nVersion: 1.16.0\n")
    (root / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (root / "usr/lib/x86_64-linux-gnu/libc.so.6").write_text("elf")
    (root / "etc/ssl/certs").mkdir(parents=True)
    (root / "etc/ssl/certs/ca-certificates.crt").write_text("pem")
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    if dpkg:
        info = root / "var/lib/dpkg/info"
        info.mkdir(parents=True)
        (root / "var/lib/dpkg/status").write_text(
            "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u14\n\n"
            "Package: python3-six\nStatus: install ok installed\nArchitecture: all\nVersion: 1.16.0-4\n\n"
            "Package: ca-certificates\nStatus: install ok installed\nArchitecture: all\nVersion: 20230311\n\n"
            "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n"
        )
        (info / "libc6:amd64.list").write_text(
            "/lib/x86_64-linux-gnu/libc.so.6\n/lib/x86_64-linux-gnu/libm.so.6\n"
        )
        (info / "python3-six.list").write_text(
            "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n"
        )
        (info / "ca-certificates.list").write_text("/usr/share/ca-certificates/mozilla/x.crt\n")


def test_a_root_file_system_with_its_own_dpkg_database(tmp_path: Path) -> None:
    fake_rootfs(tmp_path, dpkg=True)
    debs, owned = sc.deb_components(tmp_path, None, sc.debian_distro(tmp_path))
    assert {c.purl for c in debs} == {
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12",
        "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12",
        "pkg:deb/debian/ca-certificates@20230311?arch=all&distro=debian-12",
    }
    pythons = sc.python_dists(tmp_path, skip=owned)  # six is Debian's: its deb covers it
    assert [(c.purl, c.path, c.license) for c in pythons] == [
        ("pkg:pypi/pyjwt@2.15.1", "/opt/aegis/lib/python3.11/site-packages/PyJWT-2.15.1.dist-info", "MIT")
    ]


def test_a_from_scratch_root_file_system_is_matched_to_the_base_image(tmp_path: Path) -> None:
    base, image = tmp_path / "base", tmp_path / "image"
    fake_rootfs(base, dpkg=True)
    fake_rootfs(image, dpkg=False)
    shutil.rmtree(image / "usr/lib/python3")  # not copied into the image
    debs, _ = sc.deb_components(image, base, "debian-12")
    assert {(c.name, c.path) for c in debs} == {
        ("libc6", "1 of its files are in the image"),  # libm is not in the image
        ("ca-certificates", "1 of its files are in the image"),  # the bundle its scripts generate
    }


def test_the_bom_is_cyclonedx_json(tmp_path: Path) -> None:
    fake_rootfs(tmp_path, dpkg=True)
    debs, owned = sc.deb_components(tmp_path, None, "debian-12")
    doc = sc.bom(
        {"type": "container", "name": "x", "bom-ref": "image:x"}, [*debs, *sc.python_dists(tmp_path, owned)]
    )
    assert (doc["bomFormat"], doc["specVersion"], doc["version"]) == ("CycloneDX", "1.6", 1)
    assert doc["serialNumber"].startswith("urn:uuid:")
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs)) == 4
    assert sc.sbom_file_name("localhost/aegis-gateway:0.1.0") == "aegis-gateway-image.cdx.json"


# --- gitleaks on a repository of its own --------------------------------------------------------------------


@pytest.fixture(scope="module")
def gitleaks() -> str:
    found = shutil.which("gitleaks")
    if found is None:
        message = "gitleaks not found: run scripts/setup-deploy and source .tools/deploy.env"
        if os.environ.get("AEGIS_REQUIRE_ALL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


def gate(repo: Path, allowlist: Path, gitleaks: str, today: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--only",
        "gitleaks",
        "--repo",
        str(repo),
        "--allowlist",
        str(allowlist),
    ]
    cmd += ["--gitleaks", gitleaks, "--today", today]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.deploy  # gitleaks comes with the deploy tooling
def test_gitleaks_fails_the_gate_until_the_finding_is_allowlisted_and_again_once_that_expires(
    tmp_path: Path, gitleaks: str
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "test")
    # A made-up GitHub token, put together here so that this file holds none for the real scan to find.
    planted = "gh" + "p_" + "Q7m2Xk9Lw4Rz8Tn1Vb6Yc3Hd5Jf0Gs2Pa7Ue"
    (repo / "settings.py").write_text(f'"""Settings."""\nTIMEOUT = 3\nGITHUB_TOKEN = "{planted}"\n')
    git(repo, "add", "settings.py")
    git(repo, "commit", "--quiet", "-m", "settings")
    commit = git(repo, "rev-parse", "HEAD")
    allowlist = tmp_path / "allowlist.toml"
    allowlist.write_text("# nothing allowed yet\n")

    failing = gate(repo, allowlist, gitleaks, "2026-06-01")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    fingerprint = f"{commit}:settings.py:github-pat:3"
    assert f"FAIL    gitleaks  {fingerprint}  settings.py:3 in commit {commit[:12]}" in failing.stdout
    assert planted not in failing.stdout + failing.stderr  # redacted
    assert failing.stdout.splitlines()[-1].startswith("supply-chain gate FAILED: 1 failing")

    allowlist.write_text(
        "[[allow]]\n"
        'tool = "gitleaks"\n'
        f'id = "{fingerprint}"\n'
        'path = "settings.py"\n'
        'reason = "a made-up token planted by this test"\n'
        "expires = 2026-06-30\n"
    )
    passing = gate(repo, allowlist, gitleaks, "2026-06-01")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert f"allowed gitleaks  {fingerprint}" in passing.stdout
    assert "until 2026-06-30 (a made-up token planted by this test)" in passing.stdout

    expired = gate(repo, allowlist, gitleaks, "2026-07-01")
    assert expired.returncode == 1
    assert "expired on 2026-06-30" in expired.stdout
    assert f"FAIL    gitleaks  {fingerprint}" in expired.stdout

    # Inline `gitleaks:allow` comments do not count: only the allowlist does.
    (repo / "more.py").write_text(f'TOKEN = "{planted[:-1]}Z"  # gitleaks:allow\n')
    git(repo, "add", "more.py")
    git(repo, "commit", "--quiet", "-m", "more")
    inline = gate(repo, allowlist, gitleaks, "2026-06-01")
    assert inline.returncode == 1 and ":more.py:github-pat:1" in inline.stdout


@pytest.mark.deploy
def test_gitleaks_refuses_a_shallow_clone_and_a_gitleaksignore(tmp_path: Path, gitleaks: str) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "--quiet", "--initial-branch=main")
    for n in range(2):
        (origin / "f.txt").write_text(f"{n}\n")
        git(origin, "add", "f.txt")
        git(
            origin,
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "user.name=t",
            "commit",
            "--quiet",
            "-m",
            f"{n}",
        )
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth=1", f"file://{origin}", str(shallow))
    allowlist = tmp_path / "allowlist.toml"
    allowlist.write_text("")
    result = gate(shallow, allowlist, gitleaks, "2026-06-01")
    assert result.returncode == 1 and "the clone is shallow" in result.stdout

    (origin / ".gitleaksignore").write_text("anything\n")
    result = gate(origin, allowlist, gitleaks, "2026-06-01")
    assert result.returncode == 1 and ".gitleaksignore is not used" in result.stdout
    (origin / ".gitleaksignore").unlink()
    assert gate(origin, allowlist, gitleaks, "2026-06-01").returncode == 0


def test_the_committed_allowlist_is_well_formed() -> None:
    """Every committed entry is well formed (expiry is the gate's business the day it runs)."""
    text = (REPO_ROOT / "deploy" / "supply-chain-allowlist.toml").read_text()
    _, problems = sc.load_allowlist(text, dt.date.today())
    assert [p.why for p in problems if not p.why.startswith("expired on")] == []
