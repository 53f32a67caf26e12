"""The mail simulator: deterministic traffic for an account, sent through the same gateway
path as `email/send-email` (`services.mail.accept`), so the account's policies decide what
happens to it and every mail view reads the same facts.

- `runs.backfill(deps, account_id, seed=…, messages=…, days=…)`: messages spread over the
  last days, in batches (one write unit each); rerunning a seed adds only what is missing
  (`mimicast simulate`).
- `live.LiveTraffic(deps, rate).run()`: RATE messages a minute to every account, stamped with
  the server's clock (`mimicast serve --simulate RATE`).
- `messages.Generator`: message k of a seed, the same every time; `mix.KINDS`: the kinds of
  mail and their shares; `clicks`: recipients following links after delivery.
- Where it draws from: `office` (the account's domains, users and groups, from the store),
  `outside` (partners, free mail, spammers, phishers, lookalike domains), `files` (the
  seed's documents and malicious files), `rhythm` (when mail arrives), `names` (words).
"""

# `mimicast simulate`'s defaults, here so the command line shows them without importing the
# simulator.
DEFAULT_MESSAGES, DEFAULT_DAYS, DEFAULT_SEED = 10_000, 7, 1
