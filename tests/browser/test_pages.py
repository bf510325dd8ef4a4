"""The pages in a real browser against a real server: what a clerk and a citizen see and do."""

import re

import pytest
from playwright.sync_api import expect

from muster.registry.identifiers import snils_check
from muster.registry.services import ATTRIBUTES

pytestmark = pytest.mark.browser

PURPOSE = "enquiry"
PURPOSE_LABEL = "The person asked about their record"


def follow(page, element) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        element.click()


def sign_in(page, site, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(site.password)
    follow(page, page.locator("main").get_by_role("button", name="Sign in"))
    expect(page.locator("header")).to_contain_text(username)


def search(page, purpose: str = PURPOSE, **fields: str) -> None:
    page.goto("/office/")
    for name, value in fields.items():
        page.locator(f"#{name}").fill(value)
    if purpose:
        page.locator("#purpose").select_option(purpose)
    follow(page, page.get_by_role("button", name="Search"))


def open_all_details(page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def open_card(page, site) -> None:
    search(page, national_id=site.national_id)
    follow(page, page.locator(f"a[href^='/office/persons/{site.national_id}/']"))
    expect(page.locator("h1")).to_contain_text(site.surname)


def test_clerk_finds_a_person_by_national_id_and_sees_provenance(page, site):
    sign_in(page, site, site.clerk)
    search(page, national_id=site.national_id)
    expect(page.get_by_role("heading", name="1 person found")).to_be_visible()
    follow(page, page.get_by_role("link", name=re.compile(site.surname)))

    expect(page).to_have_url(f"{site.url}/office/persons/{site.national_id}/?purpose={PURPOSE}")
    expect(page.locator("h1")).to_contain_text(f"{site.surname} {site.given_name}")
    expect(page.locator(".govuk-inset-text")).to_contain_text(PURPOSE_LABEL)
    nid = page.locator("#attr-national_id")
    expect(nid).to_contain_text(site.national_id)
    expect(nid).to_contain_text("Source: population")
    expect(nid).to_contain_text(f"Record: {site.record_id}")
    expect(nid).to_contain_text(site.batch[:12])
    expect(nid.locator("time")).to_have_count(2)  # changed and received
    expect(page.locator("#attr-birth_date")).to_contain_text(site.birth_date)
    # Every attribute has its row, known or not.
    expect(page.locator(".muster-record .govuk-summary-list__row")).to_have_count(len(ATTRIBUTES))


def test_clerk_finds_a_person_by_name_and_date_of_birth(page, site):
    sign_in(page, site, site.clerk)
    search(page, surname=site.surname, birth_date=site.birth_date)
    expect(page.locator(f"a[href^='/office/persons/{site.national_id}/']")).to_be_visible()
    search(page, surname=site.surname, given_name=site.given_name, birth_date=site.birth_date)
    expect(page.locator(f"a[href^='/office/persons/{site.national_id}/']")).to_be_visible()


def test_search_by_name_ignores_case_and_takes_the_russian_date_format(page, site):
    sign_in(page, site, site.clerk)
    y, m, d = site.birth_date.split("-")
    search(page, surname=site.surname.upper(), given_name=site.given_name, birth_date=f"{d}.{m}.{y}")
    expect(page.locator(f"a[href^='/office/persons/{site.national_id}/']")).to_be_visible()


def test_an_invalid_insurance_number_shows_the_error_summary_linked_to_the_field(page, site):
    sign_in(page, site, site.clerk)
    body = site.national_id[:9]
    wrong = body + f"{(int(snils_check(body)) + 1) % 100:02d}"
    search(page, national_id=wrong)

    expect(page).to_have_title(re.compile(r"^Error: Find a person"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    link = summary.get_by_role("link", name=re.compile("Check the insurance number"))
    expect(link).to_have_attribute("href", "#national_id")
    field = page.locator("#national_id")
    expect(field).to_have_value(wrong)
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bnational_id-error\b"))
    expect(page.locator("#national_id-error")).to_contain_text("Check the insurance number")
    link.click()
    expect(field).to_be_focused()
    expect(page.get_by_role("heading", name=re.compile("found"))).to_have_count(0)


def test_search_without_criteria_or_reason_says_what_to_enter(page, site):
    sign_in(page, site, site.clerk)
    search(page, purpose="", surname=site.surname)
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(
        ["Enter a date of birth", "Select why you are looking for this person"]
    )
    expect(summary.get_by_role("link").last).to_have_attribute("href", "#purpose")


def test_a_clerk_of_another_office_gets_page_not_found(page, site):
    sign_in(page, site, site.other_clerk)
    response = page.goto(f"/office/persons/{site.national_id}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text(site.surname)
    search(page, national_id=site.national_id)
    expect(page.get_by_role("heading", name="0 persons found")).to_be_visible()


def test_citizen_sees_their_record_and_who_has_looked_at_it(new_page, site):
    clerk = new_page()
    sign_in(clerk, site, site.clerk)
    open_card(clerk, site)

    page = new_page()
    sign_in(page, site, site.citizen)
    expect(page).to_have_url(f"{site.url}/my/record/")
    expect(page.locator("h1")).to_have_text("Your registry record")
    expect(page.locator("#attr-national_id")).to_contain_text(site.national_id)
    expect(page.locator("#attr-surname")).to_contain_text(site.surname)
    expect(page.locator("#attr-national_id")).to_contain_text(f"Record: {site.record_id}")

    expect(page.get_by_role("heading", name="Who has looked at your record")).to_be_visible()
    views = page.locator(".muster-views tbody tr")
    clerk_view = views.filter(has_text=site.office).filter(has_text="Clerk").first
    expect(clerk_view).to_contain_text(PURPOSE_LABEL)
    iso = re.compile(r"^\d{4}-\d\d-\d\dT")
    expect(clerk_view.locator("time")).to_have_attribute("datetime", iso)
    # The citizen learns the office and role, not the member of staff's name.
    expect(page.locator(".muster-views")).not_to_contain_text(site.clerk)

    follow(page, page.get_by_role("button", name="Sign out"))
    expect(page.locator("h1")).to_have_text("You have signed out")
    page.goto("/my/record/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_the_language_switch_shows_russian(page, site):
    sign_in(page, site, site.citizen)
    follow(page, page.get_by_role("button", name="Русский"))
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Ваша запись в реестре")
    expect(page.get_by_role("heading", name="Кто просматривал вашу запись")).to_be_visible()
    expect(page.locator("#attr-national_id")).to_contain_text("Источник: population")
    follow(page, page.get_by_role("button", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Your registry record")


def test_staff_pages_in_russian(page, site):
    sign_in(page, site, site.clerk)
    follow(page, page.get_by_role("button", name="Русский"))
    expect(page.locator("h1")).to_have_text("Найти человека")
    follow(page, page.get_by_role("button", name="Искать"))
    expect(page.locator(".govuk-error-summary h2")).to_have_text("Проверьте введённые данные")


def test_pages_load_their_assets_and_keyboard_users_can_skip_to_content(page, site):
    page.goto("/")
    assets = page.evaluate("""[...document.querySelectorAll("link[rel=stylesheet], script[src]")]
                              .map(e => e.href || e.src)""")
    assert len(assets) == 3
    for url in assets:
        response = page.request.get(url)
        assert response.status == 200, f"{url}: {response.status}"
        kind = response.headers["content-type"]
        assert re.match(r"text/css|text/javascript|application/javascript", kind), f"{url}: {kind}"
    assert "GDS Transport" not in page.evaluate("getComputedStyle(document.body).fontFamily")
    header = page.evaluate("getComputedStyle(document.querySelector('.muster-header')).background")
    assert "rgb(29, 53, 87)" in header
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    skip.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


@pytest.mark.parametrize("width", [320, 375])
def test_the_person_card_fits_a_phone_screen(new_page, site, width):
    page = new_page(width)
    sign_in(page, site, site.clerk)
    open_card(page, site)
    open_all_details(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_search_results_and_the_citizens_page_fit_a_phone_screen(new_page, site):
    page = new_page(320)
    sign_in(page, site, site.clerk)
    search(page, surname=site.surname, birth_date=site.birth_date)
    expect(page.locator(".muster-results")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page = new_page(320)
    sign_in(page, site, site.citizen)
    open_all_details(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


def serious_violations(page, axe_source: str) -> list[dict]:
    page.add_script_tag(content=axe_source)
    return [v for v in page.evaluate(AXE) if v["impact"] in ("serious", "critical")]


def test_pages_have_no_serious_accessibility_violations(new_page, site, axe_source):
    found = {}

    def check(page, name):
        open_all_details(page)
        if violations := serious_violations(page, axe_source):
            found[name] = violations

    page = new_page()
    page.goto("/")
    check(page, "start")
    page.goto("/accounts/login/")
    check(page, "sign in")
    follow(page, page.locator("main").get_by_role("button", name="Sign in"))
    check(page, "sign in, error")
    sign_in(page, site, site.clerk)
    check(page, "search")
    search(page, purpose="", national_id="123")
    check(page, "search, errors")
    search(page, national_id=site.national_id)
    check(page, "search, results")
    open_card(page, site)
    check(page, "person card")
    page.goto("/office/persons/00000000000/")
    check(page, "not found")

    page = new_page()
    sign_in(page, site, site.citizen)
    check(page, "my record")
    follow(page, page.get_by_role("button", name="Русский"))
    check(page, "my record, Russian")
    follow(page, page.get_by_role("button", name="English"))
    assert found == {}, found
