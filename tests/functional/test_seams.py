"""The seams that adapt moto (baton.local.seams): one switch applies every adaptation and
restores moto exactly; each adaptation says what it restores and names a test that shows it;
and the tests of the adaptations no other test covers."""

from __future__ import annotations

import ast
import copy
import json
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from baton.local.fake_lambda import Dispatcher
from baton.local.seams import WITHOUT_SEAMS, Seams, all_adaptations, patched
from baton.local.seams.adaptation import current
from baton.local.seams.waits import Waits
from tests.conftest import ROOT, compiled, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a", "b", "c")


def _adaptations():
    return all_adaptations(Seams(waits=Waits(real=False, listener=None)), Dispatcher())


@cache
def _test_functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def test_every_adaptation_says_what_it_restores_and_names_a_test_that_exists():
    adaptations = _adaptations()
    names = [adaptation.name for adaptation in adaptations]
    assert len(names) == len(set(names)) >= 30
    for adaptation in adaptations:
        assert len(adaptation.restores) > 30, adaptation.name
        path, _, test = adaptation.shown_by.partition("::")
        assert Path(ROOT / path).is_file(), adaptation.shown_by
        assert test in _test_functions(path), adaptation.shown_by
        assert adaptation.replacements, adaptation.name
        for target, name, _change in adaptation.replacements:
            assert hasattr(target, name), (adaptation.name, target, name)


def _moto_now():
    return {
        (id(target), name): current(target, name)
        for adaptation in _adaptations()
        for target, name, _ in adaptation.replacements
    }


def test_the_switch_applies_every_adaptation_and_restores_moto_exactly():
    before = _moto_now()
    with patched(Dispatcher(), real_waits=False, on_wait=None) as seams:
        during = _moto_now()
        assert isinstance(seams, Seams) and not seams.left_out
        changed = [key for key, value in before.items() if during[key] is not value]
        assert len(changed) == len(before)  # every attribute is changed while the seams are in
    after = _moto_now()
    assert all(after[key] is value for key, value in before.items())


def test_one_switch_at_a_time_and_moto_restored_when_the_block_raises():
    before = _moto_now()
    with pytest.raises(KeyError), patched(Dispatcher(), real_waits=False, on_wait=None):
        with (
            pytest.raises(RuntimeError, match="another offline runtime"),
            patched(Dispatcher(), real_waits=False, on_wait=None),
        ):
            pass
        raise KeyError("boom")
    assert all(value is before[key] for key, value in _moto_now().items())
    with patched(Dispatcher(), real_waits=False, on_wait=None):  # the switch is free again
        pass


def test_each_switch_has_its_own_seams():
    with patched(Dispatcher(), real_waits=True, on_wait=None) as first:
        pass
    with patched(Dispatcher(), real_waits=False, on_wait=print) as second:
        assert second.waits.real is False and second.waits.listener is print
    assert first is not second
    assert first.ends is not second.ends and first.executions is not second.executions
    assert first.dynamodb_writing is not second.dynamodb_writing


def test_named_adaptations_can_be_left_out_and_unknown_names_are_refused(monkeypatch):
    import jsonata
    import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata

    moto_numeric = jsonata.Jsonata.evaluate_numeric_expression
    monkeypatch.setenv(WITHOUT_SEAMS, " javascript-arithmetic, ")
    with patched(Dispatcher(), real_waits=False, on_wait=None) as seams:
        assert seams.left_out == {"javascript-arithmetic"}
        assert jsonata.Jsonata.evaluate_numeric_expression is moto_numeric
        assert moto_jsonata._eval_jsonata is not None  # the others are in
    monkeypatch.setenv(WITHOUT_SEAMS, "javascript-arithmetic,no-such-seam")
    refused = r"names no adaptation: no-such-seam \(there are: jsonata-evaluator, "
    with (
        pytest.raises(ValueError, match=refused),
        patched(Dispatcher(), real_waits=False, on_wait=None),
    ):
        pass
    monkeypatch.delenv(WITHOUT_SEAMS)
    with patched(Dispatcher(), real_waits=False, on_wait=None):  # the refusal let go
        pass


def test_a_timed_out_run_is_described_with_its_stop_date(runtime_factory):
    runtime = runtime_factory(REGISTRY, real_waits=True)
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Long",
        "TimeoutSeconds": 1,
        "States": {"Long": {"Type": "Wait", "Seconds": 5, "End": True}},
    }
    machine = runtime.sfn.create_state_machine(
        name="late", definition=json.dumps(definition), roleArn=runtime.role_arn
    )["stateMachineArn"]
    arn = runtime.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    described = runtime.wait(arn, timeout=30)
    assert described["status"] == "TIMED_OUT"
    waited = (described["stopDate"] - described["startDate"]).total_seconds()
    assert 0.9 <= waited < 4, waited


