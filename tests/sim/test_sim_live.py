"""Live traffic: messages stamped with the server's clock, clicks written once their time
has come, the stream going on where it stopped after a restart, and the background task
sending at its rate until cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sim_helpers import ANCHOR, office
from sqlalchemy import func, select

from mimicast.sim.live import LiveTraffic
from mimicast.store.engine import Store
from mimicast.store.schema import LinkClick, Message, Simulation
from mimicast.testing.harness import ManualClock


def stored(store: Store) -> tuple[int, list[str], int, int]:
    with store.session() as session:
        return (int(session.scalar(select(func.count()).select_from(Message)) or 0),
                list(session.scalars(select(Message.message_id))),
                int(session.scalar(select(func.count()).select_from(LinkClick)) or 0),
                int(session.scalar(select(Simulation.generated)) or 0))


def test_live_mail_follows_the_clock_and_goes_on_after_a_restart(store_url: str,
                                                                  tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        clock = ManualClock(ANCHOR)
        made.deps.clock = clock
        traffic = LiveTraffic(made.deps, rate=60)
        traffic.step(300)
        with made.deps.store.session() as session:
            times = session.scalars(select(Message.received_at)).all()
        assert len(times) == 300
        assert all(ANCHOR - timedelta(seconds=1) < when <= ANCHOR for when in times)
        _, _, clicked, generated = stored(made.deps.store)
        assert (clicked, generated) == (0, 300)  # nobody has had the time to click yet
        clock.now = ANCHOR + timedelta(days=2)
        traffic.step(0)  # no new mail: the clicks that are due
        with made.deps.store.session() as session:
            clicks = session.scalars(select(LinkClick.clicked_at)).all()
        assert clicks and all(ANCHOR < when <= clock.now for when in clicks)
        # A restarted server goes on with the same stream.
        clock.now += timedelta(seconds=1)
        LiveTraffic(made.deps, rate=60).step(20)
        count, ids, _, generated = stored(made.deps.store)
        assert count == generated == 320 and len(set(ids)) == 320


def test_the_background_task_sends_at_its_rate_until_cancelled(tmp_path: Path) -> None:
    with office(f"sqlite:///{tmp_path / 'live.db'}", tmp_path) as made:
        traffic = LiveTraffic(made.deps, rate=6_000, tick=0.02)  # 100 a second

        async def serve_a_while() -> None:
            task = asyncio.ensure_future(traffic.run())
            for _ in range(500):
                await asyncio.sleep(0.02)
                if stored(made.deps.store)[0] >= 10:
                    break
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run(serve_a_while())
        count, _, _, generated = stored(made.deps.store)
        assert count >= 10 and count == generated
