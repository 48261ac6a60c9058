"""Accessibility, checked by axe-core (vendored in tests/data/axe-core) in the real page in a real
Chromium: in English, Russian and Ukrainian, in normal and presenter mode, with every drawer closed
and then open — no critical and no serious violation. What axe calls moderate or minor is printed."""
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.browser]

AXE = (Path(__file__).resolve().parent / "data" / "axe-core" / "axe.min.js").read_text()
BLOCKING = ("critical", "serious")


def violations(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document);
        return {passes: r.passes.length, violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))};
    }""")
    assert result["passes"] > 20  # axe ran its rules on this page (not an empty document)
    return result["violations"]


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_no_critical_or_serious_violation_in_any_language_mode_or_drawer_state(stack, page, language):
    stack.start_api()
    stack.start_consumer()
    stack.submit("rabbitmq", 0.5, 2)  # rows in the table: its cells are checked too
    found = {}
    for present in (0, 1):
        page.goto(f"{stack.base_url}/?lang={language}&present={present}")
        page.wait_for_selector("tr[data-task-num]", timeout=10_000)
        found[f"present={present}, drawers closed"] = violations(page)
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        page.wait_for_selector("#experiments [data-experiment]", timeout=10_000)
        found[f"present={present}, drawers open"] = violations(page)
    blocking = {state: [v for v in found_here if v["impact"] in BLOCKING] for state, found_here in found.items()}
    for state, found_here in found.items():
        print(language, state, [(v["id"], v["impact"]) for v in found_here])
    assert not any(blocking.values()), blocking
    assert page.errors == []
