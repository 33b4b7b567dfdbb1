forged = jwt.encode({"aud": "https://dicom.healthcareapis.azure.com", "roles": ["DICOM Data Owner"],
                     "iat": int(time.time()), "exp": int(time.time()) + 3600},
                    secrets.token_bytes(32), algorithm="HS256")
r = requests.get(f"{base_url}/{probe.path}", headers={**probe.headers, "Authorization": f"Bearer {forged}"})
if client.config.auth == "none":
    print("This server needs no token:", r.status_code, r.reason)
else:
    expect(r, 401)
