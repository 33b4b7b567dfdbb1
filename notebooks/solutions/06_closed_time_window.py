deleted_at = next(entry["timestamp"] for entry in history if entry["action"].lower() == "delete")
r = client.session.get(feed_v2, params={"startTime": history[0]["timestamp"], "endTime": deleted_at,
                                        "includeMetadata": "false"})
expect(r, 200, of="entries")
show_entries(of_study(r.json(), study_uid), NAMES)
expect_value("entries", summary(r.json(), NAMES), [("blue-circle", "create", "current"),
                                                   ("green-square", "create", "current"),
                                                   ("red-triangle", "create", "replaced")])
