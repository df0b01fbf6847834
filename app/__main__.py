"""The command line: ``python -m app <command>``.

- ``serve``         run the API, scheduler and /admin with uvicorn (HOST/PORT from settings)
- ``sync``          run one Jira sync now (see ``python -m app sync --help``)
- ``init-db``       create/upgrade the metadata database (Alembic migrations)
- ``init-env``      write ``.env`` from ``.env.example`` with fresh secrets, if ``.env`` is missing
- ``create-token``  mint a JWT for automation (``--role viewer --subject ci --minutes 60``)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.errors import ConfigError


def _init_db(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.migrate import upgrade_head

    url = args.database_url or get_settings().database_url
    revision = upgrade_head(url)
    print(f"metadata database at revision {revision}")
    return 0


def _init_env(args: argparse.Namespace) -> int:
    from app.core.envfile import init_env

    result = init_env(Path(args.env_file), Path(args.example))
    if not result.created:
        print(f"{result.path} exists; left unchanged")
        return 0
    print(f"wrote {result.path} with fresh SECRET_KEY and ENCRYPTION_KEY")
    # Shown once, here only: it is stored in .env (mode 600) and hashed in memory by the service.
    print(f"admin user: {_admin_username()}  password: {result.admin_password}")
    return 0


def _admin_username() -> str:
    from app.core.config import load_settings

    try:
        return load_settings().admin_username
    except ConfigError:
        return "admin"


def _create_token(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.security import create_access_token

    settings = get_settings()
    subject = args.subject or f"{args.role}-automation"
    print(create_access_token(subject, args.role, minutes=args.minutes, settings=settings))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.core.config import get_settings

    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        proxy_headers=True,
        log_config=None,  # our structlog set-up handles uvicorn's loggers
    )
    return 0


def _sync(rest: list[str]) -> int:
    from app.jobs.cli import sync_main

    return sync_main(rest)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command except ``sync`` (which parses its own arguments)."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Kairus ETL Service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API, scheduler and /admin")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)

    commands.add_parser("sync", help="run one Jira sync now (python -m app sync --help)", add_help=False)

    init_db = commands.add_parser("init-db", help="create/upgrade the metadata database")
    init_db.add_argument("--database-url", default=None, help="default: DATABASE_URL")

    init_env = commands.add_parser("init-env", help="write .env with fresh secrets if missing")
    init_env.add_argument("--env-file", default=".env")
    init_env.add_argument("--example", default=".env.example")

    token = commands.add_parser("create-token", help="mint a JWT for automation")
    token.add_argument("--role", choices=["admin", "viewer"], default="viewer")
    token.add_argument("--subject", default=None, help="the token's sub (default: <role>-automation)")
    token.add_argument("--minutes", type=int, default=None, help="lifetime (default: JWT_EXPIRE_MINUTES)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; configuration errors print their fix and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sync":
        handlers_rest = argv[1:]
        try:
            return _sync(handlers_rest)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    handlers = {"serve": _serve, "init-db": _init_db, "init-env": _init_env, "create-token": _create_token}
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
