"""CDK assertions on the synthesized stack: what a deployment of the shipped project creates."""

from __future__ import annotations

import json
import re

from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from baton.definition.registry import TASK_TIMEOUT_MARGIN_SECONDS
from baton_agent.tables import LISTED
from tests.asl_walk import invocations

SERVICE_WIDE_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


ACKNOWLEDGED = {
    "AwsSolutions-SQS3",
    "AwsSolutions-SMG4",
    "AwsSolutions-APIG3",
    "AwsSolutions-COG8",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]",
}


def statements(synthesized):
    for name, policy in synthesized.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


def actions_on(synthesized, role: str, resource: str) -> set[str]:
    """The actions the role's policies allow on resources whose JSON mentions `resource`."""
    actions: set[str] = set()
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if resource in json.dumps(statement["Resource"]):
                actions |= set(as_list(statement["Action"]))
    return actions


def test_one_state_machine_per_workflow_file(synthesized):
    machines = synthesized.resources("AWS::StepFunctions::StateMachine")
    by_name = {m["Properties"]["StateMachineName"]: m["Properties"] for m in machines.values()}
    assert set(by_name) == {w.state_machine_name for w in synthesized.manifest.workflows.values()}
    assert len(by_name) == 6
    for workflow in synthesized.manifest.workflows.values():
        props = by_name[workflow.state_machine_name]
        assert props["StateMachineType"] == workflow.type
        assert (workflow.type == "EXPRESS") == (workflow.workflow_id == "price-watch")
        assert props["DefinitionString"] == workflow.definition
        assert set(props["DefinitionSubstitutions"]) == set(workflow.substitutions)
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    competitor = json.loads(by_name["baton-competitor-monitoring"]["DefinitionString"])
    kinds = {state["Type"] for state in competitor["States"].values()}
    assert {"Parallel", "Choice", "Task", "Pass", "Succeed"} <= kinds
    scrapers = competitor["States"]["Parallel: scraper-1 + scraper-2 + scraper-3"]
    retry = scrapers["Branches"][0]["States"]["scraper-1"]["Retry"]
    assert retry[-1] == {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 2,
        "MaxAttempts": 2,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 30,
    }


def test_tables_keys_indexes_recovery_and_ttl(synthesized):
    template = Template.from_json(synthesized.template)
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 3)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "TableName": "baton-executions",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
            "GlobalSecondaryIndexes": [
                Match.object_like(
                    {
                        "IndexName": name,
                        # a record's summary, not all of it: a write of anything else (the
                        # events handler's marks, a run's output) costs no index write
                        "Projection": {
                            "ProjectionType": "INCLUDE",
                            "NonKeyAttributes": [a for a in LISTED if a != "startTime"],
                        },
                    }
                )
                for name in ("byWorkflow", "byStatus", "byTenant")
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "TableName": "baton-cache",
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
        },
    )
    for table in synthesized.resources("AWS::DynamoDB::GlobalTable").values():
        assert table["DeletionPolicy"] == "Retain"
        for replica in table["Properties"]["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {
                "PointInTimeRecoveryEnabled": True
            }
            assert replica["DeletionProtectionEnabled"] is True


def test_agent_functions_take_their_settings_from_the_registry(synthesized, shipped_registry):
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    latest = max(
        (r for r in dir(lambda_.Runtime) if re.fullmatch(r"PYTHON_3_\d+", r)),
        key=lambda r: int(r.rsplit("_", 1)[1]),
    )
    for spec in shipped_registry:
        props = functions[f"baton-agent-{spec.name}"]
        assert props["Runtime"] == getattr(lambda_.Runtime, latest).name
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == spec.handler
        assert props["MemorySize"] == spec.memory
        assert props["Timeout"] == spec.timeout_seconds
        assert props.get("ReservedConcurrentExecutions") == spec.pool.max
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 1
    services = {"baton-events", "baton-api", "baton-scheduler"}
    assert services <= set(functions)
    assert len(functions) == len(shipped_registry.agents) + len(services)


