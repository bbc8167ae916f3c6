"""Filling form-js fields the way a person does: by the component id (`Field_<key>`) and visible labels."""

from playwright.sync_api import Locator, Page, expect


def field(page: Page, field_id: str, row: int | None = None, scope: str = "#form") -> Locator:
    """The input of a form-js component (fjs-form-<form>-<id>[_<row>])."""
    suffix = field_id if row is None else f"{field_id}_{row}"
    return page.locator(f'{scope} [id$="-{suffix}"]')


def settle(page: Page) -> None:
    """Let preact render what is pending (two animation frames)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def fill(page: Page, field_id: str, text: str, row: int | None = None) -> None:
    """Type into a text, textarea or number field. form-js re-renders when a field gets focus, so focus
    first; it debounces typing, so leave the field to hand the value over."""
    box = field(page, field_id, row)
    box.focus()
    settle(page)
    box.fill(text)
    box.blur()
    settle(page)
    expect(box).to_have_value(text)


def choose(page: Page, field_id: str, option: str, row: int | None = None) -> None:
    """A select: open its list and click the option with this label."""
    suffix = field_id if row is None else f"{field_id}_{row}"
    page.locator(f'#form [id$="-{suffix}-display"]').click()
    page.locator("#form .fjs-dropdownlist-item", has_text=option).first.click()


def tick(page: Page, field_id: str, *options: str) -> None:
    """Checklist or radio options, by their labels."""
    group = page.locator(f'#form .fjs-form-field:has([id*="-{field_id}-"])')
    for option in options:
        group.get_by_label(option, exact=True).check()


def error_of(page: Page, field_id: str, row: int | None = None) -> Locator:
    """The error message form-js shows under the field."""
    suffix = field_id if row is None else f"{field_id}_{row}"
    return page.locator(f'#form [id$="-{suffix}-error-message"]')
