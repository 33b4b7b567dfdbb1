"""Remove what a notebook stored, so every notebook can be run again from the top."""

from .client import DicomWeb

# Statuses that mean "the study is gone now" (404: it was not there to begin with).
_GONE = {200, 202, 204, 404}
# Azure's 400 for a data partition nothing was stored in yet (its first STOW creates it): nothing to delete.
_NO_PARTITION = "Specified PartitionName does not exist."


def delete_study(client: DicomWeb, study_uid: str) -> None:
    """Delete a study on any server; no error if it is already absent."""
    if client.flavor == "orthanc":
        _delete_on_orthanc(client, study_uid)
        return
    # DELETE is an Azure extension to DICOMweb; a generic server may or may not have it.
    response = client.session.delete(client.url(f"studies/{study_uid}"))
    if response.status_code == 400 and response.text.strip() == _NO_PARTITION:
        return
    if response.status_code not in _GONE:
        raise RuntimeError(f"DELETE studies/{study_uid} returned {response.status_code} "
                           f"{response.reason}: {response.text[:200]}. This server may not support "
                           "DICOMweb DELETE; remove the study with its own tools.")


def _delete_on_orthanc(client: DicomWeb, study_uid: str) -> None:
    # Orthanc has no DICOMweb DELETE (405); its own REST API finds a study by UID and deletes it.
    if not client.base_url.endswith("/dicom-web"):
        raise ValueError(f"expected an Orthanc DICOMweb URL ending in /dicom-web, got {client.base_url}")
    root = client.base_url.removesuffix("/dicom-web")
    lookup = client.session.post(f"{root}/tools/lookup", data=study_uid)
    lookup.raise_for_status()
    for resource in lookup.json():
        if resource.get("Type") == "Study":
            response = client.session.delete(root + resource["Path"])
            if response.status_code not in _GONE:
                response.raise_for_status()
