"""The admin page that imports a council's existing plans from CSV (/admin/import-plans): good and bad files, skipping bad
rows, who may import into which local authority, CSRF, and what the upload accepts. CSRF protection stays on."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select, update

from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.store.models import Case, Organisation, PlanVersion
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, soup, text_of
from webui.admin import import_plans as import_page

URL = "/admin/import-plans"
HEADER = ("child_first_name,child_last_name,date_of_birth,upn,postcode,address,la_code,setting_code,plan_issued_on,"
          "last_review_on,phase_transfer_due,parent_name,parent_email")
AVA = "Ava,Stone,2016-05-14,A123456789012,TS1 1AA,1 High Street,TST,TPS,31/08/2025,,,Kim Stone,kim@example.com"
BEN = "Ben,Hart,2012-06-01,,,,TST,,2023-03-10,29/02/2024,,,"
BAD = "Dee,,2016-01-01,,,,TST,,2014-01-01,,,,"


@pytest.fixture(autouse=True)
def _school_code(services: Services, world: World) -> None:
    with services.session_factory() as s:
        s.execute(update(Organisation).where(Organisation.id == world.school.id).values(code="TPS"))
        s.commit()


def upload(client: Client, rows: list[str], skip_bad: bool = False, name: str = "plans.csv",
           data: bytes | None = None, **kwargs: Any) -> Any:
    client.get(URL, status=None)
    body = data if data is not None else ("\n".join([HEADER, *rows]) + "\n").encode()
    fields: list[tuple[str, Any]] = [("file", (io.BytesIO(body), name))]
    if skip_bad:
        fields.append(("skip_bad", "yes"))
    return client.post(URL, fields, content_type="multipart/form-data", **kwargs)


def imported(services: Services) -> list[str]:
    with services.session_factory() as s:
        return sorted(s.scalars(select(Case.child_first_name).where(Case.child_first_name.in_(("Ava", "Ben", "Dee")))))


def test_an_admin_imports_a_good_file_and_sees_each_case_with_its_review(as_user: Any, services: Services) -> None:
    admin = as_user("admin")
    home = admin.page("/admin/")
    assert home.find("a", href=URL) is not None
    response = upload(admin, [AVA, BEN], status=200)
    page = soup(response)
    text = text_of(page)
    assert "2 plans imported" in text and "Imported: 2. Already there: 0. Refused: 0." in text
    assert imported(services) == ["Ava", "Ben"]
    with services.session_factory() as s:
        ava = s.scalar(select(Case).where(Case.child_first_name == "Ava"))
        assert ava is not None
    assert page.find("a", href=f"/cases/{ava.id}") is not None
    # Ava's plan was issued on 31 August 2025: the first review is due 31 August 2026, the route starts 22 June 2026.
    row = page.find("a", href=f"/cases/{ava.id}").find_parent("tr")
    assert "31 August 2026" in text_of(row) and "22 June 2026" in text_of(row)

    again = text_of(soup(upload(admin, [AVA, BEN], status=200)))
    assert "No new plans: every child in the file is already in EHC Flow" in again
    assert "Imported: 0. Already there: 2." in again and f"Line 2: {ava.reference} Ava Stone" in again
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PlanVersion)) == 2


def test_a_bad_file_shows_each_problem_by_line_and_imports_nothing(as_user: Any, services: Services) -> None:
    admin = as_user("admin")
    page = soup(upload(admin, [AVA, BAD, BEN], status=200))
    summary = page.find(class_="govuk-error-summary")
    assert summary is not None and "1 row has problems: nothing was imported" in text_of(summary)
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.find(id="problems")
            .find_next("table").find_all("tr")[1:]]
    assert rows == [["3", "child_last_name", "Enter the child's last name"],
                    ["3", "plan_issued_on", "The plan must have been issued after the child was born"]]
    assert imported(services) == []

    skipped = soup(upload(admin, [AVA, BAD, BEN], skip_bad=True, status=200))
    assert "2 plans imported" in text_of(skipped) and "Refused: 1." in text_of(skipped)
    assert "These rows were left out" in text_of(skipped) and skipped.find(class_="govuk-error-summary") is None
    # Ben's review was due on 28 February 2025: it is overdue, so the worker starts it on its next daily pass.
    assert "At once: the review is overdue" in text_of(skipped.find(id="created").find_next("table"))
    assert imported(services) == ["Ava", "Ben"]


def test_an_admin_imports_only_into_the_local_authorities_they_administer(as_user: Any, services: Services) -> None:
    other_admin = as_user("other_admin")
    page = soup(upload(other_admin, [AVA], status=200))
    assert "You cannot import plans into Testshire Council" in text_of(page)
    assert imported(services) == []


def test_only_a_local_authoritys_administrators_may_import(as_user: Any, services: Services, world: World,
                                                           client: Client) -> None:
    for who in ("caseworker", "manager", "school", "parent"):
        user = as_user(who)
        user.get(URL, status=403)
        assert upload(user, [AVA], status=None).status_code in (400, 403), who
    with services.session_factory() as s:
        create_user(s, "icb.admin@test.example", "ICB Admin", PASSWORD, services.engine.clock,
                    [(world.health, Role.ADMIN)])
        s.commit()
    health_admin = Client(client.app)
    health_admin.sign_in("icb.admin@test.example")
    health_admin.get(URL, status=403)
    assert health_admin.page("/admin/").find("a", href=URL) is None
    anonymous = Client(client.app)
    assert anonymous.get(URL, status=302).headers["Location"].startswith("/sign-in")
    assert imported(services) == []


def test_the_upload_needs_its_csrf_token(as_user: Any, services: Services) -> None:
    admin = as_user("admin")
    body = ("\n".join([HEADER, AVA]) + "\n").encode()
    admin.post(URL, [("file", (io.BytesIO(body), "plans.csv")), ("csrf_token", "forged")], token=False,
               content_type="multipart/form-data", status=400)
    assert imported(services) == []


@pytest.mark.parametrize(("name", "data", "message"), [
    ("plans.xlsx", b"PK\x03\x04", "The selected file must be a CSV file (.csv)"),
    ("plans.csv", b"", "The selected file is empty"),
    ("plans.csv", b"child_first_name,surname\n", "'surname' is not a column of the import"),
    ("plans.csv", (HEADER + "\n" + AVA.replace("Ava", "Zo\xeb")).encode("latin-1"), "The file is not UTF-8 text"),
])
def test_only_a_utf8_csv_file_within_the_size_limit_is_read(as_user: Any, services: Services, name: str,
                                                             data: bytes, message: str) -> None:
    admin = as_user("admin")
    page = soup(upload(admin, [], name=name, data=data, status=200))
    assert message in text_of(page)
    assert page.find(class_="govuk-error-summary") is not None
    assert imported(services) == []


def test_a_file_over_the_size_limit_is_refused(as_user: Any, services: Services,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A smaller limit than the real 5MB: the test client spools a body over 500KB to a file it never closes.
    assert import_page.MAX_BYTES == 5 * import_page.MB
    monkeypatch.setattr(import_page, "MAX_BYTES", 100 * 1024)
    admin = as_user("admin")
    body = ("\n".join([HEADER, *[AVA] * 2000]) + "\n").encode()
    assert len(body) > 100 * 1024
    page = soup(upload(admin, [], data=body, status=200))
    assert "The selected file must be smaller than 100KB" in text_of(page)
    assert imported(services) == []


def test_posting_without_a_file_asks_for_one(as_user: Any) -> None:
    admin = as_user("admin")
    admin.get(URL)
    page = soup(admin.post(URL, {}, status=200))
    assert text_of(page.find(class_="govuk-error-summary")).endswith("Select a CSV file")
    assert page.find(class_="govuk-file-upload").get("id") == "file"
