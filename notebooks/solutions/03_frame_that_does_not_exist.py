r = client.session.get(client.url(f"{instance_path}/frames/2"), headers={"Accept": FRAME_ACCEPTS[1]})
show_response(r)
expect_azure(client, r, 404)
