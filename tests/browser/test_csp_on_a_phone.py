"""The pages work under their Content-Security-Policy: a manager's home, the walk-in audit
(through the five seconds of looking, to the checklist), the phone audit and an action's
page, and a regional manager's report, with no console error or warning and no
`securitypolicyviolation` event; and the probe does catch a violation when there is one."""
from tests.helpers import failing, submit

LISTEN = """() => document.addEventListener('securitypolicyviolation', event =>
    window.reportViolation(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`))"""


def watched(page):
    """What goes wrong on the page, from now on, across navigations."""
    problems = {"console": [], "violations": []}
    page.on("console", lambda message: message.type in ("error", "warning")
            and problems["console"].append(f"{message.type}: {message.text} ({page.url})"))
    page.on("pageerror", lambda error: problems["console"].append(f"pageerror: {error} ({page.url})"))
    page.expose_function("reportViolation", lambda text: problems["violations"].append(f"{text} ({page.url})"))
    page.add_init_script(f"({LISTEN})()")
    return problems


def test_the_pages_break_no_rule_of_their_policy(person, organisation, client):
    page = person.page
    [action] = submit(client, organisation, answers=failing("floor_clean"))["actions"]
    problems = watched(page)

    person.signs_in()
    person.walks_in()
    person.answers("floor_clean", "no")  # its photo field opens
    page.goto("/audit/phone")
    page.wait_for_selector("#call-link")
    page.goto(f"/actions/{action['id']}")
    page.wait_for_selector("h1")
    page.click("text=Sign out")
    page.wait_for_selector("#email")
    person.signs_in("regional")
    page.goto("/reports/regions/N")
    page.wait_for_selector("svg")  # its charts
    page.wait_for_load_state("networkidle")
    assert problems == {"console": [], "violations": []}

    # An inline style attribute is refused, and the probe hears of it.
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend', '<p style="color: red">x</p>')""")
    page.wait_for_timeout(300)
    assert len(problems["violations"]) == 1 and problems["violations"][0].startswith("style-src")
