"""The seams that let moto run Baton's state machines offline (see DESIGN.md, toolchain).

- JSONata: moto leaves its evaluator unset; we plug in jsonata-python. moto also writes every
  variable's value into the text of every expression it evaluates (`($data:={...};expr)`), so
  each evaluation would parse the whole workflow data again; the seam keeps the values aside
  and evaluates the expression, parsed once, with them as bindings.
- Lambda: `LambdaSimpleBackend.invoke` is replaced by a dispatcher calling the agent in-process.
- Waits: the retrier module's `time` and the Wait state's wait are replaced, so backoff waits
  (between retries, before an auto-recovery resumes) are recorded and, unless real waits are
  asked for, skipped. The global `time.sleep` is never touched. Throttling waits
  are always real: a throttled retry that did not wait would only be throttled again.
- Pools: an agent's `pool.max` caps its concurrent invocations; the excess one gets
  `TooManyRequestsException` (HTTP 429), which Step Functions sees as
  `Lambda.TooManyRequestsException`, as in AWS.
- Lambda client: moto builds a new boto3 client for every Lambda invocation (~4 ms of CPU each,
  which serializes parallel branches on the GIL); one client per region is reused instead.
- Ends: moto marks an execution ended from its worker thread; the seam also wakes whoever waits
  for that execution (ENDS), so waiting for the end costs no polling.
- Arithmetic: jsonata-python's `/` and `%` are made to compute as JavaScript's (division by zero,
  fractional remainders), so a condition takes the branch it takes in AWS.
- DynamoDB: moto's writes are serialized (a transaction backs its tables up to roll back,
  which concurrent writes from agents' threads would break), and that backup copies the item
  maps rather than every item (_TransactionCopies), so a step's write does not cost more as the
  table grows.
- Memory: moto keeps every model object it creates in a class-wide list for its dashboard;
  objects are not tracked offline, so what an execution replaces or ends is released.
- Stops: a StopExecution that comes before the run's first state aborts the run, as in AWS
  (moto let it go on).
- Executions: found by ARN once, not by scanning every execution ever started (_ExecutionIndex).
- EventBridge: a JSONPath is parsed once, not once per delivered event (_jsonpath).
- JSONata results: a string result is taken as it is; moto evaluated the expression again inside
  `$type(...)`, the workflow data pasted into its text (_string_output_is_valid).
- Requests: a response class's functions are listed once, not at every request it answers
  (_method_names).
- DynamoDB conditions: an expression's text is lexed once (_lexed_once), not at every parse.
- SQS: receiving a message checks its retention by the queue's retention period alone, not by
  rebuilding all the queue's attributes per message (_within_retention).
- Responses: DynamoDB attribute values are written as the JSON they are, not walked member by
  member through the service model (baton.local.attribute_values).
- Timeouts: moto's DescribeExecution leaves out a TIMED_OUT run's stopDate (it keeps it); the
  seam adds it, as AWS reports it.
- Express: an Express run gets an Express ARN, and the calls AWS refuses for it are refused
  (baton.local.express_runs); the harness reads them inside `express_runs.inspecting()`.
- Parsing: moto parses a definition with ANTLR when the state machine is created and again at
  every execution start (~0.1 s for 10 steps); the program is built once per definition text.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import jsonata
import jsonpath_ng.ext as jsonpath_ext
import moto.core.responses as moto_responses
import moto.dynamodb.models as dynamodb_models
import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier_module
import moto.stepfunctions.parser.asl.component.common.string.string_expression as string_module
import moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker as map_iterations
import moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl as branches
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_utils
import moto.stepfunctions.parser.asl.component.state.fail.state_fail as fail_state
import moto.stepfunctions.parser.asl.eval.states as states_module
import moto.stepfunctions.parser.asl.eval.variable_store as variable_store_module
import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata
import moto.stepfunctions.parser.asl.jsonata.validations as jsonata_validations
import moto.stepfunctions.parser.asl.parse.preprocessor as preprocessor_module
from jsonata import utils as jsonata_utils
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.common_models import BaseModel
from moto.core.serialize import BaseJSONSerializer
from moto.core.utils import unix_time
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table as MotoTable
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import SQSBackend
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import is_terminal
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning, ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution import (
    BaseExecutionWorkerCommunication,
    Execution,
)
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from baton.local import aws_jsonata
from baton.local.attribute_values import serialize_structure
from baton.local.context_object import aws_states
from baton.local.error_names import (
    decorated_once,
    fields_named,
    nothing_returned,
    query_evaluation_errors,
    reported_error_name,
    states_all_as_aws,
)
from baton.local.express_runs import (
    express_arns,
    express_arns_valid,
    listing_refused_for_express,
    refused_for_express,
)
from baton.local.fake_lambda import Dispatcher, integration_result, request_id_kept


@dataclass(frozen=True)
class Wait:
    """A wait Step Functions applied: a backoff before retrying a state, or a Wait state (an
    auto-recovery's backoff before it resumes)."""

    execution_arn: str
    state: str
    seconds: float


THROTTLING_ERROR = "Lambda.TooManyRequestsException"


class _Waits:
    """Stand-in for the retrier module's `time`: records each wait, sleeps only if asked to."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.real = False
        self.listener: Callable[[Wait], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.record(getattr(self.local, "env", None), seconds)
        if self.real or getattr(self.local, "throttled", False):
            time.sleep(seconds)

    def record(self, env: Any, seconds: float) -> None:
        if self.listener:
            self.listener(Wait(*_where(env), seconds=seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _where(env: Any) -> tuple[str, str]:
    """The execution and the step a wait belongs to: the state, or for a Task that group
    members share, the member's step (its item's payload names it)."""
    try:
        data = env.states.context_object.context_object_data
        state = data["State"]["Name"]
        item = env.states.get_input()
        if isinstance(item, dict) and isinstance(item.get("payload"), dict) and "function" in item:
            state = str(item["payload"].get("step", state))
        return data["Execution"]["Id"], state
    except (AttributeError, KeyError, TypeError):
        return "", ""


class _Declarations(str):
    """Variable declarations as moto writes them, with the values they declare kept aside."""

    bindings: dict[str, Any]


class _Composed(str):
    """A composed expression that can be evaluated as `expression` with `bindings`."""

    expression: str
    bindings: dict[str, Any]
    undefined: bool | None = None
    """Whether its evaluation returned nothing (None until it is evaluated)."""


def _declarations(text: str, bindings: dict[str, Any]) -> _Declarations:
    declared = _Declarations(text)
    declared.bindings = bindings
    return declared


def _encode(bindings: dict[str, Any]) -> str:
    """moto's declaration text, plus the values (through JSON, as the text would give them)."""
    values = {
        name.lstrip("$"): json.loads(json.dumps(value, default=str))
        for name, value in bindings.items()
    }
    return _declarations(_MOTO_ENCODE(bindings), values)


