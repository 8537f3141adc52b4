"""Fail on a known vulnerability in the locked dependencies that has a fix.

Reads the JSON report of ``pip-audit`` (``python -m tests.audit REPORT``); one that
has no fixed release yet is shown but does not fail the build, since nothing can be
done about it here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(report: Path) -> int:
    found = json.loads(report.read_text())["dependencies"]
    fixable = 0
    for package in found:
        for vuln in package.get("vulns", []):
            fixes = ", ".join(vuln["fix_versions"]) or "no fix yet"
            sys.stdout.write(
                f"{package['name']} {package['version']}: {vuln['id']} ({fixes})\n"
            )
            fixable += bool(vuln["fix_versions"])
    sys.stdout.write(
        f"audited {len(found)} locked packages: {fixable} fixable vulnerabilities\n"
    )
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
