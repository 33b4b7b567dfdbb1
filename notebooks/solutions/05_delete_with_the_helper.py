body, content_type = encode_multipart_related([BLUE_CIRCLE.data()])
r = client.session.post(client.url("studies"), data=body,
                        headers={"Content-Type": content_type, "Accept": "application/dicom+json"})
expect(r, 200)
print("before:", count_instances(f"studies/{study_uid}"))
delete_study(client, study_uid)
delete_study(client, study_uid)  # already absent: no error
expect_value("after", count_instances(f"studies/{study_uid}"), 0)