def _variable_declarations(store: Any) -> str:
    """VariableStore.get_variable_declarations, merging the kept values of both scopes."""
    if store._variable_declarations_cache is not None:
        cached: str = store._variable_declarations_cache
        return cached
    if store._outer_variable_declaration_cache is None:
        store._outer_variable_declaration_cache = store._to_variable_declarations(
            store._outer_scope
        )
    outer = store._outer_variable_declaration_cache
    inner = store._to_variable_declarations(store._inner_scope)
    merged = {**getattr(outer, "bindings", {}), **getattr(inner, "bindings", {})}
    declarations = _declarations(outer + inner, merged)
    store._variable_declarations_cache = declarations
    return declarations


def _compose(final_jsonata_expression: str, variable_declarations_list: list[str]) -> str:
    text = _MOTO_COMPOSE(final_jsonata_expression, variable_declarations_list)
    bindings: dict[str, Any] = {}
    for part in variable_declarations_list:
        if isinstance(part, _Declarations):
            bindings.update(part.bindings)
        elif part:  # something we cannot take apart (intrinsic function definitions): text it is
            return text
    composed = _Composed(text)
    composed.expression, composed.bindings = final_jsonata_expression, bindings
    return composed


@functools.lru_cache(maxsize=4096)
def _parsed(expression: str) -> Any:
    program = jsonata.Jsonata(expression)
    program.set_output_convert_nulls(False)  # null stays told apart from nothing (undefined)
    return program


AWS_FUNCTIONS = aws_jsonata.bindings()


def _raw(expression: str, bindings: dict[str, Any] | None = None) -> Any:
    """The result as JSONata gives it: None for nothing (undefined), NULL_VALUE for null."""
    return _parsed(expression).evaluate(None, {**AWS_FUNCTIONS, **(bindings or {})})


