"""The ASL the compiler produces: states, retries, fallbacks, timeouts, and its structure."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.compiler.asl import compile_workflow
from baton.compiler.checks import structural_problems
from baton.compiler.retry import LAMBDA_SERVICE_FAULTS
from baton.definition.exceptions import DefinitionError
from baton.definition.expressions import fields_read
from baton.definition.loader import load_workflow, workflow_files
from baton.definition.registry import TASK_TIMEOUT_MARGIN_SECONDS
from tests.asl_walk import invocations
from tests.conftest import STATEMACHINES, compiled, make_registry, resolve

AGENTS = [f"a{i}" for i in range(1, 13)]
REGISTRY = make_registry(*AGENTS, a3={"requiredAccuracy": 80, "timeout": "45s"})


def test_sequential_steps_are_one_task_each():
    asl = compiled({"id": "seq", "name": "Seq", "agents": ["a1", "a2", "a3"]}, REGISTRY).asl
    assert list(asl["States"]) == [
        "Start",
        "Resume router",
        "Recovery backoff",
        "a1",
        "a2",
        "a3",
        "Completed",  # where a resume after the last step goes
    ]
    assert asl["QueryLanguage"] == "JSONata"
    assert asl["TimeoutSeconds"] == 300
    task = asl["States"]["a3"]
    assert task["Type"] == "Task"
    assert task["Resource"] == "arn:aws:states:::lambda:invoke"
    assert task["Arguments"]["FunctionName"] == "${AgentFn_a3}"
    assert task["Arguments"]["Payload"] == (
        "{% {'agent':'a3','position':2,'attempt':$states.context.State.RetryCount+1,"
        "'requiredAccuracy':80,'data':$data,'context':$ctx} %}"
    )
    # the Task outlasts the agent's Lambda timeout (45 s), so it never abandons a running one
    assert task["TimeoutSeconds"] == 45 + TASK_TIMEOUT_MARGIN_SECONDS
    assert asl["States"]["a2"]["Assign"] == {
        "data": "{% $merge([$data, $states.result.Payload.data]) %}"
    }
    # the last step ends the run with Completed's output: no transition to Completed
    assert "Assign" not in task and "Next" not in task and task["End"] is True
    assert task["Output"] == "{% {'data': $merge([$data, $states.result.Payload.data])} %}"
    assert task["Comment"] == "Agent #3 (standard): accuracy ≥ 80; retries 2s, 4s, 8s; then fail"


def test_retry_blocks_follow_the_design():
    definition = {
        "id": "r",
        "name": "R",
        "agents": ["a1"],
        "config": {
            "maxRetries": 4,
            "backoff": {"interval": "3s", "rate": 1.5, "maxDelay": "20s", "jitter": True},
        },
    }
    retry = compiled(definition, REGISTRY).asl["States"]["a1"]["Retry"]
    faults, throttling, input_errors, agent_errors = retry
    assert faults["ErrorEquals"] == LAMBDA_SERVICE_FAULTS
    assert faults["JitterStrategy"] == "FULL"
    assert throttling["ErrorEquals"] == ["Lambda.TooManyRequestsException"]
    assert throttling["JitterStrategy"] == "FULL"
    assert input_errors == {
        "ErrorEquals": ["AgentInputError", "BudgetSpentError"],
        "MaxAttempts": 0,
    }
    assert agent_errors == {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 3,
        "MaxAttempts": 4,
        "BackoffRate": 1.5,
        "MaxDelaySeconds": 20,
        "JitterStrategy": "FULL",
    }


def test_default_backoff_is_2_4_8():
    workflow = resolve({"id": "d", "name": "D", "agents": ["a1"]}, REGISTRY)
    assert workflow.default_retry.waits() == [2, 4, 8]
    agent_errors = compile_workflow(workflow).asl["States"]["a1"]["Retry"][-1]
    assert (
        agent_errors["IntervalSeconds"],
        agent_errors["BackoffRate"],
        agent_errors["MaxAttempts"],
    ) == (2, 2.0, 3)


def test_parallel_group_is_a_map_at_its_first_members_place():
    definition = {
        "id": "p",
        "name": "P",
        "agents": ["a1", "a2", "a3", "a4", "a5", "a6"],
        "config": {"parallelGroups": [["a2", "a4", "a5"]]},
    }
    states = compiled(definition, REGISTRY).asl["States"]
    assert list(states) == [
        "Start",
        "Resume router",
        "Recovery backoff",
        "a1",
        "Parallel: a2 + a4 + a5",
        "a3",
        "a6",
        "Completed",
    ]
    group = states["Parallel: a2 + a4 + a5"]
    assert group["Type"] == "Map"
    assert group["MaxConcurrency"] == 3
    assert group["Assign"] == {"data": "{% $merge($append([$data], $states.result)) %}"}
    # members that retry and fall back alike share one Task: one transition each, no router
    inner = group["ItemProcessor"]["States"]
    assert list(inner) == ["Run a2 + a4 + a5"] == [group["ItemProcessor"]["StartAt"]]
    task = inner["Run a2 + a4 + a5"]
    assert task["Arguments"]["FunctionName"] == "{% $states.input.function %}"
    assert task["TimeoutSeconds"] == 60 + TASK_TIMEOUT_MARGIN_SECONDS
    assert task["Output"] == "{% $states.result.Payload.data %}" and task["End"] is True
    # each item names its member's function and payload fields
    assert [(i["function"], i["payload"]["step"]) for i in group["Items"]] == [
        ("${AgentFn_a2}", "a2"),
        ("${AgentFn_a4}", "a4"),
        ("${AgentFn_a5}", "a5"),
    ]
    assert group["Items"][0]["payload"] == {
        "agent": "a2",
        "step": "a2",
        "group": "Parallel: a2 + a4 + a5",
        "members": 3,
        "requiredAccuracy": 0,
    }
    assert states["a1"]["Next"] == "Parallel: a2 + a4 + a5"
    assert group["Next"] == "a3"


@pytest.mark.parametrize(
    ("fallbacks", "registry"),
    [
        ({"a2": {"strategy": "skip", "maxRetries": 1}}, REGISTRY),  # retries differ
        ({"a2": {"strategy": "skip"}}, REGISTRY),  # fallbacks differ
        ({}, make_registry(*AGENTS, a2={"timeout": "5s"})),  # timeouts differ
    ],
)
def test_group_members_that_differ_each_get_a_branch_of_a_parallel_state(fallbacks, registry):
    """No Map: it would route each member to its own Task through a Choice, two transitions
    per member; a branch runs the member's Task at once."""
    definition = {
        "id": "p",
        "name": "P",
        "agents": ["a1", "a2", "a4", "a5"],
        "config": {"parallelGroups": [["a1", "a2", "a4"]]},
        "fallbacks": fallbacks,
    }
    asl = compiled(definition, registry).asl
    group = asl["States"]["Parallel: a1 + a2 + a4"]
    assert group["Type"] == "Parallel" and group["Next"] == "a5"
    assert group["Assign"] == {"data": "{% $merge($append([$data], $states.result)) %}"}
    assert [b["StartAt"] for b in group["Branches"]] == ["a1", "a2", "a4"]  # in group order
    for member, branch in zip(("a1", "a2", "a4"), group["Branches"], strict=True):
        task = branch["States"][member]
        assert task["End"] is True and task["Output"] == "{% $states.result.Payload.data %}"
        assert task["Arguments"]["FunctionName"] == f"${{AgentFn_{member}}}"
    assert structural_problems(asl) == []


