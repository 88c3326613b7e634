"""The one error type services raise for a refused request: a stable code, a message
in the user's language and the HTTP status an API answers with (and, rarely, `extra`
fields the API adds beside code and message, such as where to appeal)."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: int | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.retry_after = retry_after
        self.extra = extra or {}


class FieldsInvalid(ServiceError):
    """Values refused field by field, as a form refuses them: `fields` maps each field to
    its messages. The API answers 400 `{code: "invalid", message, fields}`, the message
    being the first field's first one."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields
        first = next((message for messages in fields.values() for message in messages), "")
        super().__init__("invalid", first, extra={"fields": fields})
