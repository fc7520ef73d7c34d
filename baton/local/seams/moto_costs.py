"""moto's costs that AWS does not have: work it repeats per request, per event or per model
object, which made the offline runtime slow down or grow as it ran."""

from __future__ import annotations

import copy
import functools
import inspect
import re
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.auth as botocore_auth
import botocore.compat as botocore_compat
import botocore.utils as botocore_utils
import jsonpath_ng.ext as jsonpath_ext
import moto.core.responses as moto_responses
import moto.sqs.models as sqs_models
from botocore.auth import SigV4Auth
from moto.core.common_models import BaseModel
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer, TimestampSerializer
from moto.core.utils import unix_time, unix_time_millis
from moto.moto_api._internal.moto_random import MotoRandom
from moto.sqs.models import Queue, SQSBackend
from moto.stepfunctions.parser.asl.component.common.path import result_path as moto_result_path
from moto.stepfunctions.parser.asl.component.state.exec import execute_state as moto_execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service as moto_task_service,
)
from moto.stepfunctions.parser.asl.eval import environment as moto_environment
from moto.stepfunctions.parser.asl.eval import states as moto_states
from moto.stepfunctions.parser.asl.eval.event import event_manager as moto_event_manager

from baton.local.kept_threads import KeptThread, KeptThreads
from baton.local.seams.adaptation import Adaptation, to
from baton.local.seams.attribute_values import parse_structure, serialize_structure

SCALE = "tests/functional/test_offline_scale.py"
SEAMS = "tests/functional/test_seams.py"


def _parsed_once(original: Callable[[str], Any]) -> Callable[[str], Any]:
    """jsonpath_ng's parse, once per expression: moto's EventBridge parses the eight default
    input paths of every event it delivers to a target, and its Step Functions interpreter a
    state's result path ("$" by default) every time a Task state ends, each parse building a
    new parser (a yacc table), 0.6-1 ms apiece; a parsed path is only read afterwards (`find`,
    `update_or_create`, which returns the updated data)."""
    return functools.lru_cache(maxsize=256)(original)


def _converted_once(original: Callable[[str], str]) -> Callable[[str], str]:
    """moto's camelCase-to-snake_case conversion of a name, once per name: moto converts the
    action's name at every request, and every attribute name of a queue at every message
    EventBridge delivers to it (fifteen conversions a delivery); a pure function of its text."""
    return functools.lru_cache(maxsize=1024)(original)


def _listed_once(original: Callable[[type], Any]) -> Callable[[type], Any]:
    """The functions of a moto response class, once per class: moto lists them with
    `inspect.getmembers` at every request it answers, only to test that the requested action
    is one of them."""

    @functools.lru_cache(maxsize=512)
    def method_names(cls: type) -> frozenset[str]:
        return frozenset(name for name, _ in inspect.getmembers(cls, inspect.isfunction))

    return method_names


def _within_retention(backend: Any, queue_name: str, message: Any) -> bool:
    """moto's retention check of a received message, reading the one attribute it needs: moto
    rebuilt every attribute of the queue (counting its messages) for each message it received,
    so draining a queue cost the square of its length."""
    period = backend.get_queue(queue_name).message_retention_period
    return bool(int(period) + message.sent_timestamp / 1000 > unix_time())


def _visible(queue: Any) -> list[Any]:
    """Queue.messages (visible, not delayed) as of one reading of the clock."""
    now = unix_time_millis()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def _delayed(queue: Any) -> int:
    """Queue.approximate_number_of_messages_delayed as of one reading of the clock."""
    now = unix_time_millis()
    return sum(1 for m in queue._messages if now < m.delayed_until)


def _not_visible(queue: Any) -> int:
    """Queue.approximate_number_of_messages_not_visible as of one reading of the clock."""
    now = unix_time_millis()
    return sum(1 for m in queue._messages if not now > m.visible_at)


QUEUE_COUNTS = (
    ("messages", _visible),
    ("approximate_number_of_messages_delayed", _delayed),
    ("approximate_number_of_messages_not_visible", _not_visible),
)
"""moto's counts of a queue's messages, each as of one reading of the clock: moto read it twice
for every message of every count (a message's `visible` and `delayed`, a few µs each), and every
message sent to a queue counts them all (SendMessage reads the queue's attributes for one of
them), so publishing to a queue that holds n messages cost O(n) readings: an event delivered
to a queue of 1,000 took 45 ms."""


def _untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    """BaseModel.__new__ without moto's instance tracking: moto appends every model object it
    ever creates (each DynamoDB item written, each table backup of a transaction, each S3
    object, each queue message) to a class-wide list that only its server dashboard reads, so
    memory grew with every step of every execution and was never given back."""
    return object.__new__(cls)


UNCHECKED_SIGNATURE = "0" * 64


