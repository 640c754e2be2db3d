"""The demo's dashboard page and its time-series endpoint (the guide's endpoints stay in core)."""
from django.http import JsonResponse
from django.shortcuts import render

from dashboard import metrics as live


def index(request):
    return render(request, "dashboard/index.html")


def metrics(request):
    return JsonResponse(live.snapshot())
