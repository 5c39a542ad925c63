from django.urls import path

from polls import views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<uuid:code>/", views.project_detail, name="project-detail"),
    path("projects/<uuid:code>/import/", views.import_upload, name="import-upload"),
    path("imports/<uuid:code>/", views.import_preview, name="import-preview"),
    path("imports/<uuid:code>/confirm/", views.import_confirm, name="import-confirm"),
    path("imports/<uuid:code>/cancel/", views.import_cancel, name="import-cancel"),
    path("polls/<uuid:code>/", views.poll_detail, name="poll-detail"),
]
