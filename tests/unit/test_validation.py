"""Every validation error of a workflow file, with the file, field path, line and sentence."""

from __future__ import annotations

import json

import pytest

from baton.definition.exceptions import DefinitionError
from baton.definition.source import parse_text
from baton.definition.validation import check_workflow
from tests.conftest import resolve

BASE = """\
id: wf
name: Test workflow
agents: [login, navigate, extract]
"""


def problems_of(text: str, registry, file: str = "wf.yaml") -> list[str]:
    try:
        doc = parse_text(text, file)
    except DefinitionError as error:
        return [str(p) for p in error.problems]
    workflow, problems = check_workflow(doc, registry)
    assert (workflow is None) == bool(problems)
    return [str(p) for p in problems]


def test_valid_file_has_no_problems(shipped_registry):
    assert problems_of(BASE, shipped_registry) == []


def test_yaml_syntax_error_names_the_line(shipped_registry):
    text = BASE + "config:\n  timeout: [5m\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:6: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_json_syntax_error_names_the_line(shipped_registry):
    text = '{\n  "id": "wf",\n  "name": "x",\n  "agents": [1, 2,]\n}'
    [problem] = problems_of(text, shipped_registry, "wf.json")
    assert problem.startswith("wf.json:4: invalid JSON: ")


def test_unknown_keys_suggest_the_right_one(shipped_registry):
    text = BASE + "confg: {}\nconfig:\n  maxRetires: 2\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:4: confg: unknown key 'confg' (did you mean 'config'?)",
        "wf.yaml:6: config.maxRetires: unknown key 'maxRetires' (did you mean 'maxRetries'?)",
    ]


def test_unknown_agent(shipped_registry):
    text = BASE.replace("extract]", "extrakt]")
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:3: agents[2]: unknown agent 'extrakt': no such agent in the registry "
        "(did you mean 'extract'?)"
    ]


def test_unknown_numeric_agent_id(shipped_registry):
    text = "id: wf\nname: x\nagents: [1, 99]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:3: agents[1]: unknown agent 99: no such agent in the registry"
    ]


def test_agent_twice_in_sequence(shipped_registry):
    text = "id: wf\nname: x\nagents: [login, navigate, 1]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:3: agents[2]: agent 'login' is listed twice (also at agents[0])"
    ]


def test_agent_in_two_parallel_groups(shipped_registry):
    text = BASE + "config:\n  parallelGroups:\n    - [login, navigate]\n    - [navigate, extract]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:7: config.parallelGroups[1][0]: agent 'navigate' is already in group 0"
    ]


def test_group_member_not_in_workflow(shipped_registry):
    text = BASE + "config:\n  parallelGroups: [[navigate, webhook]]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: config.parallelGroups[0][1]: agent 'webhook' is in a parallel group "
        "but not in the workflow's agents"
    ]


def test_condition_after_agent_not_in_workflow(shipped_registry):
    text = BASE + "conditions:\n  - after: webhook\n    when: 'true'\n    then: [log]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: conditions[0].after: the condition runs after 'webhook', which is not in the workflow"
    ]


def test_invalid_when_expression_is_parsed_at_validation(shipped_registry):
    text = BASE + "conditions:\n  - after: extract\n    when: 'recordCount > '\n    then: [log]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:6: conditions[0].when: invalid `when` expression 'recordCount > ': "
        "Unexpected end of expression"
    ]


def test_unknown_branch_agent(shipped_registry):
    text = BASE + "conditions:\n  - after: extract\n    when: 'true'\n    then: [notify]\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:7: conditions[0].then[0]: unknown branch agent 'notify': no such agent in the registry "
        "(did you mean 'slack-notify'?)"
    ]


def test_unknown_alternative_agent(shipped_registry):
    text = BASE + "fallbacks:\n  extract: {strategy: alternative, alternative: extractor}\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: fallbacks.extract.alternative: unknown alternative agent 'extractor': "
        "no such agent in the registry (did you mean 'extract'?)"
    ]


def test_alternative_strategy_without_alternative(shipped_registry):
    text = BASE + "fallbacks:\n  extract: {strategy: alternative}\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: fallbacks.extract: strategy 'alternative' needs an alternative agent"
    ]


@pytest.mark.parametrize("timeout", ["0", "-5", "0s"])
def test_non_positive_timeout(shipped_registry, timeout):
    text = BASE + f"config:\n  timeout: {timeout}\n"
    [problem] = problems_of(text, shipped_registry)
    assert problem.startswith("wf.yaml:5: config.timeout: timeout must be positive, got ")


@pytest.mark.parametrize("retries", [-1, 11])
def test_max_retries_outside_0_to_10(shipped_registry, retries):
    text = BASE + f"config:\n  maxRetries: {retries}\n"
    assert problems_of(text, shipped_registry) == [
        f"wf.yaml:5: config.maxRetries: maxRetries must be between 0 and 10, got {retries}"
    ]


