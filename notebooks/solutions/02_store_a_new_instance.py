copy = pydicom.dcmread(BytesIO(BLUE_CIRCLE.data()))
copy.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["dicomweb-tutorial", "02 exercise 2"])
copy.file_meta.MediaStorageSOPInstanceUID = copy.SOPInstanceUID
buffer = BytesIO()
copy.save_as(buffer)

r = store_single_part(client, buffer.getvalue(), f"studies/{study_uid}")
expect(r, 200, content_type="application/dicom+json")
stored = pydicom.Dataset.from_json(r.json())
expect_value("stored", stored.ReferencedSOPSequence[0].ReferencedSOPInstanceUID, copy.SOPInstanceUID)
