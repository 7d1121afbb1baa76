from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Anymail hands inbound mail of every ESP to this one signal: it is the
        # documented integration point of its webhooks, so we connect to it here.
        from anymail.signals import inbound, tracking

        from tickets.intake.webhooks import anymail_inbound_received, anymail_tracking_received

        inbound.connect(anymail_inbound_received, dispatch_uid="tisket-inbound")
        tracking.connect(anymail_tracking_received, dispatch_uid="tisket-tracking")
