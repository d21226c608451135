from django.urls import path

from onboarding.views import confirmations, notification, organisations, pages, staff

app_name = "onboarding"
urlpatterns = [
    path("", pages.home, name="home"),
    path("terms/", pages.terms, name="terms"),
    path("terms/<str:version>.json", pages.terms_canonical, name="terms_canonical"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("notify/", notification.notify_start, name="notify_start"),
    path("notify/<str:oid>/", notification.notify, name="notify"),
    path("notify/<str:oid>/check/", notification.notify_check, name="notify_check"),
    path("notify/<str:oid>/submit/", notification.notify_submit, name="notify_submit"),
    path("organisations/", organisations.my_organisations, name="my_organisations"),
    path("organisations/<int:pk>/", organisations.organisation, name="organisation"),
    path("registrations/<int:pk>/", organisations.registration, name="registration"),
    path(
        "registrations/<int:pk>/withdraw/",
        organisations.registration_withdraw,
        name="registration_withdraw",
    ),
    path("invitations/<str:token>/", organisations.invitation, name="invitation"),
    path(
        "contacts/confirm/<str:token>/",
        confirmations.confirm_contacts,
        name="confirm_contacts",
    ),
    path(
        "staff/enrol/<str:uidb64>/password/",
        staff.enrolment_password,
        name="staff_enrolment_password",
    ),
    path("staff/enrol/<str:uidb64>/<str:token>/", staff.enrolment, name="staff_enrolment"),
]
