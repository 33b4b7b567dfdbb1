live = set()
for entry in of_study(read_since(start), study_uid):
    if entry["action"].lower() == "create":
        live.add(entry["sopInstanceUid"])
    elif entry["action"].lower() == "delete":
        live.discard(entry["sopInstanceUid"])
print("live after replay:", sorted(NAMES[uid] for uid in live))
r = client.session.get(client.url(f"studies/{study_uid}/instances"), headers={"Accept": "application/dicom+json"})
expect(r, 200, of="instances")
searched = {item["00080018"]["Value"][0] for item in r.json()}  # SOPInstanceUID
expect_value("replayed = searched", live == searched, True)
