"""checkov over the Terraform and both Dockerfiles: no failed check, every skip justified.

checkov runs once per session (fixture ``checkov_reports`` in conftest.py) as a
subprocess of the project venv's own ``checkov``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.infra_support import DOCKERFILES, INFRA, REPO

# One checkov run (~10 s, most of it importing checkov) serves the whole module.
pytestmark = pytest.mark.slow

SKIP_RE = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")
SKIP_FORMAT = re.compile(r"^\s*#checkov:skip=(CKV2?_[A-Z]+_\d+):(\S.{19,})$")


def _summary(reports: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    assert kind in reports, f"checkov produced no {kind} report: {sorted(reports)}"
    return reports[kind]["summary"]


def _failures(reports: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for kind in ("terraform", "dockerfile"):
        for check in reports.get(kind, {}).get("results", {}).get("failed_checks", []):
            lines.append(
                f"{kind}: {check['check_id']} {check['check_name']} -- {check['resource']} "
                f"({check['file_path']}:{check['file_line_range']})"
            )
    return lines


def _inline_skips() -> Counter[tuple[str, str]]:
    """(check id, file relative to infrastructure/) for every inline skip comment."""
    found: Counter[tuple[str, str]] = Counter()
    for path in INFRA.rglob("*"):
        if not path.is_file() or ".terraform" in path.parts:
            continue
        if path.suffix not in {".tf"} and not path.name.startswith("Dockerfile"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            m = SKIP_RE.search(line)
            if m:
                found[(m.group(1), "/" + str(path.relative_to(INFRA)))] += 1
    return found


def test_checkov_terraform_has_no_failed_check(checkov_reports: dict[str, dict[str, Any]]) -> None:
    summary = _summary(checkov_reports, "terraform")
    assert summary["parsing_errors"] == 0, "checkov could not parse some Terraform"
    assert summary["failed"] == 0, "\n".join(_failures(checkov_reports))
    # Honesty: the scan must really have covered the stack.
    assert summary["passed"] >= 100, summary
    assert summary["resource_count"] >= 40, summary


def test_checkov_dockerfiles_have_no_failed_check(
    checkov_reports: dict[str, dict[str, Any]],
) -> None:
    summary = _summary(checkov_reports, "dockerfile")
    assert summary["parsing_errors"] == 0
    assert summary["failed"] == 0, "\n".join(_failures(checkov_reports))
    results = checkov_reports["dockerfile"]["results"]
    scanned = {Path(c["file_path"]).name for c in results["passed_checks"]}
    assert {p.name for p in DOCKERFILES} <= scanned, f"not every Dockerfile was scanned: {scanned}"
    passed_ids = {c["check_id"] for c in results["passed_checks"]}
    for check_id in ("CKV_DOCKER_2", "CKV_DOCKER_3"):  # HEALTHCHECK, non-root USER
        assert check_id in passed_ids, f"{check_id} was not evaluated as passed"


def test_checkov_scanned_the_key_resources(checkov_reports: dict[str, dict[str, Any]]) -> None:
    results = checkov_reports["terraform"]["results"]
    resources = {c["resource"] for c in results["passed_checks"]}
    for expected in (
        "module.ec2.aws_instance.this",
        "module.storage.aws_s3_bucket.this",
        "module.security.aws_security_group.instance",
        "module.networking.aws_vpc.this",
        "aws_kms_key.main",
    ):
        assert expected in resources, f"checkov did not evaluate {expected}"


def test_every_inline_skip_has_a_reason() -> None:
    skips = _inline_skips()
    assert skips, "expected the few documented skips to be found"
    bad = []
    for path in INFRA.rglob("*"):
        if path.is_file() and (path.suffix == ".tf" or path.name.startswith("Dockerfile")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "checkov:skip" in line and not SKIP_FORMAT.match(line):
                    bad.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not bad, (
        "skip without the '#checkov:skip=ID:reason' form or a real reason:\n" + "\n".join(bad)
    )
    assert sum(skips.values()) <= 8, f"too many checkov skips: {sorted(skips)}"


def test_skips_match_checkov_report_exactly(checkov_reports: dict[str, dict[str, Any]]) -> None:
    """Every inline skip is used, and nothing is skipped other than inline (no CLI/config)."""
    reported: Counter[tuple[str, str]] = Counter()
    for kind in ("terraform", "dockerfile"):
        for check in checkov_reports[kind]["results"].get("skipped_checks", []):
            reported[(check["check_id"], check["file_path"])] += 1
    assert reported == _inline_skips()


def test_no_checkov_config_file_relaxes_the_scan() -> None:
    for name in (".checkov.yaml", ".checkov.yml"):
        for base in (REPO, INFRA):
            assert not (base / name).exists(), f"{base / name} could hide failures"
