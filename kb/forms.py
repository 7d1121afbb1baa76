"""Forms of the knowledge-base editor. They parse and validate; services write."""

from django import forms

from kb.models import Article, Category, Visibility
from tisket.models import Organization, Role


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=80, required=False, help_text="Blank: made from the name.")
    description = forms.CharField(max_length=300, required=False)
    parent = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, help_text="Optional: makes a section."
    )
    visibility = forms.ChoiceField(choices=Visibility.choices)
    min_role = forms.ChoiceField(
        choices=Role.choices, label="Minimum role", help_text="With 'Members from a minimum role'."
    )

    def __init__(self, *args, organization: Organization, exclude=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        parents = Category.objects.filter(organization=organization, parent__isnull=True)
        if exclude is not None:
            parents = parents.exclude(pk=exclude.pk)
        self.fields["parent"].queryset = parents


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=120, required=False, help_text="Blank: made from the title.")
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False)
    tags = forms.CharField(max_length=600, required=False, help_text="Comma-separated.")
    excerpt = forms.CharField(
        max_length=300, required=False, help_text="Blank: the start of the body."
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "kb-source"}),
        required=False,
        max_length=200_000,
        help_text="Markdown.",
    )
    locale = forms.CharField(max_length=12, initial="en")
    translation_of = forms.ModelChoiceField(
        queryset=Article.objects.none(), required=False, label="Translation of"
    )
    visibility = forms.ChoiceField(choices=Visibility.choices)
    min_role = forms.ChoiceField(choices=Role.choices, label="Minimum role")
    note = forms.CharField(max_length=200, required=False, label="Revision note")

    def __init__(self, *args, organization: Organization, article=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            organization=organization
        ).select_related("parent")
        originals = Article.objects.filter(organization=organization, translation_of__isnull=True)
        if article is not None:
            originals = originals.exclude(pk=article.pk)
        self.fields["translation_of"].queryset = originals.only("id", "title", "locale")

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Blank: now.",
    )


class HelpCentreForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Blank: '<name> Help'.")
    colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}\Z",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": "A colour is written #rrggbb."},
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG, GIF or WebP.")
    suggest_in_acknowledgements = forms.BooleanField(
        required=False, label="Suggest public articles in acknowledgement mail"
    )
