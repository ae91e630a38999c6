"""The ``ehcflow`` command group and what its commands share: the engine's services built from the environment."""

from __future__ import annotations

import os

import click

from engine.errors import SettingInvalid
from engine.runtime.services import Services, build
from webui.log_format import configure_logging


def build_services() -> Services:
    try:
        return build(os.environ.get("DATABASE_URL"))
    except SettingInvalid as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """EHC Flow: statutory SEND routes as executable BPMN."""
    try:
        configure_logging(verbose)  # text or JSON lines: EHCFLOW_LOG_FORMAT
    except SettingInvalid as exc:
        raise click.ClickException(str(exc)) from exc
