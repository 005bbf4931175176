"""Aegis's supply-chain gate (run by scripts/supply-chain; standard library only, Python 3.11+).

Three checks, each read from its tool's JSON, then held to one committed allowlist
(deploy/supply-chain-allowlist.toml):

- pip-audit: known vulnerabilities of the image's runtime lock, of the Python packages inside the images
  and of the test environment. pip-audit asks PyPI's per-version JSON API; where that API does not
  answer (a PyPI mirror serving only the project JSON), each skipped package is looked up in its project
  JSON, whose vulnerability list holds for the newest release only: a package pinned below it cannot be
  audited there and is reported as `unaudited`.
- gitleaks: secrets in every commit reachable from HEAD (a shallow clone is refused: its scan would be
  incomplete).
- SBOMs (CycloneDX 1.6 JSON): the wheel's runtime environment by cyclonedx-py, each image by this file
  (Python distributions, Go modules of Go binaries through `go version -m`, Debian packages from the
  image's dpkg database or, for a FROM-scratch image, by the files it holds of the base image's packages).

Every finding fails the gate unless an allowlist entry names it (tool, id, package or path) with a reason
and an expiry date that has not passed. An expired or malformed entry fails the gate as well. One line
per finding is printed; the exit status is 1 when anything fails, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

TOOLS = ("pip-audit", "gitleaks")
UNAUDITED = "unaudited"  # the id of a package no vulnerability data could be had for
MAX_EXPIRY_DAYS = 366  # an entry may allow a finding for at most about a year before it is reviewed again
MIN_REASON_CHARS = 20
PYPI_JSON = "https://pypi.org/pypi/{name}/json"
ENTRY_KEYS = {"tool", "id", "package", "path", "reason", "expires"}
FINGERPRINT = re.compile(
    r"^(?P<commit>[0-9a-f]{40}):(?P<path>.+):(?P<rule>[A-Za-z0-9_.-]+):(?P<line>[0-9]+)$"
)
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
ROOT = Path(__file__).resolve().parents[1]

Fetch = Callable[[str], Any]  # URL -> decoded JSON


def canonical(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --- The allowlist ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entry:
    tool: str
    id: str
    subject: str  # a canonical package name (pip-audit) or a repository path (gitleaks)
    reason: str
    expires: dt.date
    index: int  # 1-based position in the file, for messages

    @property
    def label(self) -> str:
        return f"allowlist entry {self.index} ({self.tool} {self.id} {self.subject})"


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something that fails the gate without being a finding: a bad or expired entry, a tool that failed."""

    source: str
    where: str
    why: str


