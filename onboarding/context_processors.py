from django.conf import settings


def portal(request):
    return {"customer_service_email": settings.CUSTOMER_SERVICE_EMAIL}