def test_a_definition_is_parsed_once_not_at_every_start(runtime_factory, monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parsed: list[str] = []
    moto_parse = AmazonStateLanguageParser.parse
    monkeypatch.setattr(  # below the seam, which wraps what it finds
        AmazonStateLanguageParser,
        "parse",
        staticmethod(lambda definition: parsed.append(definition) or moto_parse(definition)),
    )
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "ab"})
    workflow = compiled({"id": "once", "name": "Once", "agents": ["a", "b"]}, REGISTRY)
    for _ in range(3):
        assert runtime.execute(workflow)["status"] == "completed"
    ours = [text for text in parsed if '"a"' in text or "Run_a" in text or "once" in text]
    assert len(parsed) == len(set(parsed)), "a definition text was parsed twice"
    assert ours, parsed  # the workflow's definition went through the parser, once


def test_step_functions_reuses_one_lambda_client(runtime_factory, monkeypatch):
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lu

    created: list[tuple[str, str]] = []
    moto_client_for = lu.boto_client_for
    monkeypatch.setattr(
        lu,
        "boto_client_for",
        lambda region, service, state_credentials=None: (
            created.append((region, service)) or moto_client_for(region=region, service=service)
        ),
    )
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "abc"})
    workflow = compiled({"id": "clients", "name": "Clients", "agents": ["a", "b", "c"]}, REGISTRY)
    for _ in range(2):
        assert runtime.execute(workflow)["status"] == "completed"
    assert len(calls.agents()) == 6
    assert created == [("us-east-1", "lambda")]


def test_concurrent_writes_and_transactions_are_each_atomic(runtime_factory):
    """Agents write from many threads; each DynamoDB write (an UpdateItem that returns the old
    item, a transaction that backs its tables up) happens whole, as in DynamoDB. Unserialized,
    moto's copies of an item or a table met another thread's write mid-copy ('dictionary
    changed size during iteration') and items lost updates."""
    import boto3

    runtime = runtime_factory(REGISTRY)
    table = runtime.manifest.tables["executions"].name
    client = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": "EXEC#t#shared"}, "sk": {"S": "R"}}
    client.put_item(TableName=table, Item={**key, "n": {"N": "0"}, "m": {"M": {}}})
    errors: list[BaseException] = []
    rounds, writers = 80, 4

    def write(worker: int) -> None:
        try:
            for n in range(rounds):
                client.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET m.#k = :v ADD n :one",
                    ExpressionAttributeNames={"#k": f"w{worker}-{n}"},
                    ExpressionAttributeValues={":v": {"S": "x" * 50}, ":one": {"N": "1"}},
                    ReturnValues="ALL_OLD",
                )
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": table,
                                "Item": {"pk": {"S": f"EXEC#t#w{worker}"}, "sk": {"S": f"{n}"}},
                            }
                        }
                    ]
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns often: a race, if any, shows every time
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert errors == []
    item = client.get_item(TableName=table, Key=key)["Item"]
    assert item["n"] == {"N": str(rounds * writers)}  # no update lost
    assert len(item["m"]["M"]) == rounds * writers


def _executions_and_copies(runtime_factory, monkeypatch) -> tuple[Any, str, list[object]]:
    """A DynamoDB client, the executions table holding 300 executions' records, and the list
    of the items (and their values) moto deep-copies from now on."""
    import boto3
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    runtime = runtime_factory(REGISTRY)
    table = runtime.manifest.tables["executions"].name
    client = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(300):  # other executions' items
        client.put_item(TableName=table, Item={"pk": {"S": f"EXEC#t#{n}"}, "sk": {"S": "R"}})
    copied: list[object] = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(
        copy,
        "deepcopy",
        lambda value, memo=None, _nil=[]: (
            (copied.append(value) if isinstance(value, Item | DynamoType) else None)
            or deepcopy(value, memo)
        ),
    )
    return client, table, copied


def test_a_transaction_copies_the_partitions_it_writes_not_the_table(runtime_factory, monkeypatch):
    client, table, copied = _executions_and_copies(runtime_factory, monkeypatch)
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "EXEC#t#7"}, "sk": {"S": "H"}}}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "EXEC#t#7"}, "sk": {"S": "R"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    monkeypatch.undo()
    assert len(copied) <= 8, len(copied)  # the written partition's at most, not 300 items
    items = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "EXEC#t#7"}},
    )["Items"]
    assert sorted(i["sk"]["S"] for i in items) == ["H", "R"]


