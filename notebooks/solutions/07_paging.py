# Page through the series ten instances at a time, until a page comes back short.
page_sizes, offset = [], 0
while True:
    r = client.session.get(client.url(f"studies/{ct_study}/series/{ct_series_uid}/instances"),
                           params={"limit": 10, "offset": offset}, headers={"Accept": "application/dicom+json"})
    expect(r, 200, quiet=True)
    page_sizes.append(len(r.json()))
    if page_sizes[-1] < 10:
        break
    offset += 10
expect_value("page sizes", page_sizes, [10, 10, 10, 10, 10, 10, 4])
