"""Knowledge-base pages: the public help centre at /hc/<org>/ and the editor at /<org>/kb/."""

from django.urls import path

from kb.views import editor, help_centre

app_name = "kb"

urlpatterns = [
    path("hc/<slug:org_slug>/", help_centre.home, name="home"),
    path("hc/<slug:org_slug>/search/", help_centre.search_page, name="search"),
    path("hc/<slug:org_slug>/brand.css", help_centre.brand_css, name="brand-css"),
    path("hc/<slug:org_slug>/sitemap.xml", help_centre.sitemap, name="sitemap"),
    path("hc/<slug:org_slug>/c/<slug:category>/", help_centre.category, name="category"),
    path("hc/<slug:org_slug>/a/<slug:article>/", help_centre.article, name="article"),
    path("hc/<slug:org_slug>/a/<slug:article>/feedback/", help_centre.feedback, name="feedback"),
    path("hc/<slug:org_slug>/files/<int:pk>/<str:name>", help_centre.kb_file, name="file"),
    path("<slug:org_slug>/kb/", editor.index, name="editor"),
    path("<slug:org_slug>/kb/categories/", editor.categories, name="editor-categories"),
    path(
        "<slug:org_slug>/kb/categories/<int:category>/",
        editor.category_edit,
        name="editor-category",
    ),
    path("<slug:org_slug>/kb/articles/new/", editor.article_edit, name="editor-article-new"),
    path("<slug:org_slug>/kb/articles/<int:article>/", editor.article_edit, name="editor-article"),
    path(
        "<slug:org_slug>/kb/articles/<int:article>/revisions/",
        editor.article_revisions,
        name="editor-revisions",
    ),
    path(
        "<slug:org_slug>/kb/articles/<int:article>/revisions/<int:revision>/restore/",
        editor.revision_restore,
        name="editor-revision-restore",
    ),
    path("<slug:org_slug>/kb/preview/", editor.preview, name="editor-preview"),
    path("<slug:org_slug>/kb/images/", editor.image_upload, name="editor-image-upload"),
    path("<slug:org_slug>/kb/report/", editor.report, name="editor-report"),
    path("<slug:org_slug>/kb/settings/", editor.help_centre_settings, name="editor-settings"),
]
