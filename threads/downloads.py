"""Attachment downloads, shared by the REST API and the agent UI."""

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

from threads.models import Attachment


def attachment_response(attachment: Attachment) -> HttpResponse | None:
    """The attachment's content as a download; None when its content was not kept.

    Always a download (Content-Disposition: attachment) typed by the sniffed
    type, never rendered by the browser as a page of our origin.
    """
    if not attachment.file:
        return None
    storage = attachment.file.storage
    if not isinstance(storage, FileSystemStorage):
        # Remote storage (S3): a short-lived signed link that forces a download.
        disposition = f'attachment; filename="{attachment.filename}"'
        url = storage.url(
            attachment.file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": attachment.content_type,
            },
        )
        return HttpResponseRedirect(url)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
