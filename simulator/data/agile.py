"""Boards (scrum and kanban) and sprints of a simulated site."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.timefmt import DAY_MS

SPRINT_LEN_MS = 14 * DAY_MS
CLOSED_SPRINTS = 6  # per scrum board, then one active and two future ones


@dataclass
class Sprint:
    """One sprint; dates in epoch ms."""

    id: int
    board_id: int
    name: str
    state: str
    start_ms: int
    end_ms: int
    complete_ms: int | None
    goal: str


@dataclass
class Board:
    """One agile board bound to a project."""

    id: int
    name: str
    type: str
    project_key: str
    sprints: list[Sprint] = field(default_factory=list)


# (project key, board type); scrum boards come first so sprint ids are stable per seed.
BOARD_SPECS = [
    ("PAY", "scrum"),
    ("OPS", "scrum"),
    ("WEB", "scrum"),
    ("OPS", "kanban"),
    ("HR", "kanban"),
    ("PAY", "kanban"),
]


def make_boards(seed: int, start_ms: int) -> list[Board]:
    """Boards with their sprints; sprint windows end around the site's start instant."""
    boards: list[Board] = []
    next_sprint = 1 + seed % 5
    for i, (pkey, btype) in enumerate(BOARD_SPECS):
        board = Board(
            id=1 + i,
            name=f"{pkey} {'Scrum' if btype == 'scrum' else 'Flow'} board",
            type=btype,
            project_key=pkey,
        )
        if btype == "scrum":
            # Sprint k covers [anchor + k*len, anchor + (k+1)*len); the active one contains the start.
            anchor = start_ms - CLOSED_SPRINTS * SPRINT_LEN_MS - SPRINT_LEN_MS // 2 + i * DAY_MS
            for k in range(CLOSED_SPRINTS + 3):
                s_start = anchor + k * SPRINT_LEN_MS
                s_end = s_start + SPRINT_LEN_MS
                state = "closed" if k < CLOSED_SPRINTS else ("active" if k == CLOSED_SPRINTS else "future")
                board.sprints.append(
                    Sprint(
                        id=next_sprint,
                        board_id=board.id,
                        name=f"{pkey} Sprint {k + 1}",
                        state=state,
                        start_ms=s_start,
                        end_ms=s_end,
                        complete_ms=s_end if state == "closed" else None,
                        goal="" if k % 3 else f"Ship milestone {k + 1}",
                    )
                )
                next_sprint += 1
        boards.append(board)
    return boards


def sprint_at(board: Board, ms: int) -> Sprint | None:
    """The sprint whose window contains ``ms`` (None outside every window)."""
    for sprint in board.sprints:
        if sprint.start_ms <= ms < sprint.end_ms:
            return sprint
    return None


def sprint_field_value(sprint: Sprint) -> dict[str, Any]:
    """The Cloud Sprint custom field entry (gh-sprint) for one sprint."""
    from simulator.timefmt import utc_z

    value: dict[str, Any] = {
        "id": sprint.id,
        "name": sprint.name,
        "state": sprint.state,
        "boardId": sprint.board_id,
        "goal": sprint.goal,
    }
    if sprint.state != "future" or sprint.goal:
        value["startDate"] = utc_z(sprint.start_ms)
        value["endDate"] = utc_z(sprint.end_ms)
    if sprint.complete_ms is not None:
        value["completeDate"] = utc_z(sprint.complete_ms)
    return value


def sprint_server_string(sprint: Sprint) -> str:
    """The old Server/DC Sprint field string (``com.atlassian.greenhopper.service.sprint.Sprint@...``)."""
    from simulator.timefmt import utc_z

    def d(ms: int | None) -> str:
        return utc_z(ms).replace(".000Z", "Z") if ms is not None else "<null>"

    return (
        f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id:x}5f3[id={sprint.id},"
        f"rapidViewId={sprint.board_id},state={sprint.state.upper()},name={sprint.name},"
        f"startDate={d(sprint.start_ms)},endDate={d(sprint.end_ms)},completeDate={d(sprint.complete_ms)},"
        f"sequence={sprint.id},goal={sprint.goal}]"
    )
