"""``ehcflow backup FILE`` and ``ehcflow restore FILE``: the database and the instance folder in one file.

Both use the same settings as the service (``DATABASE_URL``, ``EHCFLOW_INSTANCE_DIR``), so that a backup made by the
service's user with the service's environment file is of the service's own data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from webui.cli.group import main


def _where() -> tuple[str, Path]:
    from engine.store.db import default_database_url, instance_dir

    return default_database_url(), instance_dir().resolve()


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Back up the database and the instance folder (uploaded documents) into FILE.

    Safe while the service runs. FILE holds every case's personal data: it is made readable by this user only;
    keep it as safe as the database.
    """
    from engine.admin.backup import BackupFailed
    from engine.admin.backup import backup as make_backup

    url, instance = _where()
    try:
        done = make_backup(url, instance, file, datetime.now(UTC))
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the {done.database} database (revision {done.revision or 'none'}) and "
               f"{len(done.files)} file(s) of {instance} to {done.path}.")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore FILE (made by `ehcflow backup`) into an empty database and instance folder.

    Create the database first (PostgreSQL: createdb; SQLite: nothing to do) and stop the service. Then run
    `ehcflow db upgrade` if this release is newer than the backup.
    """
    from engine.admin.backup import BackupFailed
    from engine.admin.backup import restore as restore_backup
    from engine.store.db import make_engine
    from engine.store.migrate import pending

    url, instance = _where()
    try:
        done = restore_backup(file, url, instance)
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(url)
    try:
        behind = pending(engine)
        shown = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    click.echo(f"Restored the {done.database} database (revision {done.revision or 'none'}) into {shown} and "
               f"{len(done.files)} file(s) into {instance}.")
    if behind:
        click.echo(f"This release has {len(behind)} newer migration(s): run `ehcflow db upgrade` before starting "
                   "the service.")
