"""/<org-slug>/settings/: the admins' pages, URL namespace "settings".

Every page needs the admin role. Each area keeps its views in its own module;
the invitation link (/accounts/invitations/<token>/) lives in `invitations`.
"""

from django.urls import path

from interface.settings_pages import (
    audit,
    branding,
    categories,
    domains,
    inbound,
    inboxes,
    notifications,
    people,
    sla,
    sso,
    suppressions,
    work,
)

app_name = "settings"

urlpatterns = [
    path("", people.general, name="general"),
    # Members and invitations
    path("members/", people.members, name="members"),
    path("members/<int:member>/role/", people.member_role, name="member-role"),
    path("members/<int:member>/remove/", people.member_remove, name="member-remove"),
    path(
        "members/<int:member>/view-as-client/",
        people.member_view_as_client,
        name="member-view-as-client",
    ),
    path(
        "invitations/<int:invitation>/resend/",
        people.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation>/revoke/",
        people.invitation_revoke,
        name="invitation-revoke",
    ),
    path("sso/", sso.sso, name="sso"),
    # Inboxes
    path("inboxes/", inboxes.inboxes, name="inboxes"),
    path("inboxes/new/", inboxes.inbox_new, name="inbox-new"),
    path("inboxes/<int:inbox>/", inboxes.inbox_edit, name="inbox"),
    path("inboxes/<int:inbox>/delete/", inboxes.inbox_delete, name="inbox-delete"),
    path("inboxes/<int:inbox>/test-smtp/", inboxes.inbox_test_smtp, name="inbox-test-smtp"),
    path("inboxes/<int:inbox>/test-imap/", inboxes.inbox_test_imap, name="inbox-test-imap"),
    path("inboxes/<int:inbox>/fetch/", inboxes.inbox_fetch_now, name="inbox-fetch"),
    path("inbound/", inbound.inbound_log_page, name="inbound"),
    # Mail domains
    path("domains/", domains.domain_list, name="domains"),
    path("domains/<int:domain>/", domains.domain_detail, name="domain"),
    path("domains/<int:domain>/check/", domains.domain_check, name="domain-check"),
    path("domains/<int:domain>/rotate-dkim/", domains.domain_rotate, name="domain-rotate"),
    path("domains/<int:domain>/esp/", domains.domain_esp_sync, name="domain-esp"),
    path("domains/<int:domain>/delete/", domains.domain_delete, name="domain-delete"),
    path("domains/<int:domain>/sender/", domains.domain_sender, name="domain-sender"),
    # Addresses held back from automatic mail
    path("bouncing/", suppressions.suppressions, name="suppressions"),
    path(
        "bouncing/<int:suppression>/lift/",
        suppressions.suppression_lift,
        name="suppression-lift",
    ),
    # How the organization's mail looks
    path("branding/", branding.branding, name="branding"),
    path("branding/preview/", branding.branding_preview, name="branding-preview"),
    path("branding/mail/", branding.branding_mail, name="branding-mail"),
    # Notification defaults
    path("notifications/", notifications.notification_defaults, name="notifications"),
    # Queues and macros
    path("queues/", work.queues, name="queues"),
    path("queues/new/", work.queue_new, name="queue-new"),
    path("queues/<int:queue>/", work.queue_edit, name="queue"),
    path("queues/<int:queue>/delete/", work.queue_delete, name="queue-delete"),
    path("categories/", categories.category_list, name="categories"),
    path("categories/new/", categories.category_new, name="category-new"),
    path("categories/<int:category>/delete/", categories.category_delete, name="category-delete"),
    path("macros/", work.macro_list, name="macros"),
    path("macros/new/", work.macro_new, name="macro-new"),
    path("macros/<int:macro>/", work.macro_edit, name="macro"),
    path("macros/<int:macro>/delete/", work.macro_delete, name="macro-delete"),
    # SLA
    path("sla/", sla.overview, name="sla"),
    path("sla/calendars/new/", sla.calendar_new, name="calendar-new"),
    path("sla/calendars/<int:calendar>/", sla.calendar_edit, name="calendar"),
    path(
        "sla/calendars/<int:calendar>/import-holidays/",
        sla.calendar_import_holidays,
        name="calendar-import-holidays",
    ),
    path(
        "sla/calendars/<int:calendar>/delete/",
        sla.calendar_delete,
        name="calendar-delete",
    ),
    path("sla/policies/new/", sla.policy_new, name="policy-new"),
    path("sla/policies/<int:policy>/", sla.policy_edit, name="policy"),
    path("sla/policies/<int:policy>/delete/", sla.policy_delete, name="policy-delete"),
    path("sla/customers/new/", sla.customer_new, name="customer-new"),
    path("sla/customers/<int:customer>/", sla.customer_edit, name="customer"),
    path(
        "sla/customers/<int:customer>/delete/",
        sla.customer_delete,
        name="customer-delete",
    ),
    # API tokens
    path("tokens/", people.tokens, name="tokens"),
    path("tokens/<int:token>/revoke/", people.token_revoke, name="token-revoke"),
    # Audit log
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
]