def test_condition_is_a_choice_whose_branches_rejoin():
    definition = {
        "id": "c",
        "name": "C",
        "agents": ["a1", "a2", "a3", "a4", "a5"],
        "conditions": [{"after": "a1", "when": "price < 10", "then": ["a2", "a3"], "else": ["a4"]}],
    }
    states = compiled(definition, REGISTRY).asl["States"]
    choice = states["If after a1"]
    assert choice["Type"] == "Choice"
    assert choice["Choices"] == [
        {"Condition": "{% $boolean($data.(price < 10)) = true %}", "Next": "a2"}
    ]
    assert choice["Default"] == "a4"
    assert states["a1"]["Next"] == "If after a1"
    assert states["a2"]["Next"] == "a3"
    assert states["a3"]["Next"] == "a5"
    assert states["a4"]["Next"] == "a5"
    assert states["a5"]["End"] is True


def test_checkpoint_positions_grow_along_every_path():
    """The runtime refuses a checkpoint that moves back; positions make "back" decidable: along
    any path through branches and fallbacks, each checkpointed step stands further on."""
    definition = {
        "id": "c",
        "name": "C",
        "agents": ["a1", "a2", "a3", "a4", "a5"],
        "conditions": [{"after": "a1", "when": "price < 10", "then": ["a2", "a3"], "else": ["a4"]}],
        "fallbacks": {"a5": {"strategy": "alternative", "alternative": "a6"}},
    }
    states = compiled(definition, REGISTRY).asl["States"]

    def position(state: str) -> int:
        return int(states[state]["Arguments"]["Payload"].split("'position':")[1].split(",")[0])

    paths = [["a1", "a2", "a3", "a5"], ["a1", "a4", "a5"]]
    for path in paths:
        positions = [position(step) for step in path]
        assert positions == sorted(set(positions)), path
    assert position("a6 (instead of a5)") == position("a5")  # it checkpoints a5's place


