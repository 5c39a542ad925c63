from django.urls import path

from coding import bulk, codebook_views, views

urlpatterns = [
    path("questions/<int:question>/code/", views.queue, name="queue"),
    path("questions/<int:question>/undo/", views.undo, name="undo"),
    path("questions/<int:question>/themes/", views.create_theme, name="theme-create"),
    path("questions/<int:question>/themes/search/", views.search_themes, name="theme-search"),
    path("questions/<int:question>/grid/", bulk.grid, name="grid"),
    path("questions/<int:question>/bulk/", bulk.bulk_apply, name="bulk-apply"),
    path("questions/<int:question>/rules/", bulk.rules, name="rules"),
    path("questions/<int:question>/duplicates/", bulk.duplicates, name="duplicates"),
    path("answers/<int:answer>/themes/<int:theme>/apply/", views.apply_theme, name="apply"),
    path("answers/<int:answer>/themes/<int:theme>/remove/", views.remove_theme, name="remove"),
    path("answers/<int:answer>/no-theme/", views.no_theme, name="no-theme"),
    path("answers/<int:answer>/flag/", views.flag, name="flag"),
    path("answers/<int:answer>/memo/", views.memo, name="memo"),
    path("answers/<int:answer>/quotes/", views.save_quote, name="quote-save"),
    path("answers/<int:answer>/suggestions/", views.suggestions, name="suggestions"),
    path("answers/<int:answer>/similar/", bulk.similar, name="similar"),
    path("quotes/<uuid:code>/delete/", views.delete_quote, name="quote-delete"),
    path("projects/<uuid:code>/codebook/", codebook_views.codebook_page, name="codebook"),
    path("projects/<uuid:code>/codebook/add/", codebook_views.theme_add, name="theme-add"),
    path("themes/<int:pk>/edit/", codebook_views.theme_edit, name="theme-edit"),
    path("themes/<int:pk>/archive/", codebook_views.theme_archive, name="theme-archive"),
    path("themes/<int:pk>/merge/", codebook_views.theme_merge, name="theme-merge"),
    path("themes/<int:pk>/history/", codebook_views.theme_history, name="theme-history"),
    path("merges/<int:pk>/undo/", codebook_views.merge_undo, name="merge-undo"),
    path("answers/<int:pk>/history/", codebook_views.answer_history, name="answer-history"),
    path("projects/<uuid:code>/codebook.csv", codebook_views.codebook_csv, name="codebook-csv"),
    path("projects/<uuid:code>/codebook.qdc", codebook_views.codebook_qdc, name="codebook-qdc"),
    path("projects/<uuid:code>/project.qdpx", codebook_views.project_qdpx, name="project-qdpx"),
    path(
        "projects/<uuid:code>/codebook/import/",
        codebook_views.codebook_import,
        name="codebook-import",
    ),
]
