body, content_type = encode_multipart_related([GREEN_SQUARE.data()])
r = client.session.post(client.url("studies/1.2.826.0.1.3680043.8.498.1"), data=body,
                        headers={"Content-Type": content_type, "Accept": "application/dicom+json"})
expect(r, 409)
# Read as plain DICOM JSON: Azure's ErrorComment is longer than the 64 characters its VR (LO)
# allows, and pydicom would warn about that.
failed = r.json()["00081198"]["Value"][0]  # FailedSOPSequence
print("FailureReason:", failed["00081197"]["Value"][0])
for attribute in failed.get("00741048", {}).get("Value", []):  # FailedAttributesSequence
    print("ErrorComment: ", attribute["00000902"]["Value"][0])
