from django.urls import path

from tisket import api

app_name = "api"

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="me"),
    path("organization/", api.OrganizationApi.as_view(), name="organization"),
    path("members/", api.MemberListApi.as_view(), name="member-list"),
    path("members/<int:pk>/", api.MemberDetailApi.as_view(), name="member-detail"),
    path("tokens/", api.TokenListApi.as_view(), name="token-list"),
    path("tokens/<int:pk>/", api.TokenDetailApi.as_view(), name="token-detail"),
]