def test_empty_branch_goes_straight_to_the_rejoin_point():
    definition = {
        "id": "c",
        "name": "C",
        "agents": ["a1", "a2", "a3"],
        "conditions": [{"after": "a1", "when": "ok", "then": ["a2"]}],
    }
    choice = compiled(definition, REGISTRY).asl["States"]["If after a1"]
    assert choice["Default"] == "a3"


def test_fallbacks_are_catch_targets():
    definition = {
        "id": "f",
        "name": "F",
        "agents": ["a1", "a2", "a3", "a4"],
        "fallbacks": {
            "a1": {"strategy": "alternative", "alternative": "a9"},
            "a2": {"strategy": "skip"},
            "a3": {"strategy": "abort"},
        },
    }
    states = compiled(definition, REGISTRY).asl["States"]
    budget_first = {"ErrorEquals": ["BudgetSpentError"], "Next": "Run stopped"}
    assert states["a1"]["Catch"] == [
        budget_first,
        {"ErrorEquals": ["States.ALL"], "Next": "a9 (instead of a1)"},
    ]
    assert states["Run stopped"]["Type"] == "Fail"
    assert states["Run stopped"]["Error"] == "{% $states.input.Error %}"  # the error it caught
    alternative = states["a9 (instead of a1)"]
    assert alternative["Arguments"]["FunctionName"] == "${AgentFn_a9}"
    assert "'checkpoint':'a1'" in alternative["Arguments"]["Payload"]
    assert alternative["Next"] == "a2"
    assert all(r["ErrorEquals"] != ["States.ALL"] for r in alternative["Retry"])
    assert states["a2"]["Catch"] == [
        budget_first,
        {"ErrorEquals": ["States.ALL"], "Next": "Skip a2"},
    ]
    skip = states["Skip a2"]
    assert skip["Type"] == "Task"
    assert skip["Resource"] == "arn:aws:states:::dynamodb:putItem"
    assert skip["Arguments"]["TableName"] == "${ExecutionsTable}"
    assert "'validatedBy': ['fallback-skip']" in skip["Arguments"]["Item"]
    assert skip["Next"] == "a3"
    assert "Catch" not in states["a3"]
    assert all(r["ErrorEquals"] != ["States.ALL"] for r in states["a3"]["Retry"])
    assert "Catch" not in states["a4"]


ENDS_RUN = ["BudgetSpentError"]  # an Express run also ends with ExecutionStoppedError


def test_a_spent_time_budget_fails_the_run_past_any_fallback_inside_groups_too():
    definition = {
        "id": "g",
        "name": "G",
        "agents": ["a1", "a2", "a3"],
        "config": {"parallelGroups": [["a1", "a2", "a3"]]},
        "fallbacks": {"a1": {"strategy": "skip"}, "a2": {"strategy": "skip"}},
    }
    asl = compiled(definition, REGISTRY).asl
    branches = asl["States"]["Parallel: a1 + a2 + a3"]["Branches"]
    for member, branch in zip(("a1", "a2"), branches, strict=False):
        states = branch["States"]
        [failure] = [n for n, s in states.items() if s["Type"] == "Fail"]  # one per branch
        assert states[failure]["Error"] == "{% $states.input.Error %}"  # the error it caught
        assert states[member]["Catch"][0] == {"ErrorEquals": ENDS_RUN, "Next": failure}
    # members that share a Task share its skip state and the one Fail past it
    shared = compiled(
        {
            **definition,
            "fallbacks": {a: {"strategy": "skip"} for a in ("a1", "a2")},
            "agents": ["a1", "a2"],
            "config": {"parallelGroups": [["a1", "a2"]]},
        },
        REGISTRY,
    ).asl
    processor = shared["States"]["Parallel: a1 + a2"]["ItemProcessor"]["States"]
    [failure] = [n for n, s in processor.items() if s["Type"] == "Fail"]
    assert processor["Run a1 + a2"]["Catch"][0] == {"ErrorEquals": ENDS_RUN, "Next": failure}
    assert structural_problems(asl) == structural_problems(shared) == []