def evaluate(expression: str, bindings: dict[str, Any] | None = None) -> Any:
    """Evaluate a JSONata expression as the offline runtime does (variables as bindings, with
    AWS's own functions and without the ones AWS lacks: baton.local.aws_jsonata)."""
    return jsonata_utils.Utils.convert_nulls(_raw(expression, bindings))


def _evaluate_jsonata(expression: str) -> Any:
    """moto's evaluator. An expression composed with its variables is evaluated once, with them
    as bindings, and remembers whether it returned nothing (for _nothing_is_refused)."""
    if isinstance(expression, _Composed):
        raw = _raw(expression.expression, expression.bindings)
        expression.undefined = raw is None
        return jsonata_utils.Utils.convert_nulls(raw)
    return evaluate(expression)


def _lambda_integration(
    env: Any, parameters: dict[str, Any], region: str, state_credentials: Any
) -> None:
    """moto's `execute_lambda_function_integration`, its result as AWS gives it
    (fake_lambda.integration_result): moto's select_from_typed_dict kept only some fields."""
    if env.is_mocked_mode():
        _MOTO_LAMBDA_INTEGRATION(env, parameters, region, state_credentials)
        return
    response = lambda_utils._invoke_lambda_function(
        parameters=parameters, region=region, state_credentials=state_credentials
    )
    if response.get("FunctionError"):
        payload = json.dumps(response["Payload"], separators=(",", ":"))
        raise LambdaFunctionErrorException(response["FunctionError"], payload)
    env.stack.append(integration_result(response))


_MOTO_LAMBDA_INTEGRATION = lambda_utils.execute_lambda_function_integration


def _json_string(parser_rule_context: Any) -> str | None:
    """A string of the definition as JSON reads it (AWS parses the definition as JSON first):
    `\\"`, `\\\\`, `\\n`, `\\/`, `\\u0024`... decoded. moto kept the escapes of most strings
    (an Assign literal `a \\"b\\"` stayed so) and decoded the others by Python's rules."""
    if is_terminal(parser_rule_context, ASLLexer.NULL):
        return None
    text = str(parser_rule_context.getText())
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            return str(json.loads(text))
        except ValueError:
            return text[1:-1]
    return text


_MOTO_NULL_CHECK = jsonata_validations._validate_null_output


def _nothing_is_refused(env: Any, expression: str, rich_expression: str) -> None:
    """A field's expression that returned nothing fails the state (States.QueryEvaluationError),
    as in AWS; JSON null is a value. moto told them apart by evaluating `$exists(...)` around
    the expression again, its variables pasted unescaped into the text, which broke on a string
    variable holding `"`. The first evaluation's answer is used instead, and the cause names the
    field as AWS's does."""
    undefined = getattr(rich_expression, "undefined", None)
    if undefined is None:  # not composed by this runtime: moto's own check
        _MOTO_NULL_CHECK(env, expression, rich_expression)
    elif undefined:
        raise nothing_returned(env, expression)


def _no_function_declarations(variable_references: Any) -> str:
    """moto declares AWS's JSONata functions as text before each expression that names one (and
    a `$randomSeeded` AWS lacks); they are bindings instead (AWS_FUNCTIONS), which also keeps
    the expression evaluable with its variables as bindings."""
    return ""


_PYTHON_NUMERIC = jsonata.Jsonata.evaluate_numeric_expression


def _js_numeric(self: Any, lhs: Any, rhs: Any, op: str | None) -> Any:
    """`/` and `%` as the reference JSONata (JavaScript) computes them, as AWS does.

    jsonata-python raises ZeroDivisionError on `x / 0` (JavaScript: ±Infinity, or NaN for
    0 / 0, which comparisons then handle) and truncates `%` to an integer (`5.5 % 2` is 1.5).
    """
    if op not in ("/", "%") or lhs is None or rhs is None:
        return _PYTHON_NUMERIC(self, lhs, rhs, op)
    _PYTHON_NUMERIC(self, lhs, rhs, "+")  # the same type checks (T2001, T2002, D1001)
    left, right = float(lhs), float(rhs)
    if op == "%":
        result = math.fmod(left, right) if right else math.nan
    elif right:
        result = left / right
    elif left == 0 or math.isnan(left):
        result = math.nan
    else:
        result = math.copysign(math.inf, left) * math.copysign(1.0, right)
    return jsonata_utils.Utils.convert_number(result) if math.isfinite(result) else result