def load_allowlist(text: str, today: dt.date) -> tuple[list[Entry], list[Problem]]:
    """The usable entries and the problems of an allowlist file's text. An expired entry is a problem
    and is not usable; so is one that expires more than MAX_EXPIRY_DAYS ahead."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem("allowlist", "the file", f"is not valid TOML: {exc}")]
    problems: list[Problem] = []
    extra = sorted(set(doc) - {"allow"})
    if extra:
        problems.append(Problem("allowlist", "the file", f"has unknown top-level keys {extra}"))
    raw = doc.get("allow", [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        return [], [
            *problems,
            Problem("allowlist", "the file", "`allow` must be an array of tables ([[allow]])"),
        ]
    entries: list[Entry] = []
    seen: set[tuple[str, str, str]] = set()
    for index, item in enumerate(raw, start=1):
        entry, errors = _parse_entry(item, index, today)
        where = f"entry {index}" + (f" ({item['id']})" if isinstance(item.get("id"), str) else "")
        problems.extend(Problem("allowlist", where, error) for error in errors)
        if entry is None:
            continue
        key = (entry.tool, entry.id, entry.subject)
        if key in seen:
            problems.append(Problem("allowlist", where, "duplicates an earlier entry"))
            continue
        seen.add(key)
        entries.append(entry)
    return entries, problems


def _parse_entry(item: Mapping[str, Any], index: int, today: dt.date) -> tuple[Entry | None, list[str]]:
    errors: list[str] = []
    unknown = sorted(set(item) - ENTRY_KEYS)
    if unknown:
        errors.append(f"unknown keys {unknown}")
    tool, ident, reason = item.get("tool"), item.get("id"), item.get("reason")
    if tool not in TOOLS:
        errors.append(f"`tool` must be one of {list(TOOLS)}, not {tool!r}")
    if not isinstance(ident, str) or not ident.strip() or ident != ident.strip():
        errors.append("`id` must be a non-empty string without surrounding blanks")
        ident = ""
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
        errors.append(f"`reason` must say why, in at least {MIN_REASON_CHARS} characters")
    expires = _parse_date(item.get("expires"))
    if expires is None:
        errors.append("`expires` must be a date, YYYY-MM-DD")
    subject = ""
    if tool == "pip-audit":
        package = item.get("package")
        if "path" in item:
            errors.append("a pip-audit entry names a `package`, not a `path`")
        if not isinstance(package, str) or not PACKAGE_NAME.match(package):
            errors.append("`package` must be a package name")
        else:
            subject = canonical(package)
    elif tool == "gitleaks":
        path = item.get("path")
        if "package" in item:
            errors.append("a gitleaks entry names a `path`, not a `package`")
        match = FINGERPRINT.match(ident)
        if not match:
            errors.append(
                "a gitleaks `id` is a finding's fingerprint, COMMIT:PATH:RULE:LINE (40 hex digits first)"
            )
        if not isinstance(path, str) or not path:
            errors.append("`path` must be the file the finding is in")
        elif match and match["path"] != path:
            errors.append(f"`path` {path!r} is not the file its fingerprint names ({match['path']!r})")
        else:
            subject = path
    if errors or expires is None or not isinstance(reason, str) or not isinstance(tool, str):
        return None, errors
    if expires < today:
        return None, [f"expired on {expires.isoformat()}: renew it with a new reason, or fix the finding"]
    if expires > today + dt.timedelta(days=MAX_EXPIRY_DAYS):
        return None, [f"expires {expires.isoformat()}, more than {MAX_EXPIRY_DAYS} days ahead"]
    return Entry(tool, ident, subject, " ".join(reason.split()), expires, index), []


def _parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None  # a date, not a time
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


# --- Findings and the verdict -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Finding:
    tool: str
    id: str
    subject: str  # what an entry's package (canonical) or path must equal
    where: str  # for the report
    detail: str = ""
    aliases: tuple[str, ...] = ()
    fatal: bool = True  # False: reported as a note, never fails the gate


@dataclasses.dataclass(frozen=True)
class Line:
    status: str  # FAIL, allowed, note
    source: str
    id: str
    where: str
    why: str

    def render(self) -> str:
        return f"{self.status:<7} {self.source:<9} {self.id}  {self.where}  {self.why}"


@dataclasses.dataclass
class Report:
    lines: list[Line] = dataclasses.field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(line.status == "FAIL" for line in self.lines)

    def summary(self) -> str:
        counts = {
            status: sum(line.status == status for line in self.lines)
            for status in ("FAIL", "allowed", "note")
        }
        verdict = "FAILED" if counts["FAIL"] else "passed"
        return (
            f"supply-chain gate {verdict}: {counts['FAIL']} failing, {counts['allowed']} allowlisted, "
            f"{counts['note']} notes"
        )


def matches(entry: Entry, finding: Finding) -> bool:
    return (
        entry.tool == finding.tool
        and entry.subject == finding.subject
        and entry.id in (finding.id, *finding.aliases)
    )


def judge(findings: Sequence[Finding], entries: Sequence[Entry], problems: Sequence[Problem]) -> Report:
    """Hold the findings to the usable entries; problems fail as they are; unused entries are notes."""
    report = Report()
    used: set[int] = set()
    for finding in findings:
        entry = next((e for e in entries if matches(e, finding)), None)
        detail = f": {finding.detail}" if finding.detail else ""
        if entry is not None:
            used.add(entry.index)
            why = f"until {entry.expires.isoformat()} ({entry.reason})"
            report.lines.append(Line("allowed", finding.tool, finding.id, finding.where, why))
        elif finding.fatal:
            why = f"not allowlisted{detail}"
            report.lines.append(Line("FAIL", finding.tool, finding.id, finding.where, why))
        else:
            report.lines.append(
                Line("note", finding.tool, finding.id, finding.where, f"does not fail{detail}")
            )
    for problem in problems:
        report.lines.append(Line("FAIL", problem.source, "-", problem.where, problem.why))
    for entry in entries:
        if entry.index not in used:
            why = "matched no finding this run: delete it once it is no longer needed"
            report.lines.append(Line("note", "allowlist", entry.id, entry.label, why))
    return report


# --- pip-audit ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AuditTarget:
    name: str  # for the report: "image lock", "image localhost/aegis-gateway:0.1.0", "test environment"
    pins: tuple[tuple[str, str], ...]  # (name, version)
    strict: bool  # an unaudited package fails (shipped) or is a note (not shipped)


def read_pins(text: str) -> list[tuple[str, str]]:
    """NAME==VERSION lines of a requirements lock (with its --hash options) or `pip freeze` (comments,
    blanks, others ignored)."""
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)(?:\s+--hash=\S+)*", line)
        if match:
            pins.append((match[1], match[2]))
    return pins


def run_pip_audit(pip_audit: str, pins: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """pip-audit's JSON for these pins (one version a name), resolving nothing: the pins are the set."""
    with tempfile.TemporaryDirectory(prefix="aegis-pip-audit-") as tmp:
        reqs, out = Path(tmp) / "requirements.txt", Path(tmp) / "audit.json"
        reqs.write_text("".join(f"{name}=={version}\n" for name, version in pins))
        cmd = [pip_audit, "--requirement", str(reqs), "--no-deps", "--disable-pip"]
        cmd += ["--vulnerability-service", "pypi", "--progress-spinner", "off"]
        cmd += ["--format", "json", "--output", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        # pip-audit exits 1 when it found vulnerabilities; anything else without a report is a failure.
        if proc.returncode not in (0, 1) or not out.exists():
            raise ToolError(f"pip-audit exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def audit_targets(pip_audit: str, targets: Sequence[AuditTarget], fetch: Fetch) -> list[Finding]:
    """Every target's findings, each distinct pin audited once: as few pip-audit runs as there are
    versions of one name across the targets (usually one), and one project JSON look-up a name."""
    by_pin: dict[tuple[str, str], dict[str, Any]] = {}
    pending = sorted({(canonical(name), version) for target in targets for name, version in target.pins})
    while pending:
        batch: dict[str, str] = {}
        later = []
        for name, version in pending:
            if name in batch:
                later.append((name, version))
            else:
                batch[name] = version
        for dep in run_pip_audit(pip_audit, sorted(batch.items())).get("dependencies", []):
            name = canonical(str(dep.get("name", "")))
            if name in batch:
                by_pin[(name, batch[name])] = dep
        pending = later
    cache: dict[str, Any] = {}

    def cached(url: str) -> Any:
        if url not in cache:
            try:
                cache[url] = fetch(url)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                cache[url] = exc
        if isinstance(cache[url], Exception):
            raise cache[url]
        return cache[url]

    findings = []
    for target in targets:
        deps = [by_pin[key] for key in ((canonical(n), v) for n, v in target.pins) if key in by_pin]
        findings += audit_findings(target, {"dependencies": deps}, cached)
    return findings


class ToolError(Exception):
    pass


def fetch_json(url: str) -> Any:
    if not url.startswith("https://"):
        raise ValueError(f"not an https URL: {url}")
    headers = {"Accept": "application/json", "User-Agent": "aegis-supply-chain"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (https only, checked above)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


def audit_findings(target: AuditTarget, audit: Mapping[str, Any], fetch: Fetch) -> list[Finding]:
    """Findings from pip-audit's JSON for one target; each package it skipped is looked up in PyPI's
    project JSON, which is authoritative only when the pinned version is the newest release."""
    versions = {canonical(name): version for name, version in target.pins}
    findings: list[Finding] = []
    audited: set[str] = set()
    for dep in audit.get("dependencies", []):
        name = canonical(str(dep.get("name", "")))
        version = str(dep.get("version") or versions.get(name, "?"))
        if "skip_reason" in dep:
            findings += _fallback(target, name, version, str(dep["skip_reason"]), fetch)
        else:
            for vuln in dep.get("vulns", []):
                findings.append(_vuln_finding(target, name, version, vuln, vuln.get("fix_versions", [])))
        audited.add(name)
    for name, version in versions.items():  # a pin pip-audit did not mention at all was not audited
        if name not in audited:
            findings += _fallback(target, name, version, "pip-audit did not report it", fetch)
    return findings


def _vuln_finding(
    target: AuditTarget, name: str, version: str, vuln: Mapping[str, Any], fixed: Iterable[str]
) -> Finding:
    fixed_in = ", ".join(str(v) for v in fixed) or "no fixed version"
    summary = " ".join(
        str(vuln.get("summary") or vuln.get("description") or vuln.get("details") or "").split()
    )
    return Finding(
        tool="pip-audit",
        id=str(vuln["id"]),
        subject=name,
        where=f"{name}=={version} ({target.name})",
        detail=f"fixed in {fixed_in}; {summary[:160]}".rstrip("; "),
        aliases=tuple(str(a) for a in vuln.get("aliases") or ()),
    )


def _fallback(target: AuditTarget, name: str, version: str, skipped: str, fetch: Fetch) -> list[Finding]:
    def unaudited(why: str) -> list[Finding]:
        where = f"{name}=={version} ({target.name})"
        note = "" if target.strict else " (not shipped: a note)"
        return [Finding("pip-audit", UNAUDITED, name, where, f"{why}{note}", fatal=target.strict)]

    try:
        project = fetch(PYPI_JSON.format(name=name))
        latest = str(project["info"]["version"])
        vulns = project.get("vulnerabilities") or []
    except (urllib.error.URLError, OSError, KeyError, TypeError, ValueError) as exc:
        return unaudited(f"pip-audit skipped it ({skipped}) and PyPI's project JSON failed: {exc}")
    if latest != version:
        return unaudited(
            f"pip-audit skipped it ({skipped}); PyPI's project JSON lists vulnerabilities of the newest "
            f"release only ({latest})"
        )
    return [
        _vuln_finding(target, name, version, vuln, vuln.get("fixed_in") or ())
        for vuln in vulns
        if not vuln.get("withdrawn")
    ]


# --- gitleaks -----------------------------------------------------------------------------------------------


def run_gitleaks(gitleaks: str, repo: Path) -> list[dict[str, Any]]:
    """gitleaks' findings (secrets redacted) over every commit reachable from HEAD, with its default rules
    or the repository's .gitleaks.toml. Inline `gitleaks:allow` comments are not honoured and a
    .gitleaksignore is refused: the allowlist, with its reasons and expiry dates, is the only exception."""
    shallow = _git(repo, "rev-parse", "--is-shallow-repository")
    if shallow == "true":
        raise ToolError(
            "the clone is shallow, so the history scan would miss commits: run `git fetch --unshallow`"
        )
    if (repo / ".gitleaksignore").exists():
        raise ToolError(
            ".gitleaksignore is not used: allowlist findings in deploy/supply-chain-allowlist.toml"
        )
    with tempfile.TemporaryDirectory(prefix="aegis-gitleaks-") as tmp:
        out = Path(tmp) / "gitleaks.json"
        cmd = [
            gitleaks,
            "git",
            "--no-banner",
            "--no-color",
            "--log-level",
            "error",
            "--redact",
            "--exit-code",
            "0",
        ]
        cmd += ["--ignore-gitleaks-allow", "--gitleaks-ignore-path", tmp, "--report-format", "json"]
        cmd += ["--report-path", str(out), "--log-opts=--full-history --diff-filter=tuxdb HEAD", str(repo)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0 or not out.exists():
            raise ToolError(f"gitleaks exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        found: list[dict[str, Any]] = json.loads(out.read_text())
        return found


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def gitleaks_findings(report: Sequence[Mapping[str, Any]]) -> list[Finding]:
    findings = []
    for leak in report:
        commit = str(leak.get("Commit", ""))
        where = f"{leak.get('File')}:{leak.get('StartLine')} in commit {commit[:12]} ({leak.get('RuleID')})"
        findings.append(
            Finding(
                tool="gitleaks",
                id=str(leak["Fingerprint"]),
                subject=str(leak.get("File", "")),
                where=where,
                detail=str(leak.get("Description", "")),
            )
        )
    return findings


# --- SBOMs --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Component:
    kind: str  # pypi, golang, deb
    name: str
    version: str
    path: str = ""  # where in the image it was found
    type: str = "library"
    qualifiers: str = ""  # purl qualifiers, "arch=amd64&distro=debian-12"
    license: str = ""

    @property
    def purl(self) -> str:
        name = canonical(self.name) if self.kind == "pypi" else self.name
        version = urllib.parse.quote(self.version, safe=".-_~")
        purl = f"pkg:{self.kind}/{'debian/' if self.kind == 'deb' else ''}{name}@{version}"
        return f"{purl}?{self.qualifiers}" if self.qualifiers else purl

    def cyclonedx(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "bom-ref": self.purl + (f"#{self.path}" if self.path and self.kind != "deb" else ""),
            "name": self.name,
            "version": self.version,
            "purl": self.purl,
        }
        if self.license:
            doc["licenses"] = [{"expression": self.license}]
        if self.path:
            doc["properties"] = [
                {"name": f"aegis:{'files' if self.kind == 'deb' else 'path'}", "value": self.path}
            ]
        return doc


def python_dists(root: Path, skip: Iterable[str] = ()) -> list[Component]:
    """Installed Python distributions (*.dist-info/METADATA) under root, except paths in skip (files a
    Debian package owns, which its deb component covers)."""
    owned = set(skip)
    found = []
    for meta in sorted(root.glob("**/*.dist-info/METADATA")):
        rel = "/" + meta.relative_to(root).as_posix()
        if rel in owned or not meta.is_file():
            continue
        fields = _metadata(meta.read_text(errors="replace"))
        if "name" in fields and "version" in fields:
            lic = fields.get("license-expression", "")
            found.append(
                Component("pypi", fields["name"], fields["version"], str(Path(rel).parent), license=lic)
            )
    return found


def _metadata(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t")):
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def parse_go_version_m(text: str, root: str) -> list[Component]:
    """Components of `go version -m` output: each Go binary's main module, its dependencies (a replaced
    one as its replacement) and the Go standard library it was built with."""
    found: list[Component] = []
    binary = ""
    for raw in text.splitlines():
        if not raw.startswith("\t"):
            path, _, go = raw.rpartition(": ")
            binary = "/" + os.path.relpath(path, root).lstrip("/") if path else ""
            if binary and go.startswith("go"):
                found.append(Component("golang", "stdlib", go.removeprefix("go"), binary))
            continue
        fields = raw.strip().split("\t")
        if fields[0] == "mod" and len(fields) >= 3:
            found.append(Component("golang", fields[1], fields[2], binary, type="application"))
        elif fields[0] == "dep" and len(fields) >= 3:
            found.append(Component("golang", fields[1], fields[2], binary))
        elif fields[0] == "=>" and len(fields) >= 3 and found:
            found[-1] = dataclasses.replace(found[-1], name=fields[1], version=fields[2])
    return [c for c in found if c.version not in ("", "(devel)")]


@dataclasses.dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    arch: str
    files: frozenset[str]


def read_dpkg(root: Path) -> list[DebPackage]:
    """Installed packages of a root file system's dpkg database, with the files each owns (paths made
    /usr-merged: /lib/x -> /usr/lib/x)."""
    status = root / "var/lib/dpkg/status"
    if not status.is_file():
        return []
    packages = []
    for stanza in status.read_text(errors="replace").split("\n\n"):
        fields = _metadata(stanza)
        if "install ok installed" not in fields.get("status", ""):
            continue
        name, arch = fields["package"], fields.get("architecture", "")
        files: set[str] = set()
        for candidate in (f"{name}:{arch}.list", f"{name}.list"):
            listing = root / "var/lib/dpkg/info" / candidate
            if listing.is_file():
                files = {usr_merged(p) for p in listing.read_text(errors="replace").splitlines() if p}
                break
        packages.append(DebPackage(name, fields.get("version", ""), arch, frozenset(files)))
    return packages


def usr_merged(path: str) -> str:
    for top in ("/lib64/", "/lib/", "/bin/", "/sbin/"):
        if path.startswith(top):
            return "/usr" + path
    return path


# Files a package's maintainer scripts write, so that no .list names them: path -> package.
GENERATED = {"/etc/ssl/certs/ca-certificates.crt": "ca-certificates"}


def deb_components(root: Path, base: Path | None, distro: str) -> tuple[list[Component], set[str]]:
    """The Debian packages of an image and the files they own: from its own dpkg database, else (an image
    FROM scratch) the base image's packages that own a regular file present in the image."""
    own = read_dpkg(root)
    packages, partial = (own, False) if own or base is None else (read_dpkg(base), True)
    present = {"/" + p.relative_to(root).as_posix() for p in _files(root)} if partial else set()
    found: list[Component] = []
    owned: set[str] = set()
    for pkg in packages:
        generated = {path for path, owner in GENERATED.items() if owner == pkg.name}
        files = (pkg.files | generated) & present if partial else pkg.files
        if partial and not files:
            continue
        owned |= files
        qualifiers = f"arch={pkg.arch}&distro={distro}" if pkg.arch else f"distro={distro}"
        path = f"{len(files)} of its files are in the image" if partial else ""
        found.append(Component("deb", pkg.name, pkg.version, path, qualifiers=qualifiers))
    return found, owned


def _files(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def debian_distro(root: Path) -> str:
    release = {}
    for name in ("etc/os-release", "usr/lib/os-release"):
        path = root / name
        if path.is_file():
            for line in path.read_text().splitlines():
                key, _, value = line.partition("=")
                release[key] = value.strip('"')
            break
    return f"{release.get('ID', 'debian')}-{release.get('VERSION_ID', '')}".rstrip("-")


def bom(subject: Mapping[str, Any], components: Sequence[Component]) -> dict[str, Any]:
    unique: dict[str, dict[str, Any]] = {}
    for component in components:
        doc = component.cyclonedx()
        unique.setdefault(doc["bom-ref"], doc)
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "aegis deploy/supply_chain.py"}]},
            "component": dict(subject),
        },
        "components": sorted(unique.values(), key=lambda c: (c["purl"], c["bom-ref"])),
    }


def rootfs_components(root: Path, base: Path | None, go: str) -> list[Component]:
    debs, owned = deb_components(root, base, debian_distro(base or root) if base else debian_distro(root))
    components = [*debs, *python_dists(root, skip=owned)]
    proc = subprocess.run(
        [go, "version", "-m", str(root)], capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise ToolError(f"go version -m failed: {proc.stderr.strip()[-300:]}")
    return components + parse_go_version_m(proc.stdout, str(root))


@dataclasses.dataclass(frozen=True)
class ImageSbom:
    image: str
    doc: dict[str, Any]
    python: tuple[tuple[str, str], ...]  # the Python distributions in it, for pip-audit


def image_sbom(image: str, base_image: str | None, go: str, podman: str = "podman") -> ImageSbom:
    info = json.loads(_run([podman, "image", "inspect", image]))[0]
    with _mounted(podman, image) as root, _mounted(podman, base_image) as base:
        assert root is not None
        # An image with its own dpkg database needs no base; one FROM scratch is matched to the base's.
        components = rootfs_components(root, None if (root / "var/lib/dpkg/status").exists() else base, go)
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    subject = {
        "type": "container",
        "bom-ref": f"image:{info['Id']}",
        "name": repo,
        "version": tag or info["Id"][:12],
        "properties": [
            {"name": "aegis:image-id", "value": info["Id"]},
            {"name": "aegis:image-created", "value": str(info.get("Created", ""))},
            *([{"name": "aegis:dpkg-from", "value": base_image}] if base_image else []),
        ],
    }
    python = tuple(sorted({(c.name, c.version) for c in components if c.kind == "pypi"}))
    return ImageSbom(image, bom(subject, components), python)


@contextlib.contextmanager
def _mounted(podman: str, image: str | None) -> Iterator[Path | None]:
    """`podman image mount` for the block (root only, as in CI); None in, None out."""
    if image is None:
        yield None
        return
    root = Path(_run([podman, "image", "mount", image]).strip())
    try:
        yield root
    finally:
        subprocess.run([podman, "image", "unmount", image], capture_output=True, check=False)


def _run(cmd: Sequence[str]) -> str:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise ToolError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return proc.stdout


def wheel_sbom(cyclonedx_py: str, lock: Path, pyproject: Path, out: Path) -> None:
    cmd = [cyclonedx_py, "requirements", "--pyproject", str(pyproject), "--mc-type", "library"]
    cmd += ["--spec-version", "1.6", "--output-format", "JSON", "--output-reproducible", "--validate"]
    cmd += ["--output-file", str(out), str(lock)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise ToolError(f"cyclonedx-py exited {proc.returncode}: {proc.stderr.strip()[-500:]}")


def validate_sbom(validator_python: str, path: Path) -> None:
    """Strict validation against the CycloneDX 1.6 JSON schema, by cyclonedx-python-lib in its own venv."""
    code = (
        "import sys\n"
        "from cyclonedx.schema import SchemaVersion\n"
        "from cyclonedx.validation.json import JsonStrictValidator\n"
        "error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n"
        "sys.exit(str(error) if error else 0)\n"
    )
    proc = subprocess.run(
        [validator_python, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise ToolError(f"{path.name} is not valid CycloneDX 1.6: {proc.stderr.strip()[-500:]}")


# --- The gate -----------------------------------------------------------------------------------------------


def sbom_file_name(image: str) -> str:
    repo = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return f"{repo}-image.cdx.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the git repository to scan for secrets")
    parser.add_argument("--allowlist", type=Path, default=ROOT / "deploy" / "supply-chain-allowlist.toml")
    parser.add_argument("--only", action="append", choices=["pip-audit", "gitleaks", "sbom"], default=[])
    parser.add_argument("--pip-audit", default="pip-audit")
    parser.add_argument("--gitleaks", default="gitleaks")
    parser.add_argument("--cyclonedx-py", default="cyclonedx-py")
    parser.add_argument("--validator-python", help="a Python with cyclonedx-python-lib, to validate SBOMs")
    parser.add_argument("--go", default="go")
    parser.add_argument("--lock", type=Path, default=ROOT / "deploy" / "image" / "requirements.lock")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--test-env", help="the Python of the test environment to audit as well")
    parser.add_argument("--image", action="append", default=[], help="a shipped image: SBOM, strict audit")
    parser.add_argument("--dev-image", action="append", default=[], help="a development image: SBOM, audit")
    parser.add_argument(
        "--base-image", help="whose dpkg database names the Debian files of FROM-scratch images"
    )
    parser.add_argument(
        "--own", action="append", default=[], help="a distribution of this project (not audited)"
    )
    parser.add_argument("--sbom-dir", type=Path, default=ROOT / ".tools" / "build" / "sbom")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(), help="for tests")
    args = parser.parse_args(argv)
    steps = set(args.only) or {"pip-audit", "gitleaks", "sbom"}

    entries, problems = load_allowlist(
        args.allowlist.read_text() if args.allowlist.exists() else "", args.today
    )
    if not args.allowlist.exists():
        problems.append(Problem("allowlist", str(args.allowlist), "does not exist"))
    findings: list[Finding] = []
    own = {canonical(name) for name in args.own}

    def step(name: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            action()
        except (ToolError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
            problems.append(Problem(name, "the run", str(exc)))
        print(f"supply-chain: {name} took {time.monotonic() - started:.1f}s", file=sys.stderr)

    images: list[ImageSbom] = []
    if steps & {"sbom", "pip-audit"} and (args.image or args.dev_image):
        args.sbom_dir.mkdir(parents=True, exist_ok=True)

        def sboms() -> None:
            for image in [*args.image, *args.dev_image]:
                try:
                    sbom = image_sbom(image, args.base_image, args.go)
                except ToolError as exc:
                    problems.append(Problem("sbom", image, str(exc)))
                    continue
                images.append(sbom)
                out = args.sbom_dir / sbom_file_name(image)
                out.write_text(json.dumps(sbom.doc, indent=1) + "\n")
                if args.validator_python:
                    validate_sbom(args.validator_python, out)
                print(
                    f"supply-chain: wrote {out} ({len(sbom.doc['components'])} components)", file=sys.stderr
                )

        step("image SBOMs", sboms)
    if "sbom" in steps:

        def wheel() -> None:
            args.sbom_dir.mkdir(parents=True, exist_ok=True)
            out = args.sbom_dir / "aegis-gateway-wheel.cdx.json"
            wheel_sbom(args.cyclonedx_py, args.lock, args.pyproject, out)
            print(f"supply-chain: wrote {out}", file=sys.stderr)

        step("wheel SBOM", wheel)
    if "pip-audit" in steps:

        def audit() -> None:
            targets = [AuditTarget("image lock", tuple(read_pins(args.lock.read_text())), strict=True)]
            for sbom in images:
                pins = tuple(pin for pin in sbom.python if canonical(pin[0]) not in own)
                targets.append(AuditTarget(f"image {sbom.image}", pins, strict=sbom.image in args.image))
            if args.test_env:
                freeze = [
                    args.test_env,
                    "-m",
                    "pip",
                    "freeze",
                    "--exclude-editable",
                    "--disable-pip-version-check",
                ]
                pins = tuple(pin for pin in read_pins(_run(freeze)) if canonical(pin[0]) not in own)
                targets.append(AuditTarget("test environment", pins, strict=False))
            findings.extend(audit_targets(args.pip_audit, targets, fetch_json))

        step("pip-audit", audit)
    if "gitleaks" in steps:
        step("gitleaks", lambda: findings.extend(gitleaks_findings(run_gitleaks(args.gitleaks, args.repo))))

    report = judge(findings, entries, problems)
    for line in sorted(report.lines, key=lambda line: ("FAIL", "allowed", "note").index(line.status)):
        print(line.render())
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
