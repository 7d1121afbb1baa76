"""REST API of the knowledge base: categories, articles, revisions, search.

Members read what their role may (kb.selectors); KB editors write. The help centre's
search is open to anyone, for public articles only, and rate-limited per address.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from kb import ledger, search, selectors, services
from kb.models import Article, ArticleRevision, ArticleState, Category, LedgerKind, LedgerPlace
from kb.selectors import Audience
from tisket.api_auth import OrganizationApiMixin
from tisket.errors import NotAllowedError
from tisket.lib.params import id_param
from tisket.models import Organization, Role


def _article_url(request: Request, organization_slug: str, slug: str) -> str:
    return request.build_absolute_uri(reverse("kb:article", args=[organization_slug, slug]))


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "parent",
            "visibility",
            "min_role",
            "position",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class CategoryWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    visibility = serializers.ChoiceField(choices=Category._meta.get_field("visibility").choices)
    min_role = serializers.ChoiceField(choices=Role.choices, required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=2_000_000_000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visibility"].required = False


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Its page in the help centre")

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "slug",
            "category",
            "excerpt",
            "tags",
            "locale",
            "translation_of",
            "state",
            "published_at",
            "visibility",
            "min_role",
            "position",
            "revision_count",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, article: Article) -> str:
        return _article_url(self.context["request"], self.context["org_slug"], article.slug)


class ArticleDetailSerializer(ArticleSerializer):
    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "body_html"]
        read_only_fields = fields


class ArticleWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=200_000)
    slug = serializers.SlugField(max_length=120, required=False, allow_blank=True)
    excerpt = serializers.CharField(max_length=300, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    category = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    locale = serializers.CharField(max_length=12, required=False)
    translation_of = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    visibility = serializers.ChoiceField(
        choices=Article._meta.get_field("visibility").choices, required=False
    )
    min_role = serializers.ChoiceField(choices=Role.choices, required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=2_000_000_000)
    state = serializers.ChoiceField(
        choices=ArticleState.choices,
        required=False,
        help_text="published (now, or at published_at: scheduled), draft or archived",
    )
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.EmailField(source="author.user.email", read_only=True, default=None)

    class Meta:
        model = ArticleRevision
        fields = [
            "number",
            "title",
            "excerpt",
            "tags",
            "state",
            "visibility",
            "min_role",
            "author",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class RevisionDetailSerializer(RevisionSerializer):
    diff = serializers.CharField(read_only=True, help_text="Unified diff against the one before")

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "body", "diff"]
        read_only_fields = fields


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    excerpt = serializers.CharField()
    url = serializers.URLField()
    score = serializers.FloatField()


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = SearchHitSerializer(many=True)


class KbApiMixin(OrganizationApiMixin):
    @property
    def audience(self) -> Audience:
        return Audience.for_member(self.membership)

    @property
    def is_editor(self) -> bool:
        return selectors.can_edit(membership=self.membership)

    def get_serializer_context(self) -> dict:
        return {"request": self.request, "org_slug": self.organization.slug}

    def check_editor(self) -> None:
        if not self.is_editor:
            raise NotAllowedError("Only knowledge-base editors may change the knowledge base.")

    def category(self, pk: int) -> Category:
        return selectors.category_get_by_id(audience=self.audience, pk=pk)

    def body_category(self, pk: int | None) -> Category | None:
        if pk is None:
            return None
        try:
            return self.category(pk)
        except Http404:
            raise serializers.ValidationError({"category": "No such category."}) from None

    def article(self, pk: int) -> Article:
        return selectors.article_get_by_id(
            audience=self.audience, pk=pk, include_unpublished=self.is_editor
        )

    def body_article(self, pk: int | None) -> Article | None:
        if pk is None:
            return None
        try:
            return self.article(pk)
        except Http404:
            raise serializers.ValidationError({"translation_of": "No such article."}) from None


class CategoryListApi(KbApiMixin, GenericAPIView):
    """The categories the token's role may read; editors add one."""

    serializer_class = CategorySerializer

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.categories_visible(audience=self.audience))
        return self.get_paginated_response(CategorySerializer(page, many=True).data)

    @extend_schema(request=CategoryWriteSerializer, responses={201: CategorySerializer})
    def post(self, request: Request) -> Response:
        self.check_editor()
        serializer = CategoryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "parent" in data:
            data["parent"] = self.body_category(data["parent"])
        category = services.category_create(
            organization=self.organization, actor=self.membership, **data
        )
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailApi(KbApiMixin, GenericAPIView):
    serializer_class = CategorySerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(CategorySerializer(self.category(pk)).data)

    @extend_schema(request=CategoryWriteSerializer, responses=CategorySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        category = self.category(pk)
        self.check_editor()
        serializer = CategoryWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "parent" in data:
            data["parent"] = self.body_category(data["parent"])
        category = services.category_update(category=category, actor=self.membership, **data)
        return Response(CategorySerializer(category).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        category = self.category(pk)
        self.check_editor()
        services.category_delete(category=category, actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArticleListApi(KbApiMixin, GenericAPIView):
    """Live articles the token's role may read (editors also drafts: `?state=`)."""

    serializer_class = ArticleSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", enum=ArticleState.values, description="Editors only"),
            OpenApiParameter("category", int),
        ],
        responses=ArticleSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state")
        editor = self.is_editor and bool(state)
        articles = selectors.articles_visible(audience=self.audience, include_unpublished=editor)
        if editor:
            if state not in ArticleState.values:
                raise serializers.ValidationError({"state": "Unknown state."})
            articles = articles.filter(state=state)
        category = request.query_params.get("category")
        if category:
            category_id = id_param(category)
            if category_id is None:
                raise serializers.ValidationError({"category": "A category id."})
            articles = articles.filter(category=self.body_category(category_id))
        page = self.paginate_queryset(articles)
        return self.get_paginated_response(
            ArticleSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(request=ArticleWriteSerializer, responses={201: ArticleDetailSerializer})
    def post(self, request: Request) -> Response:
        self.check_editor()
        serializer = ArticleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        state = data.pop("state", ArticleState.DRAFT)
        at = data.pop("published_at", None)
        data.pop("note", None)
        data["category"] = self.body_category(data.get("category"))
        data["translation_of"] = self.body_article(data.get("translation_of"))
        article = services.article_create(
            organization=self.organization,
            actor=self.membership,
            publish=state == ArticleState.PUBLISHED,
            publish_at=at if state == ArticleState.PUBLISHED else None,
            **data,
        )
        if state == ArticleState.ARCHIVED:
            article = services.article_unpublish(
                article=article, actor=self.membership, archive=True
            )
        return Response(
            ArticleDetailSerializer(article, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class ArticleDetailApi(KbApiMixin, GenericAPIView):
    serializer_class = ArticleDetailSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(
            ArticleDetailSerializer(self.article(pk), context=self.get_serializer_context()).data
        )

    @extend_schema(request=ArticleWriteSerializer, responses=ArticleDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        article = self.article(pk)
        self.check_editor()
        serializer = ArticleWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        state = data.pop("state", None)
        at = data.pop("published_at", None)
        note = data.pop("note", "")
        if "category" in data:
            data["category"] = self.body_category(data["category"])
        if "translation_of" in data:
            data["translation_of"] = self.body_article(data["translation_of"])
        if data:
            article = services.article_update(
                article=article, actor=self.membership, note=note, **data
            )
        if state == ArticleState.PUBLISHED:
            article = services.article_publish(article=article, actor=self.membership, at=at)
        elif state in (ArticleState.DRAFT, ArticleState.ARCHIVED) and state != article.state:
            article = services.article_unpublish(
                article=article, actor=self.membership, archive=state == ArticleState.ARCHIVED
            )
        return Response(
            ArticleDetailSerializer(article, context=self.get_serializer_context()).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        article = self.article(pk)
        self.check_editor()
        services.article_delete(article=article, actor=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArticleRevisionListApi(KbApiMixin, GenericAPIView):
    """Every saved revision of an article, newest first (editors)."""

    serializer_class = RevisionSerializer

    @extend_schema(responses=RevisionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        article = self.article(pk)
        self.check_editor()
        revisions = selectors.article_revisions(article=article)
        return Response(RevisionSerializer(revisions, many=True).data)


class ArticleRevisionDetailApi(KbApiMixin, GenericAPIView):
    serializer_class = RevisionDetailSerializer

    def get(self, request: Request, pk: int, number: int) -> Response:
        article = self.article(pk)
        self.check_editor()
        revision = selectors.article_revision_get(article=article, number=number)
        previous = article.revisions.filter(number__lt=number).order_by("-number").first()
        revision.diff = services.revision_diff(old=previous, new=revision)
        return Response(RevisionDetailSerializer(revision).data)


class ArticleRevisionRestoreApi(KbApiMixin, GenericAPIView):
    """Make an earlier revision current again, as a new revision."""

    serializer_class = ArticleDetailSerializer

    @extend_schema(request=None, responses=ArticleDetailSerializer)
    def post(self, request: Request, pk: int, number: int) -> Response:
        article = self.article(pk)
        self.check_editor()
        revision = selectors.article_revision_get(article=article, number=number)
        article = services.article_restore(
            article=article, revision=revision, actor=self.membership
        )
        return Response(
            ArticleDetailSerializer(article, context=self.get_serializer_context()).data
        )


def _search_response(
    request: Request, *, audience: Audience, org_slug: str, place: str, limit: int
) -> Response:
    query = request.query_params.get("q", "")
    if len(query) > search.MAX_QUERY_CHARS:
        raise serializers.ValidationError({"q": f"At most {search.MAX_QUERY_CHARS} characters."})
    prefix = request.query_params.get("prefix") in ("1", "true")
    hits = search.search(audience=audience, query=query, limit=limit, prefix=prefix)
    if query.strip() and not prefix:
        ledger.ledger_record(
            organization=audience.organization,
            kind=LedgerKind.SEARCH,
            place=place,
            query=query,
            results=len(hits),
        )
    results = [
        {
            "id": hit.article.pk,
            "title": hit.article.title,
            "excerpt": hit.article.excerpt,
            "url": _article_url(request, org_slug, hit.article.slug),
            "score": hit.score,
        }
        for hit in hits
    ]
    return Response({"query": query, "results": results})


_SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, required=True, description="The question or words"),
    OpenApiParameter("prefix", bool, description="The last word is unfinished (as you type)"),
    OpenApiParameter("limit", int, description="At most 50; 10 by default"),
]


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "10")
    limit = id_param(raw)
    if limit is None or not 1 <= limit <= 50:
        raise serializers.ValidationError({"limit": "A number from 1 to 50."})
    return limit


class KbSearchApi(KbApiMixin, GenericAPIView):
    """Hybrid search over the articles the token's role may read."""

    serializer_class = SearchResultSerializer

    @extend_schema(parameters=_SEARCH_PARAMETERS, responses=SearchResultSerializer)
    def get(self, request: Request) -> Response:
        return _search_response(
            request,
            audience=self.audience,
            org_slug=self.organization.slug,
            place=LedgerPlace.API,
            limit=_limit(request),
        )


class PublicSearchThrottle(AnonRateThrottle):
    scope = "kb_public"

    def get_rate(self) -> str:
        return settings.TISKET_KB_PUBLIC_SEARCH_RATE


class PublicSearchApi(GenericAPIView):
    """The help centre's search as JSON: public articles only, no token, rate-limited."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicSearchThrottle]
    serializer_class = SearchResultSerializer

    @extend_schema(auth=[], parameters=_SEARCH_PARAMETERS, responses=SearchResultSerializer)
    def get(self, request: Request, org_slug: str) -> Response:
        organization = get_object_or_404(Organization, slug=org_slug)
        return _search_response(
            request,
            audience=Audience.public(organization),
            org_slug=org_slug,
            place=LedgerPlace.HELP_CENTRE,
            limit=_limit(request),
        )