def test_fallback_max_retries_outside_range(shipped_registry):
    text = BASE + "fallbacks:\n  extract: {strategy: skip, maxRetries: 12}\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: fallbacks.extract.maxRetries: maxRetries must be between 0 and 10, got 12"
    ]


@pytest.mark.parametrize(
    ("field", "value"), [("timeout", "5 minutes"), ("backoff", "{interval: 2x}")]
)
def test_malformed_durations(shipped_registry, field, value):
    text = BASE + f"config:\n  {field}: {value}\n"
    [problem] = problems_of(text, shipped_registry)
    assert "is not a duration: write milliseconds as a number, or a number with a unit" in problem
    assert problem.startswith("wf.yaml:5: config.")


def test_retry_interval_must_be_whole_seconds(shipped_registry):
    text = BASE + "config:\n  backoff: {interval: 1500ms}\n"
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:5: config.backoff.interval: the retry interval must be a whole number of seconds, "
        "at least 1s (Step Functions waits in whole seconds), got 1.5s"
    ]


def test_empty_workflow(shipped_registry):
    assert problems_of("id: wf\nname: x\nagents: []\n", shipped_registry) == [
        "wf.yaml:3: agents: the workflow has no agents: list at least one"
    ]


def test_missing_required_fields(shipped_registry):
    assert problems_of("name: x\n", shipped_registry) == [
        "wf.yaml:1: id: is required",
        "wf.yaml:1: agents: is required",
    ]


def test_express_is_a_workflow_type_standard_the_default(shipped_registry):
    assert resolve(BASE, shipped_registry).type == "standard"
    assert resolve(BASE + "type: express\n", shipped_registry).type == "express"
    assert problems_of(BASE + "type: sometimes\n", shipped_registry) == [
        "wf.yaml:4: type: must be one of 'standard' or 'express'"
    ]


def test_retention_defaults_to_90_days_and_has_a_floor(shipped_registry):
    assert resolve(BASE, shipped_registry).retention_seconds == 90 * 86_400
    assert resolve(BASE + "config:\n  retention: 7d\n", shipped_registry).retention_seconds == (
        7 * 86_400
    )
    assert problems_of(BASE + "config:\n  retention: 10m\n", shipped_registry) == [
        "wf.yaml:5: config.retention: the retention must be at least 1h"
    ]


def test_branch_agent_in_a_parallel_group(shipped_registry):
    text = (
        BASE + "config:\n  parallelGroups: [[navigate, extract]]\n"
        "conditions:\n  - {after: login, when: 'true', then: [extract]}\n"
    )
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:7: conditions[0].then[0]: agent 'extract' runs in a parallel group, "
        "so it cannot also be a branch of a condition"
    ]


def test_conditions_that_loop(shipped_registry):
    text = (
        "id: wf\nname: x\nagents: [login, navigate]\nconditions:\n"
        "  - {after: login, when: 'true', then: [navigate]}\n"
        "  - {after: navigate, when: 'true', then: [login]}\n"
    )
    problems = problems_of(text, shipped_registry)
    assert (
        "wf.yaml:5: conditions[0]: conditions form a loop: 'login' is reached again from its own branches"
        in problems
    )


def test_every_error_of_a_file_at_once(shipped_registry):
    text = (
        "id: wf\n"
        "name: Many problems\n"
        "agents: [login, ghost, login, true]\n"
        "confg: 1\n"
        "config:\n"
        "  maxRetries: 11\n"
        "  timeout: 5x\n"
        "  parallelGroups: [[navigate]]\n"
        "conditions:\n"
        "  - after: log\n"
        "    when: 'a = = b'\n"
        "    then: [phantom]\n"
        "fallbacks:\n"
        "  login: {strategy: alternative, alternative: nobody}\n"
    )
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:3: agents[3]: must be an agent id (a number) or an agent name",
        "wf.yaml:3: agents[1]: unknown agent 'ghost': no such agent in the registry",
        "wf.yaml:3: agents[2]: agent 'login' is listed twice (also at agents[0])",
        "wf.yaml:4: confg: unknown key 'confg' (did you mean 'config'?)",
        "wf.yaml:6: config.maxRetries: maxRetries must be between 0 and 10, got 11",
        "wf.yaml:7: config.timeout: '5x' is not a duration: write milliseconds as a number, "
        "or a number with a unit (ms, s, m, h, d) such as '30s' or '5m'",
        "wf.yaml:8: config.parallelGroups[0][0]: agent 'navigate' is in a parallel group "
        "but not in the workflow's agents",
        "wf.yaml:10: conditions[0].after: the condition runs after 'log', which is not in the workflow",
        "wf.yaml:11: conditions[0].when: invalid `when` expression 'a = = b': "
        "The symbol = cannot be used as a unary operator",
        "wf.yaml:12: conditions[0].then[0]: unknown branch agent 'phantom': no such agent in the registry",
        "wf.yaml:14: fallbacks.login.alternative: unknown alternative agent 'nobody': "
        "no such agent in the registry",
    ]


