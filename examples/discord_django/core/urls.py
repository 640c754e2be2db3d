"""The guide's JSON endpoints, under /api/ (see backend/urls.py)."""
from django.urls import path

from core import views

urlpatterns = [
    path("leaderboard/", views.leaderboard_view, name="leaderboard"),
    path("users/<str:discord_id>/rank/", views.user_rank, name="user-rank"),
    path("dashboard/stats/", views.dashboard_stats, name="dashboard-stats"),
    path("cpp-stats/", views.cpp_stats, name="cpp-stats"),
]
