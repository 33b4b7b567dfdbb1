"""mock_server.paths.normalize_path, in process: the routing path Kestrel and endpoint routing would see."""

import pytest

from mock_server.paths import normalize_path


@pytest.mark.parametrize(("raw", "routed"), [
    ("/v2/studies", "/v2/studies"),
    # Literal segments and the version match case-insensitively; UIDs keep their case.
    ("/V2/Studies", "/v2/studies"),
    ("/v1.0-PRERELEASE/STUDIES/1.2/SERIES", "/v1.0-prerelease/studies/1.2/series"),
    ("/v2/studies/1.2/series/3.4/instances/5.6/Frames/1,2", "/v2/studies/1.2/series/3.4/instances/5.6/frames/1,2"),
    ("/v2/ChangeFeed/Latest", "/v2/changefeed/latest"),
    ("/v2/studies/AbC", "/v2/studies/AbC"),
    # One trailing slash is ignored.
    ("/v2/studies/", "/v2/studies"),
    ("/", "/"),
    ("", "/"),
    # %2F stays encoded (part of a segment); every other escape is decoded.
    ("/v2/studies/1.2%2Fseries%2F3.4", "/v2/studies/1.2%2Fseries%2F3.4"),
    ("/v2/studies/1.2%2fseries", "/v2/studies/1.2%2Fseries"),
    ("/v2/%73tudies", "/v2/studies"),
    ("/v2/studies/1%2E2", "/v2/studies/1.2"),
    # Dot segments are resolved after decoding.
    ("/v2/studies/../studies", "/v2/studies"),
    ("/v2/studies/./1.2", "/v2/studies/1.2"),
    ("/v2/studies/%2E%2E/changefeed", "/v2/changefeed"),
    ("/v2/studies/.", "/v2/studies"),
    ("/../../v2/studies", "/v2/studies"),
])
def test_normalize_path(raw: str, routed: str) -> None:
    assert normalize_path(raw) == routed
