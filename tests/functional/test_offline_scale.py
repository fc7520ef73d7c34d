"""What keeps the offline runtime's cost per execution flat as executions accumulate (issue
10): a Query on a table's key reads its partition only, the queue tapping Baton's events is
emptied as the events come, an execution leaves nothing in memory that only it needed once it
has ended, and waiting for a run to end polls nothing."""

from __future__ import annotations

import gc
import json
import threading
import time

import pytest
from moto.core.model_instances import model_data
from moto.stepfunctions.parser.utils import TMP_THREADS

from baton.local import runtime as runtime_module
from baton_agent import AgentError, AgentResult, agent
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a", "b")


def test_a_query_by_key_reads_its_partition_not_the_whole_table(runtime_factory, monkeypatch):
    import boto3
    from moto.dynamodb.models.table import Table

    scans = []
    whole_table = Table.all_items  # counted below the seam, which wraps what it finds
    monkeypatch.setattr(Table, "all_items", lambda t: scans.append(t) or whole_table(t))
    runtime = runtime_factory(REGISTRY)
    table = runtime.manifest.tables["executions"].name
    client = boto3.client("dynamodb")
    for n in range(200):  # other executions' items
        client.put_item(TableName=table, Item={"pk": {"S": f"EXEC#t#{n}"}, "sk": {"S": "R"}})
    for sk in ("HANDOFF#3", "HANDOFF#1", "HANDOFF#2", "CHECKPOINT"):
        client.put_item(TableName=table, Item={"pk": {"S": "EXEC#t#mine"}, "sk": {"S": sk}})
    scans.clear()  # creating the tables' items read nothing, but start from zero
    page = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
        ExpressionAttributeValues={":pk": {"S": "EXEC#t#mine"}, ":h": {"S": "HANDOFF#"}},
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["HANDOFF#1", "HANDOFF#2", "HANDOFF#3"]
    assert scans == []  # the partition was read directly
    client.scan(TableName=table, Limit=1)  # anything else still reads as moto does
    whole = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "EXEC#t#7"}},
        ScanIndexForward=False,
    )
    assert [i["sk"]["S"] for i in whole["Items"]] == ["R"]


def _waiting(services, url: str) -> str:
    """How many messages the queue holds, as SQS counts them."""
    return str(
        services.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    )


def test_the_event_tap_is_emptied_as_events_come(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "tap", "name": "Tap", "agents": ["a", "b"]}, REGISTRY)
    for _ in range(3):
        assert runtime.execute(workflow)["status"] == "completed"
    services = runtime.services
    assert _waiting(services, services.tap_url) == "0"  # nothing left to slow a publish down
    kinds = [e["detail-type"] for e in services.events()]
    assert kinds.count("Workflow Completed") == 3 and kinds.count("Agent Completed") == 6
    assert services.events() == []  # taken once


