"""The offline index of a state machine's executions (baton.local.seams.executions): each
execution is indexed once, and one started while the index is being read is not lost."""

from __future__ import annotations

from types import SimpleNamespace

from baton.local.seams.executions import ExecutionIndex


class _Machine:  # a state machine as the index reads it (moto's are weakly referable)
    def __init__(self, executions: list[SimpleNamespace]) -> None:
        self.executions = executions


def _execution(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, execution_arn=f"arn:aws:states:::execution:m:{name}")


class _StartedWhileRead(list):  # type: ignore[type-arg]
    """A machine's list of executions to which another thread appends one just as the index
    takes the new ones."""

    def __init__(self, *items: SimpleNamespace, appended: SimpleNamespace) -> None:
        super().__init__(items)
        self.appended: SimpleNamespace | None = appended

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        taken = super().__getitem__(key)
        if isinstance(key, slice) and self.appended is not None:
            self.append(self.appended)
            self.appended = None
        return taken


def test_an_execution_started_while_the_index_reads_is_indexed_next_time() -> None:
    index = ExecutionIndex()
    machine = _Machine(_StartedWhileRead(_execution("a"), appended=_execution("late")))
    assert set(index.of(machine).by_name) == {"a"}  # "late" came after the taking
    assert set(index.of(machine).by_name) == {"a", "late"}
    assert index.of(machine).by_arn["arn:aws:states:::execution:m:late"].name == "late"


def test_the_first_execution_of_a_name_is_the_one_found_as_moto_finds_it() -> None:
    first, again = _execution("same"), _execution("same")
    machine = _Machine([first, _execution("other"), again])
    assert ExecutionIndex().of(machine).by_name["same"] is first