@functools.lru_cache(maxsize=64)
def _parse(definition: str) -> tuple[Any, Any]:
    """The program and parse tree of a definition, built once per definition text.

    Sharing a program between executions is safe: moto already runs one program in many Map
    iterations at once; all execution state lives in each execution's Environment.
    """
    return _MOTO_PARSE(definition)


class _Clients:
    """One boto3 client per (region, service), created on first use inside the mock."""

    def __init__(self, create: Callable[..., Any]) -> None:
        self.create = create
        self.clients: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()

    def __call__(self, region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with self.lock:
            if key not in self.clients:
                self.clients[key] = self.create(region=region, service=service)
            return self.clients[key]


_DYNAMODB_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
)
_DYNAMODB_WRITING = threading.RLock()


class _TransactionCopies:
    """moto's DynamoDB module's `copy`, with one change: the backup moto takes of every table a
    transaction touches (to roll back on failure) copies the map of partitions and the item map
    of each partition the transaction writes, not every item, when no operation of the
    transaction changes an item in place (Update). A deep copy of the whole table per
    transaction made every step's write cost grow with the table."""

    local = threading.local()

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(self.local, "cheap", False) and isinstance(value, MotoTable):
            snapshot = copy.copy(value)
            items = value.items
            snapshot.items = defaultdict(dict, items)  # partitions no write touches: shared
            if value.range_key_attr:
                for key in self.local.touched.get(value.name, ()):
                    if key in items:
                        snapshot.items[key] = dict(items[key])
            return snapshot
        return copy.deepcopy(value, memo)

    def touched(self, transact_items: list[dict[str, Any]]) -> dict[str, set[Any]]:
        """The partitions each table's writes go to (hash key values, as moto keys them)."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        touched: dict[str, set[Any]] = defaultdict(set)
        for operation in transact_items:
            for request in operation.values():
                attributes = request.get("Item") or request.get("Key") or {}
                for value in attributes.values():  # the hash key is among the scalars
                    if isinstance(value, dict) and value.keys() & {"S", "N", "B"}:
                        touched[request.get("TableName", "")].add(DynamoType(value))
        return touched

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


TRANSACTION_COPIES = _TransactionCopies()


class _PartitionQueries:
    """A Query on a table's own key reads that partition only, as DynamoDB does. moto sorts
    every item of the table for each Query, so reading one execution's handoffs cost more with
    every execution the table held (the offline runtime slowed down as it ran)."""

    local = threading.local()

    def __init__(self) -> None:
        self.query = MotoTable.query
        self.all_items = MotoTable.all_items

    def wrap_query(self) -> Any:
        original, local = self.query, self.local

        index_at = list(inspect.signature(original).parameters).index("index_name") - 2

        @functools.wraps(original)
        def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            index = args[index_at] if len(args) > index_at else kwargs.get("index_name")
            by_key = index is None and hash_key is not None
            local.partition = (table, hash_key) if by_key and table.range_key_attr else None
            try:
                return original(table, hash_key, *args, **kwargs)
            finally:
                local.partition = None

        return query

    def wrap_all_items(self) -> Any:
        original, local = self.all_items, self.local

        @functools.wraps(original)
        def all_items(table: Any) -> Any:
            partition = getattr(local, "partition", None)
            if partition is None or partition[0] is not table:
                return original(table)
            items = table.items.get(partition[1], {})
            return sorted(items.values(), key=lambda item: item.range_key)

        return all_items


PARTITION_QUERIES = _PartitionQueries()


def _transact(original: Any) -> Any:
    @functools.wraps(original)
    def transact(self: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        in_place = any("Update" in item for item in transact_items)
        TRANSACTION_COPIES.local.cheap = not in_place
        TRANSACTION_COPIES.local.touched = TRANSACTION_COPIES.touched(transact_items)
        try:
            return original(self, transact_items, *args, **kwargs)
        finally:
            TRANSACTION_COPIES.local.cheap = False
            TRANSACTION_COPIES.local.touched = {}

    return transact


def _serialized(name: str) -> Any:
    """moto's DynamoDB writes, one at a time: a transaction deep-copies its tables (to roll
    back) while agents write from other threads ('dictionary changed size during iteration');
    DynamoDB itself serializes conflicting writes."""
    original = getattr(DynamoDBBackend, name)
    if name == "transact_write_items":
        original = _transact(original)

    @functools.wraps(original)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_WRITING:
            return original(self, *args, **kwargs)

    return write


def _update_read_with_its_write(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's UpdateItem handler deep-copies the item (for ReturnValues) before it writes, outside
    the backend's write: a write of the same item from another thread changed it mid-copy
    ('dictionary changed size during iteration'). The read and the write go together, as one
    DynamoDB UpdateItem is atomic."""

    @functools.wraps(original)
    def update_item(self: Any) -> Any:
        with _DYNAMODB_WRITING:
            return original(self)

    return update_item


