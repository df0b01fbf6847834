"""The warehouse tables: the single definition both DuckDB and Snowflake DDL are generated from.

A column has a *kind* (``string``, ``int``, ``float``, ``bool``, ``ts``, ``date``, ``json``); each warehouse
dialect maps kinds to its own types (``app/warehouse/dialect.py``). Identifiers are unquoted lower case.

Tables whose ``parent`` is ``"issues"`` are *children* of an issue: the loader replaces them per issue (delete
the stored rows of the issue, insert the batch's rows) instead of merging them row by row, so a comment
deleted in Jira disappears. ``owner`` names the row key holding the issue whose version governs the row;
``parent_keys`` are the columns that refer to an issue (``issue_links`` refers to two). An owner key that is
not a column (``_owner_issue_id`` of ``issue_links``) exists only in the staging table.

Adding a column here is enough: ``ensure_schema()`` adds it to existing tables with ``ALTER TABLE ... ADD
COLUMN``. Never rename or retype a column here; add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["string", "int", "float", "bool", "ts", "date", "json"]

SYNCED_AT = "_synced_at"
JOB_ID = "_job_id"
LINK_OWNER = "_owner_issue_id"


@dataclass(frozen=True)
class Column:
    """One column: its name and kind; ``required`` columns must be non-null in every row."""

    name: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One warehouse table, as the contract (docs/contracts.md section 3) describes it."""

    name: str
    columns: list[Column]
    primary_key: tuple[str, ...]
    version_column: str | None = None
    parent: Literal["issues"] | None = None
    owner: str | None = None
    parent_keys: tuple[str, ...] = ()
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.columns)
        object.__setattr__(self, "column_names", names)
        missing = [k for k in (*self.primary_key, *self.parent_keys) if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: key columns {missing} are not columns")

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError when there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")

    @property
    def stage_columns(self) -> list[Column]:
        """Columns of the staging table: the table's own plus a staging-only owner key if any."""
        if self.owner and self.owner not in self.column_names:
            return [*self.columns, Column(self.owner, "string", required=True)]
        return list(self.columns)


def _s(name: str, required: bool = False) -> Column:
    return Column(name, "string", required)


def _i(name: str) -> Column:
    return Column(name, "int")


def _f(name: str) -> Column:
    return Column(name, "float")


def _b(name: str) -> Column:
    return Column(name, "bool")


def _t(name: str, required: bool = False) -> Column:
    return Column(name, "ts", required)


def _d(name: str) -> Column:
    return Column(name, "date")


def _j(name: str) -> Column:
    return Column(name, "json")


_COMMON = [_t(SYNCED_AT), _s(JOB_ID)]


def _table(
    name: str,
    cols: list[Column],
    pk: tuple[str, ...],
    *,
    version: str | None = None,
    child: bool = False,
    owner: str | None = None,
    parent_keys: tuple[str, ...] = ("issue_id",),
) -> Table:
    pk_set = set(pk)
    # Key columns are always required; the list order is the DDL order.
    columns = [Column(c.name, c.kind, c.required or c.name in pk_set) for c in cols]
    return Table(
        name=name,
        columns=[*columns, *_COMMON],
        primary_key=pk,
        version_column=version,
        parent="issues" if child else None,
        owner=(owner or "issue_id") if child else None,
        parent_keys=parent_keys if child else (),
    )


_DEV_KEY = [_s("issue_id"), _s("application_type"), _s("repository_name")]

# fmt: off
# One table a block, columns in DDL order: kept compact on purpose (this reads as the warehouse contract).
_TABLE_LIST: list[Table] = [
    _table("projects", [_s("project_id"), _s("project_key"), _s("name"), _s("project_type"),
                        _s("lead_account_id"), _b("archived"), _j("raw")], ("project_id",)),
    _table("users", [_s("account_id"), _s("display_name"), _s("email"), _b("active"), _s("account_type"),
                     _s("time_zone"), _s("user_name"), _s("user_key")], ("account_id",)),
    _table("fields", [_s("field_id"), _s("name"), _b("is_custom"), _s("schema_type"), _s("schema_custom"),
                      _s("schema_items"), _s("custom_id")], ("field_id",)),
    _table("statuses", [_s("status_id"), _s("name"), _s("category_key"), _s("category_id")], ("status_id",)),
    _table("status_categories", [_s("category_id"), _s("category_key"), _s("name"), _s("color_name")],
           ("category_id",)),
    _table("priorities", [_s("priority_id"), _s("name")], ("priority_id",)),
    _table("issue_types", [_s("issue_type_id"), _s("name"), _b("subtask"), _i("hierarchy_level")],
           ("issue_type_id",)),
    _table("resolutions", [_s("resolution_id"), _s("name"), _s("description")], ("resolution_id",)),
    _table("issue_link_types", [_s("link_type_id"), _s("name"), _s("inward"), _s("outward")],
           ("link_type_id",)),
    _table("boards", [_s("board_id"), _s("name"), _s("board_type"), _s("project_id"), _s("project_key")],
           ("board_id",)),
    _table("sprints", [_s("sprint_id"), _s("board_id"), _s("name"), _s("state"), _t("start_at"), _t("end_at"),
                       _t("complete_at"), _s("goal")], ("sprint_id",)),
    _table("issues",
           [_s("issue_id"), _s("issue_key", True), _s("project_id"), _s("project_key"), _s("issue_type"),
            _s("parent_id"), _s("status_name"), _s("status_category"), _s("priority"), _s("resolution"),
            _s("summary"), _s("description_text"), _s("assignee_account_id"), _s("reporter_account_id"),
            _s("creator_account_id"), _t("created_at", True), _t("updated_at", True), _t("resolved_at"),
            _d("due_date"), _j("labels"), _j("components"), _j("fix_versions"), _f("story_points"),
            _j("sprint_ids"), _j("custom_fields"), _j("raw"), _b("is_deleted"), _s("dev_status")],
           ("issue_id",), version="updated_at"),
    _table("issue_changelog",
           [_s("history_id"), _i("item_index"), _s("issue_id", True), _s("author_account_id"),
            _t("changed_at", True), _s("field"), _s("field_id"), _s("field_type"), _s("from_value"),
            _s("from_string"), _s("to_value"), _s("to_string")],
           ("history_id", "item_index"), child=True),
    _table("comments",
           [_s("comment_id"), _s("issue_id", True), _s("author_account_id"), _s("update_author_account_id"),
            _s("body_text"), _t("created_at"), _t("updated_at")],
           ("comment_id",), version="updated_at", child=True),
    _table("worklogs",
           [_s("worklog_id"), _s("issue_id", True), _s("author_account_id"), _t("started_at"),
            _i("time_spent_seconds"), _s("comment_text"), _t("created_at"), _t("updated_at")],
           ("worklog_id",), version="updated_at", child=True),
    _table("issue_links",
           [_s("link_id"), _s("source_issue_id", True), _s("target_issue_id", True), _s("link_type"),
            _s("link_type_id"), _s("outward_description"), _s("inward_description")],
           ("link_id",), child=True, owner=LINK_OWNER, parent_keys=("source_issue_id", "target_issue_id")),
    _table("issue_sprints", [_s("issue_id"), _s("sprint_id")], ("issue_id", "sprint_id"), child=True),
    _table("dev_pull_requests",
           [*_DEV_KEY, _s("pr_id"), _s("title"), _s("status"), _s("author_name"), _s("source_branch"),
            _s("destination_branch"), _j("reviewers"), _i("comment_count"), _t("last_update_at"), _s("url"),
            _s("repository_url")],
           ("issue_id", "application_type", "repository_name", "pr_id"), child=True),
    _table("dev_commits",
           [*_DEV_KEY, _s("commit_id"), _s("display_id"), _s("message"), _s("author_name"), _t("authored_at"),
            _i("file_count"), _i("lines_added"), _i("lines_removed"), _b("is_merge"), _s("url")],
           ("issue_id", "application_type", "repository_name", "commit_id"), child=True),
    _table("dev_branches",
           [*_DEV_KEY, _s("branch_name"), _s("url"), _s("last_commit_id"), _t("last_commit_at")],
           ("issue_id", "application_type", "repository_name", "branch_name"), child=True),
    _table("dev_builds",
           [_s("issue_id"), _s("application_type"), _s("id"), _s("name"), _s("state"), _i("build_number"),
            _t("last_updated_at"), _s("url"), _j("raw")],
           ("issue_id", "application_type", "id"), child=True),
    _table("dev_deployments",
           [_s("issue_id"), _s("application_type"), _s("id"), _s("name"), _s("environment"), _s("status"),
            _t("last_updated_at"), _s("url"), _j("raw")],
           ("issue_id", "application_type", "id"), child=True),
    _table("load_audit",
           [_s("job_id"), _s("table_name"), _i("batch_no"), _i("rows_in"), _i("inserted"), _i("updated"),
            _i("deleted"), _t("started_at"), _t("finished_at")],
           ("job_id", "table_name", "batch_no")),
    _table("dq_results",
           [_s("job_id"), _s("check_name"), _s("table_name"), _s("status"), _i("failing_rows"),
            _i("checked_rows"), _j("details")],
           ("job_id", "check_name", "table_name")),
    # Each batch's own check results; dq_results is their sum per job, recomputed by every load.
    _table("dq_batch_results",
           [_s("job_id"), _i("batch_no"), _s("check_name"), _s("table_name"), _s("status"),
            _i("failing_rows"), _i("checked_rows"), _j("details")],
           ("job_id", "batch_no", "check_name", "table_name")),
    _table("quarantine", [_s("job_id"), _s("entity"), _s("entity_id"), _s("reason"), _j("raw")],
           ("job_id", "entity", "entity_id")),
]
# fmt: on

TABLES: dict[str, Table] = {t.name: t for t in _TABLE_LIST}

#: Child tables of an issue, in load order.
CHILD_TABLES: tuple[str, ...] = tuple(t.name for t in _TABLE_LIST if t.parent == "issues")

#: Child tables filled from an issue's dev-status detail (``devStatus``).
DEV_CHILD_TABLES: tuple[str, ...] = tuple(name for name in CHILD_TABLES if name.startswith("dev_"))
#: ``issues.dev_status`` values for which dev-status answered for the issue: its dev rows are replaced. Any
#: other (``forbidden``, ``absent``, ``error``, none at all) says nothing about its development data, so the
#: stored dev rows stay as they are.
DEV_STATUS_ANSWERED: tuple[str, ...] = ("ok", "none")

#: Tables written by the loader itself (not produced by transform).
META_TABLES: tuple[str, ...] = ("load_audit", "dq_results", "dq_batch_results", "quarantine")

#: Reference tables: merged by primary key, no version (Jira gives none), newest load wins.
REFERENCE_TABLES: tuple[str, ...] = tuple(
    t.name for t in _TABLE_LIST if t.parent is None and t.name != "issues" and t.name not in META_TABLES
)
