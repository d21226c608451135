"""The public member register. The page and the page documenting the API are in every
language (/members/, /sv/members/, /en/api/); the data for programs has one address without a
language prefix (/api/members.json), as its content is the same in every language."""

from django.urls import path

from onboarding.views import register

app_name = "register"
urlpatterns = [
    path("members/", register.members, name="members"),
    path("api/", register.api, name="api"),
]

# Included outside i18n_patterns, in the namespace "register_data".
data_urlpatterns = [
    path("api/members.json", register.members_json, name="members_json"),
    path("api/members.csv", register.members_csv, name="members_csv"),
    path("api/members.schema.json", register.members_schema, name="members_schema"),
]
