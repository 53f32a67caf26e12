"""The outside world the gateway judges mail against, the same for simulated mail and mail
sent through the API: hosts known to serve malware or phishing, attachment hashes known to be
malicious, the sandbox's marker, and the words spam scoring looks for. Names are under
reserved test domains (RFC 2606/6761), so no real organisation appears."""

from __future__ import annotations

import hashlib

# The sandbox's deterministic rule: a file carrying this marker (the anti-virus industry's
# test string) or with a hash on the list is malicious.
MALWARE_MARKER = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MALWARE_HASHES = frozenset({hashlib.sha256(MALWARE_MARKER).hexdigest()})

MALICIOUS_HOSTS = frozenset({
    "secure-login.account-verify.test", "invoice-portal.payments-update.test",
    "docs-share.file-access.test", "mailbox-quota.it-helpdesk.test",
    "wallet-recovery.coin-support.test", "parcel-tracking.delivery-notice.test"})

SPAM_WORDS = ("viagra", "lottery", "winner", "bitcoin", "crypto offer", "free money",
              "act now", "limited time", "click here", "100% free", "wire transfer",
              "urgent", "verify your account", "password expires")


def greylists(domain: str) -> bool:
    """Whether the domain's mail server greylists: refuses a first delivery attempt for a
    while (one domain in forty, the same every time)."""
    return int.from_bytes(hashlib.blake2b(domain.encode(), digest_size=2).digest()) % 40 == 0
