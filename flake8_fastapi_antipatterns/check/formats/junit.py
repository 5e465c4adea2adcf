"""JUnit XML, for CI test-report views (GitLab's test report, Jenkins, Azure Pipelines).

One ``<testsuite>`` per file with findings, one failing ``<testcase>`` per finding (so that each
finding is a line of its own in the CI's list, named by code and position). Files without findings
are not listed (the report counts them, it does not name them); a run with no findings writes one
passing test case, so that the CI shows the check ran.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import TextIO

from flake8_fastapi_antipatterns.check.formats.rule_info import column, rule_info
from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

SUITES_NAME = "flake8-fastapi-antipatterns"
CLEAN_CASE_NAME = "no findings"

# XML 1.0 cannot carry these even escaped; a source excerpt or message could hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(parent: ET.Element, finding: Diagnostic) -> None:
    info = rule_info(finding.code)
    case = ET.SubElement(
        parent,
        "testcase",
        name=_xml_text(f"{finding.code} at {finding.line}:{column(finding)}"),
        classname=_xml_text(finding.filename),
        file=_xml_text(finding.filename),
        line=str(max(finding.line, 0)),
    )
    failure = ET.SubElement(case, "failure", message=_xml_text(finding.message), type=finding.code)
    body = [finding.format_text(), f"{finding.code}: {info.title}"]
    if info.fix:
        body.append(f"fix: {info.fix}")
    if info.explain:
        body.append(f"docs: {info.explain}")
    failure.text = _xml_text("\n".join(body))


def junit_tree(report: CheckReport) -> ET.Element:
    total = len(report.findings)
    suites = ET.Element("testsuites", name=SUITES_NAME, tests=str(max(total, 1)), failures=str(total), errors="0")
    if not report.findings:
        suite = ET.SubElement(suites, "testsuite", name=SUITES_NAME, tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name=CLEAN_CASE_NAME, classname=SUITES_NAME)
        return suites
    for filename, group in groupby(report.findings, key=lambda finding: finding.filename):
        findings = list(group)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=_xml_text(filename),
            tests=str(len(findings)),
            failures=str(len(findings)),
            errors="0",
            skipped="0",
        )
        for finding in findings:
            _testcase(suite, finding)
    return suites


def write(report: CheckReport, out: TextIO) -> None:
    tree = ET.ElementTree(junit_tree(report))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    tree.write(out, encoding="unicode")
    out.write("\n")
