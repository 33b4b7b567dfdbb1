r = client.session.get(client.url("studies"), params={"PatientWeight": "70"},
                       headers={"Accept": "application/dicom+json"})
show_response(r)
expect_azure(client, r, 400)
