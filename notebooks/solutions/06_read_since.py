def read_since(after: int) -> list[dict]:
    r = client.session.get(f"{feed_v1}/latest", params={"includeMetadata": "false"})
    if r.status_code == 204:  # an empty feed
        return []
    expect(r, 200)
    end = r.json()["sequence"]
    entries, offset = [], after
    while offset < end:
        r = client.session.get(feed_v1, params={"offset": offset, "limit": 100, "includeMetadata": "false"})
        expect(r, 200, of="entries")
        entries += r.json()
        offset += 100
    return entries


found = of_study(read_since(start), study_uid)
show_entries(found, NAMES)
expect_value("entries since start", summary(found, NAMES), summary(history, NAMES))
