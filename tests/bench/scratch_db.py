"""Throw-away PostgreSQL databases for the benchmarks."""

import os

import psycopg


def database_create(base: str, prefix: str) -> str:
    """A fresh, empty database named after the prefix and this process."""
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def database_drop(base: str, name: str) -> None:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
