"""/api/v1/: the URLs of every app's API, under one namespace."""

from django.urls import path

from inboxes import api as inboxes_api
from inboxes import domain_api
from interface.settings_pages import api as people_api
from kb import api as kb_api
from tickets import api as tickets_api
from tickets.api import intake as intake_api
from tickets.api import threads as threads_api
from tickets.sla import api as sla_api
from tisket import api

app_name = "api"

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="me"),
    path("organization/", api.OrganizationApi.as_view(), name="organization"),
    path("members/", people_api.MemberListApi.as_view(), name="member-list"),
    path("members/<int:pk>/", api.MemberDetailApi.as_view(), name="member-detail"),
    path("invitations/", people_api.InvitationListApi.as_view(), name="invitation-list"),
    path(
        "invitations/<int:pk>/",
        people_api.InvitationDetailApi.as_view(),
        name="invitation-detail",
    ),
    path(
        "invitations/<int:pk>/resend/",
        people_api.InvitationResendApi.as_view(),
        name="invitation-resend",
    ),
    path("tokens/", api.TokenListApi.as_view(), name="token-list"),
    path("audit/", api.AuditEventListApi.as_view(), name="audit-list"),
    path("tokens/<int:pk>/", api.TokenDetailApi.as_view(), name="token-detail"),
    path("inboxes/", inboxes_api.InboxListApi.as_view(), name="inbox-list"),
    path("inboxes/<int:pk>/", inboxes_api.InboxDetailApi.as_view(), name="inbox-detail"),
    path(
        "inboxes/<int:pk>/test-imap/",
        inboxes_api.InboxImapTestApi.as_view(),
        name="inbox-test-imap",
    ),
    path(
        "inboxes/<int:pk>/fetch-now/",
        intake_api.InboxFetchNowApi.as_view(),
        name="inbox-fetch-now",
    ),
    path(
        "inboxes/<int:pk>/test-smtp/",
        inboxes_api.InboxSmtpTestApi.as_view(),
        name="inbox-test-smtp",
    ),
    path("domains/", domain_api.MailDomainListApi.as_view(), name="domain-list"),
    path("domains/<int:pk>/", domain_api.MailDomainDetailApi.as_view(), name="domain-detail"),
    path("domains/<int:pk>/check/", domain_api.MailDomainCheckApi.as_view(), name="domain-check"),
    path(
        "domains/<int:pk>/rotate-dkim/",
        domain_api.MailDomainRotateApi.as_view(),
        name="domain-rotate-dkim",
    ),
    path("domains/<int:pk>/esp/", domain_api.MailDomainEspSyncApi.as_view(), name="domain-esp"),
    path("threads/", threads_api.ThreadListApi.as_view(), name="thread-list"),
    path("threads/<str:reference>/", threads_api.ThreadDetailApi.as_view(), name="thread-detail"),
    path(
        "threads/<str:reference>/messages/",
        threads_api.ThreadMessagesApi.as_view(),
        name="thread-messages",
    ),
    path(
        "threads/<str:reference>/messages/<int:pk>/send-again/",
        threads_api.MessageSendAgainApi.as_view(),
        name="thread-message-send-again",
    ),
    path(
        "attachments/<int:pk>/download/",
        threads_api.AttachmentDownloadApi.as_view(),
        name="attachment-download",
    ),
    path("quarantine/", intake_api.QuarantineListApi.as_view(), name="quarantine-list"),
    path(
        "quarantine/<int:pk>/release/",
        intake_api.QuarantineReleaseApi.as_view(),
        name="quarantine-release",
    ),
    path(
        "quarantine/<int:pk>/discard/",
        intake_api.QuarantineDiscardApi.as_view(),
        name="quarantine-discard",
    ),
    path("inbound-log/", intake_api.InboundLogApi.as_view(), name="inbound-log"),
    path("suppressions/", threads_api.SuppressionListApi.as_view(), name="suppression-list"),
    path(
        "suppressions/<int:pk>/",
        threads_api.SuppressionDetailApi.as_view(),
        name="suppression-detail",
    ),
    path("queues/", tickets_api.QueueListApi.as_view(), name="queue-list"),
    path("queues/<int:pk>/", tickets_api.QueueDetailApi.as_view(), name="queue-detail"),
    path("tickets/", tickets_api.TicketListApi.as_view(), name="ticket-list"),
    path("tickets/<str:reference>/", tickets_api.TicketDetailApi.as_view(), name="ticket-detail"),
    path(
        "tickets/<str:reference>/assign/",
        tickets_api.TicketAssignApi.as_view(),
        name="ticket-assign",
    ),
    path(
        "tickets/<str:reference>/notes/", tickets_api.TicketNotesApi.as_view(), name="ticket-notes"
    ),
    path(
        "tickets/<str:reference>/events/",
        tickets_api.TicketEventsApi.as_view(),
        name="ticket-events",
    ),
    path(
        "tickets/<str:reference>/threads/",
        tickets_api.TicketThreadsApi.as_view(),
        name="ticket-threads",
    ),
    path(
        "tickets/<str:reference>/threads/<str:thread>/",
        tickets_api.TicketThreadDetailApi.as_view(),
        name="ticket-thread-detail",
    ),
    path(
        "tickets/<str:reference>/escalate/",
        tickets_api.TicketEscalateApi.as_view(),
        name="ticket-escalate",
    ),
    path(
        "tickets/<str:reference>/children/",
        tickets_api.TicketChildrenApi.as_view(),
        name="ticket-children",
    ),
    path(
        "tickets/<str:reference>/children/<str:child>/",
        tickets_api.TicketChildDetailApi.as_view(),
        name="ticket-child-detail",
    ),
    path(
        "tickets/<str:reference>/merge/", tickets_api.TicketMergeApi.as_view(), name="ticket-merge"
    ),
    path(
        "tickets/<str:reference>/sla-override/",
        tickets_api.TicketSlaOverrideApi.as_view(),
        name="ticket-sla-override",
    ),
    path(
        "tickets/<str:reference>/macros/<int:pk>/apply/",
        tickets_api.TicketMacroApplyApi.as_view(),
        name="ticket-macro-apply",
    ),
    path("csat/<str:token>/", tickets_api.CsatApi.as_view(), name="csat"),
    path("macros/", tickets_api.MacroListApi.as_view(), name="macro-list"),
    path("macros/<int:pk>/", tickets_api.MacroDetailApi.as_view(), name="macro-detail"),
    path("sla/summary/", sla_api.SlaSummaryApi.as_view(), name="sla-summary"),
    path("sla/metrics/", sla_api.SlaMetricsApi.as_view(), name="sla-metrics"),
    path("sla/csat/", sla_api.CsatMetricsApi.as_view(), name="sla-csat"),
    path("sla/calendars/", sla_api.CalendarListApi.as_view(), name="sla-calendar-list"),
    path(
        "sla/calendars/<int:pk>/",
        sla_api.CalendarDetailApi.as_view(),
        name="sla-calendar-detail",
    ),
    path(
        "sla/calendars/<int:pk>/import-holidays/",
        sla_api.CalendarHolidayImportApi.as_view(),
        name="sla-calendar-import-holidays",
    ),
    path("sla/policies/", sla_api.PolicyListApi.as_view(), name="sla-policy-list"),
    path("sla/policies/<int:pk>/", sla_api.PolicyDetailApi.as_view(), name="sla-policy-detail"),
    path("customers/", sla_api.CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:pk>/", sla_api.CustomerDetailApi.as_view(), name="customer-detail"),
    path("inbound/raw/", intake_api.InboundRawApi.as_view(), name="inbound-raw"),
    path("kb/categories/", kb_api.CategoryListApi.as_view(), name="kb-category-list"),
    path("kb/categories/<int:pk>/", kb_api.CategoryDetailApi.as_view(), name="kb-category-detail"),
    path("kb/articles/", kb_api.ArticleListApi.as_view(), name="kb-article-list"),
    path("kb/articles/<int:pk>/", kb_api.ArticleDetailApi.as_view(), name="kb-article-detail"),
    path(
        "kb/articles/<int:pk>/revisions/",
        kb_api.ArticleRevisionListApi.as_view(),
        name="kb-article-revisions",
    ),
    path(
        "kb/articles/<int:pk>/revisions/<int:number>/",
        kb_api.ArticleRevisionDetailApi.as_view(),
        name="kb-article-revision",
    ),
    path(
        "kb/articles/<int:pk>/revisions/<int:number>/restore/",
        kb_api.ArticleRevisionRestoreApi.as_view(),
        name="kb-article-revision-restore",
    ),
    path("kb/search/", kb_api.KbSearchApi.as_view(), name="kb-search"),
    path(
        "kb/public/<slug:org_slug>/search/",
        kb_api.PublicSearchApi.as_view(),
        name="kb-public-search",
    ),
]
