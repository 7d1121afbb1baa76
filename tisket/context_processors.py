from django.http import HttpRequest

from tisket.selectors import organizations_for_user


def organizations(request: HttpRequest) -> dict:
    """The organizations for the switcher, queried only when a template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_organizations": lambda: list(organizations_for_user(user=user))}
