"""One change, one line: findings grouped across answers, renames paired, expects explained."""

from __future__ import annotations

from facedetect_contract.core.violations import Severity, Violation
from facedetect_contract.report.grouping import group_findings

SCHEMA = "response_schema_conformance"
EXPECT = "live_case_meets_its_expect"
ANSWERS = ("live-case-a", "live-case-b", "live-case-c")


def finding(check, interaction, pointer, title, *, received="(absent)", severity=None):
    return Violation(
        check=check,
        interaction=interaction,
        pointer=pointer,
        received=received,
        documented="d",
        severity=severity or Severity.BREAKING,
        source="s",
        title=title,
    )


def renamed_verdict() -> list[Violation]:
    found = []
    for name in ANSWERS:
        found += [
            finding(SCHEMA, name, "/output/check_pass", "required field 'check_pass' is missing"),
            finding(
                SCHEMA,
                name,
                "/output/checkPass",
                "new undocumented field 'checkPass'",
                received="true",
                severity=Severity.ADDITIVE,
            ),
            finding(EXPECT, name, "", f"live case {name!r} did not meet its expect 'pass'"),
        ]
    return found


def test_a_renamed_field_across_three_answers_is_one_group_naming_the_rename():
    found = renamed_verdict()
    (group,) = group_findings(found)
    assert group.renamed_to is not None and group.count == 3
    line = group.headline()
    assert "check_pass is gone and checkPass appeared (values true)" in line
    assert (
        "looks like a rename" in line and "3 live cases missed their expect because of it" in line
    )
    assert sorted(v.id for v in group.members) == sorted(v.id for v in found)  # exact, stable


def test_the_same_check_at_the_same_place_is_one_group_with_every_answer():
    found = [finding(SCHEMA, n, "/output/x", "x is wrong") for n in ANSWERS]
    (group,) = group_findings(found)
    assert group.interactions == ANSWERS and group.count == 3
    assert group.headline() == "x is wrong (3 answers)"


def test_fields_not_alike_or_not_in_the_same_answers_are_not_a_rename():
    unlike = [
        finding(SCHEMA, "a", "/output/check_pass", "required field 'check_pass' is missing"),
        finding(SCHEMA, "a", "/output/score", "new undocumented field 'score'", received="1"),
    ]
    assert all(g.renamed_to is None for g in group_findings(unlike))
    apart = [
        finding(SCHEMA, "a", "/output/check_pass", "required field 'check_pass' is missing"),
        finding(SCHEMA, "b", "/output/checkPass", "new undocumented field 'checkPass'"),
    ]
    assert all(g.renamed_to is None for g in group_findings(apart))
    elsewhere = [
        finding(SCHEMA, "a", "/output/check_pass", "required field 'check_pass' is missing"),
        finding(SCHEMA, "a", "/usage/checkPass", "new undocumented field 'checkPass'"),
    ]
    assert all(g.renamed_to is None for g in group_findings(elsewhere))


def test_a_missed_expect_with_no_breaking_cause_stands_on_its_own():
    found = [finding(EXPECT, "a", "", "live case 'a' did not meet its expect 'pass'")]
    found.append(finding(SCHEMA, "b", "/output/x", "x is wrong"))
    groups = group_findings(found)
    assert [g.check for g in groups] == [EXPECT, SCHEMA]
    assert sum(len(g.members) for g in groups) == 2


def test_checks_and_severities_apart_stay_apart():
    found = [
        finding(SCHEMA, "a", "/output/x", "t"),
        finding(SCHEMA, "b", "/output/x", "t", severity=Severity.ADDITIVE),
        finding("other_check", "a", "/output/x", "t"),
    ]
    assert len(group_findings(found)) == 3


def test_a_folded_finding_counts_every_finding_it_stands_for():
    import dataclasses

    found = [finding(SCHEMA, n, "/output/x", "x is wrong") for n in ANSWERS]
    found[0] = dataclasses.replace(found[0], folded=40)
    (group,) = group_findings(found)
    assert group.count == 43 and group.headline() == "x is wrong (43 answers)"