def _scope_without_signature(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """botocore's SigV4 signing of a request to the offline AWS: the headers moto reads (the
    Authorization header's access key and region, the date, the session token) without the
    signature, which moto never checks; hashing the body and four HMACs were a tenth of every
    request's cost. Signers of other kinds (S3's, presigned URLs) sign as before."""

    def add_auth(signer: Any, request: Any) -> None:
        if type(signer) is not SigV4Auth or signer.credentials is None:
            original(signer, request)
            return
        request.context["timestamp"] = botocore_auth.get_current_datetime().strftime(
            botocore_auth.SIGV4_TIMESTAMP
        )
        signer._modify_request_before_signing(request)
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
            f"SignedHeaders=host;x-amz-date, Signature={UNCHECKED_SIGNATURE}"
        )

    return add_auth


JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any, memo: Any = None) -> Any:
    """A copy of JSON data (dicts, lists, scalars), anything else deep-copied. A container's
    scalars are taken as they are without a call each (most of a state's data is scalars)."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in JSON_SCALARS else copy_json(item)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in JSON_SCALARS else copy_json(item) for item in value]
    if kind in JSON_SCALARS:
        return value
    return copy.deepcopy(value, memo)


class JsonCopies:
    """The `copy` of moto's Step Functions interpreter where what it copies is JSON: a state's
    input, result and error output (six reads a Task state), its parameters, the stack its task
    runs with, the context object's state, each history event's details and the history it
    answers with; copied as such instead of through deepcopy's general machinery (memo, reduce
    protocol), 2.6 times slower. Anything else (a program state) is deep-copied as before."""

    deepcopy = staticmethod(copy_json)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


ISO_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)?")


def _iso_read_directly(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's timestamp serializer, an ISO-8601 date-time text read by `fromisoformat`: moto
    keeps Step Functions' history timestamps as text and read each back through dateutil's
    general parser (0.1 ms apiece, eleven per step). Other texts are read as before."""

    def convert(serializer: Any, value: Any, timestamp_format: str) -> Any:
        if isinstance(value, str) and ISO_DATE_TIME.fullmatch(value):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return original(serializer, value, timestamp_format)

    return convert


def _local_time_is_utc() -> bool:
    """Whether the local time zone (what dateutil's `tzlocal` reads) is UTC all year."""
    return time.timezone == 0 and (time.altzone == 0 or not time.daylight)


def _epochs_read_in_utc(original: Callable[[Any, Any], datetime]) -> Callable[[Any, Any], datetime]:
    """botocore's reading of a response's epoch timestamp (a JSON protocol's: every history
    event's, a run's start and stop), `datetime.fromtimestamp(value, tzlocal())`, where the
    local time zone is UTC (as in Lambda): the same datetime (the same wall time and fold,
    a `tzlocal` zone), made without dateutil's conversion from UTC, which asks the C library
    for the local time twice (20 µs a timestamp, a hundred a 20-step run). Anywhere else, or
    for any other value or zone, or a value `fromtimestamp` refuses, botocore reads it."""

    def parse(value: Any, tzinfo: Any) -> datetime:
        local = botocore_compat.tzlocal  # the zone botocore reads with (dateutil's)
        if tzinfo is local and type(value) in (int, float) and _local_time_is_utc():
            try:
                return datetime.fromtimestamp(value, UTC).replace(tzinfo=local())
            except (OverflowError, OSError, ValueError):
                pass  # botocore's own reading raises, or falls back, as it does
        return original(value, tzinfo)

    parse.original = original  # type: ignore[attr-defined]
    return parse


REQUEST_ID_TAG = "<RequestId>"


def _request_id_placed_in_xml(original: Any) -> Any:
    """moto's `_enrich_response`, which writes the request's id into an XML answer's
    <RequestId> by a regular expression with a look-behind, tried at every character of every
    answer (a 100 KB history: 1 ms): an answer without the tag (JSON, most of them) is left as
    it is without the search, which could only have found nothing."""

    def enrich(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, str) and REQUEST_ID_TAG not in body:
            # the headers as moto sets them (status, request id); no body to search: moto's
            # search of None fails, and moto ignores a failed search
            headers, _ = original(headers, None)
            return headers, body
        return original(headers, body)  # type: ignore[no-any-return]

    return staticmethod(enrich)


def _drawn_at_once(
    self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
) -> str:
    """MotoRandom.get_random_string: its characters drawn in one call of moto's generator
    (`choices`), not one call each (a request id, 52 characters, took 30 µs): the same
    characters, as likely each, still from the generator moto's seed sets."""
    pool = string.ascii_letters + (string.digits if include_digits else "")
    drawn = "".join(self.choices(pool, k=length))
    return drawn.lower() if lower_case else drawn


