"""What simulated traffic is made of: each kind of message and its share of all messages (in
percent), how often it carries attachments and links, and how likely a recipient is to click
one of its links once it is delivered. Change the mix here; `messages.py` builds each kind.
The shares add up to 100.

| kind          | share | route    | what it is, and what the default policies do with it       |
|---------------|------:|----------|------------------------------------------------------------|
| business      | 41.0  | inbound  | partners, customers, vendors; threads, documents, links    |
| newsletter    |  9.0  | inbound  | bulk mail that passes authentication, many links           |
| free_mail     |  4.0  | inbound  | people on free mail (now and then a colleague's own        |
|               |       |          | address under their name: one impersonation indicator)     |
| spam          |  8.0  | inbound  | spam words, failing SPF/DKIM/DMARC: held                   |
| grey          |  2.0  | inbound  | marketing that scores but stays under the hold level:      |
|               |       |          | delivered, its link clicks "warned"                        |
| phishing      |  3.0  | inbound  | lures to malicious hosts: held; 40% from compromised       |
|               |       |          | partners pass and are delivered, their clicks "blocked"    |
| malware       |  1.5  | inbound  | a malicious attachment: held                               |
| impersonation |  1.5  | inbound  | a lookalike domain, a colleague's name, a reply-to at free |
|               |       |          | mail, failing DMARC: held                                  |
| spoofed       |  1.0  | inbound  | an outsider using the account's own domain: rejected       |
| misaddressed  |  1.0  | inbound  | to an internal address nobody holds: rejected              |
| outbound      | 16.0  | outbound | users to partners, often replies in a thread; 5% of new    |
|               |       |          | ones to a mistyped address the far side refuses: bounced   |
| internal      | 12.0  | internal | users to users, or to a group                              |

So 72% inbound, 16% outbound, 12% internal; 15% of messages are unwanted or malicious (spam,
grey mail, phishing, malware, impersonation, spoofing). With the default hold policies about
13% of messages are held, 2% rejected and 1% of outbound messages bounce.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    share: float  # percent of all messages
    attachments: float  # chance of carrying documents (malware: always its own file)
    links: float  # chance of carrying links
    click: float  # chance a delivered internal recipient clicks a given link
    steady: bool = False  # arrives around the clock rather than in office hours


KINDS = (
    Kind("business", 41.0, attachments=0.28, links=0.35, click=0.15),
    Kind("newsletter", 9.0, attachments=0.0, links=1.0, click=0.06),
    Kind("free_mail", 4.0, attachments=0.15, links=0.2, click=0.1),
    Kind("spam", 8.0, attachments=0.0, links=0.6, click=0.05, steady=True),
    Kind("grey", 2.0, attachments=0.0, links=0.8, click=0.15, steady=True),
    Kind("phishing", 3.0, attachments=0.0, links=1.0, click=0.3, steady=True),
    Kind("malware", 1.5, attachments=1.0, links=0.0, click=0.0, steady=True),
    Kind("impersonation", 1.5, attachments=0.0, links=0.0, click=0.0),
    Kind("spoofed", 1.0, attachments=0.0, links=0.3, click=0.0, steady=True),
    Kind("misaddressed", 1.0, attachments=0.1, links=0.1, click=0.0),
    Kind("outbound", 16.0, attachments=0.25, links=0.2, click=0.0),
    Kind("internal", 12.0, attachments=0.2, links=0.25, click=0.12),
)
BY_NAME = {kind.name: kind for kind in KINDS}
assert abs(sum(kind.share for kind in KINDS) - 100.0) < 1e-9

# Of business, outbound and free-mail messages, how many reply to an earlier one (a thread).
REPLY_SHARE = 0.35
# Of new outbound messages, how many go to a mistyped address (bounced by the far side).
MISTYPED_SHARE = 0.05
# Of phishing, how much comes from a compromised partner's mailbox (passes authentication).
COMPROMISED_SHARE = 0.4