def test_the_notification_inbox_is_emptied_as_outcomes_are_settled(runtime_factory):
    """moto's SQS reads every message of a queue at each message sent to it (its attributes),
    so an inbox left to grow made each notification slower: 7 ms, then 28 ms after 700
    executions. It is emptied as each outcome is settled, and `notifications()` still gives
    every notification once, in order."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "inbox", "name": "Inbox", "agents": ["a", "b"]}, REGISTRY)
    ids = [runtime.execute(workflow)["executionId"] for _ in range(3)]
    services = runtime.services
    assert _waiting(services, services.inbox_url) == "0"  # nothing to slow a notification
    messages = [n["Message"] for n in services.notifications()]
    assert [next(i for i in ids if i in m) for m in messages] == ids
    assert all(m.startswith("Workflow Completed: Inbox") for m in messages)
    assert services.notifications() == []  # taken once


def test_the_tap_is_drained_in_as_few_receives_as_its_messages_need(runtime_factory, monkeypatch):
    """A receive answered with fewer than the 10 asked for is the last: 25 messages take three
    receives (10, 10, 5), not a fourth that finds nothing; exactly 10 take two."""
    services = runtime_factory(REGISTRY).services
    receiving = services.sqs.receive_message
    receives: list[int] = []

    def counted(**kwargs):
        answer = receiving(**kwargs)
        receives.append(len(answer.get("Messages", [])))
        return answer

    monkeypatch.setattr(services.sqs, "receive_message", counted)
    for count, expected in ((25, [10, 10, 5]), (10, [10, 0]), (0, [0])):
        for n in range(count):
            services.sqs.send_message(QueueUrl=services.tap_url, MessageBody=json.dumps({"n": n}))
        receives.clear()
        assert services.events() == [{"n": n} for n in range(count)]
        assert receives == expected


def test_a_name_is_converted_once_not_at_every_request(runtime_factory, monkeypatch):
    """moto converted the action's name (`GetItem` to `get_item`) at every request, and each
    attribute name of a queue at every message delivered to it; a name is converted once."""
    import moto.core.responses as moto_responses
    import moto.sqs.models as sqs_models

    converted: list[str] = []
    for module in (moto_responses, sqs_models):
        convert = module.camelcase_to_underscores
        monkeypatch.setattr(  # below the seam, which wraps what it finds
            module,
            "camelcase_to_underscores",
            lambda name, convert=convert: converted.append(name) or convert(name),
        )
    runtime = runtime_factory(REGISTRY)
    db, services = _conditions_table(runtime), runtime.services
    converted.clear()
    for n in range(3):
        db.get_item(TableName="conditions", Key={"pk": {"S": "k"}})
        services.sqs.send_message(QueueUrl=services.tap_url, MessageBody=json.dumps({"n": n}))
    assert converted.count("GetItem") <= 1 and converted.count("VisibilityTimeout") <= 1
    assert services.events() == [{"n": 0}, {"n": 1}, {"n": 2}]  # delivered as before


def test_an_item_is_sized_once_as_it_is_built_and_still_refused_when_too_large(
    runtime_factory, monkeypatch
):
    """moto re-measured every attribute already in an item at each attribute it added (30
    attributes: 465 measures; maps here, which keep no measure: scalars-measured-once); the
    item is measured once, and one over DynamoDB's 400 KB is refused as before, the one under
    it written whole."""
    import pytest
    from moto.dynamodb.models.dynamo_type import DynamoType

    db = _conditions_table(runtime_factory(REGISTRY))
    measured: list[object] = []
    measuring = DynamoType.size
    monkeypatch.setattr(DynamoType, "size", lambda self: measured.append(self) or measuring(self))
    wide = {"pk": {"S": "wide"}} | {f"a{n}": {"M": {"t": {"S": "x" * 100}}} for n in range(30)}
    db.put_item(TableName="conditions", Item=wide)
    assert len(measured) < 100, len(measured)
    assert db.get_item(TableName="conditions", Key={"pk": {"S": "wide"}})["Item"] == wide
    big = {"pk": {"S": "big"}} | {f"a{n}": {"S": "x" * 14_000} for n in range(30)}
    with pytest.raises(db.exceptions.ClientError, match="Item size has exceeded"):
        db.put_item(TableName="conditions", Item=big)
    assert "Item" not in db.get_item(TableName="conditions", Key={"pk": {"S": "big"}})
    below = {"pk": {"S": "below"}} | {f"a{n}": {"S": "x" * 13_000} for n in range(30)}
    db.put_item(TableName="conditions", Item=below)
    assert db.get_item(TableName="conditions", Key={"pk": {"S": "below"}})["Item"] == below


def test_an_update_measures_the_item_from_its_kept_scalars_and_still_refuses_too_large(
    runtime_factory, monkeypatch
):
    """moto measured the whole item again at each attribute an update wrote (10 attributes
    written into 31: about 400 measures); its scalars keep their measure. A map grown in place
    is measured again: an update that takes the item over DynamoDB's 400 KB is refused as moto
    refuses it; one under it is written whole."""
    import pytest
    from moto.dynamodb.models.dynamo_type import DynamoType

    db = _conditions_table(runtime_factory(REGISTRY))
    wide = {"pk": {"S": "wide"}} | {f"a{n}": {"S": "x" * 100} for n in range(30)}
    db.put_item(TableName="conditions", Item=wide)
    measured: list[object] = []
    measuring = DynamoType.size
    monkeypatch.setattr(DynamoType, "size", lambda self: measured.append(self) or measuring(self))
    names = {f"#b{n}": f"b{n}" for n in range(10)}
    db.update_item(
        TableName="conditions",
        Key={"pk": {"S": "wide"}},
        UpdateExpression="SET " + ", ".join(f"#b{n} = :v" for n in range(10)),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={":v": {"N": "7"}},
    )
    assert len(measured) < 100, len(measured)
    stored = db.get_item(TableName="conditions", Key={"pk": {"S": "wide"}})["Item"]
    assert stored == wide | {f"b{n}": {"N": "7"} for n in range(10)}

    def grow(key: str) -> None:  # a map changed in place, then a scalar written
        db.update_item(
            TableName="conditions",
            Key={"pk": {"S": "wide"}},
            UpdateExpression="SET #m.#k = :more, #b0 = :b",
            ExpressionAttributeNames={"#m": "m", "#k": key, "#b0": "b0"},
            ExpressionAttributeValues={":more": {"S": "y" * 101_000}, ":b": {"S": key}},
        )

    db.update_item(
        TableName="conditions",
        Key={"pk": {"S": "wide"}},
        UpdateExpression="SET #m = :empty",
        ExpressionAttributeNames={"#m": "m"},
        ExpressionAttributeValues={":empty": {"M": {}}},
    )
    for key in ("k1", "k2", "k3"):
        grow(key)  # about 303 KB: under the limit, written whole
    stored = db.get_item(TableName="conditions", Key={"pk": {"S": "wide"}})["Item"]
    assert sorted(stored["m"]["M"]) == ["k1", "k2", "k3"] and stored["b0"] == {"S": "k3"}
    with pytest.raises(db.exceptions.ClientError, match="Item size to update has exceeded"):
        grow("k4")  # the map's new 101 KB, measured again when b0 is written


def test_an_update_copies_the_old_item_only_for_a_stream(runtime_factory, monkeypatch):
    """moto's UpdateItem deep-copied the item twice before writing: for ReturnValues (which it
    reads from the item at once, copying as it reads) and for the table's stream. Without a
    stream no copy is made, and every ReturnValues answers as before; with a stream, the
    stream's record still holds the item as it was."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item

    runtime = runtime_factory(REGISTRY)
    db = _conditions_table(runtime)
    db.put_item(TableName="conditions", Item={"pk": {"S": "k"}, "n": {"N": "1"}, "t": {"S": "a"}})
    copies: list[object] = []
    copying = Item.__deepcopy__
    monkeypatch.setattr(
        Item, "__deepcopy__", lambda self, memo: copies.append(self) or copying(self, memo)
    )

    def update(returning: str, n: int) -> dict[str, object]:
        return db.update_item(
            TableName="conditions",
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET #n = :n",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":n": {"N": str(n)}},
            ReturnValues=returning,
        ).get("Attributes", {})

    assert update("NONE", 2) == {}
    assert update("ALL_OLD", 3) == {"pk": {"S": "k"}, "n": {"N": "2"}, "t": {"S": "a"}}
    assert update("UPDATED_OLD", 4) == {"n": {"N": "3"}}
    assert update("UPDATED_NEW", 5) == {"n": {"N": "5"}}
    assert update("ALL_NEW", 6) == {"pk": {"S": "k"}, "n": {"N": "6"}, "t": {"S": "a"}}
    assert copies == []
    runtime.dynamodb.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    db.put_item(TableName="streamed", Item={"pk": {"S": "k"}, "n": {"N": "1"}})
    db.update_item(
        TableName="streamed",
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    # moto keeps the stream's records in the table (its DescribeStream is not implemented)
    table = dynamodb_backends[runtime.services.account][runtime_module.REGION].get_table("streamed")
    modified = table.stream_shard.items[-1].record["dynamodb"]
    assert modified["OldImage"]["n"] == {"N": "1"} and modified["NewImage"]["n"] == {"N": "2"}


def test_an_update_of_top_level_attributes_keeps_the_items_measure_as_it_writes(
    runtime_factory, monkeypatch
):
    """An update that only writes top-level attributes (SET, a number's ADD) measures the item
    once as it starts and keeps that measure as it writes (moto measured all 40 lists again at
    each of 20 attributes: 2,400 measures); what moto refuses is still refused, at the same
    attribute: an old value's measure leaves the item's as a new one comes in."""
    import pytest
    from moto.dynamodb.models.dynamo_type import DynamoType

    db = _conditions_table(runtime_factory(REGISTRY))
    pair = {"L": [{"N": "1795769725540"}, {"N": "0.9"}]}
    lists = {"pk": {"S": "lists"}} | {f"l{n}": pair for n in range(40)}
    db.put_item(TableName="conditions", Item=lists)
    measured: list[object] = []
    measuring = DynamoType.size
    monkeypatch.setattr(DynamoType, "size", lambda self: measured.append(self) or measuring(self))

    def update(expression: str, **values: dict[str, object]) -> None:
        names = {f"#{name}": name for name in values}
        db.update_item(
            TableName="conditions",
            Key={"pk": {"S": "lists"}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":{name}": value for name, value in values.items()},
        )

    update(
        "SET " + ", ".join(f"#m{n} = :m{n}" for n in range(20)) + " ADD #c :c",
        **{f"m{n}": pair for n in range(20)},
        c={"N": "2"},
    )
    assert len(measured) < 400, len(measured)
    stored = db.get_item(TableName="conditions", Key={"pk": {"S": "lists"}})["Item"]
    assert stored == lists | {f"m{n}": pair for n in range(20)} | {"c": {"N": "2"}}
    update("SET #big = :big", big={"S": "x" * 300_000})
    # the big text replaced by a small one, then 150 KB written: about 153 KB in all
    update("SET #big = :big, #more = :more", big={"S": "small"}, more={"S": "y" * 150_000})
    stored = db.get_item(TableName="conditions", Key={"pk": {"S": "lists"}})["Item"]
    assert stored["big"] == {"S": "small"} and len(stored["more"]["S"]) == 150_000
    # 153 KB, then 150 KB more, then 110 KB more: refused at the last, as moto refuses it
    with pytest.raises(db.exceptions.ClientError, match="Item size to update has exceeded"):
        update("SET #a = :a, #b = :b", a={"S": "a" * 150_000}, b={"S": "b" * 110_000})


def _tracked_by_moto() -> int:
    return sum(
        len(getattr(m, "instances_tracked", ())) for ms in model_data.values() for m in ms.values()
    )


def test_an_ended_execution_leaves_nothing_behind(runtime_factory, monkeypatch):
    """What moto and the runtime kept per execution (every model object moto ever created, every
    worker thread, an end signal per run, each run's waits) is released or bounded."""
    monkeypatch.setattr(runtime_module, "KEPT_RUNS", 4)

    @agent
    def flaky(data, context):
        if context.attempt == 1:  # one retry, and its backoff wait, in every execution
            raise AgentError("the first attempt fails")
        return AgentResult(data={"a": context.attempt})

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": flaky, "b": echo(calls, "b")})
    workflow = compiled({"id": "leak", "name": "Leak", "agents": ["a", "b"]}, REGISTRY)

    def batch() -> tuple[int, int]:
        for _ in range(8):
            assert runtime.execute(workflow)["status"] == "completed"
        runtime.services.events()
        gc.collect()
        threads = sum(isinstance(o, threading.Thread) for o in gc.get_objects())
        return threads, _tracked_by_moto()

    first, second = batch(), batch()
    assert second == first  # eight more executions: not one more thread or model object kept
    assert first[1] <= 10  # moto tracks only what was made before the seams went in
    assert len(TMP_THREADS) <= 2, TMP_THREADS  # the last run's own, ended after it let go
    assert runtime.seams.ends.watched() == 0  # nobody waits, so no end signal is kept
    assert list(runtime.waits.values()) == [[("a", 2.0)]] * 4  # the latest runs' waits


def test_waiting_for_a_run_is_woken_by_its_end_not_by_polling(runtime_factory, monkeypatch):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a", sleep=0.6), "b": echo(calls, "b")})
    workflow = compiled({"id": "wake", "name": "Wake", "agents": ["a", "b"]}, REGISTRY)
    services = runtime.services
    reads: list[str] = []
    for target, name in ((services.lifecycle, "get"), (services.sfn, "describe_execution")):
        original = getattr(target, name)
        monkeypatch.setattr(
            target, name, lambda *a, _o=original, _n=name, **k: reads.append(_n) or _o(*a, **k)
        )
    record = runtime.execute(workflow)  # 0.6 s of agent: a 50 ms poll would read 12 times
    assert record["status"] == "completed"
    assert reads.count("get") <= 5 and reads.count("describe_execution") <= 6, reads
    reads.clear()
    arn = runtime.start(workflow, {})
    assert runtime.wait(arn)["status"] == "SUCCEEDED"
    assert reads.count("describe_execution") <= 2, reads


def test_a_run_is_described_once_after_its_end_not_before_its_wait_too(
    runtime_factory, monkeypatch
):
    """Whether a run is still running is read from the run itself (running_now): a waiter
    describes it once, after its end, where it described it before its wait too. A run that
    has ended already is described at once, and one moto does not know is left to
    DescribeExecution, whose error says why."""
    from botocore.exceptions import ClientError

    from baton.local.seams.executions import running_now

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a", sleep=0.3), "b": echo(calls, "b")})
    workflow = compiled({"id": "once", "name": "Once", "agents": ["a", "b"]}, REGISTRY)
    services = runtime.services
    described: list[str] = []
    for client in (services.sfn, runtime.sfn):  # the lifecycle's, and the runtime's own
        monkeypatch.setattr(
            client,
            "describe_execution",
            lambda _describe=client.describe_execution, **k: (
                described.append(k["executionArn"]) or _describe(**k)
            ),
        )
    record = runtime.execute(workflow)  # settled while its first agent still sleeps
    assert record["status"] == "completed"
    assert described == [record["currentRun"]]  # once, after the end
    described.clear()
    arn = runtime.start(workflow, {})
    assert running_now(arn) is True
    assert runtime.wait(arn)["status"] == "SUCCEEDED"
    assert running_now(arn) is False
    assert described == [arn]
    described.clear()
    assert runtime.wait(arn)["status"] == "SUCCEEDED"  # ended already: no wait, one read
    assert described == [arn]
    unknown = arn.rsplit(":", 1)[0] + ":never-started"
    assert running_now(unknown) is None and running_now("not an arn") is None
    with pytest.raises(ClientError, match="ExecutionDoesNotExist"):
        runtime.wait(unknown)


def test_eventbridge_parses_each_input_path_once_not_per_event(runtime_factory, monkeypatch):
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    parses: list[str] = []
    original = ExtendedJsonPathParser.parse
    monkeypatch.setattr(
        ExtendedJsonPathParser, "parse", lambda self, e: parses.append(e) or original(self, e)
    )
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "paths", "name": "Paths", "agents": ["a", "b"]}, REGISTRY)
    for _ in range(3):
        assert runtime.execute(workflow)["status"] == "completed"
    delivered = runtime.services.events()
    assert len(delivered) >= 12  # each went through the tap rule's input paths...
    assert len(parses) == len(set(parses)) <= 8, parses  # ...each path parsed once