def test_workflow_timeout_from_config():
    asl = compiled(
        {"id": "t", "name": "T", "agents": ["a1"], "config": {"timeout": "2m"}}, REGISTRY
    ).asl
    assert asl["TimeoutSeconds"] == 120


def test_resume_router_continues_after_each_completed_step():
    definition = {
        "id": "r",
        "name": "R",
        "agents": ["a1", "a2", "a3", "a4", "a5"],
        "config": {"parallelGroups": [["a2", "a3"]]},
        "conditions": [{"after": "a4", "when": "x", "then": ["a5"]}],
    }
    router = compiled(definition, REGISTRY).asl["States"]["Resume router"]
    assert router["Choices"] == [
        {
            "Condition": "{% $exists($states.input.recoveryDelay) ? $states.input.recoveryDelay > 0 : false %}",
            "Next": "Recovery backoff",
        },
        {"Condition": "{% $not($exists($ctx.resumeAfter)) %}", "Next": "a1"},
        {"Condition": "{% $ctx.resumeAfter='a1' %}", "Next": "Parallel: a2 + a3"},
        {"Condition": "{% $ctx.resumeAfter='a4' %}", "Next": "If after a4"},
        {"Condition": "{% $ctx.resumeAfter='a5' %}", "Next": "Completed"},
    ]


def test_initial_data_is_compiled_into_start():
    definition = {"id": "i", "name": "I", "agents": ["a1"], "initialData": {"q": 'it\'s "quoted"'}}
    start = compiled(definition, REGISTRY).asl["States"]["Start"]
    assert '{"q":"it\'s \\"quoted\\""}' in start["Assign"]["data"]


@pytest.mark.parametrize("path", workflow_files(STATEMACHINES), ids=lambda p: p.name)
def test_shipped_workflows_are_structurally_sound(path, shipped_registry):
    asl = compile_workflow(load_workflow(path, shipped_registry)).asl
    assert structural_problems(asl) == []


@pytest.mark.parametrize("path", workflow_files(STATEMACHINES), ids=lambda p: p.name)
def test_committed_asl_is_up_to_date(path, shipped_registry):
    golden = STATEMACHINES / "asl" / f"{path.stem}.asl.json"
    assert golden.exists(), f"{golden} is missing: run `make asl`"
    fresh = compile_workflow(load_workflow(path, shipped_registry)).to_json()
    assert golden.read_text(encoding="utf-8") == fresh, f"{golden} is stale: run `make asl`"


def test_every_committed_asl_file_has_a_workflow():
    stems = {p.stem for p in workflow_files(STATEMACHINES)}
    orphans = [
        p.name
        for p in (STATEMACHINES / "asl").glob("*.asl.json")
        if p.name.removesuffix(".asl.json") not in stems
    ]
    assert orphans == []


# structural checks catch real faults -----------------------------------------------------------
def _sound() -> dict:
    return compiled(
        {
            "id": "s",
            "name": "S",
            "agents": ["a1", "a2", "a3"],
            "config": {"parallelGroups": [["a2", "a3"]]},
        },
        REGISTRY,
    ).asl


def test_checks_find_a_missing_next_target():
    asl = _sound()
    asl["States"]["a1"]["Next"] = "nowhere"
    assert "a1: goes to 'nowhere', which is not a state of this scope" in structural_problems(asl)


def test_checks_find_unreachable_states():
    asl = _sound()
    asl["States"]["Orphan"] = {"Type": "Pass", "End": True}
    assert "Orphan: not reachable from 'Start'" in structural_problems(asl)


