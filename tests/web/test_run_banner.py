"""What `ehcflow run` prints about signing in: the demo user and password when the demo data is there."""

from __future__ import annotations

from demo.driver import DEMO_PASSWORD
from engine.people.users import create_user
from engine.runtime.services import Services
from webui.cli.serve import sign_in_hint


def test_the_banner_names_the_demo_user_and_password_only_with_the_demo_data(services: Services) -> None:
    assert "ehcflow users create" in sign_in_hint(services)
    with services.session_factory() as s:
        create_user(s, "caseworker@northshire.example", "Demo Caseworker", DEMO_PASSWORD, services.engine.clock, [])
        s.commit()
    hint = sign_in_hint(services)
    assert hint.startswith(f"Sign in as caseworker@northshire.example with the password {DEMO_PASSWORD}")
