"""Filling form-js fields the way a person does: by the component id (`Field_<key>`) and visible labels."""

from playwright.sync_api import Locator, Page


def field(page: Page, field_id: str, row: int | None = None, scope: str = "#form") -> Locator:
    """The input of a form-js component (fjs-form-<form>-<id>[_<row>])."""
    suffix = field_id if row is None else f"{field_id}_{row}"
    return page.locator(f'{scope} [id$="-{suffix}"]')


def fill(page: Page, field_id: str, text: str, row: int | None = None) -> None:
    field(page, field_id, row).fill(text)


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
