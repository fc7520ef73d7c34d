"""What AWS would say of the generated artefacts: cfn-lint on the template, asl-validator on every
state machine definition as deployed (placeholders substituted), also for hostile user text."""

from __future__ import annotations

import json

import pytest

from baton.compiler.asl import compile_workflow
from baton.deploy.manifest import build_manifest
from baton.local.resources import LocalResources
from tests.conftest import resolve
from tests.hostile import hostile_workflow
from tests.infra.validators import (
    asl_validator,
    cfn_lint,
    errors,
    state_machine_template,
)


def test_cfn_lint_finds_no_error_in_the_synthesized_template(synthesized):
    findings = cfn_lint(synthesized.template_path)
    assert errors(findings) == []


def sample_value(template, value):
    """What CloudFormation substitutes for an intrinsic of the template (sample account)."""
    resources = template["Resources"]
    if "Ref" in value:
        resource = resources[value["Ref"]]
        if resource["Type"] == "AWS::Lambda::Alias":
            function = resources[resource["Properties"]["FunctionName"]["Ref"]]
            name = function["Properties"]["FunctionName"]
            return f"arn:aws:lambda:us-east-1:123456789012:function:{name}:live"
        return resource["Properties"]["TableName"]
    if "Fn::Join" in value:  # an ARN built from a name (pseudo parameters in between)
        pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1"}
        pseudo["AWS::AccountId"] = "123456789012"
        separator, parts = value["Fn::Join"]
        return separator.join(p if isinstance(p, str) else pseudo[p["Ref"]] for p in parts)
    logical, attribute = value["Fn::GetAtt"]
    assert attribute == "Arn"
    name = resources[logical]["Properties"]["FunctionName"]
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def test_asl_validator_accepts_every_substituted_definition(synthesized, tmp_path):
    template = synthesized.template
    definitions = {}
    for logical, machine in synthesized.resources("AWS::StepFunctions::StateMachine").items():
        props = machine["Properties"]
        text = props["DefinitionString"]
        for key, value in props["DefinitionSubstitutions"].items():
            text = text.replace("${" + key + "}", sample_value(template, value))
        assert "${" not in text
        definitions[logical] = text
    result = asl_validator(definitions, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is valid") == len(definitions) == 6


@pytest.mark.parametrize("concurrency", [40, 41], ids=["inline", "distributed"])
def test_asl_validator_accepts_a_fan_out_in_either_mode(shipped_registry, tmp_path, concurrency):
    """Moto runs a Distributed Map as an inline one would; what AWS would say is checked here."""
    from tests.functional.test_fan_out import sweep

    workflow = compile_workflow(resolve(sweep(concurrency), shipped_registry))
    [fan_out] = [s for s in workflow.asl["States"].values() if s["Type"] == "Map"]
    mode = fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"]
    assert mode == ("INLINE" if concurrency <= 40 else "DISTRIBUTED")
    resources = LocalResources(build_manifest(shipped_registry, [workflow]), "us-east-1", "1" * 12)
    text = build_manifest(shipped_registry, [workflow]).workflows[workflow.workflow.id]
    result = asl_validator({"sweep": text.substituted(resources.resolve)}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_text_never_becomes_a_substitution_or_a_line_break(tmp_path):
    registry, workflow = hostile_workflow()
    deployment = build_manifest(registry, [workflow]).workflows["hostile"]
    text = deployment.definition
    assert text.count("${") == len(deployment.substitutions) == 3  # the placeholders only
    assert "\n" not in text and "\u2028" not in text
    # JSON readers see the user's text unchanged
    asl = json.loads(text)
    assert asl["Comment"] == "Baton workflow hostile (Price is ${price}): costs ${AgentFn_b}"
    assert "If ${price} dropped" in asl["States"]

    substitutions = {
        key: f"arn:aws:lambda:us-east-1:123456789012:function:baton-agent-{ref.key}"
        for key, ref in deployment.substitutions.items()
    }
    template = tmp_path / "hostile.json"
    template.write_text(json.dumps(state_machine_template(text, substitutions)))
    assert errors(cfn_lint(template)) == []
    resources = LocalResources(build_manifest(registry, [workflow]), "us-east-1", "123456789012")
    result = asl_validator({"hostile": deployment.substituted(resources.resolve)}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checks_bite_on_unescaped_text(tmp_path):
    """Without the escaping, cfn-lint reports the substitution and asl-validator the line break."""
    _, workflow = hostile_workflow()
    raw = json.dumps({**workflow.asl, "Comment": "price is ${price}"}, ensure_ascii=False)
    template = tmp_path / "raw.json"
    substitutions = {"AgentFn_a": "x", "AgentFn_b": "y", "AgentFn_c": "z"}
    template.write_text(json.dumps(state_machine_template(raw, substitutions)))
    assert any(e.startswith("E1029") for e in errors(cfn_lint(template)))
    condition = workflow.asl["States"]["If ${price} dropped"]
    multi_line = {
        **workflow.asl,
        "States": {
            **workflow.asl["States"],
            "If ${price} dropped": {
                **condition,
                "Choices": [{**condition["Choices"][0], "Condition": "{% 1 = 1\n and true %}"}],
            },
        },
    }
    result = asl_validator({"multi": json.dumps(multi_line)}, tmp_path)
    assert result.returncode != 0


@pytest.mark.parametrize("strategy", ["skip", "alternative"])
def test_asl_validator_accepts_a_task_that_group_members_share(tmp_path, strategy):
    """Its function and payload come from each member's item (JSONata), and one skip or
    alternative state serves every member."""
    from tests.functional.test_groups import REGISTRY, group

    fallback = {"strategy": strategy, "maxRetries": 1}
    fallbacks = {
        m: {**fallback, "alternative": "x"} if strategy == "alternative" else fallback
        for m in "bcd"
    }
    workflow = compile_workflow(resolve(group(**fallbacks), REGISTRY))
    inner = workflow.asl["States"]["Parallel: b + c + d"]["ItemProcessor"]["States"]
    assert inner["Run b + c + d"]["Arguments"]["FunctionName"] == "{% $states.input.function %}"
    assert len(inner) == 3  # the shared Task, its fallback, the spent-budget Fail
    manifest = build_manifest(REGISTRY, [workflow])
    resources = LocalResources(manifest, "us-east-1", "123456789012")
    text = manifest.workflows["grouped"].substituted(resources.resolve)
    assert "${" not in text
    result = asl_validator({"grouped": text}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
