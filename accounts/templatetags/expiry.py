"""An expiry as the person chose it. Consents chosen "until a day" are stored as ending at
midnight after that day; shown as the day itself, "2027-01-31 (inclusive)", not as
"2027-02-01 00:00", which reads as one day more than was chosen."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def expiry(value: datetime.datetime | None) -> str:
    """The last day, inclusive, for an expiry at local midnight; the date and time for
    any other moment; "" for none."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if local.time() == datetime.time.min:
        last_day = local.date() - datetime.timedelta(days=1)
        return _("%(day)s (inclusive)") % {"day": last_day.isoformat()}
    return local.strftime("%Y-%m-%d %H:%M")