def test_agents_may_write_the_fenced_step_transaction_and_nothing_unconditional(synthesized):
    """records.DynamoExecutionLog writes each step in a TransactWriteItems: PutItem for the
    handoff and checkpoint, ConditionCheckItem for the record's current run; a resumed run's
    group member queries the handoffs for its own (earlier_handoff)."""
    tables = synthesized.resources("AWS::DynamoDB::GlobalTable")
    [executions] = [
        k for k, t in tables.items() if t["Properties"]["TableName"].endswith("-executions")
    ]
    functions = synthesized.resources("AWS::Lambda::Function")
    agents = [f for f in functions.values() if "-agent-" in f["Properties"]["FunctionName"]]
    assert agents
    for function in agents:
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        actions = actions_on(synthesized, role, executions)
        name = function["Properties"]["FunctionName"]
        assert {"dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"} <= actions
        assert "dynamodb:BatchWriteItem" not in actions, name


def test_warm_agents_have_provisioned_concurrency_on_the_alias_the_asl_invokes(
    synthesized, shipped_registry
):
    aliases = synthesized.resources("AWS::Lambda::Alias")
    warm = [spec for spec in shipped_registry if spec.pool.warm]
    assert len(aliases) == len(warm)
    provisioned = sorted(
        a["Properties"]["ProvisionedConcurrencyConfig"]["ProvisionedConcurrentExecutions"]
        for a in aliases.values()
    )
    assert provisioned == sorted(spec.pool.warm for spec in warm)
    machines = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    alias_ids = set(aliases)
    for machine in machines:
        for key, value in machine["Properties"]["DefinitionSubstitutions"].items():
            if not key.startswith("AgentFn_"):
                continue
            ref = value.get("Ref")
            agent = key.removeprefix("AgentFn_").replace("_", "-")
            is_warm = any(spec.name == agent for spec in warm)
            assert (ref in alias_ids) == is_warm, (key, value)


def test_every_lambda_timeout_is_shorter_than_the_task_waiting_for_it(synthesized):
    timeouts = {
        logical: f["Properties"]["Timeout"]
        for logical, f in synthesized.resources("AWS::Lambda::Function").items()
    }
    alias_function = {
        logical: a["Properties"]["FunctionName"]["Ref"]
        for logical, a in synthesized.resources("AWS::Lambda::Alias").items()
    }
    functions = {
        logical: f["Properties"]["FunctionName"]
        for logical, f in synthesized.resources("AWS::Lambda::Function").items()
    }
    checked = reports = 0
    for machine in synthesized.resources("AWS::StepFunctions::StateMachine").values():
        props = machine["Properties"]
        for placeholder, timeout in invocations(json.loads(props["DefinitionString"])):
            value = props["DefinitionSubstitutions"][placeholder[2:-1]]
            if "Fn::Join" in value:  # an Express run's report: the events function, by name
                name = value["Fn::Join"][1][-1].rpartition(":function:")[2]
                [function] = [logical for logical, f in functions.items() if f == name]
                assert timeout > timeouts[function]
                reports += 1
                continue
            target = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
            function = alias_function.get(target, target)
            assert timeout == timeouts[function] + TASK_TIMEOUT_MARGIN_SECONDS
            checked += 1
    assert checked >= 15
    assert reports == 2  # price-watch's success and failure reports (the lifecycle announces)


def test_no_wildcard_actions_and_star_resources_only_where_aws_allows_nothing_else(synthesized):
    for name, statement in statements(synthesized):
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (name, actions)
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= SERVICE_WIDE_ACTIONS, (name, actions)


