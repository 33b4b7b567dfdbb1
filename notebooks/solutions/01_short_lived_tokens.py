class ShortLivedCredential:
    """Wraps a credential and pretends each of its tokens expires two minutes from now."""

    def __init__(self, inner):
        self.inner = inner

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.inner.get_token(*scopes).token, int(time.time()) + 120)


if credential is None:
    print("No token on this server: nothing to renew.")
else:
    short = requests.Session()
    short.auth = BearerTokenAuth(ShortLivedCredential(credential))
    for _ in range(3):
        expect(short.get(f"{base_url}/{probe.path}", headers=probe.headers), 200)
    expect_value("tokens fetched for 3 requests", short.auth.fetches, 3)
