"""Alembic environment: the database and metadata come from the Flask app."""

from alembic import context
from flask import current_app

config = context.config
db = current_app.extensions["migrate"].db


def _metadata():
    return db.metadatas[None] if hasattr(db, "metadatas") else db.metadata


def run_migrations_offline():
    context.configure(url=str(db.engine.url).replace("%", "%%"), target_metadata=_metadata(),
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = db.engine
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=_metadata(),
            # SQLite cannot ALTER most things in place; batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
