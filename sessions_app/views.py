"""The HTML dashboard (SPEC §9)."""

from django.shortcuts import render


def dashboard(request):
    return render(request, "sessions/dashboard.html")