def test_a_state_machine_may_invoke_exactly_its_agents_and_its_reports(synthesized):
    policies = synthesized.resources("AWS::IAM::Policy")
    machines = synthesized.resources("AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        [policy] = [p for p in policies.values() if {"Ref": role} in p["Properties"]["Roles"]]
        invoked = []
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "lambda:InvokeFunction" in as_list(statement["Action"]):
                invoked += as_list(statement["Resource"])
        substitutions = machine["Properties"]["DefinitionSubstitutions"]
        # its agents, and an Express one the events function it reports to
        targets = [
            v for k, v in substitutions.items() if k.startswith("AgentFn_") or k == "EventsFn"
        ]
        assert sorted(map(json.dumps, invoked)) == sorted(map(json.dumps, targets))


def test_a_distributed_map_may_start_and_stop_its_own_child_executions_only(synthesized):
    """AWS's least privilege for a Distributed Map: StartExecution on the state machine itself
    (its ARN built from its name, so the role does not depend on the machine), Describe and
    Stop on its child executions; a state machine without one gets neither."""
    policies = synthesized.resources("AWS::IAM::Policy")
    machines = synthesized.resources("AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        name = machine["Properties"]["StateMachineName"]
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        [policy] = [p for p in policies.values() if {"Ref": role} in p["Properties"]["Roles"]]
        granted = {
            action: json.dumps(statement["Resource"])
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            for action in as_list(statement["Action"])
            if action.startswith("states:")
        }
        if name != "baton-catalog-sweep":
            assert granted == {}, name
            continue
        assert set(granted) == {
            "states:StartExecution",
            "states:DescribeExecution",
            "states:StopExecution",
        }
        assert f":stateMachine:{name}" in granted["states:StartExecution"]
        assert f":execution:{name}/*" in granted["states:DescribeExecution"]


def test_status_changes_reach_the_events_function_with_retries_and_a_dead_letter_queue(
    synthesized,
):
    [rule] = synthesized.resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    machines = synthesized.resources("AWS::StepFunctions::StateMachine")
    assert sorted(r["Ref"] for r in pattern["detail"]["stateMachineArn"]) == sorted(machines)
    # only ends: the lifecycle announces the runs it starts, and a RUNNING event would cost an
    # invocation of the function for nothing
    assert pattern["detail"]["status"] == ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    [target] = rule["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
    assert "Arn" in target["DeadLetterConfig"]
    [invoke_config] = synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 2
    assert "OnFailure" in invoke_config["Properties"]["DestinationConfig"]


def test_the_archive_bucket_is_private_encrypted_ssl_only_and_expires_by_retention(
    synthesized,
):
    template = Template.from_json(synthesized.template)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.object_like({}),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "ExpirationInDays": 90,
                                "TagFilters": [{"Key": "baton-retention-days", "Value": "90"}],
                            }
                        )
                    ]
                )
            },
        },
    )
    for policy in synthesized.resources("AWS::S3::BucketPolicy").values():
        denies = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_large_values_go_to_a_payload_bucket_every_baton_function_may_use(synthesized):
    """The claim check (baton_agent.payloads): one private bucket, expiring by retention like
    the archive; each function knows it by BATON_PAYLOAD_BUCKET and may get and put in it."""
    buckets = synthesized.resources("AWS::S3::Bucket")
    expiring = {
        key
        for key, bucket in buckets.items()
        if any(
            r.get("TagFilters") == [{"Key": "baton-retention-days", "Value": "90"}]
            for r in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        )
    }
    [payloads] = [k for k in expiring if k.startswith("NotificationsPayloads")]
    assert len(expiring) == 2  # the archive and the payloads
    assert "VersioningConfiguration" not in buckets[payloads]["Properties"]
    functions = synthesized.resources("AWS::Lambda::Function")
    baton = [
        f
        for f in functions.values()
        if "BATON_PAYLOAD_BUCKET" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(baton) >= 8
    for function in baton:
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["BATON_PAYLOAD_BUCKET"] == {"Ref": payloads}
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert actions_on(synthesized, role, payloads) == {
            "s3:GetObject",
            "s3:PutObject",
            "s3:PutObjectTagging",
        }


def test_every_function_that_starts_runs_may_announce_them_on_batons_bus(synthesized):
    """The lifecycle announces each run it starts ("Workflow Started"): the API, the scheduler
    and the events function (triggers, recoveries) know the bus and may put events on it; the
    agents may not."""
    [bus] = synthesized.resources("AWS::Events::EventBus")
    functions = synthesized.resources("AWS::Lambda::Function").values()
    by_service = {
        f["Properties"]["Environment"]["Variables"].get("POWERTOOLS_SERVICE_NAME"): f
        for f in functions
        if "Environment" in f["Properties"]
    }
    starting = {"baton-api", "baton-scheduler", "baton-events"}
    assert starting <= set(by_service)
    assert len(by_service) - len(starting) >= 8  # the agents, each a service of its own
    for service, function in by_service.items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        may_put = "events:PutEvents" in actions_on(synthesized, role, bus)
        assert may_put == (service in starting), service
        if service in starting:
            variables = function["Properties"]["Environment"]["Variables"]
            assert variables["BATON_EVENT_BUS"] == {"Ref": bus}


def test_cdk_nag_finds_nothing_unacknowledged_and_every_acknowledgement_has_a_reason(
    synthesized,
):
    [report] = synthesized.report["pluginReports"]
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    suppressed = report["suppressedViolations"]
    assert suppressed  # the X-Ray and pattern grants, acknowledged in infra/acknowledgements.py
    for finding in suppressed:
        assert len(finding["reason"]) > 40, finding["ruleName"]
        assert finding["ruleName"] in ACKNOWLEDGED or finding["ruleName"].startswith(
            "AwsSolutions-IAM5[Resource::"
        ), finding["ruleName"]


def test_every_api_route_is_a_method_behind_cognito_and_an_api_key(synthesized):
    from infra.api import api_routes

    resources = synthesized.resources("AWS::ApiGateway::Resource")

    def path_of(logical):
        parts = []
        while logical in resources:
            parts.append(resources[logical]["Properties"]["PathPart"])
            parent = resources[logical]["Properties"]["ParentId"]
            logical = parent.get("Ref", "")
        return "/" + "/".join(reversed(parts))

    methods = synthesized.resources("AWS::ApiGateway::Method").values()
    deployed = {
        (path_of(m["Properties"]["ResourceId"]["Ref"]), m["Properties"]["HttpMethod"])
        for m in methods
    }
    expected = {(path, method) for path, verbs in api_routes().items() for method in verbs}
    assert deployed == expected
    assert len(expected) == 9
    [authorizer] = synthesized.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    for method in methods:
        props = method["Properties"]
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert props["ApiKeyRequired"] is True
        assert props["Integration"]["Type"] == "AWS_PROXY"


def test_the_tenant_is_set_by_an_administrator_and_never_by_the_user(synthesized):
    [pool] = synthesized.resources("AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    [tenant] = [a for a in props["Schema"] if a["Name"] == "tenant"]
    assert tenant["Mutable"] is False
    assert props["MfaConfiguration"] == "ON"
    [client] = synthesized.resources("AWS::Cognito::UserPoolClient").values()
    assert "custom:tenant" in client["Properties"]["ReadAttributes"]
    assert "custom:tenant" not in client["Properties"]["WriteAttributes"]


def test_one_throttled_usage_plan_per_tenant_tier_and_a_logged_traced_stage(synthesized):
    from baton.deploy.manifest import API_TIERS

    plans = {
        p["Properties"]["UsagePlanName"]: p["Properties"]
        for p in synthesized.resources("AWS::ApiGateway::UsagePlan").values()
    }
    for tier in API_TIERS:
        plan = plans[f"baton-{tier.name}"]
        assert plan["Throttle"] == {"BurstLimit": tier.burst, "RateLimit": tier.rate_per_second}
        assert plan["Quota"] == {"Limit": tier.requests_per_month, "Period": "MONTH"}
    [stage] = synthesized.resources("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["TracingEnabled"] is True
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]
    [function] = [
        f
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == "baton-api"
    ]
    assert function["Properties"]["Timeout"] == 29
    assert len(function["Properties"]["Layers"]) == 2  # dependencies and the catalog


def test_a_workflow_schedule_is_a_scheduler_schedule_starting_it_through_the_lifecycle(
    synthesized,
):
    [schedule] = synthesized.resources("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["Name"] == "baton-competitor-monitoring"
    assert props["ScheduleExpression"] == "cron(0 7 ? * MON-FRI *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert props["State"] == "DISABLED"
    target = props["Target"]
    assert json.loads(target["Input"]) == {
        "workflowId": "competitor-monitoring",
        "tenant": "demo",
        "input": {"lastKnownPrice": 99.99},
        "scheduledTime": "<aws.scheduler.scheduled-time>",
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
    assert "Arn" in target["DeadLetterConfig"]
    functions = synthesized.resources("AWS::Lambda::Function")
    starter = target["Arn"]["Fn::GetAtt"][0]
    assert functions[starter]["Properties"]["FunctionName"] == "baton-scheduler"


def test_page_tokens_are_signed_with_a_generated_key_only_the_api_reads(synthesized):
    [(secret_id, secret)] = synthesized.resources("AWS::SecretsManager::Secret").items()
    assert secret["Properties"]["Name"] == "baton-service/page-token-key"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 64
    functions = {
        f["Properties"]["FunctionName"]: f
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    api = functions["baton-api"]
    variables = api["Properties"]["Environment"]["Variables"]
    assert variables["BATON_PAGE_TOKEN_SECRET"] == "baton-service/page-token-key"
    readers = set()
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == {"Ref": secret_id}:
                assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
                readers |= {r["Ref"] for r in policy["Properties"]["Roles"]}
    assert readers == {api["Properties"]["Role"]["Fn::GetAtt"][0]}
