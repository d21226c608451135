"""How the portal writes dates and times in each language (FORMAT_MODULE_PATH).

Templates and code never spell a format out: they use `|date` (DATE_FORMAT),
`|date:"DATETIME_FORMAT"` or `django.utils.formats.date_format`, and get these.
The SHORT_ forms are the same, so that the admin's own pages agree with ours.
"""