def test_problems_in_json_files_have_lines(shipped_registry):
    text = json.dumps({"id": "wf", "name": "x", "agents": [1, 2, 77]}, indent=2)
    assert problems_of(text, shipped_registry, "wf.json") == [
        "wf.json:7: agents[2]: unknown agent 77: no such agent in the registry"
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(5 minutes)",
        "rate(2 days)",
        "cron(0 9 ? * MON-FRI *)",
        "cron(*/15 8-18 ? * 2-6 *)",
        "cron(0 12 1 * ? 2027)",
        "cron(0 0 L * ? *)",
        "cron(0 10 ? * 6#3 *)",
        "at(2026-12-01T09:00:00)",
    ],
)
def test_schedule_expressions_scheduler_accepts(shipped_registry, expression):
    text = BASE + f"schedule:\n  expression: '{expression}'\n  timezone: Europe/Paris\n"
    assert problems_of(text, shipped_registry) == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("every hour", "is not a schedule expression: write rate(5 minutes)"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("rate(0 minutes)", "a rate must be at least 1"),
        ("cron(0 9 * * *)", "a cron expression has 6 fields"),
        ("cron(0 9 * * MON *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 25 ? * * *)", "cron hours: 25 is outside 0-23"),
        ("cron(0 9 ? FOO * *)", "cron month: 'FOO' is not a valid value"),
        ("at(2026-13-01T09:00:00)", "is not a date and time"),
    ],
)
def test_schedule_expressions_scheduler_refuses(shipped_registry, expression, message):
    text = BASE + f"schedule:\n  expression: '{expression}'\n"
    [problem] = problems_of(text, shipped_registry)
    assert problem.startswith("wf.yaml:5: schedule.expression: ")
    assert message in problem


def test_schedule_timezone_and_tenant(shipped_registry):
    text = (
        BASE
        + "schedule:\n  expression: rate(1 hour)\n  timezone: Mars/Olympus\n  tenant: 'acme#corp'\n"
    )
    assert problems_of(text, shipped_registry) == [
        "wf.yaml:6: schedule.timezone: 'Mars/Olympus' is not a timezone: use an IANA name such as Europe/Paris or UTC",
        "wf.yaml:7: schedule.tenant: 'acme#corp': a tenant is 1 to 63 lowercase letters, digits or '-', starting with a letter or digit",
    ]


@pytest.mark.parametrize(
    ("for_each", "extra", "expected"),
    [
        (
            "{scraper-1: sites}",
            "config: {parallelGroups: [[scraper-1, scraper-2]]}",
            "wf.yaml:5: forEach.scraper-1: agent 'scraper-1' is in a parallel group; a forEach "
            "step runs alone (its items run in parallel already)",
        ),
        (
            "{scraper-1: sites}",
            "fallbacks: {scraper-1: {strategy: skip}}",
            "wf.yaml:5: forEach.scraper-1: agent 'scraper-1' runs for each item: a failed item "
            "counts against toleratedFailurePercentage instead of a skip or alternative fallback",
        ),
        (
            "{log: sites}",
            "",
            "wf.yaml:5: forEach.log: agent 'log' has a forEach but is not in the workflow",
        ),
        (
            "{scraper-1: {items: 'sites.list'}}",
            "",
            "wf.yaml:5: forEach.scraper-1.items: 'sites.list' is not a field of the workflow "
            "data: letters, digits and '_', not starting with a digit (one name, not a path)",
        ),
        (
            "{scraper-1: {items: sites, maxConcurrency: 0}}",
            "",
            "wf.yaml:5: forEach.scraper-1.maxConcurrency: Input should be greater than or equal to 1",
        ),
        (
            "{scraper-1: {items: sites, toleratedFailurePercentage: 101}}",
            "",
            "wf.yaml:5: forEach.scraper-1.toleratedFailurePercentage: Input should be less than or "
            "equal to 100",
        ),
    ],
    ids=["in a group", "with skip", "not in workflow", "items a path", "concurrency", "tolerance"],
)
def test_for_each_problems_name_the_agent_and_why(shipped_registry, for_each, extra, expected):
    text = f"id: w\nname: W\nagents: [scraper-1, scraper-2]\n{extra}\nforEach: {for_each}\n"
    [problem] = problems_of(text, shipped_registry)
    assert problem.startswith(expected)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("300KiB", "config.inlineLimit: Input should be less than or equal to 204800"),
        ("512", "config.inlineLimit: Input should be greater than or equal to 1024"),
        ("lots", "config.inlineLimit: 'lots' is not a size: write bytes as a number"),
    ],
)
def test_the_inline_limit_is_a_size_up_to_200_kib(shipped_registry, limit, expected):
    text = f"id: w\nname: W\nagents: [login]\nconfig:\n  inlineLimit: {limit}\n"
    [problem] = problems_of(text, shipped_registry)
    assert expected in problem