def adaptations(task_threads: KeptThreads) -> list[Adaptation]:
    return [
        Adaptation(
            "random-strings-drawn-at-once",
            "(cost) moto's random strings (a request id per request) are drawn in one call of"
            " its generator, not one call per character",
            f"{SCALE}::test_moto_draws_a_random_string_in_one_call",
            ((MotoRandom, "get_random_string", to(_drawn_at_once)),),
        ),
        Adaptation(
            "task-threads-kept",
            "(cost) the thread moto starts for each Task state (to time it out) is a kept one,"
            " reused once its task has returned, not a new one per Task",
            f"{SCALE}::test_a_task_runs_in_a_kept_thread_not_a_new_one",
            ((moto_execute_state, "Thread", to(functools.partial(KeptThread, task_threads))),),
        ),
        Adaptation(
            "models-untracked",
            "(memory) model objects are not kept in moto's dashboard list",
            f"{SCALE}::test_an_ended_execution_leaves_nothing_behind",
            ((BaseModel, "__new__", to(staticmethod(_untracked))),),
        ),
        Adaptation(
            "jsonpaths-parsed-once",
            "(cost) EventBridge parses each input path once, not per delivered event",
            f"{SCALE}::test_eventbridge_parses_each_input_path_once_not_per_event",
            ((jsonpath_ext, "parse", _parsed_once),),
        ),
        Adaptation(
            "result-paths-parsed-once",
            "(cost) a state's result path is parsed once, not at every state it ends",
            f"{SCALE}::test_a_result_path_is_parsed_once_not_at_every_state",
            ((moto_result_path, "parse", _parsed_once),),
        ),
        Adaptation(
            "retention-checked-cheaply",
            "(cost) receiving a message checks the queue's retention period alone",
            f"{SCALE}::test_receiving_messages_checks_retention_without_rebuilding_the_queue",
            ((SQSBackend, "is_message_valid_based_on_retention_period", to(_within_retention)),),
        ),
        Adaptation(
            "queues-counted-at-one-moment",
            "(cost) a queue's messages are counted as of one reading of the clock, not two"
            " readings per message, at every message sent to it",
            f"{SCALE}::test_a_queue_counts_its_messages_at_one_moment_not_per_message",
            tuple((Queue, name, to(property(count))) for name, count in QUEUE_COUNTS),
        ),
        Adaptation(
            "names-converted-once",
            "(cost) a camelCase name is converted once, not at every request or delivery",
            f"{SCALE}::test_a_name_is_converted_once_not_at_every_request",
            (
                (moto_responses, "camelcase_to_underscores", _converted_once),
                (sqs_models, "camelcase_to_underscores", _converted_once),
            ),
        ),
        Adaptation(
            "actions-listed-once",
            "(cost) a response class's functions are listed once, not at every request",
            f"{SCALE}::test_a_response_class_is_inspected_once_not_at_every_request",
            ((moto_responses, "method_names_from_class", _listed_once),),
        ),
        Adaptation(
            "attribute-values-as-json",
            "(cost) DynamoDB attribute values are written as the JSON they are, not walked"
            " member by member through the service model",
            f"{SEAMS}::test_attribute_values_are_written_without_walking_the_service_model",
            ((BaseJSONSerializer, "_serialize_type_structure", serialize_structure),),
        ),
        Adaptation(
            "attribute-values-read-as-json",
            "(cost) DynamoDB attribute values in a request are read as the JSON they are, not"
            " walked member by member through the service model",
            f"{SEAMS}::test_attribute_values_are_read_as_moto_reads_them_without_the_walk",
            ((BaseJSONParser, "_parse_structure", parse_structure),),
        ),
        Adaptation(
            "requests-unsigned",
            "(cost) a request to the offline AWS carries its credential scope but no"
            " signature: moto reads the key and region, and never checks a signature",
            f"{SEAMS}::test_offline_requests_carry_their_scope_without_a_signature",
            ((SigV4Auth, "add_auth", _scope_without_signature),),
        ),
        Adaptation(
            "state-data-copied-as-json",
            "(cost) Step Functions state data (a state's input, result, parameters, its task's"
            " stack, the context's state) and history events are copied as the JSON they are,"
            " not by deepcopy",
            f"{SEAMS}::test_state_data_is_copied_as_json_and_each_copy_is_its_own",
            tuple(
                (module, "copy", to(JsonCopies()))
                for module in (
                    moto_states,
                    moto_result_path,
                    moto_execute_state,
                    moto_task_service,
                    moto_environment,
                    moto_event_manager,
                )
            ),
        ),
        Adaptation(
            "iso-timestamps-read-directly",
            "(cost) an ISO-8601 timestamp moto keeps as text is read directly, not by"
            " dateutil's general parser",
            f"{SEAMS}::test_history_timestamps_are_read_without_dateutils_parser",
            ((TimestampSerializer, "_convert_timestamp_to_str", _iso_read_directly),),
        ),
        Adaptation(
            "epochs-read-in-utc",
            "(cost) an epoch timestamp in a response is read as the same datetime without"
            " dateutil's conversion, where the local time zone is UTC",
            f"{SEAMS}::test_epoch_timestamps_read_as_botocore_reads_them_without_its_conversion",
            ((botocore_utils, "_parse_timestamp_with_tzinfo", _epochs_read_in_utc),),
        ),
        Adaptation(
            "request-ids-placed-in-xml-only",
            "(cost) an answer's request id is written into its XML, and an answer without a"
            " <RequestId> tag (JSON) is not searched for one",
            f"{SCALE}::test_an_answer_is_searched_for_its_request_id_tag_only_when_it_has_one",
            ((moto_responses.BaseResponse, "_enrich_response", _request_id_placed_in_xml),),
        ),
    ]
