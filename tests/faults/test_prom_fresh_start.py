"""A Prometheus started with aitop has scraped nothing for its first interval: aitop looks again within
seconds, not at the next minute's detection, and backs off while there is still nothing to find."""

from __future__ import annotations

from kit import prometheus
from server import PrometheusAPI, api_success


def names_request(request) -> bool:
    return request.path.endswith("/api/v1/label/__name__/values")


async def test_models_appear_within_seconds_of_the_servers_first_scrape(serve, clock):
    api = PrometheusAPI()
    nothing_yet = api.fault(lambda r: api_success(["up"]) if names_request(r) else None)
    server = serve(api)
    collector = prometheus(server, clock)
    try:
        assert (await collector.collect()).rows == ()
        api.faults.remove(nothing_yet)  # its first scrape of the model servers is in
        clock.advance(5)
        assert {row.group for row in (await collector.collect()).rows} == {"alpha", "beta"}
    finally:
        await collector.aclose()


async def test_detection_backs_off_to_once_a_minute_while_nothing_is_found(serve, clock):
    api = PrometheusAPI()
    api.fault(lambda r: api_success(["up"]) if names_request(r) else None)
    server = serve(api)
    collector = prometheus(server, clock)
    try:
        for _ in range(200):  # a poll a second for 200 s
            await collector.collect()
            clock.advance(1)
    finally:
        await collector.aclose()
    # At 0, then 5, 10, 20, 40 and 60 s apart: 0, 5, 15, 35, 75, 135 and 195 s.
    assert server.count(names_request) == 7