def test_checks_find_states_all_not_last_or_not_alone():
    asl = _sound()
    retry = asl["States"]["a1"]["Retry"]
    retry.insert(0, retry.pop())
    retry[0]["ErrorEquals"] = ["States.ALL", "Oops"]
    problems = structural_problems(asl)
    assert "a1: Retry[0] lists States.ALL with other errors" in problems
    assert "a1: Retry[0] has States.ALL before the last entry" in problems


def test_checks_find_a_scope_without_terminal_state():
    asl = _sound()
    group = asl["States"]["Parallel: a2 + a3"]
    del group["End"]
    group["Next"] = "a1"
    assert "no terminal state (Succeed, Fail or End: true)" in structural_problems(asl)


def test_checks_look_inside_map_and_parallel_states():
    asl = _sound()
    branch = asl["States"]["Parallel: a2 + a3"]["Branches"][0]["States"]
    branch["a2"]["Next"] = "a1"
    del branch["a2"]["End"]
    assert (
        "Parallel: a2 + a3 › branch 1 › a2: goes to 'a1', which is not a state of this scope"
        in structural_problems(asl)
    )
    shared = compiled(
        {
            "id": "m",
            "name": "M",
            "agents": ["a1", "a2"],
            "config": {"parallelGroups": [["a1", "a2"]]},
        },
        REGISTRY,
    ).asl
    inner = shared["States"]["Parallel: a1 + a2"]["ItemProcessor"]["States"]
    inner["Run a1 + a2"]["Next"] = "Start"
    del inner["Run a1 + a2"]["End"]
    assert (
        "Parallel: a1 + a2 › Run a1 + a2: goes to 'Start', which is not a state of this scope"
        in structural_problems(shared)
    )


# random workflows ---------------------------------------------------------------------------
@st.composite
def random_workflows(draw: st.DrawFn) -> dict:
    agents = draw(st.lists(st.sampled_from(AGENTS[:10]), min_size=1, max_size=10, unique=True))
    rest = list(agents)
    groups = []
    while len(rest) >= 2 and draw(st.booleans()):
        size = draw(st.integers(2, min(4, len(rest))))
        members = draw(st.permutations(rest))[:size]
        groups.append(list(members))
        rest = [a for a in rest if a not in members]
    conditions = []
    ungrouped = [a for a in agents if all(a not in g for g in groups)]
    if len(ungrouped) >= 2 and draw(st.booleans()):
        after = ungrouped[0]
        branch = [a for a in ungrouped[1:]]
        split = draw(st.integers(0, len(branch)))
        conditions.append(
            {"after": after, "when": "x > 1", "then": branch[:split], "else": branch[split:]}
        )
    fallbacks = {}
    for agent in agents:
        strategy = draw(st.sampled_from(["retry", "skip", "abort", "alternative", None]))
        if strategy == "alternative":
            fallbacks[agent] = {
                "strategy": strategy,
                "alternative": draw(st.sampled_from(["a11", "a12"])),
            }
        elif strategy:
            fallbacks[agent] = {"strategy": strategy}
    return {
        "id": "random",
        "name": "Random",
        "agents": agents,
        "config": {"parallelGroups": groups, "maxRetries": draw(st.integers(0, 10))},
        "conditions": conditions,
        "fallbacks": fallbacks,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_workflows())
def test_random_workflows_compile_to_sound_asl(definition):
    result = compiled(definition, REGISTRY)
    assert structural_problems(result.asl) == []
    invoked = {function for function, _ in invocations(result.asl)}
    assert {f"${{AgentFn_{a}}}" for a in definition["agents"]} <= invoked
    assert len(json.dumps(result.asl)) < 1_000_000


def test_definitions_over_one_megabyte_are_refused():
    names = [f"agent-{i}" for i in range(1, 1201)]
    big = make_registry(*names)
    workflow = resolve({"id": "big", "name": "Big", "agents": names}, big, file="big.yaml")
    with pytest.raises(DefinitionError) as caught:
        compile_workflow(workflow)
    [problem] = caught.value.problems
    assert problem.path == "agents"
    assert "Step Functions accepts at most 1 MB" in problem.message