def test_a_failed_transaction_with_an_update_rolls_back_from_its_partitions_copy(
    runtime_factory, monkeypatch
):
    """An update changes its item in place: the backup of a transaction holding one copies the
    written partition's items (not the table's), so a cancelled transaction leaves them as
    they were."""
    key = {"pk": {"S": "EXEC#t#7"}, "sk": {"S": "R"}}
    client, table, copied = _executions_and_copies(runtime_factory, monkeypatch)
    client.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    copied.clear()
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "EXEC#t#8"}, "sk": {"S": "R"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    monkeypatch.undo()
    from moto.dynamodb.models.dynamo_type import Item

    items = [value for value in copied if isinstance(value, Item)]
    # the two touched partitions' items, once for each operation (moto backs up per operation)
    assert 0 < len(items) <= 4, items
    assert client.get_item(TableName=table, Key=key)["Item"]["n"] == {"N": "1"}


def _table_named(name: str):
    """A DynamoDB client, and a table `name` keyed by `pk` (a string)."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def test_attribute_values_are_written_without_walking_the_service_model(
    runtime_factory, monkeypatch
):
    from moto.core.serialize import BaseJSONSerializer

    walked: list[str] = []
    moto_structure = BaseJSONSerializer._serialize_type_structure
    monkeypatch.setattr(  # below the seam, which wraps what it finds
        BaseJSONSerializer,
        "_serialize_type_structure",
        lambda self, serialized, value, shape, key: (
            walked.append(shape.name) or moto_structure(self, serialized, value, shape, key)
        ),
    )
    runtime_factory(REGISTRY)
    client = _table_named("walk")
    item = {"pk": {"S": "k"}, "m": {"M": {f"f{n}": {"S": str(n)} for n in range(40)}}}
    client.put_item(TableName="walk", Item=item)
    walked.clear()
    assert client.get_item(TableName="walk", Key={"pk": {"S": "k"}})["Item"] == item
    assert "AttributeValue" not in walked, walked.count("AttributeValue")


def test_a_component_key_is_made_once_when_iterations_reach_it_at_once(monkeypatch):
    """Map iterations reaching one Retry at once each read its key; moto made the key on first
    use without a guard, so each could make its own, and an attempt count kept under a lost
    key let a member retry past its MaxAttempts. Making a key is slowed here to widen that
    window."""
    import time

    import moto.stepfunctions.parser.asl.component.eval_component as eval_component
    from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import (
        MaxAttemptsDecl,
    )

    make_key = eval_component.long_uid
    monkeypatch.setattr(eval_component, "long_uid", lambda: time.sleep(0.02) or make_key())
    with patched(Dispatcher(), real_waits=False, on_wait=None):
        component = MaxAttemptsDecl(1)
        start = threading.Barrier(6)
        keys: list[str] = []

        def read() -> None:
            start.wait()
            keys.append(component.heap_key)

        threads = [threading.Thread(target=read) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(keys) == 6 and len(set(keys)) == 1, keys


def test_offline_requests_carry_their_scope_without_a_signature(runtime_factory, monkeypatch):
    """moto reads a request's access key and region from its Authorization header and never
    checks the signature; offline, a request carries the scope and no signature is computed.
    Presigned URLs (another signer) are still signed."""
    import boto3
    import botocore.config
    from botocore.auth import SigV4Auth

    signed: list[str] = []
    monkeypatch.setattr(  # below the seam, which wraps the signer's add_auth it finds
        SigV4Auth,
        "signature",
        lambda self, string_to_sign, request: signed.append(string_to_sign) or "f" * 64,
    )
    sent: list[str] = []
    runtime_factory(REGISTRY)
    signed.clear()  # the set-up's S3 requests (S3's own signer)
    session = boto3.session.Session(aws_access_key_id="AKIDOFFLINE", aws_secret_access_key="x")
    for region in ("us-east-1", "eu-west-1"):
        client = session.client("sqs", region_name=region)
        client.meta.events.register(
            "before-send.sqs",
            lambda request, **_: sent.append(request.headers["Authorization"].decode()),
        )
        client.create_queue(QueueName=f"in-{region}")
    west = session.client("sqs", region_name="eu-west-1").list_queues()["QueueUrls"]
    assert [url.rsplit("/", 1)[1] for url in west] == ["in-eu-west-1"]  # the region moto read
    assert len(sent) == 2 and signed == []
    assert all(
        header.startswith("AWS4-HMAC-SHA256 Credential=AKIDOFFLINE/")
        and header.endswith("Signature=" + "0" * 64)
        for header in sent
    ), sent
    assert [h.split("/")[2] for h in sent] == ["us-east-1", "eu-west-1"]
    s3 = session.client(
        "s3", region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4")
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "X-Amz-Signature=" in url and "0" * 64 not in url and len(signed) == 1


def test_state_data_is_copied_as_json_and_each_copy_is_its_own(runtime_factory, monkeypatch):
    """moto copies a state's data at every read; JSON is copied as JSON (deepcopy's general
    machinery was 2.6 times slower), and anything else still deep-copied."""
    import copy as copy_module

    from moto.stepfunctions.parser.asl.eval.states import States

    deep: list[type] = []
    stdlib = copy_module.deepcopy
    monkeypatch.setattr(
        copy_module, "deepcopy", lambda v, memo=None: deep.append(type(v)) or stdlib(v, memo)
    )
    runtime_factory(REGISTRY)
    data = {"a": [1, {"b": "c"}], "n": None, "f": 1.5, "t": True}
    copied = States._extract(None, data)
    assert copied == data and copied["a"][1] is not data["a"][1]
    copied["a"][1]["b"] = "changed"
    assert data["a"][1] == {"b": "c"}
    assert deep == []

    class Opaque:
        pass

    opaque = Opaque()
    assert States._extract(None, {"o": [opaque]})["o"][0] is not opaque
    assert deep == [Opaque]


def test_a_run_and_its_history_copy_their_json_without_deepcopy(runtime_factory, monkeypatch):
    """Besides a state's data, moto's interpreter deep-copied each Task's parameters, result and
    stack, the context's state, each history event's details and the whole history it
    answered with: all JSON, copied as JSON; the run and its history read as before."""
    import copy as copy_module
    import traceback

    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in "ab"})
    workflow = compiled({"id": "copies", "name": "Copies", "agents": ["a", "b"]}, REGISTRY)
    runtime.execute(workflow, {"n": 1})  # deployed, and every module loaded
    deep: list[str] = []
    stdlib = copy_module.deepcopy

    def counting(value, memo=None):  # type: ignore[no-untyped-def]
        if type(value) in (dict, list):
            caller = traceback.extract_stack(limit=2)[0].filename
            if "stepfunctions" in caller:
                deep.append(caller)
        return stdlib(value, memo)

    monkeypatch.setattr(copy_module, "deepcopy", counting)
    record = runtime.execute(workflow, {"n": 2})
    history = runtime.sfn.get_execution_history(executionArn=record["currentRun"])["events"]
    monkeypatch.undo()
    assert record["status"] == "completed" and record["output"]["n"] == 2
    assert [e["type"] for e in history][:2] == ["ExecutionStarted", "PassStateEntered"]
    assert deep == [], sorted(set(deep))


def test_history_timestamps_are_read_without_dateutils_parser(runtime_factory, monkeypatch):
    """moto keeps history timestamps as ISO-8601 text and read each through dateutil's general
    parser to answer GetExecutionHistory; they are read directly, to the same instants."""
    import dateutil.parser

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "ab"})
    workflow = compiled({"id": "stamps", "name": "Stamps", "agents": ["a", "b"]}, REGISTRY)
    record = runtime.execute(workflow)
    assert record["status"] == "completed"
    arn = record["runs"][-1]
    parsed: list[str] = []
    general = dateutil.parser.parse
    monkeypatch.setattr(
        dateutil.parser,
        "parse",
        lambda text, *a, **k: parsed.append(text) or general(text, *a, **k),
    )
    described = runtime.sfn.describe_execution(executionArn=arn)
    stamps = [e["timestamp"] for e in runtime.sfn.get_execution_history(executionArn=arn)["events"]]
    assert parsed == []
    assert len(stamps) > 6 and stamps == sorted(stamps)
    assert described["startDate"] <= stamps[0] and stamps[-1] <= described["stopDate"]


def test_epoch_timestamps_read_as_botocore_reads_them_without_its_conversion(
    runtime_factory, monkeypatch
):
    """botocore reads a response's epoch timestamp as `datetime.fromtimestamp(value,
    tzlocal())`; where the local time zone is UTC, the seam makes the same datetime (the same
    wall time, fold, offset and kind of zone) without dateutil's conversion from UTC; anywhere
    else botocore converts it, as before."""
    import time as time_module
    from datetime import timedelta

    import botocore.utils
    from dateutil.tz import tzlocal

    def reading(value):
        moment = botocore.utils.parse_timestamp(value)
        return (moment, moment.fold, moment.utcoffset(), type(moment.tzinfo), moment.isoformat())

    values = [0, 1, 1795826119, 1795826119.259, 1795826119.000001, -86400.5, 4102444800.75]
    converted: list[object] = []
    convert = tzlocal.fromutc
    monkeypatch.setattr(
        tzlocal, "fromutc", lambda zone, dt: converted.append(dt) or convert(zone, dt)
    )
    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    try:
        calls = Calls()
        runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "ab"})
        seam = botocore.utils._parse_timestamp_with_tzinfo
        read = [reading(value) for value in values]
        assert converted == []  # no conversion: the seam made each
        record = runtime.execute(compiled({"id": "epochs", "name": "E", "agents": ["a"]}, REGISTRY))
        described = runtime.sfn.describe_execution(executionArn=record["runs"][-1])
        assert converted == [] and type(described["startDate"].tzinfo) is tzlocal
        monkeypatch.setattr(botocore.utils, "_parse_timestamp_with_tzinfo", seam.original)
        assert [reading(value) for value in values] == read  # botocore's own, converted
        assert len(converted) == len(values)
        again = runtime.sfn.describe_execution(executionArn=record["runs"][-1])
        for key in ("startDate", "stopDate"):
            assert (again[key], again[key].tzinfo) == (described[key], described[key].tzinfo)
        monkeypatch.setattr(botocore.utils, "_parse_timestamp_with_tzinfo", seam)
        monkeypatch.setenv("TZ", "Europe/Paris")  # a zone with an offset and summer time
        time_module.tzset()
        converted.clear()
        paris = [reading(value) for value in values]
        assert len(converted) == len(values)  # left to botocore
        assert [moment.utcoffset() for moment, *_ in paris][2] == timedelta(hours=1)
        assert [moment for moment, *_ in paris] == [moment for moment, *_ in read]  # instants
    finally:
        monkeypatch.undo()
        time_module.tzset()


def test_step_functions_invokes_lambda_in_process_with_lambdas_answer(runtime_factory, monkeypatch):
    """Step Functions' Lambda invocations go to moto's Lambda in-process (no HTTP round trip)
    and are answered as over HTTP: the success's headers and CRC32, and an error as Lambda's
    HTTP error, which Step Functions names Lambda.<code> with the status in its cause."""
    import zlib

    from moto.core.botocore_stubber import BotocoreStubber

    routed: list[str] = []  # every request botocore hands moto
    stubbed = BotocoreStubber.__call__
    monkeypatch.setattr(
        BotocoreStubber,
        "__call__",
        lambda self, event_name, request, **kw: (
            routed.append(request.url) or stubbed(self, event_name, request, **kw)
        ),
    )
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in "abc"})
    runtime.inject_lambda_fault("b", "TooManyRequestsException", times=1)
    workflow = compiled({"id": "direct", "name": "Direct", "agents": ["a", "b", "c"]}, REGISTRY)
    record = runtime.execute(workflow)
    assert record["status"] == "completed", record.get("error")
    assert calls.agents() == ["a", "b", "c"]
    assert routed and not [url for url in routed if url.endswith("/invocations")]
    history = runtime.history(record["currentRun"])
    failed = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["Lambda.TooManyRequestsException"]
    assert "Status Code: 429; Error Code: TooManyRequestsException" in failed[0]["cause"]
    answers = [
        json.loads(e["taskSucceededEventDetails"]["output"])
        for e in history
        if e["type"] == "TaskSucceeded"
    ]
    assert len(answers) == 3
    for answer in answers:
        headers = answer["SdkHttpMetadata"]["HttpHeaders"]
        body = json.dumps(answer["Payload"]).encode()  # as the function's answer was written
        assert headers["x-amzn-requestid"] == answer["SdkResponseMetadata"]["RequestId"]
        assert headers["content-type"] == "application/json" and headers["server"] == "amazon.com"
        assert answer["StatusCode"] == answer["SdkHttpMetadata"]["HttpStatusCode"] == 200
        assert int(headers["x-amz-crc32"]) == zlib.crc32(body)


def test_attribute_values_are_read_as_moto_reads_them_without_the_walk(
    runtime_factory, monkeypatch
):
    """moto read every attribute value of a DynamoDB request member by member through the
    service model; one without binaries is taken as it is, the same value moto's walk gives."""
    import base64

    from botocore.session import get_session
    from moto.core.parse import BaseJSONParser, JSONParser

    from baton.local.seams.attribute_values import parse_structure

    walked: list[str] = []
    moto_structure = BaseJSONParser._parse_structure
    monkeypatch.setattr(  # below the seam, which wraps what it finds
        BaseJSONParser,
        "_parse_structure",
        lambda self, shape, value: walked.append(shape.name) or moto_structure(self, shape, value),
    )
    runtime_factory(REGISTRY)
    client = _table_named("read")
    item = {
        "pk": {"S": "k"},
        "m": {"M": {"n": {"N": "1.5"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
        "sets": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
    }
    walked.clear()
    client.put_item(TableName="read", Item=item)
    assert "AttributeValue" not in walked and "PutItemInput" in walked
    assert client.get_item(TableName="read", Key={"pk": {"S": "k"}})["Item"] == item
    binary = {"B": base64.b64encode(b"\x00\x01").decode()}
    shape = get_session().get_service_model("dynamodb").shape_for("AttributeValue")
    parser = JSONParser(None)  # type: ignore[arg-type]
    read = parse_structure(moto_structure)
    for value in (item["m"], item["sets"], binary, {"L": [binary]}, {"S": "x", "N": None}):
        assert read(parser, shape, value) == moto_structure(parser, shape, value), value


UPDATES = [  # (expression, values): each applied twice, in turn, to an item the first makes
    (
        "SET n = if_not_exists(n, :zero) + :one, tags = list_append(if_not_exists(tags, :none), :t)",
        {":zero": {"N": "0"}, ":one": {"N": "1"}, ":none": {"L": []}, ":t": {"L": [{"S": "x"}]}},
    ),
    (
        "ADD calls :one, amount :two SET lastValue = :two REMOVE gone",
        {":one": {"N": "1"}, ":two": {"N": "2"}},
    ),
    ("SET m = :m", {":m": {"M": {"a": {"N": "1"}}}}),
    ("SET m.a = m.a + :one", {":one": {"N": "1"}}),
    ("SET a = :one, a = :one", {":one": {"N": "1"}}),  # two actions on one path: refused
    ("SET a = :one ADD b :one ADD c :one", {":one": {"N": "1"}}),  # two ADD clauses: refused
    ("SET pk = :one", {":one": {"S": "other"}}),  # the key: refused
    ("SET a = nowhere + :one", {":one": {"N": "1"}}),  # a path the item lacks: refused
]


def _apply_updates(client, key: str) -> list[object]:
    outcomes: list[object] = []
    for expression, values in UPDATES:
        for _ in range(2):
            try:
                attributes = client.update_item(
                    TableName="walks",
                    Key={"pk": {"S": key}},
                    UpdateExpression=expression,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )["Attributes"]
                outcomes.append({k: v for k, v in attributes.items() if k != "pk"})
            except client.exceptions.ClientError as err:
                outcomes.append(err.response["Error"])
    return outcomes


def test_an_update_is_validated_as_moto_validates_it_at_less_cost(runtime_factory, monkeypatch):
    """moto validates an update expression in ten walks of its tree, rebuilding each walk's map
    of processors twice at every node, after deep-copying the tree; each walk builds it once,
    the tree is copied by pickling, and every update (a new item's, errors included) comes out
    as moto's own walk and copy make it."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    runtime_factory(REGISTRY)
    client = _table_named("walks")
    maps: list[object] = []
    walks: list[object] = []
    deep_copied: list[object] = []
    reconstruct = copy._reconstruct  # type: ignore[attr-defined]
    monkeypatch.setattr(
        copy,
        "_reconstruct",
        lambda x, *a, **k: (
            (isinstance(x, Node) and deep_copied.append(x)) or reconstruct(x, *a, **k)
        ),
    )
    for traverser in DepthFirstTraverser.__subclasses__():
        building = traverser._processing_map
        monkeypatch.setattr(
            traverser,
            "_processing_map",
            lambda self, building=building: maps.append(self) or building(self),
        )
    walking = DepthFirstTraverser.traverse
    monkeypatch.setattr(
        DepthFirstTraverser,
        "traverse",
        lambda self, node: walks.append(node) or walking(self, node),
    )
    cheap = _apply_updates(client, "cheap")
    assert len(walks) >= 10 * len(UPDATES)
    assert len(maps) == len(walks)  # one map per walk, not two per node
    assert deep_copied == []  # the tree copied by pickling
    # moto's own walk and copy: the same outcomes, updates and errors alike
    monkeypatch.setattr(
        DepthFirstTraverser, "traverse", lambda self, node: self.traverse_node_recursively(node)
    )
    monkeypatch.setattr(validators, "deepcopy", copy.deepcopy)
    maps.clear()
    assert _apply_updates(client, "moto's") == cheap
    assert len(maps) > 10 * len(walks)
    assert deep_copied
    assert sum(isinstance(o, dict) and "Code" in o for o in cheap) == 8


LONG_UPDATE = "ADD " + ", ".join(f"#c{n} :one" for n in range(30))
REFUSED_UPDATES = [  # each refused: which error, and naming what, is moto's
    "SET a = :one ADD b :one REMOVE c REMOVE d ADD e :one",  # two kinds repeated
    "SET a = :one, a.b = :one",  # overlapping paths
    "ADD #c0 :one, #c1 :one, #c0 :one",  # a name repeated
    "SET a = :one ADD b :one ADD c :one",
]


def _long_and_refused_updates(client) -> list[object]:
    names = {f"#c{n}": f"calls#{n}" for n in range(30)}
    outcomes: list[object] = []
    for expression in [LONG_UPDATE, *REFUSED_UPDATES]:
        used = {k: v for k, v in names.items() if k in expression} or None
        try:
            client.update_item(
                TableName="long",
                Key={"pk": {"S": "k"}},
                UpdateExpression=expression,
                ExpressionAttributeValues={":one": {"N": "1"}},
                **({"ExpressionAttributeNames": used} if used else {}),
            )
            outcomes.append(client.get_item(TableName="long", Key={"pk": {"S": "k"}})["Item"])
        except client.exceptions.ClientError as err:
            outcomes.append(err.response["Error"]["Message"])
    return outcomes


def test_a_long_update_is_checked_once_and_its_errors_are_motos(runtime_factory, monkeypatch):
    """moto checks an update's clause counts and paths at every clause, each time over the
    clause's whole subtree (quadratic: a 20-agent statistics update took 68 ms); they are
    checked once over the whole expression, and an expression that fails is checked as moto
    checks it, so the error (which kind, naming which paths) is moto's. An expression that
    passes is not walked by these checks at all (their walks do nothing else)."""
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

    runtime_factory(REGISTRY)
    client = _table_named("long")
    searched: list[object] = []
    finding = Node.find_clauses
    monkeypatch.setattr(
        Node, "find_clauses", lambda self, types: searched.append(self) or finding(self, types)
    )
    walks: list[str] = []
    for validator in (ActionCountValidator, OverlappingPathsValidator):
        mapping = validator._processing_map
        monkeypatch.setattr(
            validator,
            "_processing_map",
            lambda self, mapping=mapping: walks.append(type(self).__name__) or mapping(self),
        )
    cheap = _long_and_refused_updates(client)
    cheap_searches, cheap_walks = len(searched), list(walks)
    assert len(cheap[0]) == 31 and all(isinstance(o, str) for o in cheap[1:])
    assert "REMOVE" in cheap[1] and "[a], path two: [a, b]" in cheap[2]
    # the long update passed unwalked; each refused one was walked, to raise moto's error
    assert 0 < len(cheap_walks) <= 2 * len(REFUSED_UPDATES), cheap_walks
    for validator, check in (
        (ActionCountValidator, "verify_action_counts"),
        (OverlappingPathsValidator, "check_for_overlapping_paths"),
    ):
        in_place = getattr(validator, check)
        monkeypatch.setattr(validator, check, getattr(in_place, "original", in_place))
        monkeypatch.delattr(validator, "traverse")  # moto's walk, inherited
    client.delete_item(TableName="long", Key={"pk": {"S": "k"}})
    searched.clear()
    walks.clear()
    assert _long_and_refused_updates(client) == cheap
    assert len(searched) > 5 * cheap_searches, (len(searched), cheap_searches)
    assert len(walks) == 2 * (1 + len(REFUSED_UPDATES)) > len(cheap_walks), walks


def test_a_read_sees_an_update_whole_or_not_at_all(runtime_factory):
    """DynamoDB applies an UpdateItem atomically: a read made meanwhile sees the item before it
    or after it. moto updates the stored item attribute by attribute, in place, so a read from
    another thread (the API reading a record while an agent writes) saw half an update, or
    failed sizing an item whose attributes changed under it ('dictionary changed size during
    iteration', seen once in `make run`)."""
    import sys

    runtime_factory(REGISTRY)
    client = _table_named("torn")
    names = [f"a{n}" for n in range(40)]
    key = {"pk": {"S": "k"}}
    expression = "SET " + ", ".join(f"{name} = :n" for name in names)
    client.put_item(TableName="torn", Item={**key, **{name: {"N": "0"} for name in names}})
    seen: list[object] = []
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(1, 60):
                client.update_item(
                    TableName="torn",
                    Key=key,
                    UpdateExpression=expression,
                    ExpressionAttributeValues={":n": {"N": str(n)}},
                )
        finally:
            done.set()

    def read() -> None:
        while not done.is_set():
            try:
                item = client.get_item(TableName="torn", Key=key)["Item"]
                (page,) = client.query(
                    TableName="torn",
                    KeyConditionExpression="pk = :k",
                    ExpressionAttributeValues={":k": key["pk"]},
                )["Items"]
                seen.extend({item[name]["N"] for name in names} for item in (item, page))
            except Exception as err:  # a read that failed: recorded, not lost in the thread
                seen.append(err)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy machine
    try:
        threads = [threading.Thread(target=f) for f in (write, read, read)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert len(seen) > 20
    torn = [s for s in seen if not (isinstance(s, set) and len(s) == 1)]
    assert torn == []


def _environ_seen(request) -> dict:
    """A request's environ, its input stream read back as bytes, and the request it names
    itself by its type (both differ by identity)."""
    environ = dict(request.environ)
    environ["wsgi.input"] = environ["wsgi.input"].getvalue()
    environ["werkzeug.request"] = type(environ.get("werkzeug.request"))
    return environ


def test_a_request_is_built_as_werkzeug_builds_it_at_less_cost(runtime_factory, monkeypatch):
    """Every request of a run (and odd ones: a non-ASCII S3 key, a query, repeated and
    underscored headers, bytes values, no body) becomes the same request object moto builds
    through werkzeug's EnvironBuilder, and a request with a body to a URL already seen builds
    no EnvironBuilder."""
    import boto3
    from moto.core.request import Request
    from werkzeug import test as werkzeug_test

    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in "ab"})
    ours = Request.__dict__["from_primitives"].__func__
    moto_own = getattr(ours, "original", classmethod(ours)).__func__  # the seam left out: ours
    seen: list[tuple] = []

    def recording(cls, method, url, headers, body=None):
        seen.append((method, url, list(headers.items()), body))
        return ours(cls, method, url, headers, body)

    monkeypatch.setattr(Request, "from_primitives", classmethod(recording))
    workflow = compiled({"id": "built", "name": "Built", "agents": ["a", "b"]}, REGISTRY)
    assert runtime.execute(workflow)["status"] == "completed"
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="odd")
    s3.put_object(Bucket="odd", Key="día 1/a+b?.json", Body=b"{}", Metadata={"my_key": "v"})
    assert s3.get_object(Bucket="odd", Key="día 1/a+b?.json")["Metadata"] == {"my_key": "v"}
    assert len(seen) > 20 and any(body for *_, body in seen)
    odd = [
        ("POST", "https://x.amazonaws.com/p/q?a=1&b=%2F", [("X-A", "1"), ("x-a", "2")], b"x"),
        ("PUT", "https://x.amazonaws.com/", [("Content-Type", "a"), ("content-type", "b")], b"y"),
        ("POST", "https://x.amazonaws.com/", [("X-B", b"bytes"), ("Content_Type", "u")], b"z"),
        ("POST", "https://x.amazonaws.com/", [("Content-Length", "99")], b"short"),
        ("GET", "https://x.amazonaws.com/", [("Content-Length", "0")], b""),
    ]
    for method, url, headers, body in [*seen, *odd]:
        built = ours(Request, method, url, _Pairs(headers), body)
        expected = moto_own(Request, method, url, _Pairs(headers), body)
        assert type(built) is type(expected)
        assert list(_environ_seen(built).items()) == list(_environ_seen(expected).items())
        assert list(built.headers.items()) == list(expected.headers.items())
        assert built.get_data() == expected.get_data()

    builders: list[object] = []
    original_init = werkzeug_test.EnvironBuilder.__init__
    monkeypatch.setattr(
        werkzeug_test.EnvironBuilder,
        "__init__",
        lambda self, *a, **k: builders.append(self) or original_init(self, *a, **k),
    )
    for _ in range(3):
        runtime.dynamodb.list_tables()
    assert builders == []


class _Pairs:
    """Headers as botocore's are: items() may repeat a name."""

    def __init__(self, pairs: list[tuple]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple]:
        return list(self.pairs)


def _reads(runtime, s3) -> list[object]:
    """Read requests of several services, answered the same way whenever they are made."""
    answers: list[object] = []
    calls = [
        lambda: runtime.dynamodb.describe_table(TableName="routed")["Table"]["KeySchema"],
        lambda: runtime.dynamodb.get_item(TableName="routed", Key={"pk": {"S": "k"}})["Item"],
        lambda: [m["name"] for m in runtime.sfn.list_state_machines()["stateMachines"]],
        lambda: s3.get_object(Bucket="routed", Key="día 1/a+b?.json")["Body"].read(),
        lambda: s3.list_objects_v2(Bucket="routed")["KeyCount"],
        lambda: runtime.dynamodb.get_item(TableName="missing", Key={"pk": {"S": "k"}}),
    ]
    for call in calls:
        try:
            answers.append(call())
        except runtime.dynamodb.exceptions.ResourceNotFoundException as err:
            answers.append(err.response["Error"])
    return answers


def test_a_url_reaches_the_handler_moto_finds_found_once(runtime_factory, monkeypatch):
    """moto found the handler of every request by matching its URL against every service's
    pattern, then rebuilding the matched backend's URL table; it is found once per URL (the
    latest KEPT_ROUTES kept), and every request is answered as moto answers it: the same
    answers with the seam as without it, a URL moto does not know answered by moto."""
    import boto3
    from botocore.awsrequest import AWSPreparedRequest
    from moto.core.base_backend import BaseBackend
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.config import default_user_config
    from moto.core.exceptions import ServiceNotWhitelisted
    from moto.core.models import botocore_stubber

    from baton.local.seams import request_handling

    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in "ab"})
    workflow = compiled({"id": "routed", "name": "Routed", "agents": ["a", "b"]}, REGISTRY)
    assert runtime.execute(workflow)["status"] == "completed"
    _table_named("routed").put_item(TableName="routed", Item={"pk": {"S": "k"}})
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="routed")
    s3.put_object(Bucket="routed", Key="día 1/a+b?.json", Body=b'{"x": 1}')
    ours = BotocoreStubber.process_request
    routes = ours.routes  # type: ignore[attr-defined]
    assert routes and all(request_handling.route(url) == found for url, found in routes.items())
    tables_built: list[object] = []
    building = BaseBackend.urls.fget
    monkeypatch.setattr(
        BaseBackend, "urls", property(lambda b: tables_built.append(b) or building(b))
    )
    cheap = _reads(runtime, s3)
    assert tables_built == []  # every URL already routed
    monkeypatch.setattr(BotocoreStubber, "process_request", ours.original)  # moto's own
    assert _reads(runtime, s3) == cheap
    assert len(tables_built) >= len(cheap)  # moto rebuilt a URL table at every request
    unknown = AWSPreparedRequest("GET", "https://nothing.us-east-1.amazonaws.com/x", {}, b"", False)
    assert ours(botocore_stubber, unknown) == ours.original(botocore_stubber, unknown)
    monkeypatch.setattr(BotocoreStubber, "process_request", ours)
    # a service moto is told not to serve is refused as moto refuses it, its route known or not
    monkeypatch.setitem(default_user_config["core"], "service_whitelist", ["s3"])
    with pytest.raises(ServiceNotWhitelisted):
        runtime.dynamodb.get_item(TableName="routed", Key={"pk": {"S": "k"}})
    monkeypatch.delitem(default_user_config["core"], "service_whitelist")
    monkeypatch.setattr(request_handling, "KEPT_ROUTES", 4)
    for n in range(10):  # an S3 object's URL names its key
        s3.put_object(Bucket="routed", Key=f"k{n}", Body=b"{}")
    assert len(routes) <= 4
    assert s3.get_object(Bucket="routed", Key="k9")["Body"].read() == b"{}"