def test_a_result_path_is_parsed_once_not_at_every_state(runtime_factory, monkeypatch):
    """moto's interpreter parsed a Task state's result path each time the state ended."""
    from jsonpath_ng.parser import JsonPathParser

    parses: list[str] = []
    original = JsonPathParser.parse
    monkeypatch.setattr(
        JsonPathParser, "parse", lambda self, e, **k: parses.append(e) or original(self, e, **k)
    )
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "results", "name": "Results", "agents": ["a", "b"]}, REGISTRY)
    for n in range(3):
        record = runtime.run(workflow, {"n": n})
        assert record.status == "completed"
        assert record.output["n"] == n and record.output["trail"] == ["a", "b"]
    assert len(calls.agents()) == 6
    assert parses.count("$") <= 1, parses


def test_an_execution_is_found_by_its_arn_not_by_scanning_every_execution(runtime_factory):
    """moto scanned every execution its state machine had started to describe one, and to check
    at each start that none had the new run's name; each execution is now read once, when it is
    indexed, and a run's name is still refused when taken."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "found", "name": "Found", "agents": ["a", "b"]}, REGISTRY)
    machine_arn = runtime.deploy(workflow)
    reads: list[str] = []

    class Earlier:  # an execution started before: each read of what identifies it is counted
        def __init__(self, n: int) -> None:
            self._name = f"earlier-{n}"

        @property
        def name(self) -> str:
            reads.append(self._name)
            return self._name

        @property
        def execution_arn(self) -> str:
            reads.append(self._name)
            return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{self._name}"

    backend = stepfunctions_parser_backends[runtime.resources.account][runtime.resources.region]
    backend.describe_state_machine(machine_arn).executions.extend(Earlier(n) for n in range(1000))
    first = runtime.start(workflow, {}, name="first")
    assert len(reads) == 2000  # each earlier execution read once, as it was indexed
    reads.clear()
    second = runtime.start(workflow, {}, name="second")
    for arn in (first, second):
        assert runtime.wait(arn)["status"] == "SUCCEEDED"  # each described for the first time
        assert runtime.history(arn)[-1]["type"] == "ExecutionSucceeded"
    assert reads == []
    with pytest.raises(ClientError) as taken:  # the name of a run that has ended
        runtime.start(workflow, {}, name="first")
    assert taken.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    assert first in taken.value.response["Error"]["Message"]
    assert runtime.sfn.describe_execution(executionArn=first)["name"] == "first"


def test_a_run_stopped_before_its_first_state_is_aborted_as_in_aws(runtime_factory, monkeypatch):
    from moto.stepfunctions.parser.asl.component.program.program import Program

    reached, go = threading.Event(), threading.Event()
    original = Program.eval

    def held(self, env):  # the run has started; its program has not taken its first state
        reached.set()
        go.wait(10)
        return original(self, env)

    monkeypatch.setattr(Program, "eval", held)
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    arn = runtime.start(compiled({"id": "early", "name": "E", "agents": ["a", "b"]}, REGISTRY))
    assert reached.wait(10)
    runtime.sfn.stop_execution(executionArn=arn, cause="cancelled at once")
    go.set()
    assert runtime.wait(arn, timeout=10)["status"] == "ABORTED"
    assert calls.agents() == []  # no step ran


@pytest.mark.parametrize(
    ("state_type", "evaluation"),
    [("Task", "_evaluate_with_timeout"), ("Choice", "_eval_state")],
)
def test_a_run_stopped_while_a_state_is_under_way_is_aborted_as_in_aws(
    runtime_factory, monkeypatch, state_type, evaluation
):
    """moto went on with a state that a stop interrupted, its expressions skipped, failed it
    on the values they did not leave (States.Runtime) and ended the run FAILED."""
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    held_class = {"Task": ExecutionState, "Choice": StateChoice}[state_type]
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    reached, go = threading.Event(), threading.Event()
    original = getattr(held_class, evaluation)  # as the seams left it

    def held(self, env):  # the state is entered; its work has not begun
        if not reached.is_set():
            reached.set()
            go.wait(10)
        return original(self, env)

    monkeypatch.setattr(held_class, evaluation, held)
    arn = runtime.start(compiled({"id": "midway", "name": "M", "agents": ["a", "b"]}, REGISTRY))
    assert reached.wait(10)
    runtime.sfn.stop_execution(executionArn=arn, cause="cancelled midway")
    go.set()
    assert runtime.wait(arn, timeout=10)["status"] == "ABORTED"
    events = runtime.sfn.get_execution_history(executionArn=arn)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert [e["type"] for e in events][-2:] == [f"{state_type}StateEntered", "ExecutionAborted"]
    assert not [e for e in events if e["type"].endswith("Failed")]
    assert entered[-1] == ("a" if state_type == "Task" else "Resume router")
    assert calls.agents() == []  # the stop came before the first step's work


def test_a_run_stopped_while_a_group_runs_is_aborted_as_in_aws(runtime_factory):
    """The same inside a Map (moto ended the run FAILED)."""
    running, go = threading.Semaphore(0), threading.Event()

    @agent
    def member(data, context):
        running.release()
        go.wait(10)  # held until the stop has come
        return AgentResult(data={context.agent: True})

    names = ("a", "b", "c")
    handlers = {"a": echo(Calls(), "a"), "b": member, "c": member}
    runtime = runtime_factory(make_registry(*names), handlers)
    definition = {"id": "group", "name": "G", "agents": list(names)}
    definition["config"] = {"parallelGroups": [["b", "c"]]}
    arn = runtime.start(compiled(definition, make_registry(*names)))
    assert running.acquire(timeout=10) and running.acquire(timeout=10)  # both members run
    runtime.sfn.stop_execution(executionArn=arn, cause="cancelled while the group runs")
    go.set()
    assert runtime.wait(arn, timeout=10)["status"] == "ABORTED"
    kinds = [e["type"] for e in runtime.sfn.get_execution_history(executionArn=arn)["events"]]
    assert kinds[-1] == "ExecutionAborted"
    assert kinds.count("MapIterationStarted") == 2
    assert not [kind for kind in kinds if kind.endswith("Failed")]


@pytest.mark.parametrize("ending", ["stop", "timeout"])
def test_a_stop_ends_the_run_at_once_while_its_agent_still_runs(runtime_factory, ending):
    """AWS ends a run at its StopExecution or its timeout: ABORTED or TIMED_OUT then, its
    history's last event, its end announced; the Lambda function it was waiting for runs on,
    and what it returns is not logged. moto ended the run only when the function returned."""
    running, go, returned = threading.Event(), threading.Event(), threading.Event()

    @agent
    def held(data, context):
        running.set()
        go.wait(20)
        returned.set()
        return AgentResult(data={"b": True})

    runtime = runtime_factory(REGISTRY, {"a": echo(Calls(), "a"), "b": held})
    definition = {"id": "held", "name": "H", "agents": ["a", "b"]}
    if ending == "timeout":
        definition["config"] = {"timeout": "1s"}
    arn = runtime.start(compiled(definition, REGISTRY))
    try:
        assert running.wait(10)
        if ending == "stop":
            runtime.sfn.stop_execution(executionArn=arn, cause="cancelled")
            assert runtime.sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
        ended = runtime.wait(arn, timeout=5)  # b is still held
        assert not returned.is_set()
        assert ended["status"] == {"stop": "ABORTED", "timeout": "TIMED_OUT"}[ending]
        last = {"stop": "ExecutionAborted", "timeout": "ExecutionTimedOut"}[ending]
        history = runtime.sfn.get_execution_history(executionArn=arn)["events"]
        assert [e["type"] for e in history][-3:] == ["TaskScheduled", "TaskStarted", last]
    finally:
        go.set()
    assert returned.wait(10)
    time.sleep(0.2)  # b's result has come back to the run's Task by now
    assert runtime.sfn.get_execution_history(executionArn=arn)["events"] == history
    assert runtime.sfn.describe_execution(executionArn=arn)["status"] == ended["status"]


def test_receiving_messages_checks_retention_without_rebuilding_the_queue(runtime_factory):
    """moto rebuilt every attribute of the queue (counting its messages) per message received;
    the seam reads the retention period, and an expired message is still not delivered."""
    from moto.sqs.models import Queue, sqs_backends

    runtime = runtime_factory(make_registry("a"))
    sqs = runtime.services.sqs
    backend = sqs_backends[runtime.resources.account][runtime.resources.region]
    urls = {
        name: sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})[
            "QueueUrl"
        ]
        for name in ("fresh", "expired")
    }
    for n in range(20):
        sqs.send_message(QueueUrl=urls["fresh"], MessageBody=str(n))
    sqs.send_message(QueueUrl=urls["expired"], MessageBody="old")
    backend.get_queue("expired")._messages[0].sent_timestamp -= 61_000  # past its 60 s
    rebuilt = []
    original = Queue.attributes
    try:
        Queue.attributes = property(lambda q: rebuilt.append(q) or original.fget(q))
        fresh = sqs.receive_message(QueueUrl=urls["fresh"], MaxNumberOfMessages=10)
        expired = sqs.receive_message(QueueUrl=urls["expired"], MaxNumberOfMessages=10)
    finally:
        Queue.attributes = original
    assert [m["Body"] for m in fresh["Messages"]] == [str(n) for n in range(10)]
    assert "Messages" not in expired
    assert rebuilt == []


def test_a_queue_counts_its_messages_at_one_moment_not_per_message(runtime_factory):
    """moto read the clock twice per message for each count of a queue's messages, and counted
    them all at every message sent (publishing to a queue of 1,000 messages took 45 ms an
    event); the seam reads it once per count, and the counts are still moto's: visible,
    delayed, in flight."""
    from moto.sqs.models import Message

    runtime = runtime_factory(make_registry("a"))
    sqs = runtime.services.sqs
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    for n in range(40):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"later {n}", DelaySeconds=60)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
    assert len(received["Messages"]) == 10
    read = []
    saved = {name: Message.__dict__[name] for name in ("visible", "delayed")}
    try:
        for name, moto_property in saved.items():
            setattr(
                Message,
                name,
                property(lambda m, p=moto_property, n=name: read.append(n) or p.fget(m)),
            )
        sqs.send_message(QueueUrl=url, MessageBody="one more")
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    finally:
        for name, moto_property in saved.items():
            setattr(Message, name, moto_property)
    assert read == []  # no message's own reading of the clock
    assert counts["ApproximateNumberOfMessages"] == "31"  # 40 + 1 sent, 10 in flight
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "10"
    assert counts["ApproximateNumberOfMessagesDelayed"] == "5"
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == [str(n) for n in range(10, 20)]


def _conditions_table(runtime):
    """The runtime's DynamoDB client, and a table `conditions` keyed by `pk` (a string)."""
    runtime.dynamodb.create_table(
        TableName="conditions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return runtime.dynamodb


def _put_run(db, run: int, **extra_names: str) -> None:
    """Write run `run` of item k, only over an earlier run."""
    db.put_item(
        TableName="conditions",
        Item={"pk": {"S": "k"}, "run": {"N": str(run)}},
        ConditionExpression="attribute_not_exists(pk) OR #run < :run",
        ExpressionAttributeNames={"#run": "run", **extra_names},
        ExpressionAttributeValues={":run": {"N": str(run)}},
    )


def test_a_condition_is_parsed_once_and_still_judged_on_each_write(runtime_factory, monkeypatch):
    """moto parsed a write's condition again at each layer the write passed (a fenced
    transaction's two conditions took seven parses); a condition is parsed once per text,
    names and types of its values, each write is still judged with its own values, and unused
    names are still refused. A write's tree is copied from the parse by unpickling, never by
    deepcopy (thrice its cost)."""
    import copy

    import pytest
    from moto.dynamodb.comparisons import ConditionExpressionParser

    db = _conditions_table(runtime_factory(make_registry("a")))
    trees = []
    original = ConditionExpressionParser._make_op_condition
    monkeypatch.setattr(
        ConditionExpressionParser,
        "_make_op_condition",
        lambda self, node: trees.append(node) or original(self, node),
    )
    deep_copied = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(
        copy,
        "deepcopy",
        lambda value, *args: (
            (type(value).__module__ == "moto.dynamodb.comparisons" and deep_copied.append(value))
            or deepcopy(value, *args)
        ),
    )
    _put_run(db, 1)
    first = len(trees)
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        _put_run(db, 1)  # the same condition and values: not a later run, refused
    assert len(trees) == first  # judged with the tree already made
    _put_run(db, 2)  # other values: judged with them (a later run), from the same parse
    assert len(trees) == first
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        _put_run(db, 2)
    for _ in range(2):  # from the parse and from the cache alike
        with pytest.raises(db.exceptions.ClientError, match="unused in expressions"):
            _put_run(db, 3, **{"#spare": "spare"})
    assert db.get_item(TableName="conditions", Key={"pk": {"S": "k"}})["Item"]["run"] == {"N": "2"}
    _put_run(db, 10)  # 10 > 2 as numbers (not as text): the write's own value, as a number
    assert db.get_item(TableName="conditions", Key={"pk": {"S": "k"}})["Item"]["run"] == {"N": "10"}
    assert deep_copied == []


def test_an_update_expression_is_parsed_once_and_applied_at_every_write(
    runtime_factory, monkeypatch
):
    """moto parsed an UpdateItem's expression twice at every write; it is parsed once per
    text, every caller reads the one tree (none changes it), each write's Validator walks a
    copy made from the pickle kept with it, and each write applies it to its own item and
    values."""
    import pickle

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    from baton.local.seams.update_validation import PICKLED

    db = _conditions_table(runtime_factory(make_registry("a")))
    tokenized, trees, pickled = [], [], []
    original = ExpressionTokenizer.make_list
    monkeypatch.setattr(
        ExpressionTokenizer,
        "make_list",
        classmethod(lambda cls, text: tokenized.append(text) or original(text)),
    )
    make = UpdateExpressionParser.make
    monkeypatch.setattr(
        UpdateExpressionParser,
        "make",
        classmethod(lambda cls, text: trees.append(make(text)) or trees[-1]),
    )
    dumps = pickle.dumps
    monkeypatch.setattr(
        pickle, "dumps", lambda value, *a, **k: pickled.append(value) or dumps(value, *a, **k)
    )
    for pk, n in (("a", 1), ("a", 2), ("b", 5)):
        db.update_item(
            TableName="conditions",
            Key={"pk": {"S": pk}},
            UpdateExpression="ADD calls :one, amount :n SET lastValue = :n",
            ExpressionAttributeValues={":one": {"N": "1"}, ":n": {"N": str(n)}},
        )
    assert tokenized == ["ADD calls :one, amount :n SET lastValue = :n"]
    assert len(trees) == 6 and all(tree is trees[0] for tree in trees)  # handler and backend
    assert pickled == [trees[0]]  # at its parse: the Validators' copies load that pickle
    tree = trees[0]
    kept = vars(tree).pop(PICKLED)
    try:
        assert dumps(tree) == kept  # no write changed the shared tree
    finally:
        setattr(tree, PICKLED, kept)
    a = db.get_item(TableName="conditions", Key={"pk": {"S": "a"}})["Item"]
    b = db.get_item(TableName="conditions", Key={"pk": {"S": "b"}})["Item"]
    assert (a["calls"], a["amount"], a["lastValue"]) == ({"N": "2"}, {"N": "3"}, {"N": "2"})
    assert (b["calls"], b["amount"], b["lastValue"]) == ({"N": "1"}, {"N": "5"}, {"N": "5"})


def test_a_runtime_that_reads_no_events_creates_no_tap_and_says_so(runtime_factory):
    """`baton run` reads neither the events nor the notifications: nothing is set up to read
    them (an SQS tap, an inbox whose subscription costs moto an RSA key), the run publishes
    them all the same, and asking for them is a clear error, not an empty list."""
    import pytest

    registry = make_registry("a")
    runtime = runtime_factory(registry, {"a": echo(Calls(), "a")}, observe_events=False)
    record = runtime.execute(compiled({"id": "quiet", "name": "Quiet", "agents": ["a"]}, registry))
    assert record["status"] == "completed"
    assert runtime.services.sqs.list_queues().get("QueueUrls", []) == []
    with pytest.raises(RuntimeError, match="does not observe Baton's events"):
        runtime.services.events()
    with pytest.raises(RuntimeError, match="does not observe"):
        runtime.services.notifications()


def test_a_response_class_is_inspected_once_not_at_every_request(runtime_factory, monkeypatch):
    """moto listed a response class's functions with inspect.getmembers at every request it
    answered; offline they are listed once per class, the same names."""
    import inspect

    from moto.core import responses as moto_responses
    from moto.core import utils as moto_utils
    from moto.dynamodb.responses import DynamoHandler

    runtime = runtime_factory(make_registry("a"))
    runtime.dynamodb.list_tables()  # the class is listed at its first request
    listed = []
    original = inspect.getmembers
    monkeypatch.setattr(
        inspect, "getmembers", lambda *a, **k: listed.append(a) or original(*a, **k)
    )
    for _ in range(5):
        runtime.dynamodb.list_tables()
    monkeypatch.undo()
    assert listed == []
    names = moto_responses.method_names_from_class(DynamoHandler)  # the seam's, listed once
    assert names == frozenset(moto_utils.method_names_from_class(DynamoHandler))
    assert "transact_write_items" in names


def test_an_answer_is_searched_for_its_request_id_tag_only_when_it_has_one(
    runtime_factory, monkeypatch
):
    """moto searched every answer for a <RequestId> tag by a look-behind expression tried at
    every character (a long history: a millisecond); a JSON answer is not searched, and an XML
    answer still carries its request id, the one in its header."""
    import re

    import boto3
    from moto.core import responses as moto_responses

    runtime = runtime_factory(make_registry("a"))
    searched: list[object] = []
    original = re.sub

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(re, name)

        @staticmethod
        def sub(pattern, replacement, text, *args, **kwargs):  # type: ignore[no-untyped-def]
            if isinstance(text, str | bytes):  # an answer's text (moto's search of nothing fails)
                searched.append(text)
            return original(pattern, replacement, text, *args, **kwargs)

    monkeypatch.setattr(moto_responses, "re", Counting())
    for _ in range(3):
        runtime.dynamodb.list_tables()
    assert searched == []
    sns = boto3.client("sns", region_name=runtime_module.REGION)
    answer = sns.create_topic(Name="ids")
    assert len(searched) == 1 and "<RequestId>" in str(searched[0])
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert request_id and answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == (
        request_id
    )


def test_the_variables_an_expression_names_are_found_once_per_expression(
    runtime_factory, monkeypatch
):
    """moto searched each JSONata expression for the variables it names with a regular
    expression at every evaluation (each state's Arguments, Assign, Output: several a step);
    each text is searched once, and runs still read their variables (a second run of the
    same workflow searches nothing)."""
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    registry = make_registry("a", "b")
    runtime = runtime_factory(registry, {n: echo(Calls(), n) for n in "ab"})
    definition = {"id": "refs", "name": "Refs", "agents": ["a", "b"], "initialData": {"n": 1}}
    workflow = compiled(definition, registry)
    searched: list[str] = []
    pattern = moto_jsonata._PATTERN_VARIABLE_REFERENCE

    class Counting:
        @staticmethod
        def findall(text: str) -> list[object]:
            searched.append(text)
            return pattern.findall(text)

    monkeypatch.setattr(moto_jsonata, "_PATTERN_VARIABLE_REFERENCE", Counting())
    first = runtime.run(workflow, {"n": 2})
    assert first.status == "completed", first.error
    assert searched and len(searched) == len(set(searched))  # each text once
    searched.clear()
    second = runtime.run(workflow, {"n": 3})
    assert second.status == "completed", second.error
    assert searched == []
    assert second.output["n"] == 3 and first.output["n"] == 2


def test_a_string_result_is_not_evaluated_again(runtime_factory, monkeypatch):
    """moto checked every string a JSONata expression returned by evaluating `$type(...)`
    around it again, the whole workflow data pasted into its text; a string is taken as it
    is (here the function a group's shared Task reads from each member's item), also when the
    data holds quotes and backslashes."""
    import jsonata

    registry = make_registry("a", "b", "c")
    handlers = {n: echo(Calls(), n) for n in "abc"}
    runtime = runtime_factory(registry, handlers)
    definition = {
        "id": "strings",
        "name": "Strings",
        "agents": ["a", "b", "c"],
        "initialData": {"quote": 'say "hi" \\ back\\slash', "big": "x" * 20_000},
        "config": {"parallelGroups": [["b", "c"]]},
    }
    workflow = compiled(definition, registry)
    parsed = []
    original = jsonata.Jsonata.__init__

    def parsing(self, expression, *args, **kwargs):
        parsed.append(expression)
        original(self, expression, *args, **kwargs)

    monkeypatch.setattr(jsonata.Jsonata, "__init__", parsing)
    record = runtime.run(workflow)
    monkeypatch.undo()
    assert record.status == "completed", record.error
    assert record.output["quote"] == 'say "hi" \\ back\\slash'
    assert not [text for text in parsed if text.startswith("$type(")]


def test_a_task_runs_in_a_kept_thread_not_a_new_one(runtime_factory, monkeypatch):
    """moto started a new thread for every Task state (to time it out); a Task runs in a kept
    thread, which takes the next Task once its own has returned: a run's steps share a few."""
    calls = Calls()
    registry = make_registry("a", "b", "c")
    runtime = runtime_factory(registry, {n: echo(calls, n) for n in "abc"})
    invoking: list[tuple[int, str]] = []
    invoke = runtime.dispatcher.invoke

    def recorded(*args, **kwargs):
        thread = threading.current_thread()
        invoking.append((thread.ident or 0, thread.name))
        return invoke(*args, **kwargs)

    monkeypatch.setattr(runtime.dispatcher, "invoke", recorded)
    workflow = compiled({"id": "kept", "name": "Kept", "agents": ["a", "b", "c"]}, registry)
    for _ in range(4):
        assert runtime.execute(workflow)["status"] == "completed"
    assert len(calls.agents()) == len(invoking) == 12
    assert {name for _, name in invoking} == {"states:task"}
    assert len({ident for ident, _ in invoking}) <= 3  # 12 Tasks, a few threads


def test_moto_draws_a_random_string_in_one_call(runtime_factory, monkeypatch):
    """moto drew each character of a random string (a request id: 52) by a call of its
    generator; a string is drawn in one call, of the same characters, still seeded by moto."""
    import random
    import string

    from moto.moto_api._internal import mock_random

    runtime_factory(make_registry("a"))
    chosen: list[object] = []
    choice = random.Random.choice
    monkeypatch.setattr(
        random.Random, "choice", lambda self, seq: chosen.append(seq) or choice(self, seq)
    )
    ids = [mock_random.get_random_string(length=52) for _ in range(500)]
    assert chosen == []
    assert len(set(ids)) == 500 and {len(i) for i in ids} == {52}
    drawn = "".join(ids)
    assert set(drawn) == set(string.ascii_letters + string.digits)  # every character, no other
    lower = mock_random.get_random_string(length=400, include_digits=False, lower_case=True)
    assert set(lower) == set(string.ascii_lowercase)
    mock_random.seed(7)
    seeded = mock_random.get_random_string()
    mock_random.seed(7)
    assert mock_random.get_random_string() == seeded and len(seeded) == 20
    mock_random.seed(None)


def test_a_warm_runtime_is_frozen_out_of_the_collectors_full_scans(runtime_factory):
    """From its second run, what the runtime holds (moto's and botocore's models, its resources,
    what the first run loaded) is out of the cyclic collector's full collections, which walked
    all of it every few executions; the runtime gives it back when it closes. A full collection
    then walks a small part of what it walked."""
    import time

    baseline = gc.get_freeze_count()
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "ab"})
    workflow = compiled({"id": "frozen", "name": "Frozen", "agents": ["a", "b"]}, REGISTRY)
    assert runtime.execute(workflow)["status"] == "completed"
    assert gc.get_freeze_count() == baseline  # one run: nothing frozen (`baton run`)
    walked_before = len(gc.get_objects())
    assert runtime.run(workflow, {}).status == "completed"
    frozen = gc.get_freeze_count() - baseline
    assert frozen > 100_000
    assert runtime.execute(workflow)["status"] == "completed"
    assert len(gc.get_objects()) < walked_before / 5
    started = time.perf_counter()
    gc.collect()
    assert time.perf_counter() - started < 0.1
    runtime.__exit__(None, None, None)
    assert gc.get_freeze_count() == baseline  # unfrozen: collectable as the process goes on
