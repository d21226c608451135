from __future__ import annotations


def error_summary(form, formset=None) -> list[tuple[str, str]]:
    """(anchor, message) for every error, in page order, for the summary at the top."""
    items = []
    for error in form.non_field_errors():
        items.append(("", error))
    for name in form.fields:
        for error in form.errors.get(name, []):
            items.append((_anchor(form[name]), error))
    if formset is not None:
        for error in formset.non_form_errors():
            items.append(("contacts", error))
        for subform in formset.forms:
            for name in subform.fields:
                for error in subform.errors.get(name, []):
                    items.append((_anchor(subform[name]), error))
    return items


def _anchor(bound_field) -> str:
    """The element a summary link moves focus to: the input, or a group's first radio."""
    if bound_field.widget_type == "radioselect":
        return f"{bound_field.auto_id}_0"
    return bound_field.id_for_label
