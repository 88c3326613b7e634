"""What a trusted helper may reach while acting for a person: one list of views per
level, checked for every request of an acting session (accounts.web_sessions). Anything
not listed (profile, password, identity, proofs, statements, disputes, granting, the
API, the helper pages of the person) is refused with a 403 before its view runs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import HelperGrant

READ = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})

# URL name -> the methods allowed, for every level.
_SEEING = {
    "home": READ,
    "scoring:panel": READ,
    "scoring:history": READ,
    "accounts:consents": READ,
    "benefits:queries": READ,
    # Ending the acting mode, and the language of the pages.
    "accounts:helper_stop": POST,
    "set_language": POST,
}
ALLOWED = {
    HelperGrant.Level.READ_ONLY: _SEEING,
    HelperGrant.Level.REVOKE_ONLY: {
        **_SEEING,
        # Withdrawing a consent, a partner's authorisation included.
        "accounts:consent_revoke": POST,
    },
}

# How the person's audit trail names each action.
ACTION_LABELS = {
    "home": _("Viewed the score home"),
    "scoring:panel": _("Viewed the score home"),
    "scoring:history": _("Viewed the score history"),
    "accounts:consents": _("Viewed the consents"),
    "benefits:queries": _("Viewed who checked the score"),
    "accounts:helper_start": _("Started acting for you"),
    "accounts:helper_stop": _("Stopped acting for you"),
    "set_language": _("Changed the page language"),
    "accounts:consent_revoke": _("Withdrew a consent"),
}


def helper_may(*, level: str, url_name: str, method: str) -> bool:
    """May a helper at this level make this request while acting?"""
    return method in ALLOWED.get(level, {}).get(url_name, frozenset())


def action_label(*, action: str, allowed: bool) -> str:
    label = ACTION_LABELS.get(action)
    if allowed and label:
        return str(label)
    if not allowed:
        return str(_("Tried a page or action not allowed (%(action)s)") % {"action": action or "?"})
    return action