_JSONPATH_PARSE = jsonpath_ext.parse  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=256)
def _jsonpath(expression: str) -> Any:
    """jsonpath_ng's parse, once per expression: moto's EventBridge parses the eight default
    input paths of every event it delivers to a target, each parse building a new parser
    (a yacc table), 1 ms apiece; a parsed path is only read (`find`) afterwards."""
    return _JSONPATH_PARSE(expression)


def _lexed_once(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """moto's DynamoDB condition lexer, once per expression text: moto lexes a condition with a
    dozen regular expressions per token each time it parses it, several times per write (a
    step's fenced transaction has two conditions). The tokens depend on the text alone; each
    parse gets fresh ones (the parser builds its tree from them)."""
    lexed: dict[str, tuple[Any, ...]] = {}

    def lex(parser: Any) -> Any:
        text = parser.condition_expression
        tokens = lexed.get(text)
        if tokens is None:
            tokens = tuple(original(parser))
            if len(lexed) < 1024:
                lexed[text] = tokens
        return deque(token._replace(children=list(token.children)) for token in tokens)

    return lex


@functools.lru_cache(maxsize=512)
def _method_names(cls: type) -> frozenset[str]:
    """The functions of a moto response class, once per class: moto lists them with
    `inspect.getmembers` at every request it answers, only to test that the requested action
    is one of them."""
    return frozenset(name for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction))


def _string_output_is_valid(env: Any, expression: str, rich_expression: str) -> None:
    """A JSONata result that is a string is of a supported type, as AWS takes it. moto checked
    by evaluating `$type(...)` around the expression again, its variables pasted into the text
    (the whole workflow data parsed anew, for every string an expression returned)."""


def _within_retention(backend: Any, queue_name: str, message: Any) -> bool:
    """moto's retention check of a received message, reading the one attribute it needs: moto
    rebuilt every attribute of the queue (counting its messages) for each message it received,
    so draining a queue cost the square of its length."""
    period = backend.get_queue(queue_name).message_retention_period
    return bool(int(period) + message.sent_timestamp / 1000 > unix_time())


def _untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    """BaseModel.__new__ without moto's instance tracking: moto appends every model object it
    ever creates (each DynamoDB item written, each table backup of a transaction, each S3
    object, each queue message) to a class-wide list that only its server dashboard reads, so
    memory grew with every step of every execution and was never given back."""
    return object.__new__(cls)


def _stop_before_start(original: Callable[..., None]) -> Callable[..., None]:
    """Environment.set_stop, also for a run whose program has not started yet: moto ignored a
    StopExecution that came between the run's start and its first state (the run went on,
    and its agents' writes were refused as the record was cancelled), where AWS aborts it."""

    def set_stop(env: Any, stop_date: Any, cause: str | None, error: str | None) -> None:
        with env._state_mutex:
            if env._program_state is None:
                env._program_state = ProgramRunning()  # type: ignore[no-untyped-call]
        original(env, stop_date, cause, error)

    return set_stop


def _no_next_state_once_stopped(original: property) -> property:
    """Environment.next_state_name, whose setter leaves a stopped run stopped: the program
    sets its first state after a stop that came before it started, and then ends as aborted."""

    def set_next(env: Any, name: str) -> None:
        if isinstance(env._program_state, ProgramStopped):
            return
        original.fset(env, name)  # type: ignore[misc]

    return property(original.fget, set_next)


