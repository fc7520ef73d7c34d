"""DynamoDB offline: writes as atomic as DynamoDB's, reads and transactions at DynamoDB's cost.

moto's DynamoDB is written for one request at a time; Baton's agents write from many threads.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import pickle
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.responses as dynamodb_responses
from moto.dynamodb.comparisons import AttributeValue, ConditionExpressionParser
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
from moto.dynamodb.models.dynamo_type import Item as MotoItem
from moto.dynamodb.models.table import Table as MotoTable
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DDBTypedValue,
    UpdateExpressionAddAction,
    UpdateExpressionDeleteAction,
    UpdateExpressionRemoveAction,
    UpdateExpressionSetAction,
)
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.responses import DynamoHandler

from baton.local.seams.adaptation import Adaptation, to
from baton.local.seams.update_validation import PICKLED

WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")
"""moto's DynamoDB handler's reads: each answers from the stored items themselves."""
SCALE = "tests/functional/test_offline_scale.py"
SEAMS = "tests/functional/test_seams.py"


class TransactionCopies:
    """moto's DynamoDB module's `copy`, with one change: the backup moto takes of every table a
    transaction touches (to roll back on failure) copies the map of partitions and the item map
    of each partition the transaction writes, not every item; the items of those partitions too
    when an operation of the transaction changes an item in place (Update). A deep copy of the
    whole table per transaction made every step's write cost grow with the table."""

    def __init__(self) -> None:
        self.local = threading.local()

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(self.local, "active", False) and isinstance(value, MotoTable):
            snapshot = copy.copy(value)
            items = value.items
            snapshot.items = defaultdict(dict, items)  # partitions no write touches: shared
            in_place = self.local.in_place
            for key in self._touched(value):
                if key not in items:
                    continue
                if value.range_key_attr:  # a partition: its items by range key
                    partition = items[key]
                    snapshot.items[key] = (
                        {rk: copy.deepcopy(item) for rk, item in partition.items()}
                        if in_place
                        else dict(partition)
                    )
                elif in_place:  # a put replaces the item; an update changes it
                    snapshot.items[key] = copy.deepcopy(items[key])
            return snapshot
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def _touched(self, table: Any) -> set[Any]:
        """The partitions of `table` the transaction writes (its hash key values, as moto keys
        them), found once per transaction (moto backs a table up for each of its operations)."""
        touched: dict[str, set[Any]] = self.local.touched
        if table.name not in touched:
            key = table.hash_key_attr
            touched[table.name] = {
                DynamoType(attributes[key])
                for operation in self.local.operations
                for request in operation.values()
                if request.get("TableName") == table.name
                for attributes in (request.get("Item") or request.get("Key") or {},)
                if isinstance(attributes.get(key), dict)
            }
        return touched[table.name]

    def transaction(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """TransactWriteItems, telling `deepcopy` whether it may copy cheaply, and what."""

        @functools.wraps(original)
        def transact(
            backend: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
        ) -> Any:
            self.local.active = True
            self.local.in_place = any("Update" in item for item in transact_items)
            self.local.operations, self.local.touched = transact_items, {}
            try:
                return original(backend, transact_items, *args, **kwargs)
            finally:
                self.local.active, self.local.operations, self.local.touched = False, [], {}

        return transact


class PartitionQueries:
    """A Query on a table's own key reads that partition only, as DynamoDB does. moto sorts
    every item of the table for each Query, so reading one execution's handoffs cost more with
    every execution the table held (the offline runtime slowed down as it ran)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def query(self, original: Callable[..., Any]) -> Callable[..., Any]:
        local = self.local
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

    def all_items(self, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        local = self.local

        @functools.wraps(original)
        def all_items(table: Any) -> Any:
            partition = getattr(local, "partition", None)
            if partition is None or partition[0] is not table:
                return original(table)
            items = table.items.get(partition[1], {})
            return sorted(items.values(), key=lambda item: item.range_key)

        return all_items


class ItemAnswers:
    """moto's DynamoDB handler's `copy`: UpdateItem deep-copied the item as it was before the
    write only to read its attributes for ReturnValues at once (`to_json`, which copies them
    anyway); the item is read as it is. Anything else is deep-copied as before."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, MotoItem) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


class UnstreamedUpdates:
    """moto's DynamoDB backend's `copy` (as the other seams leave it), with one change: the copy
    of the item as it was that UpdateItem makes for the table's stream is not made for a table
    without a stream (nothing reads it)."""

    def __init__(self) -> None:
        self.copier: Any = copy
        self.local = threading.local()

    def wrapping(self, copier: Any) -> UnstreamedUpdates:
        """This, in place of the module's `copy` it found."""
        self.copier = copier
        return self

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(self.local, "unstreamed", False) and isinstance(value, MotoItem):
            return value
        return self.copier.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.copier, name)

    def updating(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """The backend's update_item, telling `deepcopy` whether the table has a stream."""

        @functools.wraps(original)
        def update_item(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            table = backend.tables.get(table_name)
            self.local.unstreamed = table is not None and table.stream_shard is None
            try:
                return original(backend, table_name, *args, **kwargs)
            finally:
                self.local.unstreamed = False

        return update_item


def _serialized(lock: threading.RLock) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """moto's DynamoDB writes (and UpdateItem's read-then-write), one at a time, as DynamoDB
    makes each write atomic. A transaction deep-copies its tables (to roll back) while agents
    write from other threads, and moto's UpdateItem handler deep-copies the item (for
    ReturnValues) before it writes: a concurrent write changed them mid-copy ('dictionary
    changed size during iteration')."""

    def serialize(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

        return write

    return serialize


SLOT = "\x00baton-slot:"
"""Where a template's scalar value stands: the marker it is parsed with, then its name."""
SCALAR_VALUES = frozenset({"S", "N", "B", "BOOL", "NULL"})


def _slotted(values: Any) -> Any:
    """The expression attribute values with each scalar's value replaced by its slot marker
    (its type kept: moto's parser reads the type, not the value); lists, maps and sets as they
    are (a template for other values of these is parsed anew)."""
    if not isinstance(values, dict):
        return values
    return {
        name: {kind: f"{SLOT}{name}" for kind in value}
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in SCALAR_VALUES
        else value
        for name, value in values.items()
    }


def _slots(tree: Any) -> list[tuple[Any, str]]:
    """Each AttributeValue operand of a condition's tree that holds a slot marker, with the name
    of the value that fills it."""
    found: list[tuple[Any, str]] = []
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, AttributeValue):
            if isinstance(node.value, str) and node.value.startswith(SLOT):
                found.append((node, node.value[len(SLOT) :]))
        elif isinstance(node, list | tuple):
            for element in node:
                visit(element)
        elif hasattr(node, "__dict__"):
            for element in vars(node).values():
                visit(element)

    visit(tree)
    return found


def _conditions_parsed_once(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """moto's DynamoDB condition parser, once per expression with its names and the types of
    its values: moto parses a write's condition again at each layer it passes (a step's fenced
    transaction, two conditions, took seven parses), and a step's checkpoint condition names
    the step's own position. The tree is parsed once with each scalar value's place marked
    (moto's parser keeps a value in the tree as it is, reading only its type), and each parse
    gets a copy of it holding its own values; judging an item with it changes nothing. Each
    parser is still told which names and values the expression uses (moto refuses unused
    ones). Values that are not JSON (bytes, from moto's own calls) are parsed as before. A
    tree is kept per text, names and values too, for the writes that repeat them."""

    @functools.lru_cache(maxsize=256)
    def template(key: str) -> tuple[Any, list[tuple[Any, str]], tuple[str, ...], tuple[str, ...]]:
        # parsed from the key's copies, so the tree holds no request's own values
        fresh = ConditionExpressionParser(*json.loads(key))
        tree = original(fresh)
        names, values = tuple(fresh.expr_attr_names_found), tuple(fresh.expr_attr_values_found)
        return tree, _slots(tree), names, values

    @functools.lru_cache(maxsize=256)
    def pickled(key: str) -> bytes | None:
        """The template and its slots pickled together (a copy by unpickling costs a third of
        deepcopy's, and keeps which nodes are the slots); None: a tree pickle cannot copy."""
        tree, slots, _, _ = template(key)
        try:
            return pickle.dumps((tree, [slot for slot, _ in slots]))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return None

    @functools.lru_cache(maxsize=256)
    def parse(key: str) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
        text, names, values = json.loads(key)
        slotted = json.dumps([text, names, _slotted(values)], sort_keys=True)
        tree, slots, names_found, values_found = template(slotted)
        blob = pickled(slotted)
        if blob is not None:
            own, filled_slots = pickle.loads(blob)
        else:
            memo: dict[int, Any] = {}
            own = copy.deepcopy(tree, memo)
            filled_slots = [memo[id(slot)] for slot, _ in slots]
        for filled, (_, name) in zip(filled_slots, slots, strict=True):
            filled.value = values[name][filled.type]  # the template's, with these values
        return own, names_found, values_found

    def parse_once(parser: Any) -> Any:
        if not parser.condition_expression:
            return original(parser)
        try:
            key = json.dumps(
                [
                    parser.condition_expression,
                    parser.expression_attribute_names,
                    parser.expression_attribute_values,
                ],
                sort_keys=True,
            )
        except TypeError:
            return original(parser)
        try:
            tree, names, values = parse(key)
        except Exception:  # a condition moto refuses: refused by moto's parse, its own error
            return original(parser)
        parser.expr_attr_names_found.extend(names)
        parser.expr_attr_values_found.extend(values)
        return tree

    return parse_once


def _updates_parsed_once(original: classmethod) -> classmethod:  # type: ignore[type-arg]
    """moto's update-expression parser, once per text: moto parses an UpdateItem's expression
    twice (handler and backend) at every write. Every caller gets the one tree parsed from the
    text: moto's callers only read it (the handler looks up the names it uses; the backend's
    Validator walks a copy of its own, made from the tree's pickle, kept with it as PICKLED)."""
    make = original.__func__
    parsed: dict[str, Any] = {}

    def make_once(cls: type, text: str) -> Any:
        tree = parsed.get(text)
        if tree is not None:
            return tree
        tree = make(cls, text)
        if len(parsed) < 1024:
            # a tree pickle cannot copy is parsed again next time
            with contextlib.suppress(
                pickle.PicklingError, TypeError, AttributeError, RecursionError
            ):
                setattr(tree, PICKLED, pickle.dumps(tree))
                parsed[text] = tree
        return tree

    return classmethod(make_once)


def _sized_once(item: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """moto's Item.__init__, its size checked once, by the last attribute's insertion: moto
    checked it at every attribute, each time re-measuring every attribute already in (encoding
    each text again), so building an item cost the square of its attributes. The sizes only
    add up, so a check fails at some insertion exactly when it fails at the last one, with the
    same ItemSizeTooLarge; the item under construction is dropped either way."""
    item.hash_key, item.range_key = hash_key, range_key
    checked = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(checked)
    pairs = list(attrs.items())
    for key, value in pairs[:-1]:
        dict.__setitem__(checked, key, DynamoType(value))
    for key, value in pairs[-1:]:
        checked[key] = DynamoType(value)  # LimitedSizeDict.__setitem__: the one check
    item.attrs = checked


SURELY_ALLOWED = 400_000
"""An item of at most this many bytes (DynamoDB's 400 KB, as bytes) is under moto's limit too
(405,000): a larger one is judged by moto's own check."""
SIZES = "_baton_sizes"
"""The attribute of an item's attributes holding their measures (scalars-measured-once)."""
_IMMUTABLE = (str, bytes, bool)


def _measure(sizes: dict[str, Any], key: str, value: Any) -> int:
    """What moto measures of one attribute (its name and its value), from `sizes` when it is a
    scalar measured before: the same DynamoType holding the same text, number, bytes or boolean
    (immutable: it cannot have changed). Lists, maps and sets are measured again each time, as
    an update may change them in place."""
    kept = sizes.get(key)
    if kept is not None and kept[0] is value and kept[1] is value.value:
        return int(kept[2])
    if type(value) is not DynamoType:
        return bytesize(str(key)) + bytesize(str(value))
    size = bytesize(str(key)) + value.size()
    if type(value.value) in _IMMUTABLE:
        sizes[key] = (value, value.value, size)
    return size


RUNNING = "_baton_running_total"
"""The attribute of an item's attributes holding their whole measure while an update that
changes them only by writing top-level attributes runs (scalars-measured-once)."""


def _whole(attrs: Any, sizes: dict[str, Any]) -> int:
    return sum(_measure(sizes, k, v) for k, v in dict.items(attrs))


def _sizes(attrs: Any) -> dict[str, Any]:
    sizes: dict[str, Any] | None = attrs.__dict__.get(SIZES)
    if sizes is None or len(sizes) > 2 * len(attrs) + 16:  # forget removed attributes
        sizes = attrs.__dict__[SIZES] = {}
    return sizes


def _measured_once(original: Callable[[Any, str, Any], None]) -> Callable[[Any, str, Any], None]:
    """moto's LimitedSizeDict.__setitem__ (an item's attributes): each attribute written
    measured the whole item again, every text encoded again, so an update of n attributes of
    an item of m cost n x m measures (a 20-agent statistics update: 3,600). Scalars keep their
    measure, and while an update that only writes top-level attributes runs, the item's whole
    measure is kept up to date as it writes them (_with_a_running_measure). An item that would
    pass SURELY_ALLOWED is written at once; any other is judged by moto's own check (the same
    error)."""

    def setitem(attrs: Any, key: str, value: Any) -> None:
        sizes = _sizes(attrs)
        running: list[int] | None = attrs.__dict__.get(RUNNING)
        if running is None:
            total = _whole(attrs, sizes)
            new = _measure({}, key, value)
            if total + new <= SURELY_ALLOWED:
                dict.__setitem__(attrs, key, value)
            else:
                original(attrs, key, value)
            return
        old = _measure(sizes, key, dict.__getitem__(attrs, key)) if key in attrs else 0
        new = _measure(sizes, key, value)
        if running[0] + new <= SURELY_ALLOWED:
            dict.__setitem__(attrs, key, value)
            running[0] += new - old
        else:
            original(attrs, key, value)
            running[0] = _whole(attrs, sizes)

    return setitem


ACTIONS = [
    UpdateExpressionSetAction,
    UpdateExpressionAddAction,
    UpdateExpressionRemoveAction,
    UpdateExpressionDeleteAction,
]


def _top_level_writes_only(update: Any) -> bool:
    """Whether an update (its validated tree) changes an item only by writing top-level
    attributes: SETs and number ADDs of one-name paths (a REMOVE, a DELETE, a set's ADD or a
    nested path changes the item in place, not through its attributes' __setitem__)."""
    for action in update.find_clauses(ACTIONS):
        if not isinstance(action, UpdateExpressionSetAction | UpdateExpressionAddAction):
            return False
        if len(action.children[0].children) != 1:
            return False
        if isinstance(action, UpdateExpressionAddAction):
            value = action.children[1]
            if not isinstance(value, DDBTypedValue) or value.children[0].type != "N":
                return False
    return True


def _with_a_running_measure(original: Callable[..., None]) -> Callable[..., None]:
    """moto's UpdateExpressionExecutor.execute: an update that only writes top-level attributes
    measures the item once, as it starts, and each attribute it writes keeps that measure up
    to date (the old value's measure out, the new one's in), instead of measuring the whole
    item again at every attribute. Any other update is executed as before."""

    def execute(executor: Any, node: Any = None) -> None:
        if node is not None or not _top_level_writes_only(executor.update_ast):
            return original(executor, node)
        attrs = executor.item.attrs
        attrs.__dict__[RUNNING] = [_whole(attrs, _sizes(attrs))]
        try:
            return original(executor, node)
        finally:
            attrs.__dict__.pop(RUNNING, None)

    return execute


def adaptations(
    copies: TransactionCopies, queries: PartitionQueries, writing: threading.RLock
) -> list[Adaptation]:
    serialized = _serialized(writing)
    unstreamed = UnstreamedUpdates()
    return [
        Adaptation(
            "writes-serialized",
            "each DynamoDB write is atomic while agents write from many threads",
            f"{SEAMS}::test_concurrent_writes_and_transactions_are_each_atomic",
            (
                *((DynamoDBBackend, name, serialized) for name in WRITES),
                (DynamoHandler, "update_item", serialized),
            ),
        ),
        Adaptation(
            "reads-see-whole-items",
            "a DynamoDB read sees each item whole, never part of a write made meanwhile: moto"
            " updates a stored item attribute by attribute, in place",
            f"{SEAMS}::test_a_read_sees_an_update_whole_or_not_at_all",
            tuple((DynamoHandler, name, serialized) for name in READS),
        ),
        Adaptation(
            "transaction-copies",
            "(cost) a transaction backs up the partitions it writes, not the whole table",
            f"{SEAMS}::test_a_transaction_copies_the_partitions_it_writes_not_the_table",
            (
                (dynamodb_models, "copy", to(copies)),
                (DynamoDBBackend, "transact_write_items", copies.transaction),
            ),
        ),
        Adaptation(
            "partition-queries",
            "(cost) a Query by key reads its partition, not the whole table",
            f"{SCALE}::test_a_query_by_key_reads_its_partition_not_the_whole_table",
            (
                (MotoTable, "query", queries.query),
                (MotoTable, "all_items", queries.all_items),
            ),
        ),
        Adaptation(
            "conditions-parsed-once",
            "(cost) a condition is parsed once per text, names and types of values, not at"
            " every layer a write passes; each write's copy of it holds its own values",
            f"{SCALE}::test_a_condition_is_parsed_once_and_still_judged_on_each_write",
            ((ConditionExpressionParser, "parse", _conditions_parsed_once),),
        ),
        Adaptation(
            "items-sized-once",
            "(cost) an item's size is checked once as it is built, not again at each attribute",
            f"{SCALE}::test_an_item_is_sized_once_as_it_is_built_and_still_refused_when_too_large",
            ((MotoItem, "__init__", to(_sized_once)),),
        ),
        Adaptation(
            "scalars-measured-once",
            "(cost) an attribute written measures the item from the measures its scalars keep,"
            " or from the measure an update of top-level attributes keeps, not by measuring"
            " every attribute again",
            f"{SCALE}::test_an_update_measures_the_item_from_its_kept_scalars_and_still_refuses_too_large",
            (
                (LimitedSizeDict, "__setitem__", _measured_once),
                (UpdateExpressionExecutor, "execute", _with_a_running_measure),
            ),
        ),
        Adaptation(
            "updated-items-copied-when-read",
            "(cost) UpdateItem copies the item as it was only for a table's stream, not for a"
            " table without one, nor to answer ReturnValues (read from it at once)",
            f"{SCALE}::test_an_update_copies_the_old_item_only_for_a_stream",
            (
                (dynamodb_responses, "copy", to(ItemAnswers())),
                (dynamodb_models, "copy", unstreamed.wrapping),
                (DynamoDBBackend, "update_item", unstreamed.updating),
            ),
        ),
        Adaptation(
            "updates-parsed-once",
            "(cost) an update expression is parsed once per text, applied at every write",
            f"{SCALE}::test_an_update_expression_is_parsed_once_and_applied_at_every_write",
            ((UpdateExpressionParser, "make", _updates_parsed_once),),
        ),
    ]
