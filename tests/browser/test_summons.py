"""Summonses, measures, rights decisions and campaigns in a real browser against a real server."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .test_pages import follow, open_all_details, search, serious_violations, sign_in

pytestmark = pytest.mark.browser

MSK = dt.timezone(dt.timedelta(hours=3))
ISSUED = re.compile(r"Summons (\d{12}) issued")


def in_days(days: int) -> str:
    return (dt.datetime.now(MSK) + dt.timedelta(days=days)).date().isoformat()


def open_card_of(page, national_id: str, surname: str) -> None:
    search(page, national_id=national_id)
    follow(page, page.locator(f"a[href^='/office/persons/{national_id}/']"))
    expect(page.locator("h1")).to_contain_text(surname)


def issue(page, purpose: str, days: int = 10) -> None:
    page.locator("#issue-purpose").select_option(purpose)
    page.locator("#issue-date").fill(in_days(days))
    page.locator("#issue-time").fill("10:00")
    follow(page, page.locator(".muster-issue button[type=submit]"))


def issued_number(page) -> str:
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(ISSUED)
    return ISSUED.search(banner.inner_text()).group(1)


def expect_error(page, text: str | re.Pattern, href: str | None = None) -> None:
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=text)
    expect(link).to_be_visible()
    if href:
        expect(link).to_have_attribute("href", href)


def test_clerk_issues_a_call_up_the_citizen_sees_it_and_appearance_lifts_the_restriction(new_page, site):
    clerk = new_page()
    sign_in(clerk, site, site.clerk)
    open_card_of(clerk, site.national_id, site.surname)
    expect(clerk.locator("#decision-status")).to_have_text("Liable for call-up")
    issue(clerk, "call_up")
    number = issued_number(clerk)
    card = clerk.locator(f"#summons-{number}")
    expect(card).to_contain_text("Call-up for military service")
    # The citizen has a portal account: the summons is delivered when it is posted there.
    expect(card.locator(".muster-state")).to_have_text("Delivered")
    expect(card).to_contain_text("posted to the personal account")
    exit_ban = clerk.locator(f"#measure-{number}-exit")
    expect(exit_ban).to_contain_text("Ban on leaving the country")
    expect(exit_ban).to_contain_text("In force")

    issue(clerk, "call_up", days=12)
    expect_error(clerk, re.compile("already has an open summons for this purpose"), "#issue-purpose")
    expect(clerk.locator("#issue-purpose")).to_have_value("call_up")
    expect(clerk.locator(".govuk-summary-card")).to_have_count(1)

    citizen = new_page()
    sign_in(citizen, site, site.citizen)
    follow(citizen, citizen.locator("header").get_by_role("link", name="Your summonses"))
    mine = citizen.locator(f"#summons-{number}")
    expect(mine.locator(".muster-state")).to_have_text("Delivered")
    expect(mine).to_contain_text(in_days(10))
    expect(citizen.locator(f"#measure-{number}-exit")).to_contain_text("Ban on leaving the country")
    expect(citizen.locator("main")).to_contain_text("Appear at the recruitment office")
    expect(citizen.locator(".muster-notifications").first).to_contain_text(f"Summons {number} was placed")

    link = mine.get_by_role("link", name=re.compile("Download the signed PDF"))
    response = citizen.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.body().startswith(b"%PDF")
    with citizen.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"summons-{number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    follow(citizen, citizen.locator("header").get_by_role("link", name="Your rights"))
    expect(citizen.locator("h1")).to_have_text("Your rights decision")
    expect(citizen.locator("#decision-status")).to_have_text("Liable for call-up")
    open_all_details(citizen)
    female = citizen.locator("#ground-female")
    expect(female).to_contain_text("Only men are called up for military service.")
    expect(female).to_contain_text("53-FZ Art. 22 part 1 item a")
    expect(female).to_contain_text("Does not apply")
    expect(citizen.get_by_role("link", name="Contest this decision")).to_be_visible()

    follow(clerk, clerk.locator(f"#appear-{number}"))
    expect(clerk.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Appearance recorded for summons {number}"
    )
    expect(card.locator(".muster-state")).to_have_text("Appeared")
    expect(exit_ban).to_contain_text("Lifted")
    expect(exit_ban).to_contain_text("the person appeared")

    citizen.goto("/my/summonses/")
    expect(mine.locator(".muster-state")).to_have_text("Appeared")
    expect(citizen.locator(f"#measure-{number}-exit")).to_have_count(0)
    expect(citizen.locator("#notifications ~ ul")).to_contain_text("lifted")


def test_a_woman_is_refused_call_up_and_a_medical_summons_runs_its_course(new_page, site):
    clerk = new_page()
    sign_in(clerk, site, site.clerk)
    open_card_of(clerk, site.woman_national_id, site.woman_surname)
    expect(clerk.locator("#decision-status")).to_have_text("Not liable for call-up")
    expect(clerk.locator("#decision-ground")).to_contain_text("Only men are called up for military service.")
    expect(clerk.locator("#decision-ground")).to_contain_text("53-FZ Art. 22 part 1 item a")

    issue(clerk, "call_up")
    expect_error(
        clerk,
        re.compile(r"not liable for call-up\. Only men are called up .*Art\. 22"),
        "#issue-purpose",
    )
    expect(clerk.locator("#issue-purpose-error")).to_contain_text("not liable for call-up")
    expect(clerk.locator(".govuk-summary-card")).to_have_count(0)

    issue(clerk, "medical")
    number = issued_number(clerk)
    card = clerk.locator(f"#summons-{number}")
    # No portal account: issued, and not delivered until handed over (or deemed delivered).
    expect(card.locator(".muster-state")).to_have_text("Issued")
    expect(card).to_contain_text("Not delivered yet")

    follow(clerk, card.get_by_role("button", name=re.compile("^Record delivery")))
    expect_error(clerk, "Select how the summons was handed over", f"#deliver-{number}-in_person")
    card.get_by_label("By post").check()
    follow(clerk, card.get_by_role("button", name=re.compile("^Record delivery")))
    expect(card.locator(".muster-state")).to_have_text("Delivered")
    expect(card).to_contain_text("by post against signature")

    card.get_by_label("Valid reason for not appearing").select_option("illness")
    follow(clerk, card.get_by_role("button", name=re.compile("^Record a valid reason")))
    expect(clerk.locator(".govuk-notification-banner--success")).to_contain_text("Valid reason recorded")
    expect(card).to_contain_text("Illness or injury")
    exit_ban = clerk.locator(f"#measure-{number}-exit")
    expect(exit_ban).to_contain_text("Lifted")
    expect(exit_ban).to_contain_text("a valid reason was accepted")

    follow(clerk, card.get_by_role("button", name=re.compile("^Cancel the summons")))
    expect_error(clerk, "Enter why the summons is cancelled", f"#cancel-{number}")
    card.get_by_label("Reason for cancelling").fill("Issued in error")
    follow(clerk, card.get_by_role("button", name=re.compile("^Cancel the summons")))
    expect(card.locator(".muster-state")).to_have_text("Cancelled")
    expect(card).to_contain_text("Issued in error")
    expect(card.get_by_role("button")).to_have_count(0)

    # Another person's summons is not the citizen's to download.
    citizen = new_page()
    sign_in(citizen, site, site.citizen)
    assert citizen.request.get(f"/my/summonses/{number}/pdf/").status == 404
    assert clerk.request.get(f"/my/summonses/{number}/pdf/").status == 404


def test_a_clerk_of_another_office_cannot_issue_a_summons(page, site):
    sign_in(page, site, site.other_clerk)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/office/persons/{site.national_id}/summonses/",
        form={
            "csrfmiddlewaretoken": token,
            "purpose": "medical",
            "date": in_days(5),
            "time": "10:00",
        },
    )
    assert response.status == 404


def test_campaign_four_eyes_and_issue(new_page, site):
    clerk = new_page()
    sign_in(clerk, site, site.clerk)
    follow(clerk, clerk.locator("header").get_by_role("link", name="Campaigns"))
    expect(clerk.locator("h1")).to_have_text("Campaigns")
    follow(clerk, clerk.get_by_role("link", name="Prepare a campaign"))
    follow(clerk, clerk.get_by_role("button", name="Prepare and preview"))
    expect_error(clerk, "Select the purpose of the summonses", "#purpose")

    clerk.locator("#purpose").select_option("registration")
    # Men of the reserve aged 27 and over: neither person the other tests summon.
    clerk.locator("#age_min").fill("27")
    clerk.locator("#age_max").fill("70")
    clerk.get_by_label("Reserve", exact=True).check()
    clerk.locator("#appear_date").fill(in_days(14))
    follow(clerk, clerk.get_by_role("button", name="Prepare and preview"))
    expect(clerk.locator(".govuk-notification-banner--success")).to_contain_text("Campaign prepared")
    expect(clerk.locator("#campaign-state")).to_have_text("Prepared, waiting for approval")
    eligible = int(clerk.locator("#preview-eligible").inner_text())
    assert int(clerk.locator("#preview-selected").inner_text()) >= eligible
    # The preparer is a clerk: no approval for them, and the page says who approves.
    expect(clerk.get_by_role("button", name="Approve the campaign")).to_have_count(0)
    expect(clerk.locator("#approve")).to_contain_text("An office head who did not prepare")
    expect(clerk.get_by_role("button", name="Issue the summonses")).to_have_count(0)
    url = clerk.url

    head = new_page()
    sign_in(head, site, site.head)
    head.goto(url)
    follow(head, head.get_by_role("button", name="Approve the campaign"))
    expect(head.locator(".govuk-notification-banner--success")).to_contain_text("Campaign approved")
    expect(head.locator("#campaign-state")).to_have_text("Approved, ready to issue")

    second = new_page()
    sign_in(second, site, site.second_clerk)
    second.goto(url)
    follow(second, second.get_by_role("button", name="Issue the summonses"))
    expect(second.locator("#campaign-state")).to_have_text("Issued")
    expect(second.locator("#issued-count")).to_have_text(re.compile(rf"^{eligible} summons(es)? issued$"))
    expect(second.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Campaign issued: {eligible} summons"
    )
    second.goto("/office/campaigns/")
    expect(second.locator("tbody tr").filter(has_text="Issued").first).to_be_visible()


def test_an_office_head_may_not_approve_a_campaign_they_prepared(page, site):
    sign_in(page, site, site.head)
    page.goto("/office/campaigns/new/")
    page.locator("#purpose").select_option("medical")
    page.locator("#age_min").fill("60")
    page.locator("#appear_date").fill(in_days(20))
    follow(page, page.get_by_role("button", name="Prepare and preview"))
    follow(page, page.get_by_role("button", name="Approve the campaign"))
    expect_error(page, re.compile("You prepared this campaign, so you may not approve it"), "#approve")
    expect(page.locator("#campaign-state")).to_have_text("Prepared, waiting for approval")


def test_the_citizen_contests_the_decision(page, site):
    sign_in(page, site, site.citizen)
    page.goto("/my/decision/")
    follow(page, page.get_by_role("link", name="Contest this decision"))
    expect(page.locator("h1")).to_have_text("Contest your rights decision")
    expect(page.locator("main")).to_contain_text("53-FZ Art. 28 part 7")
    follow(page, page.get_by_role("button", name="Send to the recruitment office"))
    expect_error(page, "Enter what is wrong with the decision", "#text")
    page.get_by_label("What is wrong with the decision?").fill("I study full time at a university.")
    follow(page, page.get_by_role("button", name="Send to the recruitment office"))
    expect(page).to_have_url(f"{site.url}/my/decision/")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your objection was sent")
    expect(page.locator("main")).to_contain_text("I study full time at a university.")


def test_the_office_asks_for_a_data_check_and_the_citizen_corrects_the_phone(new_page, site):
    head = new_page()
    sign_in(head, site, site.head)
    head.goto("/office/campaigns/")
    follow(head, head.get_by_role("link", name="Ask persons to check their data"))
    follow(head, head.get_by_role("button", name="Preview"))
    expect_error(head, "Choose at least one reason to ask", "#missing_phone")
    head.locator("#months").fill("1")
    follow(head, head.get_by_role("button", name="Preview"))
    expect(head.locator("#clarification-preview")).to_contain_text("would be asked")
    follow(head, head.get_by_role("button", name="Send the requests"))
    expect(head.locator(".govuk-notification-banner--success")).to_contain_text("asked to check their data")

    citizen = new_page()
    sign_in(citizen, site, site.citizen)
    follow(citizen, citizen.get_by_role("link", name="Check your details").first)
    expect(citizen.locator("h1")).to_have_text("Check your contact details")
    expect(citizen.locator("main")).to_contain_text("Your registered address has not changed")
    citizen.get_by_label("Email").fill("not-an-email")
    follow(citizen, citizen.get_by_role("button", name="Send corrections"))
    expect_error(citizen, re.compile("Enter an email address in the correct format"), "#email")
    citizen.get_by_label("Email").fill("")
    citizen.get_by_label("Phone").fill("+7 912 345-67-89")
    follow(citizen, citizen.get_by_role("button", name="Send corrections"))
    expect(citizen).to_have_url(f"{site.url}/my/record/")
    expect(citizen.locator(".govuk-notification-banner--success")).to_contain_text("Your corrections were recorded")
    expect(citizen.locator("#attr-phone")).to_contain_text("+79123456789")
    expect(citizen.get_by_role("link", name="Check your details")).to_have_count(0)


def test_the_decision_and_the_card_in_russian(new_page, site):
    page = new_page()
    sign_in(page, site, site.citizen)
    page.goto("/my/decision/")
    follow(page, page.get_by_role("button", name="Русский"))
    expect(page.locator("h1")).to_have_text("Решение о ваших правах")
    open_all_details(page)
    expect(page.locator("#ground-female")).to_contain_text("На военную службу призываются только мужчины.")
    expect(page.locator("#ground-female")).to_contain_text("ст. 22")

    clerk = new_page()
    sign_in(clerk, site, site.clerk)
    follow(clerk, clerk.get_by_role("button", name="Русский"))
    clerk.goto(f"/office/persons/{site.woman_national_id}/?purpose=enquiry")
    issue(clerk, "call_up")
    expect(clerk.locator(".govuk-error-summary")).to_contain_text("не подлежит призыву")


def test_staff_navigation(page, site):
    sign_in(page, site, site.clerk)
    nav = page.locator("header nav")
    for name in ("Find a person", "Records to review", "Campaigns"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_role("link", name="Exchange")).to_have_count(0)
    follow(page, nav.get_by_role("link", name="Records to review"))
    expect(page.locator("h1")).to_have_text("Records to review")


@pytest.mark.parametrize("width", [320])
def test_the_card_with_summonses_and_the_citizens_pages_fit_a_phone_screen(new_page, site, width):
    page = new_page(width)
    sign_in(page, site, site.clerk)
    open_card_of(page, site.woman_national_id, site.woman_surname)
    issue(page, "clarification")
    issued_number(page)
    open_all_details(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    open_card_of(page, site.national_id, site.surname)
    open_all_details(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto("/office/campaigns/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page = new_page(width)
    sign_in(page, site, site.citizen)
    for path in ("/my/summonses/", "/my/decision/", "/my/decision/contest/"):
        page.goto(path)
        open_all_details(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path


def test_new_pages_have_no_serious_accessibility_violations(new_page, site, axe_source):
    found = {}

    def check(page, name):
        open_all_details(page)
        if violations := serious_violations(page, axe_source):
            found[name] = violations

    page = new_page()
    sign_in(page, site, site.clerk)
    open_card_of(page, site.woman_national_id, site.woman_surname)
    check(page, "person card")
    issue(page, "call_up")
    check(page, "person card, refusal")
    issue(page, "registration")
    check(page, "person card, open summons")
    page.goto("/office/campaigns/")
    check(page, "campaigns")
    head = new_page()
    sign_in(head, site, site.head)
    head.goto("/office/campaigns/clarification/")
    check(head, "data check")
    follow(head, head.get_by_role("button", name="Preview"))
    check(head, "data check, errors")
    head.locator("#months").fill("600")
    follow(head, head.get_by_role("button", name="Preview"))
    check(head, "data check, preview")
    page.goto("/office/campaigns/new/")
    check(page, "prepare a campaign")
    follow(page, page.get_by_role("button", name="Prepare and preview"))
    check(page, "prepare a campaign, errors")
    page.locator("#purpose").select_option("medical")
    page.locator("#age_min").fill("65")
    page.locator("#appear_date").fill(in_days(15))
    follow(page, page.get_by_role("button", name="Prepare and preview"))
    check(page, "campaign")

    page = new_page()
    sign_in(page, site, site.citizen)
    for path in ("/my/decision/", "/my/decision/contest/", "/my/summonses/"):
        page.goto(path)
        check(page, path)
    follow(page, page.get_by_role("button", name="Русский"))
    check(page, "summonses, Russian")
    follow(page, page.get_by_role("button", name="English"))
    assert found == {}, found
