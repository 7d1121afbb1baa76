"""/<org-slug>/settings/: the admins' pages, included by tisket/urls.py.

Every page needs the admin role. Each area keeps its views in its own module;
the invitation link (/accounts/invitations/<token>/) lives in `invitations`.
"""

from django.urls import path

from interface.settings_pages import inboxes, people, sla, suppressions, work

urlpatterns = [
    path("", people.general, name="settings"),
    # Members and invitations
    path("members/", people.members, name="settings-members"),
    path("members/<int:member>/role/", people.member_role, name="settings-member-role"),
    path("members/<int:member>/remove/", people.member_remove, name="settings-member-remove"),
    path(
        "invitations/<int:invitation>/resend/",
        people.invitation_resend,
        name="settings-invitation-resend",
    ),
    path(
        "invitations/<int:invitation>/revoke/",
        people.invitation_revoke,
        name="settings-invitation-revoke",
    ),
    # Inboxes
    path("inboxes/", inboxes.inboxes, name="settings-inboxes"),
    path("inboxes/new/", inboxes.inbox_new, name="settings-inbox-new"),
    path("inboxes/<int:inbox>/", inboxes.inbox_edit, name="settings-inbox"),
    path("inboxes/<int:inbox>/delete/", inboxes.inbox_delete, name="settings-inbox-delete"),
    path(
        "inboxes/<int:inbox>/test-smtp/", inboxes.inbox_test_smtp, name="settings-inbox-test-smtp"
    ),
    path(
        "inboxes/<int:inbox>/test-imap/", inboxes.inbox_test_imap, name="settings-inbox-test-imap"
    ),
    path("inboxes/<int:inbox>/fetch/", inboxes.inbox_fetch_now, name="settings-inbox-fetch"),
    # Addresses held back from automatic mail
    path("bouncing/", suppressions.suppressions, name="settings-suppressions"),
    path(
        "bouncing/<int:suppression>/lift/",
        suppressions.suppression_lift,
        name="settings-suppression-lift",
    ),
    # Queues and macros
    path("queues/", work.queues, name="settings-queues"),
    path("queues/new/", work.queue_new, name="settings-queue-new"),
    path("queues/<int:queue>/", work.queue_edit, name="settings-queue"),
    path("queues/<int:queue>/delete/", work.queue_delete, name="settings-queue-delete"),
    path("macros/", work.macro_list, name="settings-macros"),
    path("macros/new/", work.macro_new, name="settings-macro-new"),
    path("macros/<int:macro>/", work.macro_edit, name="settings-macro"),
    path("macros/<int:macro>/delete/", work.macro_delete, name="settings-macro-delete"),
    # SLA
    path("sla/", sla.overview, name="settings-sla"),
    path("sla/calendars/new/", sla.calendar_new, name="settings-calendar-new"),
    path("sla/calendars/<int:calendar>/", sla.calendar_edit, name="settings-calendar"),
    path(
        "sla/calendars/<int:calendar>/import-holidays/",
        sla.calendar_import_holidays,
        name="settings-calendar-import-holidays",
    ),
    path(
        "sla/calendars/<int:calendar>/delete/",
        sla.calendar_delete,
        name="settings-calendar-delete",
    ),
    path("sla/policies/new/", sla.policy_new, name="settings-policy-new"),
    path("sla/policies/<int:policy>/", sla.policy_edit, name="settings-policy"),
    path("sla/policies/<int:policy>/delete/", sla.policy_delete, name="settings-policy-delete"),
    path("sla/customers/new/", sla.customer_new, name="settings-customer-new"),
    path("sla/customers/<int:customer>/", sla.customer_edit, name="settings-customer"),
    path(
        "sla/customers/<int:customer>/delete/",
        sla.customer_delete,
        name="settings-customer-delete",
    ),
    # API tokens
    path("tokens/", people.tokens, name="settings-tokens"),
    path("tokens/<int:token>/revoke/", people.token_revoke, name="settings-token-revoke"),
]
