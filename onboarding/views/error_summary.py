from __future__ import annotations

from django.utils.translation import gettext as _


def error_summary(form, formset=None) -> list[tuple[str, str]]:
    """(anchor, message) for every error, in page order, for the summary at the top.

    The formset's rows come where the page shows them: after the form's field named by its
    `contacts_follow`, or after all of its fields. A row's errors name the row as its heading
    does ("Contact 2: ...").
    """
    items = [("", error) for error in form.non_field_errors()]
    follows = getattr(form, "contacts_follow", None)
    for name in form.fields:
        items += _field_errors(form, name)
        if name == follows and formset is not None:
            items += _formset_errors(formset)
    if formset is not None and follows not in form.fields:
        items += _formset_errors(formset)
    return items


def _field_errors(form, name: str, row: int | None = None) -> list[tuple[str, str]]:
    anchor = _anchor(form[name])
    errors = form.errors.get(name, [])
    if row is None:
        return [(anchor, error) for error in errors]
    return [
        (anchor, _("Contact %(number)s: %(message)s") % {"number": row, "message": error})
        for error in errors
    ]


def _formset_errors(formset) -> list[tuple[str, str]]:
    items = [("contacts", error) for error in formset.non_form_errors()]
    for number, subform in enumerate(formset.forms, start=1):
        for name in subform.fields:
            items += _field_errors(subform, name, row=number)
    return items


def _anchor(bound_field) -> str:
    """The element a summary link moves focus to: the input, or a group's first radio or
    checkbox."""
    if bound_field.widget_type in ("radioselect", "checkboxselectmultiple"):
        return f"{bound_field.auto_id}_0"
    return bound_field.id_for_label
