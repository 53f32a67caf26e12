"""Logs: views of the mail flow's facts (messages, verdicts, clicks, releases) and of the audit
trail, as the log endpoints and the SIEM download serve them. Nothing here is stored twice:
every record is rendered from the facts when asked.

- `threat_intel.get_feed`: the threat-intel feed, a page of it as a CSV or STIX file.
- `ttp.url_logs`, `ttp.attachment_logs`: URL Protect's clicks, Attachment Protect's scans.
- `archive.search_logs`, `archive.view_logs`: who searched mail, who viewed its content."""