def test_agent_names_never_clash_with_generated_state_names():
    reg = make_registry("group", "router", "condition", "start")
    definition = {
        "id": "n",
        "name": "N",
        "agents": ["start", "group", "router", "condition"],
        "config": {"parallelGroups": [["group", "router"]]},
        "conditions": [{"after": "router", "when": "true", "then": ["condition"]}],
    }
    asl = compiled(definition, reg).asl
    assert structural_problems(asl) == []
    group = asl["States"]["Parallel: group + router"]
    assert [item["payload"]["step"] for item in group["Items"]] == ["group", "router"]
    assert group["Next"] == "If after router"
    branched = compiled(
        {**definition, "fallbacks": {"router": {"strategy": "skip"}}}, reg
    ).asl  # members that do not share a Task: each its own, in a branch
    assert structural_problems(branched) == []
    branches = branched["States"]["Parallel: group + router"]["Branches"]
    assert [b["StartAt"] for b in branches] == ["group", "router"]


@pytest.mark.parametrize(
    ("required", "written"), [(85.1234449, "85.1234449"), (95, "95"), (0.1, "0.1")]
)
def test_required_accuracy_is_written_exactly(required, written):
    registry = make_registry("a", a={"requiredAccuracy": required})
    task = compiled({"id": "acc", "name": "Acc", "agents": ["a"]}, registry).asl["States"]["a"]
    assert f"'requiredAccuracy':{written}," in task["Arguments"]["Payload"]


@pytest.mark.parametrize(
    ("when", "fields"),
    [
        ("price.drop > 10", {"price", "drop"}),
        ('$count(items) > 0 and status = "ok"', {"items", "status"}),
        ("$sum(prices.(value * 2)) > limit", {"prices", "value", "limit"}),
        ("x[y > 1].z", {"x", "y", "z"}),
        ("$keys($) = ['a']", {"*"}),
        ("**.x = 1", {"*"}),
        ("a.* = 1", {"*"}),
    ],
)
def test_the_fields_a_condition_reads_are_known_and_stay_inline(when, fields):
    """Choice states cannot read a value kept in S3: the run context lists what must stay."""
    assert fields_read(when) == fields
    registry = make_registry("a", "b")
    workflow = compiled(
        {
            "id": "w",
            "name": "W",
            "agents": ["a", "b"],
            "conditions": [{"after": "a", "when": when, "then": ["b"]}],
        },
        registry,
    )
    context = workflow.asl["States"]["Start"]["Assign"]["ctx"]
    assert f"'inline': {json.dumps(sorted(fields))}" in context


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("agent-1", True),
        ('say "hi"', True),
        ("ünï ${x}", True),
        ("it's", False),
        ("back\\slash", False),
        ("new\nline", False),
    ],
)
def test_a_jsonata_string_is_single_quoted_when_it_needs_no_escape(text, quoted):
    """Single quotes need no escape in the definition's JSON (2 bytes less a string against
    its 1 MB); a text with a quote, a backslash or a control character is written as JSON
    writes it. Either way JSONata reads the text back."""
    from jsonata import Jsonata

    from baton.compiler.asl import _jsonata_string

    literal = _jsonata_string(text)
    assert literal.startswith("'") is quoted
    assert Jsonata(literal).evaluate(None) == text


def test_resume_rules_are_read_in_either_quoting():
    """Deployed routers written before single quotes (JSON strings, escapes and all) and after
    are read alike."""
    from baton_service.catalog import resume_points_in

    router = {
        "Default": "a",
        "Choices": [
            {"Condition": "{% $ctx.resumeAfter='a' %}", "Next": "b"},
            {"Condition": '{% $ctx.resumeAfter="b" %}', "Next": 'say "hi"'},
            {"Condition": '{% $ctx.resumeAfter="say \\"hi\\"" %}', "Next": "Completed"},
        ],
    }
    assert resume_points_in({"States": {"Resume router": router}}) == {
        "": "a",
        "a": "b",
        "b": 'say "hi"',
        'say "hi"': "Completed",
    }
    definition = {"id": "q", "name": "Q", "agents": ["a1", "a2", "a3"]}
    deployed = json.loads(compiled(definition, REGISTRY).to_json())
    assert resume_points_in(deployed) == {"": "a1", "a1": "a2", "a2": "a3", "a3": "Completed"}
