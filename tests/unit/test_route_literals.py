"""paths.LITERALS, the segments matched case-insensitively as ASP.NET routing does, names exactly the literal
segments of the route table (mock_server/app.py): a route added there without its literal here would be
case-sensitive, a literal left here after its route is gone would fold a segment no route has."""

from mock_server.app import routes
from mock_server.paths import LITERALS


def test_literals_are_the_route_tables_literal_segments() -> None:
    segments = {segment for route in routes() for segment in route.path.split("/")
                if segment and not segment.startswith("{")}
    assert segments == LITERALS
