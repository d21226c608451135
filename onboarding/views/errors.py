from __future__ import annotations


def error_summary(form, formset=None) -> list[tuple[str, str]]:
    """(anchor, message) for every error, in page order, for the summary at the top."""
    items = []
    for error in form.non_field_errors():
        items.append(("", error))
    for name in form.fields:
        for error in form.errors.get(name, []):
            items.append((form[name].id_for_label, error))
    if formset is not None:
        for error in formset.non_form_errors():
            items.append(("contacts", error))
        for subform in formset.forms:
            for name in subform.fields:
                for error in subform.errors.get(name, []):
                    items.append((subform[name].id_for_label, error))
    return items
