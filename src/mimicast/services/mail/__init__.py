"""The mail flow: messages reach the gateway, the policy engine decides what happens to each,
and the facts are stored once; every mail view reads them.

- `facts`: `Draft` (a message as it arrives), `Decision`/`Outcome` (what the engine decided).
- `rules`: `load_rules(ctx)`, an account's policies ready to match.
- `engine`: `decide(draft, rules)`, the policy engine (pure).
- `accept`: `accept(ctx, drafts)`, judge and store a batch.
- `holds`: the hold policies every account starts with.
- `world`: the outside world mail is judged against (malicious hosts and files, spam words).
- `access`: searches and views of mail content, as the audit trail records them.
"""
