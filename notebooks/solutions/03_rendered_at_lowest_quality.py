for quality in (1, 0):
    r = client.session.get(client.url(f"{instance_path}/rendered"), params={"quality": quality},
                           headers={"Accept": "image/jpeg"})
    print(f"quality={quality}:", r.status_code, r.reason, "|", r.headers.get("Content-Type"), "|",
          f"{len(r.content)} bytes" if r.status_code == 200 else r.text)
    expect_azure(client, r, 200 if quality else 400)
