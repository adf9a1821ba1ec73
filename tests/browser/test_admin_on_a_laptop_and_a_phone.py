"""An admin runs the organisation from the browser: on a laptop she creates a region and a
location, looks at its door's QR poster, and invites its manager; on his phone the manager
accepts the invitation, is signed in and sees only that location; the admin deactivates
him, and his open session stops working at its next request."""
import re

from tests.browser.conftest import CHROMIUM, PHONE, SCREENSHOTS  # noqa: F401 (CHROMIUM: the fixture's)

LAPTOP = {"viewport": {"width": 1280, "height": 900}}
NEW_PASSWORD = "Ñandú-pan-de-2026"


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_admin_sets_up_a_location_and_its_manager(chromium, live_server, organisation):
    laptop = chromium.new_context(base_url=live_server, locale="en-GB", **LAPTOP)
    phone = chromium.new_context(base_url=live_server, locale="es-ES", **PHONE)
    try:
        admin = laptop.new_page()
        admin.set_default_timeout(15000)
        admin.goto("/login")
        admin.fill("#email", organisation.emails["admin"])
        admin.fill("#password", organisation.PASSWORD)
        admin.click("button[type=submit]")
        admin.wait_for_url(re.compile(r"/$"))

        # A region ...
        admin.click("text=Admin")
        admin.click("nav.admin-nav >> text=Regions")
        admin.fill("#f-code", "BCN")
        admin.fill("#f-name", "Barcelona ☀️")
        admin.click("text=Create the region")
        admin.wait_for_selector("td:text('Barcelona ☀️')")

        # ... a location in it, with the QR code for its door ...
        admin.goto("/admin/locations/new")
        admin.fill("#f-code", "BCN1")
        admin.fill("#f-name", "Café Ñandú 🥐")
        admin.select_option("#f-region", "BCN")
        admin.fill("#f-address", "Carrer de Mallorca 1")
        admin.fill("#f-timezone", "Europe/Madrid")
        admin.click("button:text('Save')")
        admin.wait_for_selector("text=Café Ñandú 🥐")
        admin.goto("/admin/locations/BCN1/poster")
        qr = admin.wait_for_selector("img")
        assert admin.evaluate("img => img.complete && img.naturalWidth > 100", qr)
        assert "/l/BCN1" in admin.content()
        screenshot(admin, "admin-1-poster")

        # ... and its manager, by invitation.
        admin.goto("/admin/users")
        admin.fill("#email", "nuria@example.com")
        admin.fill("#name", "Núria Puig")
        admin.select_option("#role", "manager")
        admin.check("input[name=locations][value=BCN1]")
        admin.click("text=Make the invitation link")
        link = admin.input_value("#one-time-link")
        assert "/invitations/" in link
        screenshot(admin, "admin-2-invitation")

        manager = phone.new_page()
        manager.set_default_timeout(15000)
        manager.goto(link)
        manager.fill("#password", NEW_PASSWORD)
        manager.fill("#password_again", NEW_PASSWORD)
        manager.click("button[type=submit]")
        manager.wait_for_selector("#actions-title")  # home, signed in
        screenshot(manager, "admin-3-manager-home")
        seen = manager.evaluate("() => fetch('/api/v1/locations').then(r => r.json())")
        assert [row["code"] for row in seen] == ["BCN1"], seen
        assert "Café Ñandú 🥐" in manager.content() and "North One" not in manager.content()

        # The admin deactivates him: his open session stops at its next request.
        admin.goto("/admin/users")
        row = admin.locator("tr", has_text="nuria@example.com")
        row.locator("button:text('Deactivate')").click()
        admin.wait_for_selector("tr:has-text('nuria@example.com') >> text=Deactivated")
        manager.goto("/actions")
        manager.wait_for_selector("#email")  # the sign-in form
        assert "/login" in manager.url
        gone = manager.evaluate("() => fetch('/api/v1/locations').then(r => r.status)")
        assert gone == 401
    finally:
        laptop.close()
        phone.close()