class _ExecutionIndex:
    """moto finds an execution by scanning the list of every execution its state machine ever
    started, for each DescribeExecution and GetExecutionHistory, so every lookup cost more as
    executions accumulated. Found executions are kept by ARN (moto keeps them all anyway, as
    AWS keeps them for 90 days) for as long as the seams are in."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], Any] = {}

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def describe_execution(backend: Any, execution_arn: str) -> Any:
            key = (id(backend), execution_arn)
            found = self._found.get(key)
            if found is None:
                found = self._found[key] = original(backend, execution_arn)
            return found

        return describe_execution

    def clear(self) -> None:
        self._found.clear()


EXECUTION_INDEX = _ExecutionIndex()


class _Ends:
    """Wakes whoever waits for an execution when its worker ends (succeeded, failed, timed out
    or stopped: moto ends a stopped run once its current state returns). An event exists only
    while someone waits, so executions leave nothing behind here."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[threading.Event]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, execution_arn: str) -> Iterator[threading.Event]:
        """An event set when the execution ends. Check its status after entering: an end that
        came before the watch began sets nothing."""
        ended = threading.Event()
        with self._lock:
            self._waiting.setdefault(execution_arn, []).append(ended)
        try:
            yield ended
        finally:
            with self._lock:
                waiters = self._waiting[execution_arn]
                waiters.remove(ended)
                if not waiters:
                    del self._waiting[execution_arn]

    def ended(self, execution_arn: str) -> None:
        with self._lock:
            for waiter in self._waiting.get(execution_arn, ()):
                waiter.set()

    def watched(self) -> int:
        """How many executions someone is waiting for now."""
        with self._lock:
            return len(self._waiting)


ENDS = _Ends()

PASSING_ERRORS_ON = (branches, map_iterations, fail_state)
"""Where moto names an error it passes on (a branch's, an iteration's, a Fail state's)."""
_MOTO_PARSE = AmazonStateLanguageParser.parse
_MOTO_ENCODE = moto_jsonata.encode_jsonata_variable_declarations
_MOTO_COMPOSE = moto_jsonata.compose_jsonata_expression
WAITS = _Waits()
_lock = threading.Lock()


def _current(target: Any, name: str) -> Any:
    """What `target.name` holds now (a class's own entry keeps its staticmethod wrapper)."""
    return target.__dict__[name] if isinstance(target, type) else getattr(target, name)


@contextmanager
def patched(
    dispatcher: Dispatcher, *, real_waits: bool, on_wait: Callable[[Wait], None]
) -> Iterator[None]:
    """Install the seams for the duration of the block (one offline runtime at a time)."""
    if not _lock.acquire(blocking=False):
        raise RuntimeError("another offline runtime is already running in this process")
    original_retry = retrier_module.RetrierDecl._eval_body
    original_terminated = BaseExecutionWorkerCommunication.terminated
    original_wait = WaitFunction._wait_interval
    original_describe = StepFunctionResponse.describe_execution

    def terminated(self: Any) -> None:
        original_terminated(self)
        # moto keeps every worker thread it starts in a module list, for LocalStack's tests
        # to join; the ended ones are let go, or each execution's threads stayed forever
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        ENDS.ended(self.execution.exec_arn)

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        return dispatcher.invoke(function_name, body, response_headers, qualifier)

    def describe_execution(self: Any) -> Any:
        result = original_describe(self)
        response = cast(dict[str, Any], result.result)
        if response.get("status") == "TIMED_OUT" and "stopDate" not in response:
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            response["stopDate"] = execution.stop_date
        return result

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        WAITS.record(env, wait_seconds)
        if WAITS.real:
            original_wait(self, env, wait_seconds)

    def retry_body(self: Any, env: Any) -> None:
        names = {getattr(e, "error_name", "") for e in self.error_equals.error_names}
        WAITS.local.env, WAITS.local.throttled = env, THROTTLING_ERROR in names
        try:
            original_retry(self, env)
        finally:
            WAITS.local.env, WAITS.local.throttled = None, False

    seams: list[tuple[Any, str, Any]] = [
        *((DynamoDBBackend, name, _serialized(name)) for name in _DYNAMODB_WRITES),
        (DynamoHandler, "update_item", _update_read_with_its_write(DynamoHandler.update_item)),
        (dynamodb_models, "copy", TRANSACTION_COPIES),
        (MotoTable, "query", PARTITION_QUERIES.wrap_query()),
        (MotoTable, "all_items", PARTITION_QUERIES.wrap_all_items()),
        (BaseModel, "__new__", staticmethod(_untracked)),
        (Environment, "set_stop", _stop_before_start(Environment.set_stop)),
        (
            Environment,
            "next_state_name",
            _no_next_state_once_stopped(_current(Environment, "next_state_name")),
        ),
        (
            StepFunctionBackend,
            "describe_execution",
            EXECUTION_INDEX.wrap(StepFunctionBackend.describe_execution),
        ),
        (jsonpath_ext, "parse", _jsonpath),
        (SQSBackend, "is_message_valid_based_on_retention_period", _within_retention),
        (moto_responses, "method_names_from_class", _method_names),
        (jsonata_validations, "_validate_string_output", _string_output_is_valid),
        (jsonata_validations, "_validate_null_output", _nothing_is_refused),
        (
            ConditionExpressionParser,
            "_lex_condition_expression",
            _lexed_once(ConditionExpressionParser._lex_condition_expression),
        ),
        (
            BaseJSONSerializer,
            "_serialize_type_structure",
            serialize_structure(BaseJSONSerializer._serialize_type_structure),
        ),
        (LambdaSimpleBackend, "invoke", invoke),
        (moto_jsonata, "_eval_jsonata", _evaluate_jsonata),
        (jsonata.Jsonata, "evaluate_numeric_expression", _js_numeric),
        (states_module, "encode_jsonata_variable_declarations", _encode),
        (variable_store_module, "encode_jsonata_variable_declarations", _encode),
        (variable_store_module.VariableStore, "get_variable_declarations", _variable_declarations),
        (string_module, "compose_jsonata_expression", _compose),
        (string_module, "get_intrinsic_functions_declarations", _no_function_declarations),
        (BaseExecutionWorkerCommunication, "terminated", terminated),
        (retrier_module, "time", WAITS),
        (retrier_module.RetrierDecl, "_eval_body", retry_body),
        (states_module.States, "__init__", aws_states(states_module.States.__init__)),
        (WaitFunction, "_wait_interval", wait_interval),
        (StepFunctionResponse, "describe_execution", refused_for_express(describe_execution)),
        *(
            (StepFunctionResponse, name, refused_for_express(getattr(StepFunctionResponse, name)))
            for name in ("get_execution_history", "stop_execution")
        ),
        (
            StepFunctionResponse,
            "list_executions",
            listing_refused_for_express(StepFunctionResponse.list_executions),
        ),
        (Execution, "start", express_arns(Execution.start)),
        (
            StepFunctionBackend,
            "_validate_execution_arn",
            express_arns_valid(StepFunctionBackend._validate_execution_arn),
        ),
        (AmazonStateLanguageParser, "parse", staticmethod(_parse)),
        (Preprocessor, "_inner_string_of", staticmethod(_json_string)),
        *((module, "CustomErrorName", reported_error_name) for module in PASSING_ERRORS_ON),
        (ErrorEqualsDecl, "_eval_body", states_all_as_aws(ErrorEqualsDecl._eval_body)),
        (StringJSONata, "_eval_body", query_evaluation_errors(StringJSONata._eval_body)),
        (Preprocessor, "visitString_jsonata", fields_named(Preprocessor.visitString_jsonata)),
        (
            FailureEventException,
            "get_execution_failed_event_details",
            decorated_once(FailureEventException.get_execution_failed_event_details),
        ),
        (preprocessor_module, "from_string_literal", _json_string),
        (lambda_utils, "boto_client_for", _Clients(getattr(lambda_utils, "boto_client_for"))),  # noqa: B009
        (lambda_utils, "execute_lambda_function_integration", _lambda_integration),
        (
            moto_responses,
            "gen_amzn_requestid_long",
            request_id_kept(getattr(moto_responses, "gen_amzn_requestid_long")),  # noqa: B009
        ),
    ]
    originals = [(target, name, _current(target, name)) for target, name, _ in seams]
    for target, name, replacement in seams:
        setattr(target, name, replacement)
    WAITS.real, WAITS.listener = real_waits, on_wait
    try:
        yield
    finally:
        for target, name, value in originals:
            setattr(target, name, value)
        WAITS.real, WAITS.listener = False, None
        EXECUTION_INDEX.clear()
        _lock.release()
